/**
 * A scripted peer (raw socket, src/wire) that answers every request with wrong bytes: the
 * pieces fail their hash check, are fetched again from a good peer, and the liar is
 * disconnected (CORRUPT_DATA) and banned (BANNED when it comes back).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { DisconnectReason, type DisconnectInfo } from '../../../src/peer/disconnect.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';
import { RawPeer, randomPeerId } from '../../unit/client/raw-peer.js';

const BAD_HOST = '127.0.0.2';

test('corrupt blocks: detected, re-fetched elsewhere, the sender disconnected and banned', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 600_000 }],
    pieceLength: 32768,
  });
  const seedClient = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  let badRequests = 0;
  const bad = await RawPeer.listen((p) => {
    p.onMessage = (m) => {
      if (m.type === 'request') {
        badRequests++;
        p.send({ type: 'piece', index: m.index, begin: m.begin, block: Buffer.alloc(m.length, 0x5a) });
      }
    };
    void p
      .waitFor((r) => r.handshake !== undefined)
      .then(() => {
        p.sendHandshake(fx.metainfo.infoHash, randomPeerId());
        p.send({ type: 'haveAll' });
        p.send({ type: 'unchoke' });
      });
  }, BAD_HOST);
  const closes: { host: string; info: DisconnectInfo }[] = [];
  client.on('peer-disconnect', (p, info) => closes.push({ host: p.host, info }));
  const failed: number[] = [];
  client.on('piece-hash-fail', (_t, i, peers) => {
    failed.push(i);
    assert.ok(peers.every((h) => h === BAD_HOST));
  });
  const banned: string[] = [];
  client.on('banned', (_t, h) => banned.push(h));
  try {
    const seedPort = await seedClient.listen(0);
    const port = await client.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    const t = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    t.addPeer(BAD_HOST, bad.port);
    await until(() => failed.length > 0, 10_000, 'a hash failure');
    t.addPeer('127.0.0.1', seedPort);
    await until(() => t.state === 'seeding', 20_000, 'download complete');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    assert.ok(badRequests > 0);
    assert.deepEqual(banned, [BAD_HOST]);
    const badClose = closes.find((c) => c.host === BAD_HOST);
    assert.equal(badClose?.info.reason, DisconnectReason.CORRUPT_DATA);
    assert.ok(t.stats().hashFailures >= 1);
    const failedBytes = failed.reduce((sum, i) => sum + fx.metainfo.pieceSize(i), 0);
    assert.ok(t.stats().wasted >= failedBytes, `wasted ${t.stats().wasted} < ${failedBytes}`);
    // The session counters tell failed pieces apart from other waste.
    const c = client.counters();
    assert.equal(c.piecesFailed, failed.length);
    assert.equal(c.hashFailedBytes, failedBytes);
    assert.equal(c.wastedBytes, t.stats().wasted - failedBytes);
    assert.equal(c.piecesPassed, fx.metainfo.pieceCount);
    assert.equal(c.connectionsClosed[String(DisconnectReason.CORRUPT_DATA)], 1);
    // It comes back on its own: refused as BANNED.
    const again = await RawPeer.connect(port, '127.0.0.1', BAD_HOST);
    again.sendHandshake(fx.metainfo.infoHash);
    await until(() => closes.some((c) => c.info.reason === DisconnectReason.BANNED), 5000, 'BANNED');
    await again.closed;
  } finally {
    bad.server.close();
    await client.close();
    await seedClient.close();
    await tmp.cleanup();
  }
});
