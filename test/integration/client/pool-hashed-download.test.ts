/**
 * Downloads whose every piece is hashed by the worker pool on a lent buffer (the buffer moves
 * to a worker and back with the digest; no copy, no shared memory): v1 (SHA-1) and hybrid (SHA-1
 * and the Merkle root in one job), a short last piece included. The files must come out whole,
 * so a buffer written before it came back, or written as the detached one, fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTorrent } from '../../../src/metainfo/index.js';
import { seedThenLeech } from '../../helpers/seed-leech.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

for (const version of [1, 'hybrid'] as const) {
  test(`a ${version === 1 ? 'v1' : 'hybrid'} download hashed in the pool on lent buffers`, async () => {
    const tmp = await tempDir();
    const files: [string, number][] = [
      ['d/a.bin', 300_000],
      ['d/b.bin', 77_777],
    ];
    for (const [rel, size] of files) {
      await mkdir(join(tmp.path, 'seed', rel, '..'), { recursive: true });
      await writeFile(join(tmp.path, 'seed', rel), seededBytes(size, size + 1));
    }
    const { torrent } = await createTorrent(join(tmp.path, 'seed', 'd'), {
      version,
      pieceLength: 32768,
      date: false,
    });
    const { seedClient, leechClient, leech } = await seedThenLeech(
      torrent,
      join(tmp.path, 'seed'),
      join(tmp.path, 'leech'),
      { settings: { hash_offload_utilization: 0, worker_hash_min_piece: 0 } },
    );
    try {
      assert.equal(leech.stats().hashFailures, 0);
      assert.ok(leechClient.hashPool.workerCount > 0, 'the pool hashed the pieces');
      for (const [rel] of files)
        assert.ok(
          (await readFile(join(tmp.path, 'leech', rel))).equals(await readFile(join(tmp.path, 'seed', rel))),
          rel,
        );
    } finally {
      await Promise.all([seedClient.close(), leechClient.close()]);
      await tmp.cleanup();
    }
  });
}
