/**
 * Two of our clients dial each other at the same moment (default limits: one connection per
 * host, both on 127.0.0.1): both sides must keep the same single connection, and the transfer
 * goes on over it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { keepsOurOutgoing } from '../../../src/client/duplicates.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

test('the duplicate rule gives the same answer on both sides', () => {
  const a = Buffer.alloc(20, 1);
  const b = Buffer.alloc(20, 2);
  for (const [pa, pb] of [
    [6881, 6882],
    [50000, 1024],
    [6881, 6881],
  ] as const) {
    // Exactly one side keeps its outgoing connection.
    assert.notEqual(keepsOurOutgoing(pa, pb, a, b), keepsOurOutgoing(pb, pa, b, a), `${pa} ${pb}`);
  }
  assert.equal(keepsOurOutgoing(1000, 2000, b, a), true, 'the lower listen port keeps its outgoing');
});

for (const round of [1, 2, 3]) {
  test(`simultaneous dials between two of our clients leave one connection on both sides (${round})`, async () => {
    const tmp = await tempDir();
    const fx = await makeFixture(join(tmp.path, 'seed'), {
      files: [{ path: 'f.bin', size: 8_000_000 }],
      pieceLength: 32768,
      seed: round,
    });
    // The seed is rate-limited so the transfer is still running after the duplicate grace.
    const a = new Client({ host: '127.0.0.1', trackers: false, dht: false, uploadRateLimit: 2_000_000 });
    const b = new Client({ host: '127.0.0.1', trackers: false, dht: false });
    const reasons: { side: string; name: string }[] = [];
    a.on('peer-disconnect', (_p, info) => reasons.push({ side: 'a', name: info.name }));
    b.on('peer-disconnect', (_p, info) => reasons.push({ side: 'b', name: info.name }));
    try {
      const [pa, pb] = await Promise.all([a.listen(0), b.listen(0)]);
      const ta = await a.addTorrent(fx.torrent, { savePath: fx.dir });
      await until(() => ta.state === 'seeding', 5000, 'seed checked');
      const tb = await b.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
      await until(() => tb.state === 'downloading', 5000, 'leech started');
      const connectsA: boolean[] = [];
      const connectsB: boolean[] = [];
      a.on('peer-connect', (_t, p) => connectsA.push(p.incoming));
      b.on('peer-connect', (_t, p) => connectsB.push(p.incoming));
      ta.addPeer('127.0.0.1', pb);
      tb.addPeer('127.0.0.1', pa);
      await until(() => connectsA.length + connectsB.length >= 4, 5000, 'both dials attached on both sides');
      const closedOn = (side: string): number => reasons.filter((r) => r.side === side).length;
      await until(() => closedOn('a') >= 1 && closedOn('b') >= 1, 5000, 'one duplicate closed');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(ta.peerCount, 1, `a: ${JSON.stringify(reasons)}`);
      assert.equal(tb.peerCount, 1, `b: ${JSON.stringify(reasons)}`);
      // The same connection: outgoing on one side, incoming on the other.
      assert.notEqual(ta.peers[0]!.incoming, tb.peers[0]!.incoming);
      // One connection closed on each side, as a duplicate (by us or by the remote).
      for (const side of ['a', 'b']) {
        const names = reasons.filter((r) => r.side === side).map((r) => r.name);
        assert.equal(names.length, 1, JSON.stringify(reasons));
        assert.ok(['PREEXISTING', 'BY_REMOTE'].includes(names[0]!), JSON.stringify(reasons));
      }
      await until(() => tb.state === 'seeding', 20_000, 'leech done');
      assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await tmp.cleanup();
    }
  });
}
