import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { DhtNode } from '../../src/dht/index.js';
import { buildMagnet } from '../../src/metainfo/index.js';
import type { PeerSource } from '../../src/peer/types.js';
import type { PeerAddress } from '../../src/util/compact.js';
import { requirePeer } from '../helpers/real-peers.js';
import { ltMagnet } from '../helpers/lt-magnet.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../unit/client/fixtures.js';

const limits = { maxPerHost: 10 };

async function fixture(dir: string) {
  // Enough files that the info dict spans two 16 KiB metadata pieces.
  const files = Array.from({ length: 260 }, (_, i) => ({
    path: `dir-${Math.floor(i / 20)}/file-with-a-longer-name-${String(i).padStart(4, '0')}.bin`,
    size: 8_000 + i,
  }));
  return makeFixture(dir, { files, pieceLength: 16 * 1024 });
}

test(
  'magnet from a libtorrent seed found only through the DHT (our loopback nodes as bootstrap)',
  { timeout: 40_000 },
  async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    t.after(() => tmp.cleanup());
    const nodes: DhtNode[] = [];
    t.after(() => Promise.all(nodes.map((n) => n.close())));
    for (let i = 0; i < 4; i++) {
      const n = new DhtNode({
        host: '127.0.0.1',
        bootstrap: i ? [nodes[0]!.address()!] : [],
        queryTimeoutMs: 1000,
      });
      await n.listen();
      if (i) await n.bootstrap();
      nodes.push(n);
    }
    const boot = nodes.map((n) => n.address()!);
    const fx = await makeFixture(join(tmp.path, 'seed'), {
      files: [{ path: 'a.bin', size: 2_000_000 }],
      pieceLength: 32 * 1024,
    });
    const ih = fx.metainfo.infoHash;
    let ltAnnounced: number | undefined;
    for (const n of nodes)
      n.on('announce', (h: Buffer, p: PeerAddress) => h.equals(ih) && (ltAnnounced = p.port));
    const lt = ltMagnet(t, [
      'seed',
      fx.torrentPath,
      fx.dir,
      '--dht',
      ...boot.flatMap((b) => ['--bootstrap', `${b.host}:${b.port}`]),
      '--timeout',
      '35',
    ]);
    const ltPort = (await lt.waitFor('listening', 15_000)).port!;
    await until(() => ltAnnounced === ltPort, 15_000, 'libtorrent announced to our DHT');

    const client = new Client({
      host: '127.0.0.1',
      limits,
      pex: false,
      trackers: false,
      dht: { host: '127.0.0.1', bootstrap: boot, minIntervalMs: 500, node: { queryTimeoutMs: 1000 } },
    });
    t.after(() => client.close());
    await client.listen(0);
    const tr = await client.addTorrent(buildMagnet({ infoHash: ih }), { savePath: join(tmp.path, 'out') });
    const heard: { addrs: PeerAddress[]; source: PeerSource }[] = [];
    tr.on('peers', (addrs, source) => heard.push({ addrs, source }));
    await until(() => tr.state === 'seeding', 20_000, 'magnet download from libtorrent');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'out')), []);
    assert.ok(
      heard.some((h) => h.source.kind === 'dht' && h.addrs.some((a) => a.port === ltPort)),
      JSON.stringify(heard),
    );
  },
);

test(
  'magnet: metadata from one of our seeds and a libtorrent seed together, then the data',
  { timeout: 30_000 },
  async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    t.after(() => tmp.cleanup());
    const fx = await fixture(join(tmp.path, 'seed'));
    assert.ok(fx.metainfo.info.length > 16 * 1024, `info dict spans 2 pieces (${fx.metainfo.info.length})`);
    const lt = ltMagnet(t, ['seed', fx.torrentPath, fx.dir, '--timeout', '28']);
    const ltPort = (await lt.waitFor('listening', 15_000)).port!;
    const seed = new Client({ host: '127.0.0.1', limits, dht: false, trackers: false });
    const leech = new Client({ host: '127.0.0.1', limits, dht: false, trackers: false });
    t.after(async () => {
      await leech.close();
      await seed.close();
    });
    const seedPort = await seed.listen(0);
    const st = await seed.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => st.state === 'seeding', 10_000, 'our seed ready');
    await leech.listen(0);
    // Who sent metadata pieces, by client name.
    const senders = new Set<string>();
    leech.on('peer-connect', (_t, p) =>
      p.on('extended', (name, payload) => {
        if (name === 'ut_metadata' && payload.includes('msg_typei1e')) senders.add(p.clientName);
      }),
    );
    const magnet = buildMagnet({
      infoHash: fx.metainfo.infoHash,
      peers: [
        { host: '127.0.0.1', port: seedPort },
        { host: '127.0.0.1', port: ltPort },
      ],
    });
    const out = join(tmp.path, 'out');
    const tr = await leech.addTorrent(magnet, { savePath: out });
    await until(() => tr.state === 'seeding', 25_000, 'magnet download');
    assert.deepEqual(await sameFiles(fx, out), []);
    assert.ok(senders.size >= 1, `metadata senders: ${[...senders].join(', ')}`);
    t.diagnostic(`metadata pieces came from: ${[...senders].join(', ')}`);
  },
);

test(
  'libtorrent fetches a magnet link from our seed (we serve ut_metadata)',
  { timeout: 30_000 },
  async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    t.after(() => tmp.cleanup());
    const fx = await fixture(join(tmp.path, 'seed'));
    const seed = new Client({ host: '127.0.0.1', limits, dht: false, trackers: false });
    t.after(() => seed.close());
    const port = await seed.listen(0);
    const st = await seed.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => st.state === 'seeding', 10_000, 'our seed ready');
    const out = join(tmp.path, 'lt');
    const lt = ltMagnet(t, [
      'leech',
      buildMagnet({ infoHash: fx.metainfo.infoHash }),
      out,
      '--connect',
      `127.0.0.1:${port}`,
      '--timeout',
      '25',
    ]);
    await lt.waitFor('metadata', 15_000);
    await lt.waitFor('done', 20_000);
    assert.deepEqual(await sameFiles(fx, out), []);
  },
);
