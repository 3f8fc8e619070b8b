/**
 * Framing the honest seed (issue 18, item 1): three liars on their own IPs each send garbage
 * for one block (their first request) and reject everything else, while a real libtorrent seed
 * sends the truth. Every failed piece is shared between the seed and one liar; blame must follow
 * evidence: the download completes, the seed is never disconnected or banned, the liars are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { DisconnectReason } from '../../src/peer/disconnect.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../unit/client/fixtures.js';
import { RawPeer, randomPeerId } from '../unit/client/raw-peer.js';

const LIARS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

test('three liars sharing failed pieces with a libtorrent seed: they are banned, the seed is not', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 64 * 32768 }],
    pieceLength: 32768,
  });
  const seed = new LtPeer('seed', fx.torrentPath, fx.dir, { enc: 'disabled' });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled' });
  const lies = new Map<string, number>();
  const liars = await Promise.all(
    LIARS.map((host) =>
      RawPeer.listen((p) => {
        let lied = false;
        p.onMessage = (m) => {
          if (m.type !== 'request') return;
          if (lied) return p.send({ type: 'reject', index: m.index, begin: m.begin, length: m.length });
          lied = true;
          lies.set(host, m.index);
          p.send({ type: 'piece', index: m.index, begin: m.begin, block: Buffer.alloc(m.length, 0x5a) });
        };
        void p
          .waitFor((r) => r.handshake !== undefined)
          .then(() => {
            p.sendHandshake(fx.metainfo.infoHash, randomPeerId());
            p.send({ type: 'haveAll' });
            p.send({ type: 'unchoke' });
          });
      }, host),
    ),
  );
  const closes: { host: string; reason: number }[] = [];
  client.on('peer-disconnect', (p, info) => closes.push({ host: p.host, reason: info.reason }));
  const banned: string[] = [];
  client.on('banned', (_t, h) => banned.push(h));
  const failed: number[] = [];
  client.on('piece-hash-fail', (_t, i) => failed.push(i));
  try {
    const seedPort = await seed.port();
    await client.listen(0);
    const torrent = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    liars.forEach((l, i) => torrent.addPeer(LIARS[i]!, l.port));
    torrent.addPeer('127.0.0.1', seedPort);
    await until(() => torrent.state === 'seeding', 30_000, 'download complete');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
    assert.equal(lies.size, 3, 'every liar lied once');
    assert.ok(failed.length >= 1, 'pieces failed');
    assert.ok(!banned.includes('127.0.0.1'), `the seed was banned: ${banned.join(', ')}`);
    const seedCloses = closes.filter((c) => c.host === '127.0.0.1' && c.reason !== DisconnectReason.SEED);
    assert.deepEqual(seedCloses, [], 'the seed stays connected until we are both seeds');
    // Every liar whose garbage landed in a piece another peer completed is named by evidence.
    assert.deepEqual([...banned].sort(), [...LIARS].sort());
    for (const h of LIARS)
      assert.ok(
        closes.some((c) => c.host === h && c.reason === DisconnectReason.CORRUPT_DATA),
        `${h} closed`,
      );
  } finally {
    for (const l of liars) l.server.close();
    await client.close();
    await seed.kill();
    await tmp.cleanup();
  }
});
