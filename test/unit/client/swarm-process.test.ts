/** A swarm across processes: a seed and three leechers, each a Client in its own process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles } from './fixtures.js';
import { ClientChild } from './child-process.js';

test('seed and three leechers in separate processes all complete', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { pieceLength: 32768 });
  const children: ClientChild[] = [];
  try {
    const seed = new ClientChild({ torrent: fx.torrentPath, save: fx.dir, uploadRateLimit: 2_000_000 });
    children.push(seed);
    const seedPort = await seed.port();
    await seed.waitFor('done', 10_000);
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c = new ClientChild({
        torrent: fx.torrentPath,
        save: join(tmp.path, `l${i}`),
        peers: [seedPort, ...ports],
      });
      children.push(c);
      ports.push(await c.port());
    }
    await Promise.all(children.slice(1).map((c) => c.waitFor('done', 40_000)));
    for (let i = 0; i < 3; i++) assert.deepEqual(await sameFiles(fx, join(tmp.path, `l${i}`)), []);
    // A clean shutdown: SIGTERM closes the client and the process exits by itself.
    const codes = await Promise.all(children.map((c) => c.kill('SIGTERM')));
    assert.deepEqual(codes, [0, 0, 0, 0]);
  } finally {
    await Promise.all(children.map((c) => c.kill()));
    await tmp.cleanup();
  }
});
