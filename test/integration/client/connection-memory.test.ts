/**
 * Heap held per idle connection to a seed (handshaken, then silent), measured after full GCs in
 * this process: what the lazily made per-connection structures are for. The scripted peers'
 * own sockets are counted too; a plain socket pair is measured the same way and subtracted.
 * Measured on this machine: 15.8 KB before the lazy structures, 13.6–13.9 KB after, 12.2 KB with
 * the shared tick queue, `on('close')` listeners and interned extension tables (a heap snapshot
 * diff of both sides, scripted peers included: 14.3 → 13.2 KB); 8.3 → 7.4–7.7 KB with the
 * transport sink, the send queue's owner interface and the shared reserved bytes, timeouts and
 * info-hash (rate buckets given back after a silent window are not in it: it measures at once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from '../../../src/client/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';
import { RawPeer } from '../../unit/client/raw-peer.js';

const N = 300;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

/** Heap per pair of a plain net server socket and its client. */
async function plainPairCost(): Promise<number> {
  const held: Socket[] = [];
  const server = createServer((s) => held.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const before = await settledHeap();
  const clients: Socket[] = [];
  for (let i = 0; i < N; i++)
    clients.push(
      await new Promise<Socket>((r) => {
        const s = connect({ host: '127.0.0.1', port }, () => r(s));
      }),
    );
  await until(() => held.length === N, 5000, 'accepted');
  const cost = ((await settledHeap()) - before) / N;
  for (const s of [...clients, ...held]) s.destroy();
  server.close();
  return cost;
}

test(`${N} idle connections to a seed hold under 9 KB of heap each beyond the sockets`, async (ctx) => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'x.bin', size: 300_000 }], pieceLength: 32768 });
  const c = new Client({
    host: '127.0.0.1',
    encryption: 'disabled',
    trackers: false,
    dht: false,
    limits: { maxConnections: 1000, maxPeersPerTorrent: 1000, maxPerHost: 1000, maxPendingIncoming: 1000 },
  });
  const raws: RawPeer[] = [];
  try {
    const port = await c.listen(0);
    const t = await c.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => t.state === 'seeding', 5000, 'seeding');
    const floor = await plainPairCost();
    const before = await settledHeap();
    for (let i = 0; i < N; i++) {
      const r = await RawPeer.connect(port);
      r.sendHandshake(fx.metainfo.infoHash);
      raws.push(r);
    }
    await until(() => t.peerCount === N, 10_000, 'all attached');
    // Every connection holds the torrent's own info-hash and one shared reserved field.
    const peers = [...t.peers];
    assert.ok(
      peers.every((p) => p.infoHash === t.infoHash),
      'info-hash shared',
    );
    assert.equal(new Set(peers.map((p) => p.reservedBytes)).size, 1, 'reserved bytes shared');
    const perConnection = ((await settledHeap()) - before) / N - floor;
    assert.ok(
      perConnection < 9_000,
      `${(perConnection / 1000).toFixed(1)} KB per connection (sockets: ${(floor / 1000).toFixed(1)} KB)`,
    );
    ctx.diagnostic(
      `${(perConnection / 1000).toFixed(1)} KB per connection beyond ${(floor / 1000).toFixed(1)} KB of sockets`,
    );
  } finally {
    for (const r of raws) r.close();
    await c.close();
    await tmp.cleanup();
  }
});
