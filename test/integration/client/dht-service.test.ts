import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/client/index.js';
import { buildMagnet } from '../../../src/metainfo/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { join } from 'node:path';
import { until } from '../../unit/client/fixtures.js';
import { RawPeer } from '../../unit/client/raw-peer.js';

test('DHT searches: at once on start, early every minIntervalMs while short of peers, on the FakeClock', async () => {
  const tmp = await tempDir();
  const clock = new FakeClock();
  const c = new Client({
    host: '127.0.0.1',
    clock,
    pex: false,
    trackers: false,
    dht: { host: '127.0.0.1', bootstrap: [], minIntervalMs: 60_000, intervalMs: 15 * 60_000 },
  });
  try {
    const port = await c.listen(0);
    await c.dht!.ready;
    assert.equal(c.dht!.port, port, 'the DHT shares the listen port');
    // Count this torrent's searches (the node's own maintenance makes lookups too).
    const node = c.dht!.node;
    const announce = node.announce.bind(node);
    let searches = 0;
    node.announce = (infoHash, port, implied) => {
      searches++;
      return announce(infoHash, port, implied);
    };
    const lookups = (): number => searches;
    const base = 0;
    const t = await c.addTorrent(buildMagnet({ infoHash: seededBytes(20, 5) }), { savePath: tmp.path });
    await until(() => t.state === 'metadata' && lookups() === base + 1, 5000, 'first search');
    clock.advance(30_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(lookups(), base + 1, 'not again before minIntervalMs');
    clock.advance(35_000);
    await until(() => lookups() === base + 2, 5000, 'early search while short of peers');
    await c.removeTorrent(t);
    clock.advance(20 * 60_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(lookups(), base + 2, 'a removed torrent is not searched');
  } finally {
    await c.close();
    await tmp.cleanup();
  }
});

test('DHT: a hybrid is announced under its v1 hash and its truncated v2 hash', () =>
  withDhtClient(async (c, tmp) => {
    const node = c.dht!.node;
    const announce = node.announce.bind(node);
    const names: string[] = [];
    node.announce = (infoHash, port, implied) => {
      names.push(Buffer.from(infoHash).toString('hex'));
      return announce(infoHash, port, implied);
    };
    const v1 = seededBytes(20, 7);
    const v2 = seededBytes(32, 8);
    await c.addTorrent(buildMagnet({ infoHash: v1, infoHashV2: v2 }), { savePath: tmp.path });
    await until(() => names.length >= 2, 5000, 'two announces');
    assert.deepEqual(names.slice(0, 2), [v1.toString('hex'), v2.subarray(0, 20).toString('hex')]);
    // a v1 torrent: one name only
    const other = seededBytes(20, 9);
    await c.addTorrent(buildMagnet({ infoHash: other }), { savePath: join(tmp.path, 'o') });
    await until(() => names.includes(other.toString('hex')), 5000, 'v1 announce');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(names.length, 3);
  }));

test("DHT: a peer's PORT message offers its node to the routing table, port 0 does not", () =>
  withDhtClient(async (c, tmp, port) => {
    const node = c.dht!.node;
    const offered: { host: string; port: number }[] = [];
    node.addNode = (n) => {
      offered.push({ host: n.host, port: n.port });
      return Promise.resolve(false);
    };
    const infoHash = seededBytes(20, 9);
    const t = await c.addTorrent(buildMagnet({ infoHash }), { savePath: tmp.path });
    await until(() => t.state === 'metadata', 5000, 'magnet waiting');
    const raw = await RawPeer.connect(port);
    raw.sendHandshake(infoHash);
    assert.ok(await raw.waitFor((r) => r.handshake !== undefined), 'handshake answered');
    await until(() => t.peerCount === 1, 5000, 'peer joined');
    raw.send({ type: 'port', port: 6881 });
    await until(() => offered.length === 1, 5000, 'node offered');
    assert.deepEqual(offered[0], { host: '127.0.0.1', port: 6881 });
    raw.send({ type: 'port', port: 0 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(offered.length, 1, 'port 0 is no node');
    raw.socket.destroy();
  }));

/** A listening client whose DHT has no bootstrap nodes, ready; closed and cleaned up after `body`. */
async function withDhtClient(
  body: (c: Client, tmp: { path: string }, port: number) => Promise<void>,
): Promise<void> {
  const tmp = await tempDir();
  const c = new Client({
    host: '127.0.0.1',
    pex: false,
    trackers: false,
    dht: { host: '127.0.0.1', bootstrap: [] },
  });
  try {
    const port = await c.listen(0);
    await c.dht!.ready;
    await body(c, tmp, port);
  } finally {
    await c.close();
    await tmp.cleanup();
  }
}
