/**
 * Downloads whose every piece is hashed by the worker pool on a lent buffer (the buffer moves
 * to a worker and back with the digest; no copy, no shared memory): v1 (SHA-1), hybrid (SHA-1
 * and the Merkle root in one job) and hybrid split (SHA-1 on the main thread as blocks arrive,
 * the root in the pool), a short last piece included. The files must come out whole,
 * so a buffer written before it came back, or written as the detached one, fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HashPool } from '../../../src/hash/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { seedThenLeech } from '../../helpers/seed-leech.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

/** Counts the lent-buffer jobs by kind: SHA-1, Merkle root, or both in one job. */
class CountingPool extends HashPool {
  readonly jobs = { sha1: 0, merkle: 0, both: 0 };
  override hashLent(...a: Parameters<HashPool['hashLent']>): ReturnType<HashPool['hashLent']> {
    this.jobs.sha1++;
    return super.hashLent(...a);
  }
  override hashMerkleLent(
    ...a: Parameters<HashPool['hashMerkleLent']>
  ): ReturnType<HashPool['hashMerkleLent']> {
    this.jobs[a[2] ? 'both' : 'merkle']++;
    return super.hashMerkleLent(...a);
  }
}

const cases = [
  { version: 1, name: 'a v1 download hashed in the pool', offload: 0, split: false, job: 'sha1' },
  { version: 'hybrid', name: 'a hybrid download hashed in the pool', offload: 0, split: false, job: 'both' },
  // The main thread keeps SHA-1 and lends each finished piece out for its Merkle root only.
  {
    version: 'hybrid',
    name: 'a hybrid download split: SHA-1 here, Merkle roots in the pool',
    offload: 1,
    split: true,
    job: 'merkle',
  },
] as const;

for (const { version, name, offload, split, job } of cases) {
  test(`${name} on lent buffers`, async () => {
    const tmp = await tempDir();
    const hashPool = new CountingPool({ threads: 2 });
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
      {
        hashPool,
        settings: {
          hash_offload_utilization: offload,
          worker_hash_min_piece: 0,
          split_hybrid_hashing: split,
        },
      },
    );
    try {
      assert.equal(leech.stats().hashFailures, 0);
      const others = Object.entries(hashPool.jobs).filter(([k]) => k !== job);
      assert.ok(hashPool.jobs[job] > 0, `the pool hashed pieces (${job} jobs)`);
      assert.deepEqual(
        others,
        others.map(([k]) => [k, 0]),
        'and only in those jobs',
      );
      for (const [rel] of files)
        assert.ok(
          (await readFile(join(tmp.path, 'leech', rel))).equals(await readFile(join(tmp.path, 'seed', rel))),
          rel,
        );
    } finally {
      await Promise.all([seedClient.close(), leechClient.close()]);
      await hashPool.close();
      await tmp.cleanup();
    }
  });
}
