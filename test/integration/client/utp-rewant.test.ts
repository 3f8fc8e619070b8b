/**
 * A file skipped and then wanted again over uTP (the web UI browser test's scenario, seen to
 * stall once in CI): two Clients over real UDP on 127.0.0.1, uTP only, the seed rate-limited.
 * The leech finishes the wanted file, the connection idles, then the skipped file is wanted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

const files = [
  { path: 'one.bin', size: 400_000 },
  { path: 'two.bin', size: 300_000 },
];

test('a skipped file wanted again after an idle spell downloads over uTP', { timeout: 90_000 }, async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files, pieceLength: 16384 });
  const utpOnly = { tcp: { incoming: false, outgoing: false } } as const;
  const common = { host: '127.0.0.1', dht: false, pex: false, limits: { maxPerHost: 10 } } as const;
  const seedClient = new Client({ ...common, ...utpOnly, uploadRateLimit: 200_000 });
  const leechClient = new Client({ ...common, ...utpOnly });
  try {
    const port = await seedClient.listen(0);
    await leechClient.listen(0);
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed checked');
    const leech = await leechClient.addTorrent(fx.torrent, {
      savePath: join(tmp.path, 'leech'),
      filePriorities: [1, 0],
    });
    leech.addPeer('127.0.0.1', port);
    await until(() => leech.finished, 30_000, 'one.bin done');
    assert.equal(leech.peers.length, 1);
    assert.equal(leech.peers[0]!.transport, 'utp');
    // Idle a while (not interested, choked; NBT_REWANT_IDLE_MS=35000 crosses the uTP keep-alive).
    await new Promise((r) => setTimeout(r, Number(process.env.NBT_REWANT_IDLE_MS ?? 3000)));
    leech.setFilePriority(1, 1);
    await until(() => leech.state === 'seeding', 20_000, 'two.bin done');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);
  } finally {
    await Promise.all([seedClient.close(), leechClient.close()]);
    await tmp.cleanup();
  }
});
