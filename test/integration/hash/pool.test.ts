import { test } from 'node:test';
import { FakeClock } from '../../../src/util/clock.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HashPool, MerkleHasher, sharedHashPool } from '../../../src/hash/index.js';
import { isNbtError } from '../../../src/util/errors.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function expected(data: Uint8Array, pieceLength: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += pieceLength)
    out.push(
      createHash('sha1')
        .update(data.subarray(i, i + pieceLength))
        .digest(),
    );
  return Buffer.concat(out);
}

test('digests equal crypto SHA-1 for random data and edge sizes', async () => {
  const pool = new HashPool({ threads: 2 });
  try {
    const pl = 16384;
    for (const size of [1, pl - 1, pl, pl + 1, 3 * pl, 3 * pl + 7, (1 << 21) + 5, (1 << 22) - 1]) {
      const data = seededBytes(size, size);
      assert.deepEqual(await pool.hashPieces(data, pl), expected(data, pl), `size ${size}`);
      assert.equal(data.length, size, 'input not detached without transfer');
    }
    assert.equal((await pool.hashPieces(Buffer.alloc(0), pl)).length, 0);
    // A view in the middle of a larger buffer hashes only its own bytes.
    const big = seededBytes(100_000, 7);
    const view = big.subarray(1000, 60_000);
    assert.deepEqual(await pool.hashPieces(view, 32768), expected(view, 32768));
  } finally {
    await pool.close();
  }
});

test('transfer detaches an owned buffer; shared buffers are not copied or detached', async () => {
  const pool = new HashPool({ threads: 2 });
  try {
    const src = seededBytes(300_000, 3);
    const want = expected(src, 65536);
    const owned = new Uint8Array(src);
    assert.deepEqual(await pool.hashPieces(owned, 65536, { transfer: true }), want);
    assert.equal(owned.byteLength, 0, 'transferred input is detached');

    const sab = Buffer.from(new SharedArrayBuffer(5 << 20));
    seededBytes(5 << 20, 9).copy(sab);
    assert.deepEqual(await pool.hashPieces(sab, 1 << 18, { transfer: true }), expected(sab, 1 << 18));
    assert.equal(sab.length, 5 << 20);
  } finally {
    await pool.close();
  }
});

test('many concurrent calls resolve with their own digests', async () => {
  const pool = new HashPool({ threads: 3 });
  try {
    const inputs = Array.from({ length: 40 }, (_, i) => seededBytes(1000 + i * 5003, i + 1));
    const results = await Promise.all(
      inputs.map((d, i) => pool.hashPieces(d, 4096, { transfer: i % 2 === 0 })),
    );
    // Even inputs were transferred, so compare against digests of fresh copies.
    results.forEach((r, i) =>
      assert.deepEqual(r, expected(seededBytes(1000 + i * 5003, i + 1), 4096), `input ${i}`),
    );
  } finally {
    await pool.close();
  }
});

test('close() rejects pending work and later calls; bad arguments are typed errors', async () => {
  const pool = new HashPool({ threads: 1 });
  const pending = [
    pool.hashPieces(seededBytes(4 << 20, 1), 1 << 20),
    pool.hashPieces(seededBytes(4 << 20, 2), 1 << 20),
  ];
  const settled = Promise.allSettled(pending);
  await pool.close();
  for (const r of await settled) {
    assert.equal(r.status, 'rejected');
    assert.ok(isNbtError(r.reason, 'HASH_POOL_CLOSED'));
  }
  await assert.rejects(pool.hashPieces(Buffer.alloc(10), 5), (e) => isNbtError(e, 'HASH_POOL_CLOSED'));
  await pool.close(); // idempotent

  const p2 = new HashPool({ threads: 1 });
  await assert.rejects(p2.hashPieces(Buffer.alloc(10), 0), (e) => isNbtError(e, 'HASH_BAD_PIECE_LENGTH'));
  await p2.close();
  assert.throws(
    () => new HashPool({ threads: 0 }),
    (e) => isNbtError(e, 'HASH_BAD_THREADS'),
  );
});

