import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { DhtNode } from '../../src/dht/index.js';
import type { PeerSource } from '../../src/peer/types.js';
import type { PeerAddress } from '../../src/util/compact.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, until } from '../unit/client/fixtures.js';

const limits = { maxPerHost: 10 };

async function threeClients(t: { after(fn: () => Promise<void>): void }, isPrivate: boolean, dht?: DhtNode) {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'a.bin', size: 2_000_000 }],
    pieceLength: 32 * 1024,
  });
  if (isPrivate) {
    const { createTorrent } = await import('../../src/metainfo/index.js');
    const made = await createTorrent(join(fx.dir, fx.name), {
      pieceLength: 32 * 1024,
      date: false,
      private: true,
    });
    fx.torrent = made.torrent;
    fx.metainfo = made.metainfo;
  }
  const dhtOption = dht
    ? { host: '127.0.0.1', bootstrap: [dht.address()!], minIntervalMs: 200, node: { queryTimeoutMs: 500 } }
    : false;
  const make = (o: { uploadRateLimit?: number } = {}) =>
    new Client({ host: '127.0.0.1', limits, pex: { intervalMs: 300 }, dht: dhtOption, ...o });
  // The seed is slow so that B and C are still downloading when they should meet.
  const a = make({ uploadRateLimit: 150_000 });
  const b = make();
  const c = make();
  t.after(async () => {
    await Promise.all([a.close(), b.close(), c.close()]);
    await tmp.cleanup();
  });
  const ports = [await a.listen(0), await b.listen(0), await c.listen(0)] as const;
  const ta = await a.addTorrent(fx.torrent, { savePath: fx.dir });
  await until(() => ta.state === 'seeding', 5000, 'A seeding');
  const viaA = [{ host: '127.0.0.1', port: ports[0] }];
  const tb = await b.addTorrent(fx.torrent, { savePath: join(tmp.path, 'b'), peers: viaA });
  await until(() => ta.peerCount === 1, 5000, 'B connected to A');
  const tc = await c.addTorrent(fx.torrent, { savePath: join(tmp.path, 'c'), peers: viaA });
  const heard: { addrs: PeerAddress[]; source: PeerSource }[] = [];
  tc.on('peers', (addrs, source) => heard.push({ addrs, source }));
  return { a, b, c, ta, tb, tc, ports, heard };
}

test('PEX: C learns about B only through A, and connects to it', { timeout: 20_000 }, async (t) => {
  const { tc, tb, ports, heard } = await threeClients(t, false);
  await until(
    () => heard.some((h) => h.source.kind === 'pex' && h.addrs.some((x) => x.port === ports[1])),
    10_000,
    "B's address from A's PEX",
  );
  await until(
    () =>
      tc.peers.some((p) => !p.incoming && p.port === ports[1]) ||
      tb.peers.some((p) => p.incoming && p.listenPort === ports[2]),
    10_000,
    'C connected to B',
  );
  assert.ok(!tc.complete, 'C met B before it finished (the test is meaningful)');
});

test(
  'private torrents: no PEX is sent or taken, and the DHT is never used',
  { timeout: 20_000 },
  async (t) => {
    const dht = new DhtNode({ host: '127.0.0.1', queryTimeoutMs: 500 });
    await dht.listen();
    t.after(() => dht.close());
    let dhtQueriesForTorrent = 0;
    const { a, b, c, ta, tc, heard } = await threeClients(t, true, dht);
    assert.equal(ta.metainfo.private, true);
    const ih = ta.infoHash;
    dht.on('announce', (h: Buffer) => h.equals(ih) && dhtQueriesForTorrent++);
    await Promise.all([a, b, c].map((x) => x.dht!.ready));
    // Bootstrapping is the only lookup a client makes when all its torrents are private.
    const lookups = [a, b, c].map((x) => x.dht!.node.stats.lookups);
    await until(() => tc.peerCount === 1 && ta.peerCount === 2, 5000, 'C connected to A');
    // Many PEX intervals (300 ms) and DHT search periods (200 ms) pass.
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(
      heard.filter((h) => h.source.kind === 'pex' || h.source.kind === 'dht'),
      [],
    );
    assert.deepEqual(
      [a, b, c].map((x) => x.dht!.node.stats.lookups),
      lookups,
      'no DHT lookup for a private torrent',
    );
    assert.equal(dhtQueriesForTorrent, 0);
    assert.equal(tc.peerCount, 1, 'C knows only A');
  },
);
