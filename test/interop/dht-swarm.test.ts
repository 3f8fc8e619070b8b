import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { DhtNode } from '../../src/dht/index.js';
import { buildMagnet } from '../../src/metainfo/index.js';
import type { PeerSource } from '../../src/peer/types.js';
import type { PeerAddress } from '../../src/util/compact.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../unit/client/fixtures.js';

const limits = { maxPerHost: 10 };

/** A few plain DHT nodes on loopback: the network our clients bootstrap from. */
async function loopbackDht(count: number): Promise<DhtNode[]> {
  const nodes: DhtNode[] = [];
  for (let i = 0; i < count; i++) {
    const n = new DhtNode({
      host: '127.0.0.1',
      bootstrap: i ? [nodes[0]!.address()!] : [],
      queryTimeoutMs: 1000,
    });
    await n.listen();
    if (i) await n.bootstrap();
    nodes.push(n);
  }
  return nodes;
}

function dhtOptions(bootstrap: PeerAddress[], stateFile?: string) {
  return {
    host: '127.0.0.1',
    bootstrap,
    minIntervalMs: 500,
    node: { queryTimeoutMs: 1000 },
    ...(stateFile ? { stateFile } : {}),
  };
}

test(
  'two of our clients meet only through our own DHT and complete a magnet download',
  { timeout: 30_000 },
  async (t) => {
    const tmp = await tempDir();
    const nodes = await loopbackDht(4);
    const boot = [nodes[0]!.address()!];
    const fx = await makeFixture(join(tmp.path, 'seed'), {
      files: [{ path: 'a.bin', size: 1_000_000 }],
      pieceLength: 32 * 1024,
    });
    const resumeDir = join(tmp.path, 'resume');
    const seed = new Client({ host: '127.0.0.1', limits, pex: false, dht: dhtOptions(boot) });
    const leech = new Client({
      host: '127.0.0.1',
      limits,
      pex: false,
      resumeDir,
      dht: dhtOptions(boot, join(resumeDir, 'dht.json')),
    });
    t.after(async () => {
      await leech.close();
      await seed.close();
      await Promise.all(nodes.map((n) => n.close()));
      await tmp.cleanup();
    });
    const seedPort = await seed.listen(0);
    await leech.listen(0);
    const ih = fx.metainfo.infoHash;
    let seedAnnounced = false;
    for (const n of nodes)
      n.on('announce', (h: Buffer, p: PeerAddress) => {
        if (h.equals(ih) && p.port === seedPort) seedAnnounced = true;
      });
    await seed.addTorrent(fx.torrent, { savePath: fx.dir });
    // The seed announces itself first, so the leech must find it (not the other way round).
    await until(() => seedAnnounced, 10_000, 'seed announced');
    const out = join(tmp.path, 'leech');
    const tr = await leech.addTorrent(buildMagnet({ infoHash: fx.metainfo.infoHash }), { savePath: out });
    const sources: { addrs: PeerAddress[]; source: PeerSource }[] = [];
    tr.on('peers', (addrs, source) => sources.push({ addrs, source }));
    await until(() => tr.state === 'seeding', 25_000, 'magnet download through the DHT');
    assert.deepEqual(await sameFiles(fx, out), []);
    const viaDht = sources.filter((s) => s.source.kind === 'dht').flatMap((s) => s.addrs);
    assert.ok(
      viaDht.some((a) => a.port === seedPort),
      `seed found via DHT: ${JSON.stringify(sources)}`,
    );
    assert.ok(
      sources.every((s) => s.source.kind === 'dht'),
      'no other source of peers',
    );
    await leech.close();
    // The routing table is saved for a warm restart.
    const warm = new Client({
      host: '127.0.0.1',
      pex: false,
      dht: dhtOptions([], join(resumeDir, 'dht.json')),
    });
    try {
      assert.ok(warm.dht!.node.table.size > 0, 'routing table reloaded');
    } finally {
      await warm.close();
    }
  },
);

test(
  'peers that set the DHT bit exchange PORT messages, which feed the routing table',
  { timeout: 15_000 },
  async (t) => {
    const tmp = await tempDir();
    const fx = await makeFixture(join(tmp.path, 'seed'), { files: [{ path: 'a.bin', size: 100_000 }] });
    // No bootstrap: the only way each learns the other's DHT node is the PORT message.
    const a = new Client({ host: '127.0.0.1', limits, dht: dhtOptions([]) });
    const b = new Client({ host: '127.0.0.1', limits, dht: dhtOptions([]) });
    t.after(async () => {
      await a.close();
      await b.close();
      await tmp.cleanup();
    });
    const aPort = await a.listen(0);
    await b.listen(0);
    await a.dht!.ready;
    await b.dht!.ready;
    const ta = await a.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => ta.state === 'seeding', 5000, 'A seeding');
    await b.addTorrent(fx.torrent, {
      savePath: join(tmp.path, 'b'),
      peers: [{ host: '127.0.0.1', port: aPort }],
    });
    await until(
      () => a.dht!.node.table.size > 0 && b.dht!.node.table.size > 0,
      10_000,
      'DHT nodes learnt through PORT',
    );
    assert.equal(b.dht!.node.table.all()[0]!.port, a.dht!.port);
  },
);
