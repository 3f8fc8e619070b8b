import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { QUICK_READ_BYTES, QuickIo } from '../../../src/storage/quick-io.js';
import { SyncPolicy } from '../../../src/storage/sync-policy.js';
import { readFileIfExists } from '../../../src/storage/atomic.js';
import { isNbtError } from '../../../src/util/errors.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

/** A clock the test moves: each call of `now` returns the next value. */
function steppingClock(step: number): () => number {
  let t = 0;
  return () => (t += step);
}

test('quick reads: small files, missing files, size bound, a large file, stats', async () => {
  const dir = await tempDir('nbt-quick-');
  try {
    const small = seededBytes(220, 1);
    const large = seededBytes(QUICK_READ_BYTES + 12345, 2);
    await writeFile(join(dir.path, 'small'), small);
    await writeFile(join(dir.path, 'large'), large);
    await mkdir(join(dir.path, 'sub'));
    for (const mode of ['auto', 'sync', 'async'] as const) {
      const io = new QuickIo(new SyncPolicy(mode));
      assert.deepEqual(await io.readFile(join(dir.path, 'small'), 1000), small, mode);
      assert.deepEqual(await io.readFile(join(dir.path, 'large'), 4 << 20), large, mode);
      assert.equal(await io.readFileIfExists(join(dir.path, 'absent'), 1000), undefined, mode);
      await assert.rejects(io.readFile(join(dir.path, 'absent'), 1000), { code: 'ENOENT' });
      await assert.rejects(io.readFile(join(dir.path, 'small'), 100), /220 bytes, larger than 100/);
      await assert.rejects(
        io.readFile(join(dir.path, 'small'), 100, (size) => new RangeError(`big ${size}`)),
        { name: 'RangeError', message: 'big 220' },
      );
      await assert.rejects(io.readFile(join(dir.path, 'sub'), 1 << 20), { code: 'EISDIR' });
      assert.equal((await io.stat(join(dir.path, 'small'))).size, 220, mode);
      assert.ok((await io.stat(join(dir.path, 'sub'))).isDirectory(), mode);
      await assert.rejects(io.stat(join(dir.path, 'absent')), { code: 'ENOENT' });
    }
    // The wrapper used by resume data maps errors to STORAGE_* codes.
    assert.equal(await readFileIfExists(join(dir.path, 'absent')), undefined);
    await assert.rejects(readFileIfExists(join(dir.path, 'small'), 10), (e) => isNbtError(e));
  } finally {
    await dir.cleanup();
  }
});

test('quick reads: a read that blocks sends the next ones to the pool for the back-off', async () => {
  const dir = await tempDir('nbt-quick-');
  try {
    const file = join(dir.path, 'f');
    await writeFile(file, seededBytes(100, 3));
    // Every call of the clock advances 10 ms: each synchronous read looks blocked.
    const policy = new SyncPolicy('auto', { slowMs: 8, backoffMs: 1000 });
    const io = new QuickIo(policy, steppingClock(10));
    await io.readFile(file, 1000);
    assert.equal(policy.fallbacks, 1);
    // Within the back-off the reads go to the pool (and so cannot be judged slow again).
    for (let i = 0; i < 5; i++) assert.equal((await io.readFile(file, 1000)).length, 100);
    await io.stat(file);
    assert.equal(policy.fallbacks, 1);
    // A fast clock: reads stay synchronous and never fall back.
    const quick = new SyncPolicy('auto', { slowMs: 8 });
    const io2 = new QuickIo(quick, steppingClock(0.01));
    for (let i = 0; i < 20; i++) await io2.readFile(file, 1000);
    assert.equal(quick.fallbacks, 0);
    assert.ok(quick.sync(1));
  } finally {
    await dir.cleanup();
  }
});
