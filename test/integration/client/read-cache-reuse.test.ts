/**
 * A seed whose read cache holds four pieces serves three of our leechers at once — over TCP in
 * plaintext, over TCP with RC4, and over uTP (whose buffers must never be reused) — so evicted
 * piece buffers are reused for later reads. Every leecher must end with identical files and no
 * failed piece. (When a reused buffer is safe is tested on its own: test/unit/torrent/
 * read-cache.test.ts, and the Peer's send-path positions in test/integration/peer.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

test('read cache: evicted buffers are reused while three leechers (plaintext, RC4, uTP) get exact data', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'big.bin', size: 6 * 1024 * 1024 + 12_345 }],
    pieceLength: 65536,
  });
  const local = {
    dht: false as const,
    lsd: false as const,
    portMapping: false as const,
    trackers: false as const,
  };
  const seedClient = new Client({
    host: '127.0.0.1',
    ...local,
    limits: { maxPerHost: 10 },
    settings: { read_cache_size: 4 * 65536 },
  });
  const leechers = [
    new Client({ host: '127.0.0.1', ...local, encryption: 'disabled', utp: false }),
    new Client({ host: '127.0.0.1', ...local, encryption: 'required', utp: false }),
    new Client({
      host: '127.0.0.1',
      ...local,
      tcp: { incoming: false, outgoing: false },
    }),
  ];
  try {
    const port = await seedClient.listen(0);
    await Promise.all(leechers.map((c) => c.listen(0)));
    const seed = await seedClient.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 10_000, 'seed checked');
    const leeches = await Promise.all(
      leechers.map((c, i) => c.addTorrent(fx.torrent, { savePath: join(tmp.path, `leech${i}`) })),
    );
    for (const t of leeches) t.addPeer('127.0.0.1', port);
    await until(() => leeches.every((t) => t.state === 'seeding'), 60_000, 'all leechers done');
    for (const [i, t] of leeches.entries()) {
      assert.deepEqual(await sameFiles(fx, join(tmp.path, `leech${i}`)), [], `leecher ${i}`);
      assert.equal(t.stats().hashFailures, 0, `leecher ${i} failed pieces`);
    }
    // The third leecher has TCP off both ways: it finished over uTP.
    assert.ok(seed.readBuffersReused > 0, 'the seed reused no read buffer');
  } finally {
    await Promise.all([seedClient, ...leechers].map((c) => c.close()));
    await tmp.cleanup();
  }
});
