import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { HashPool } from '../../../src/hash/index.js';
import {
  checkFiles,
  checkStorage,
  FileStorage,
  makeLayout,
  MemoryStorage,
} from '../../../src/storage/index.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { isNbtError } from '../../../src/util/errors.js';
import { sha1 } from '../../../src/util/sha1.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

const pl = 32768;
const layout = makeLayout(pl, [
  { path: ['t', 'a'], length: 5 * pl + 100 },
  { path: ['t', 'pad'], length: pl - 100, pad: true },
  { path: ['t', 'b'], length: 3 * pl },
  { path: ['t', 'c'], length: 2 * pl + 5 },
]);
const data = seededBytes(layout.length, 3);
data.fill(0, 5 * pl + 100, 6 * pl);
const hashes = Buffer.concat(
  Array.from({ length: layout.pieceCount }, (_, i) =>
    sha1(data.subarray(i * pl, Math.min(layout.length, (i + 1) * pl))),
  ),
);

async function fill(s: { write(p: number, o: number, d: Buffer): Promise<void> }): Promise<void> {
  for (let p = 0; p < layout.pieceCount; p++)
    await s.write(p, 0, data.subarray(p * pl, Math.min(layout.length, (p + 1) * pl)));
}

test('check finds good pieces; corrupt, missing and short files make pieces missing', async (t) => {
  const dir = await tempDir();
  const pool = new HashPool({ threads: 2 });
  t.after(async () => {
    await pool.close();
    await dir.cleanup();
  });
  const s = new FileStorage(layout, dir.path);
  await fill(s);
  const progress: number[] = [];
  const all = await checkStorage(s, hashes, {
    pool,
    chunkBytes: 2 * pl,
    onProgress: (d) => progress.push(d),
  });
  assert.equal(all.count, layout.pieceCount);
  assert.equal(progress.at(-1), layout.pieceCount);

  await s.write(2, 10, Buffer.from('corrupt'));
  await s.close();
  await unlink(join(dir.path, 't', 'b')); // pieces 6..8 (8 also holds c's start)
  await truncate(join(dir.path, 't', 'c'), pl + 7); // piece 10 short, 9 intact? c starts at 9*pl
  const s2 = new FileStorage(layout, dir.path);
  const got = await checkStorage(s2, (i) => hashes.subarray(i * 20, i * 20 + 20), {
    pool,
    chunkBytes: 3 * pl,
  });
  assert.deepEqual([...got.indices()], [0, 1, 3, 4, 5, 9]);
  assert.deepEqual([...(await checkFiles(layout, dir.path, hashes, { pool })).indices()], [0, 1, 3, 4, 5, 9]);
  const only = new Bitfield(layout.pieceCount);
  only.set(2);
  only.set(4);
  assert.deepEqual([...(await checkStorage(s2, hashes, { pool, pieces: only })).indices()], [4]);
  await s2.close();
});

test('check on an empty directory: nothing, no errors; abort stops it', async (t) => {
  const dir = await tempDir();
  const pool = new HashPool({ threads: 1 });
  t.after(async () => {
    await pool.close();
    await dir.cleanup();
  });
  const s = new FileStorage(layout, dir.path);
  assert.equal((await checkStorage(s, hashes, { pool })).count, 0);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(checkStorage(s, hashes, { pool, signal: ac.signal }), (e) =>
    isNbtError(e, 'STORAGE_CHECK_ABORTED'),
  );
  await assert.rejects(checkStorage(s, hashes.subarray(1), { pool }), (e) =>
    isNbtError(e, 'STORAGE_BAD_HASHES'),
  );
  const m = new MemoryStorage(layout);
  await fill(m);
  assert.equal((await checkStorage(m, hashes, { pool, chunkBytes: 1 })).count, layout.pieceCount);
  await s.close();
});