test('close() settles even when a job reply is already waiting to be read', () => {
  // The reply of a finished job sits unread while the main thread is busy; close() then runs
  // first. That reply used to unref the worker mid-terminate, so the event loop ended and
  // `await close()` never continued (exit code 13: unsettled top-level await). In a child
  // process, since the failure is the process's event loop running out.
  const pool = new URL('../../../src/hash/index.js', import.meta.url).href;
  const script = `
    import { HashPool } from ${JSON.stringify(pool)};
    const pool = new HashPool({ threads: 1 });
    await pool.hashPieces(Buffer.alloc(1000, 1), 100);
    const p = pool.hashPieces(Buffer.alloc(1000, 2), 100).catch(() => 'rejected');
    const until = performance.now() + 300;
    while (performance.now() < until);
    await pool.close();
    console.log('closed', await p);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^closed (rejected|[0-9a-f,]+)/);
});

test('sharedHashPool is a lazy singleton, recreated after close', async () => {
  const a = sharedHashPool();
  assert.equal(sharedHashPool(), a);
  assert.deepEqual(await a.hashPieces(Buffer.from('abc'), 2), expected(Buffer.from('abc'), 2));
  await a.close();
  const b = sharedHashPool();
  assert.notEqual(b, a);
  // Not closed: the idle, unref'd workers must not keep this test process alive.
  assert.deepEqual(await b.hashPieces(Buffer.from('xyz'), 3), expected(Buffer.from('xyz'), 3));
});

test('warmUp starts the workers without keeping the process alive', async () => {
  const pool = new HashPool({ threads: 2 });
  pool.warmUp();
  pool.warmUp(); // idempotent
  const data = seededBytes(50_000, 5);
  assert.deepEqual(await pool.hashPieces(data, 16384), expected(data, 16384));
  await pool.close();
  pool.warmUp(); // no-op once closed
});

test('hashFiles reads segments in the worker and hashes their concatenation', async () => {
  const tmp = await tempDir();
  const pool = new HashPool({ threads: 2 });
  try {
    const a = seededBytes(30_000, 1);
    const b = seededBytes(50_000, 2);
    await writeFile(join(tmp.path, 'a'), a);
    await writeFile(join(tmp.path, 'b'), b);
    const segs = [
      { path: join(tmp.path, 'a'), offset: 1000, length: 29_000 },
      { path: join(tmp.path, 'b'), offset: 0, length: 50_000 },
      { path: join(tmp.path, 'a'), offset: 0, length: 10 },
    ];
    const joined = Buffer.concat([a.subarray(1000), b, a.subarray(0, 10)]);
    const results = await Promise.all([pool.hashFiles(segs, 16384), pool.hashFiles(segs.slice(1, 2), 7)]);
    assert.deepEqual(results[0], expected(joined, 16384));
    assert.deepEqual(results[1], expected(b, 7));
    assert.equal((await pool.hashFiles([], 16384)).length, 0);
    await assert.rejects(
      pool.hashFiles([{ path: join(tmp.path, 'a'), offset: 29_000, length: 2000 }], 16384),
      (e) => isNbtError(e, 'HASH_FILE_CHANGED'),
    );
    await assert.rejects(
      pool.hashFiles([{ path: join(tmp.path, 'missing'), offset: 0, length: 1 }], 16384),
      (e) => isNbtError(e, 'HASH_READ_FAILED'),
    );
    // The pool still works after failed jobs.
    assert.deepEqual(await pool.hashFiles(segs, 16384), expected(joined, 16384));
  } finally {
    await pool.close();
    await tmp.cleanup();
  }
});

test('hashLent hands the same memory back', async () => {
  const pool = new HashPool({ threads: 1 });
  try {
    let buf: Buffer = Buffer.allocUnsafeSlow(100_000);
    seededBytes(100_000, 4).copy(buf);
    const want = expected(buf, 32768);
    for (let i = 0; i < 3; i++) {
      const r = await pool.hashLent(buf, 32768);
      assert.deepEqual(r.digests, want);
      assert.equal(buf.length, 0, 'the lent reference is detached');
      buf = r.data;
      assert.equal(buf.length, 100_000);
    }
    await assert.rejects(pool.hashLent(Buffer.from('small'), 2), (e) =>
      isNbtError(e, 'HASH_NOT_TRANSFERABLE'),
    );
  } finally {
    await pool.close();
  }
});

test('workers start when the host runs code given with --input-type and -e', () => {
  // Workers inherit the host's Node flags; main-script-only flags must not reach them.
  const pool = new URL('../../../src/hash/index.js', import.meta.url).href;
  const code = `const { HashPool } = await import(${JSON.stringify(pool)});
    const p = new HashPool({ size: 1 });
    const d = await p.hashPieces(Buffer.alloc(32768, 1), 16384);
    await p.close();
    process.stdout.write(d.toString('hex'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const one = createHash('sha1').update(Buffer.alloc(16384, 1)).digest('hex');
  assert.equal(r.stdout, one + one);
});

test('workers start when the host runs with V8 and process-wide flags (--expose-gc, --max-old-space-size)', () => {
  // Worker refuses those flags (ERR_WORKER_INVALID_EXEC_ARGV); the pool must leave them out.
  const pool = new URL('../../../src/hash/index.js', import.meta.url).href;
  const code = `const { HashPool } = await import(${JSON.stringify(pool)});
    const p = new HashPool({ threads: 1 });
    const d = await p.hashPieces(Buffer.alloc(16384, 2), 16384);
    await p.close();
    process.stdout.write(typeof gc + ' ' + d.toString('hex'));`;
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=256', '--no-warnings', '--input-type=module', '-e', code],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'function ' + createHash('sha1').update(Buffer.alloc(16384, 2)).digest('hex'));
});

test('idle workers are stopped after idleTimeoutMs and started again by the next job', async () => {
  const clock = new FakeClock();
  const pool = new HashPool({ threads: 2, idleTimeoutMs: 5000, clock });
  try {
    const data = Buffer.alloc(1 << 16, 3);
    const want = await pool.hashPieces(data, 1 << 14);
    assert.ok(pool.workerCount >= 1);
    clock.advance(4999);
    assert.ok(pool.workerCount >= 1, 'not before the timeout');
    clock.advance(1);
    assert.equal(pool.workerCount, 0, 'memory given back');
    assert.deepEqual(await pool.hashPieces(data, 1 << 14), want);
    assert.ok(pool.workerCount >= 1);
  } finally {
    await pool.close();
  }
});

test('hashMerkle gives each BEP 52 piece its Merkle root (and SHA-1 first for hybrids), off the main thread', async () => {
  const pool = new HashPool({ threads: 2 });
  try {
    const data = seededBytes(3 * 65536, 77);
    // A full piece, one whose file ends 5000 bytes in (the rest pad), and a 3-leaf file in a
    // tree of 4.
    const pieces = [
      { at: 0, size: 65536, dataLength: 65536, width: 4 },
      { at: 65536, size: 65536, dataLength: 5000, width: 4 },
      { at: 131072, size: 65536, dataLength: 3 * 16384 - 1, width: 4 },
    ];
    const root = (p: (typeof pieces)[number]): Buffer =>
      new MerkleHasher(p.dataLength, p.width).update(data.subarray(p.at, p.at + p.size)).digest();
    const sha1 = (p: (typeof pieces)[number]): Buffer =>
      createHash('sha1')
        .update(data.subarray(p.at, p.at + p.size))
        .digest();
    assert.deepEqual(await pool.hashMerkle(data, pieces), Buffer.concat(pieces.map(root)));
    assert.deepEqual(
      await pool.hashMerkle(data, pieces, true),
      Buffer.concat(pieces.flatMap((p) => [sha1(p), root(p)])),
    );
    assert.equal(data.length, 3 * 65536, 'input not detached');
    const shared = Buffer.from(new SharedArrayBuffer(data.length));
    data.copy(shared);
    assert.deepEqual(await pool.hashMerkle(shared, pieces, true), await pool.hashMerkle(data, pieces, true));
    // Only the covered span is copied; offsets are kept right.
    assert.deepEqual(await pool.hashMerkle(data, pieces.slice(2)), root(pieces[2]!));
    const lent = Buffer.from(new Uint8Array(data));
    const back = await pool.hashMerkleLent(lent, pieces);
    assert.equal(lent.length, 0, 'lent buffer detached');
    assert.deepEqual(back.data, data);
    assert.deepEqual(back.digests, Buffer.concat(pieces.map(root)));
    for (const bad of [
      { at: 0, size: 65536 * 4, dataLength: 1, width: 4 }, // beyond the data
      { at: 0, size: 65536, dataLength: 65537, width: 8 }, // more data than the piece
      { at: 0, size: 65536, dataLength: 65536, width: 3 }, // not a power of two
      { at: 0, size: 65536, dataLength: 65536, width: 2 }, // 4 leaves in a tree of 2
    ])
      await assert.rejects(
        pool.hashMerkle(data, [bad]),
        { code: 'HASH_BAD_PIECE_LENGTH' },
        JSON.stringify(bad),
      );
    await assert.rejects(pool.hashMerkleLent(data.subarray(1), pieces.slice(0, 1)), {
      code: 'HASH_NOT_TRANSFERABLE',
    });
  } finally {
    await pool.close();
  }
});

test('hashFilesMerkle reads placed segments in the worker, zeros between them, and hashes Merkle pieces', async () => {
  const tmp = await tempDir();
  // One worker, so every job reuses the buffer the one before filled.
  const pool = new HashPool({ threads: 1 });
  try {
    const a = seededBytes(70_000, 11);
    const b = seededBytes(20_000, 12);
    const pa = join(tmp.path, 'a');
    const pb = join(tmp.path, 'b');
    await writeFile(pa, a);
    await writeFile(pb, b);
    // a's last 4464 bytes end a 65536-byte piece padded with zeros (a hybrid's v1 piece), then
    // b as a 2-leaf file tree: the same bytes as one buffer laid out by hand.
    const span = 3 * 65536;
    const laid = Buffer.alloc(span);
    a.copy(laid, 0);
    b.copy(laid, 131072);
    const segments = [
      { path: pa, offset: 0, length: 70_000, at: 0 },
      { path: pb, offset: 0, length: 20_000, at: 131072 },
    ];
    const pieces = [
      { at: 0, size: 65536, dataLength: 65536, width: 4 },
      { at: 65536, size: 65536, dataLength: 70_000 - 65536, width: 4 },
      { at: 131072, size: 65536, dataLength: 20_000, width: 2 },
    ];
    for (const sha1 of [false, true])
      assert.deepEqual(
        await pool.hashFilesMerkle(segments, span, pieces, sha1),
        await pool.hashMerkle(laid, pieces, sha1),
        `sha1 ${sha1}`,
      );
    // The worker's reused buffer held a's bytes: the gap must read as zeros again, not stale data.
    const gapOnly = [{ at: 65536, size: 65536, dataLength: 4464, width: 4 }];
    assert.deepEqual(
      await pool.hashFilesMerkle(
        [{ path: pa, offset: 65536, length: 4464, at: 65536 }],
        131072,
        gapOnly,
        true,
      ),
      await pool.hashMerkle(laid.subarray(0, 131072), gapOnly, true),
    );
    await assert.rejects(
      pool.hashFilesMerkle([{ path: pa, offset: 60_000, length: 20_000, at: 0 }], 65536, pieces.slice(0, 1)),
      (e) => isNbtError(e, 'HASH_FILE_CHANGED'),
    );
    await assert.rejects(
      pool.hashFilesMerkle([{ path: join(tmp.path, 'gone'), offset: 0, length: 1, at: 0 }], 16384, [
        { at: 0, size: 1, dataLength: 1, width: 1 },
      ]),
      (e) => isNbtError(e, 'HASH_READ_FAILED'),
    );
    await assert.rejects(
      pool.hashFilesMerkle([{ path: pa, offset: 0, length: 10, at: 65530 }], 65536, pieces.slice(0, 1)),
      {
        code: 'HASH_BAD_SEGMENT',
      },
    );
    await assert.rejects(pool.hashFilesMerkle(segments, 65536, pieces), { code: 'HASH_BAD_SEGMENT' });
    await assert.rejects(pool.hashFilesMerkle([], 100, [{ at: 0, size: 200, dataLength: 1, width: 1 }]), {
      code: 'HASH_BAD_PIECE_LENGTH',
    });
    assert.equal((await pool.hashFilesMerkle([], 0, [])).length, 0);
  } finally {
    await pool.close();
    await tmp.cleanup();
  }
});
