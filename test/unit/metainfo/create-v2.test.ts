/**
 * v2 and hybrid creation in the hash pool: many jobs (a file spanning several, hundreds of small
 * files sharing one) give the same roots, piece layers and SHA-1 pieces as the pure Merkle
 * helpers computed here on the main thread, with bounded work in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HashPool,
  blockHashes,
  fileRootOfLeaves,
  pieceLayerOf,
  type MerklePiece,
  type PlacedSegment,
} from '../../../src/hash/index.js';
import { createTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

/** Counts the pool jobs creation sends, how many at once and how large. */
class CountingPool extends HashPool {
  calls = 0;
  running = 0;
  maxRunning = 0;
  maxSpan = 0;
  override async hashFilesMerkle(
    segments: readonly PlacedSegment[],
    span: number,
    pieces: readonly MerklePiece[],
    sha1?: boolean,
  ): Promise<Buffer> {
    this.calls++;
    this.maxSpan = Math.max(this.maxSpan, span);
    this.maxRunning = Math.max(this.maxRunning, ++this.running);
    try {
      return await super.hashFilesMerkle(segments, span, pieces, sha1);
    } finally {
      this.running--;
    }
  }
}

const PL = 32 * 1024;

for (const version of [2, 'hybrid'] as const)
  test(`create ${version} in the pool: the roots, layers and pieces of the pure Merkle helpers, at most 2 jobs per worker`, async () => {
    const tmp = await tempDir();
    const pool = new CountingPool({ threads: 2 });
    try {
      const dir = join(tmp.path, 'd');
      await mkdir(join(dir, 'small'), { recursive: true });
      const files: [string, Buffer][] = [
        ['big', seededBytes(9 * 1024 * 1024 + 3, 1)], // three 4 MiB jobs
        ['one-piece', seededBytes(PL, 2)],
        ['empty', Buffer.alloc(0)],
      ];
      // More small files than one job takes (1024 segments; 128 padded pieces for a hybrid).
      for (let i = 0; i < 1100; i++)
        files.push([`small/${String(i).padStart(4, '0')}`, seededBytes(100 + i, i + 3)]);
      for (const [rel, data] of files) await writeFile(join(dir, rel), data);
      const { torrent } = await createTorrent(dir, { version, pieceLength: PL, date: false, pool });
      const m = parseTorrent(torrent);

      const sha1: Buffer[] = [];
      for (const f of m.files.filter((x) => !x.pad && x.length > 0)) {
        const data = await readFile(join(tmp.path, f.name));
        const leaves = blockHashes(data);
        assert.deepEqual(f.piecesRoot, fileRootOfLeaves(leaves, PL / 16384), f.name);
        if (data.length > PL)
          assert.deepEqual(
            m.pieceLayers.get(f.piecesRoot!.toString('hex')),
            Buffer.concat(pieceLayerOf(leaves, PL / 16384)),
            `${f.name} layer`,
          );
        for (let at = 0; at < data.length; at += PL) {
          const piece = Buffer.alloc(PL);
          data.copy(piece, 0, at, at + PL);
          sha1.push(createHash('sha1').update(piece).digest());
        }
      }
      if (version === 'hybrid')
        sha1.forEach((h, i) => assert.deepEqual(m.pieceHash(i), h, `SHA-1 of piece ${i}`));
      assert.ok(pool.calls >= 4, `${pool.calls} pool jobs`);
      assert.ok(pool.maxRunning <= 4, `${pool.maxRunning} jobs in flight`);
      assert.ok(pool.maxSpan <= 4 * 1024 * 1024, `a ${pool.maxSpan}-byte job`);
    } finally {
      await pool.close();
      await tmp.cleanup();
    }
  });

test('a file that shrinks while a v2 torrent is created fails with CREATE_FILE_CHANGED', async () => {
  const tmp = await tempDir();
  const file = join(tmp.path, 'f');
  // Shrinks the file as the first job is handed out (the rest are still being planned).
  class ShrinkingPool extends HashPool {
    override async hashFilesMerkle(...args: Parameters<HashPool['hashFilesMerkle']>): Promise<Buffer> {
      await truncate(file, 1000);
      return super.hashFilesMerkle(...args);
    }
  }
  const pool = new ShrinkingPool({ threads: 1 });
  try {
    await writeFile(file, seededBytes(8 * 1024 * 1024, 5));
    await assert.rejects(createTorrent(file, { version: 2, pieceLength: PL, pool }), {
      code: 'CREATE_FILE_CHANGED',
    });
  } finally {
    await pool.close();
    await tmp.cleanup();
  }
});
