/**
 * A swarm of our own clients in one process: one seed (upload-limited, so leechers must trade)
 * and five leechers that all know each other. Everyone completes with identical files, and
 * leechers upload to each other (per-peer upload counters), not only download from the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import type { Torrent } from '../../../src/torrent/torrent.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

test('one seed and five leechers: all complete, pieces flow between leechers', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'one.bin', size: 1_200_000 },
      { path: 'two/three.bin', size: 900_000 },
    ],
    pieceLength: 32768,
  });
  const limits = { maxPerHost: 10 };
  const seedClient = new Client({ host: '127.0.0.1', limits, uploadRateLimit: 1_000_000 });
  const leechClients = Array.from({ length: 5 }, () => new Client({ host: '127.0.0.1', limits }));
  const clients = [seedClient, ...leechClients];
  /** Bytes each leecher sent to other leechers (by the Peer's payload counter). */
  const leechToLeech = new Map<Client, number>();
  try {
    const ports = await Promise.all(clients.map((c) => c.listen(0)));
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed checked');
    const leeches: Torrent[] = [];
    for (const [i, c] of leechClients.entries()) {
      const t = await c.addTorrent(fx.torrent, { savePath: join(tmp.path, `leech${i}`) });
      leeches.push(t);
      c.on('peer-disconnect', (p, _info, torrent) => {
        if (torrent && p.port !== ports[0] && p.listenPort !== ports[0])
          leechToLeech.set(c, (leechToLeech.get(c) ?? 0) + p.uploaded);
      });
    }
    for (const [i, t] of leeches.entries()) {
      t.addPeer('127.0.0.1', ports[0]!);
      for (let j = 0; j < i; j++) t.addPeer('127.0.0.1', ports[j + 1]!);
    }
    await until(() => leeches.every((t) => t.state === 'seeding'), 40_000, 'all leechers done');
    for (const [i] of leeches.entries())
      assert.deepEqual(await sameFiles(fx, join(tmp.path, `leech${i}`)), []);
    // Still-open connections: count what leechers have uploaded to each other so far.
    for (const [i, t] of leeches.entries())
      for (const p of t.peers)
        if (p.port !== ports[0] && p.listenPort !== ports[0])
          leechToLeech.set(leechClients[i]!, (leechToLeech.get(leechClients[i]!) ?? 0) + p.uploaded);
    const traded = [...leechToLeech.values()].reduce((a, b) => a + b, 0);
    const seedSent = seed.stats().sessionUploaded;
    assert.ok(traded > fx.metainfo.length, `leechers traded only ${traded} bytes (seed sent ${seedSent})`);
    assert.ok(seedSent < 5 * fx.metainfo.length, `seed sent ${seedSent}: every copy came from it`);
    for (const t of leeches) assert.equal(t.stats().hashFailures, 0);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await tmp.cleanup();
  }
});
