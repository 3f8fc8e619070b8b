import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat, symlink, unlink, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FileStorage,
  MemoryStorage,
  PieceReadCache,
  makeLayout,
  mapRange,
  type Storage,
} from '../../../src/storage/index.js';
import { OpenFileBudget } from '../../../src/storage/fd-pool.js';
import { isNbtError } from '../../../src/util/errors.js';
import { ASYNC_CHUNK, SYNC_CHUNK, writeSpan } from '../../../src/storage/span-writer.js';
import { SyncPolicy } from '../../../src/storage/sync-policy.js';
import { prng, seededBytes, tempDir } from '../../helpers/tmp.js';

const layout = makeLayout(1000, [
  { path: ['t', 'a.bin'], length: 2500 },
  { path: ['t', '.pad', '500'], length: 500, pad: true },
  { path: ['t', 'sub', 'b.bin'], length: 1234 },
  { path: ['t', 'empty'], length: 0 },
  { path: ['t', 'c.bin'], length: 7 },
]);
const data = seededBytes(layout.length, 5);
data.fill(0, 2500, 3000); // padding is zeros

async function writeAll(s: Storage): Promise<void> {
  // Blocks of 300 bytes, several per call as a vector, in a scrambled order.
  const jobs: Promise<void>[] = [];
  for (let p = layout.pieceCount - 1; p >= 0; p--) {
    const size = p === layout.pieceCount - 1 ? layout.lastPieceLength : layout.pieceLength;
    const parts: Buffer[] = [];
    for (let o = 0; o < size; o += 300)
      parts.push(data.subarray(p * 1000 + o, p * 1000 + Math.min(size, o + 300)));
    jobs.push(s.write(p, 0, parts));
  }
  await Promise.all(jobs);
}

test('mapRange splits ranges at file boundaries and skips empty files', () => {
  assert.deepEqual(
    mapRange(layout, 2400, 1200).map((s) => [s.fileIndex, s.fileOffset, s.length]),
    [
      [0, 2400, 100],
      [1, 0, 500],
      [2, 0, 600],
    ],
  );
  assert.deepEqual(
    mapRange(layout, 4233, 8).map((s) => [s.fileIndex, s.fileOffset, s.length]),
    [
      [2, 1233, 1],
      [4, 0, 7],
    ],
  );
  assert.throws(
    () => mapRange(layout, 4000, 1000),
    (e) => isNbtError(e, 'STORAGE_BAD_RANGE'),
  );
});

for (const kind of ['file', 'memory'] as const) {
  test(`${kind} storage: pieces spanning files round-trip, padding is zeros and never on disk`, async (t) => {
    const dir = await tempDir();
    t.after(dir.cleanup);
    const s =
      kind === 'file' ? new FileStorage(layout, dir.path, { maxOpenFiles: 2 }) : new MemoryStorage(layout);
    await writeAll(s);
    for (let p = 0; p < layout.pieceCount; p++) {
      const size = p === layout.pieceCount - 1 ? layout.lastPieceLength : 1000;
      assert.deepEqual(await s.read(p, 0, size), data.subarray(p * 1000, p * 1000 + size), `piece ${p}`);
    }
    assert.deepEqual(await s.read(2, 400, 300), data.subarray(2400, 2700));
    const stats = await s.fileStats();
    assert.deepEqual(
      stats.map((x) => x?.size),
      [2500, undefined, 1234, 0, 7].map((v, i) => (kind === 'memory' && i === 3 ? undefined : v)),
    );
    if (kind === 'file') {
      assert.deepEqual(await readFile(join(dir.path, 't', 'a.bin')), data.subarray(0, 2500));
      assert.deepEqual(await readFile(join(dir.path, 't', 'sub', 'b.bin')), data.subarray(3000, 4234));
      assert.deepEqual((await readdir(join(dir.path, 't'))).sort(), ['a.bin', 'c.bin', 'empty', 'sub']);
    }
    await s.close();
    await assert.rejects(s.read(0, 0, 1), (e) => isNbtError(e, 'STORAGE_CLOSED'));
  });
}

test('file storage: sparse files, bounded open handles, range checks', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const big = makeLayout(1 << 20, [{ path: ['big.bin'], length: 64 << 20 }]);
  const s = new FileStorage(big, dir.path, { maxOpenFiles: 1 });
  await s.write(63, 0, Buffer.alloc(1 << 20, 7));
  const st = await stat(join(dir.path, 'big.bin'));
  assert.equal(st.size, 64 << 20);
  assert.ok(st.blocks * 512 < 8 << 20, `file is not sparse: ${st.blocks * 512} bytes allocated`);
  await assert.rejects(s.write(63, 1, Buffer.alloc(1 << 20)), (e) => isNbtError(e, 'STORAGE_BAD_RANGE'));
  await assert.rejects(s.read(64, 0, 1), (e) => isNbtError(e, 'STORAGE_BAD_RANGE'));
  await s.close();

  const many = makeLayout(
    10,
    Array.from({ length: 8 }, (_, i) => ({ path: [`f${i}`], length: 10 })),
  );
  const m = new FileStorage(many, dir.path, { maxOpenFiles: 3 });
  for (let i = 0; i < 8; i++) await m.write(i, 0, Buffer.alloc(10, i));
  for (let i = 7; i >= 0; i--) assert.deepEqual(await m.read(i, 0, 10), Buffer.alloc(10, i));
  assert.ok((m as unknown as { pool: { openCount: number } }).pool.openCount <= 3);
  await m.close();
});

test('file storage: storages sharing an OpenFileBudget keep at most its bound open, across them', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const budget = new OpenFileBudget(3);
  const layouts = [0, 1].map((k) =>
    makeLayout(
      10,
      Array.from({ length: 5 }, (_, i) => ({ path: [`s${k}`, `f${i}`], length: 10 })),
    ),
  );
  const [a, b] = layouts.map(
    (l) => new FileStorage(l, dir.path, { maxOpenFiles: 64, openFiles: budget }),
  ) as [FileStorage, FileStorage];
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let i = 0; i < 5; i++) {
    await a.write(i, 0, Buffer.alloc(10, i));
    await b.write(i, 0, Buffer.alloc(10, 10 + i));
    assert.ok(budget.openCount <= 3, `open ${budget.openCount}`);
  }
  for (let i = 4; i >= 0; i--) {
    assert.deepEqual(await a.read(i, 0, 10), Buffer.alloc(10, i));
    assert.deepEqual(await b.read(i, 0, 10), Buffer.alloc(10, 10 + i));
  }
  // Handles are closed asynchronously: wait for the descriptors to go.
  for (let n = 0; n < 100 && fds() > before + 3; n++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(fds() <= before + 3, `${fds() - before} descriptors open, bound 3`);
  // Concurrent reads in use are never closed under a caller; afterwards the bound holds again.
  const all = await Promise.all([0, 1, 2, 3, 4].flatMap((i) => [a.read(i, 0, 10), b.read(i, 0, 10)]));
  assert.equal(all.length, 10);
  assert.ok(budget.openCount <= 3, `open ${budget.openCount}`);
  // A lower bound closes idle handles now.
  budget.setMax(1);
  assert.equal(budget.openCount, 1);
  await a.close();
  await b.close();
  assert.equal(budget.openCount, 0);
});

test('file storage: missing and short files are typed errors naming the file, or holes when allowed', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const s = new FileStorage(layout, dir.path);
  await assert.rejects(
    s.read(0, 0, 10),
    (e) => isNbtError(e, 'STORAGE_FILE_MISSING') && e.message.includes(join(dir.path, 't', 'a.bin')),
  );
  await s.write(0, 0, data.subarray(0, 1000));
  await assert.rejects(
    s.read(1, 0, 10),
    (e) => isNbtError(e, 'STORAGE_SHORT_READ') && e.message.includes('a.bin'),
  );
  const buf = Buffer.alloc(4241, 0xee);
  const missing = await s.readInto(0, buf, { allowMissing: true });
  assert.deepEqual(missing, [
    { start: 1000, end: 2500 },
    { start: 3000, end: 4234 },
    { start: 4234, end: 4241 },
  ]);
  assert.deepEqual(buf.subarray(0, 1000), data.subarray(0, 1000));
  assert.ok(buf.subarray(1000).every((b) => b === 0));
  await s.close();
});

test('file storage: a file deleted while open is reported by flush, then recreated', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const l = makeLayout(10, [{ path: ['x'], length: 20 }]);
  const s = new FileStorage(l, dir.path);
  await s.write(0, 0, Buffer.alloc(10, 1));
  await s.flush();
  await unlink(join(dir.path, 'x'));
  await s.write(1, 0, Buffer.alloc(10, 2));
  await assert.rejects(
    s.flush(),
    (e) => isNbtError(e, 'STORAGE_FILE_MISSING') && e.message.includes(join(dir.path, 'x')),
  );
  await s.write(1, 0, Buffer.alloc(10, 2));
  await s.flush();
  assert.deepEqual(
    await readFile(join(dir.path, 'x')),
    Buffer.concat([Buffer.alloc(10), Buffer.alloc(10, 2)]),
  );
  await s.close();
});

test('file storage: paths stay inside the save path', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  for (const path of [['..', 'x'], ['a', '..', '..', 'x'], ['/etc', 'passwd'], ['a/b'], [''], ['a\0b']]) {
    assert.throws(
      () => new FileStorage(makeLayout(10, [{ path, length: 10 }]), join(dir.path, 'save')),
      (e) => isNbtError(e, 'STORAGE_BAD_PATH'),
      JSON.stringify(path),
    );
  }
  // A symlinked directory inside the save path must not redirect writes outside it.
  const save = join(dir.path, 'save');
  const outside = join(dir.path, 'outside');
  await mkdir(save);
  await mkdir(outside);
  await symlink(outside, join(save, 'link'));
  const s = new FileStorage(makeLayout(10, [{ path: ['link', 'x'], length: 10 }]), save);
  await assert.rejects(s.write(0, 0, Buffer.alloc(10)), (e) => isNbtError(e, 'STORAGE_BAD_PATH'));
  assert.deepEqual(await readdir(outside), []);
  await s.close();
  await writeFile(join(outside, 'x'), 'outside!!!');
  const r = new FileStorage(makeLayout(10, [{ path: ['link', 'x'], length: 10 }]), save);
  await assert.rejects(r.read(0, 0, 10), (e) => isNbtError(e, 'STORAGE_BAD_PATH'));
  await r.close();
  // A symlinked file is refused too.
  await writeFile(join(outside, 'target'), 'secret');
  await symlink(join(outside, 'target'), join(save, 'file'));
  const f = new FileStorage(makeLayout(10, [{ path: ['file'], length: 10 }]), save);
  await assert.rejects(f.read(0, 0, 6), (e) => isNbtError(e, 'STORAGE_BAD_PATH'));
  await assert.rejects(f.write(0, 0, Buffer.alloc(10)), (e) => isNbtError(e, 'STORAGE_BAD_PATH'));
  assert.equal(await readFile(join(outside, 'target'), 'utf8'), 'secret');
  await f.close();
});

test('file storage: a symlink in the save folder never makes us create anything outside it', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const save = join(dir.path, 'save');
  const victim = join(dir.path, 'outside', 'victim');
  await mkdir(join(save, 'deep'), { recursive: true });
  await mkdir(victim, { recursive: true });
  await symlink(victim, join(save, 'X'));
  await symlink(victim, join(save, 'deep', 'Y'));
  for (const path of [
    ['X', 'a', 'b', 'c.bin'],
    ['deep', 'Y', 'a', 'c.bin'],
  ]) {
    const s = new FileStorage(makeLayout(10, [{ path, length: 10 }]), save);
    await assert.rejects(
      s.write(0, 0, Buffer.alloc(10)),
      (e) => isNbtError(e, 'STORAGE_BAD_PATH'),
      path.join('/'),
    );
    await assert.rejects(s.read(0, 0, 10), (e) => isNbtError(e, 'STORAGE_BAD_PATH'), path.join('/'));
    await s.close();
  }
  assert.deepEqual(await readdir(victim), [], 'no directory was created outside the save path');
  // A symlink that stays inside the save path is followed as before.
  await mkdir(join(save, 'real'));
  await symlink(join(save, 'real'), join(save, 'alias'));
  const ok = new FileStorage(makeLayout(10, [{ path: ['alias', 'sub', 'f.bin'], length: 10 }]), save);
  await ok.write(0, 0, Buffer.alloc(10, 7));
  await ok.close();
  assert.deepEqual(await readFile(join(save, 'real', 'sub', 'f.bin')), Buffer.alloc(10, 7));
});

test('file storage: a path blocked by a file is STORAGE_NOT_A_FILE', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  await writeFile(join(dir.path, 'd'), 'x');
  const s = new FileStorage(makeLayout(10, [{ path: ['d', 'x'], length: 10 }]), dir.path);
  await assert.rejects(
    s.write(0, 0, Buffer.alloc(10)),
    (e) => isNbtError(e) && e.code.startsWith('STORAGE_'),
  );
  await s.close();
});

test('file storage: a full disk (ENOSPC) and a read-only one (EROFS) surface as typed errors without data loss', async (t) => {
  const dir = await tempDir();
  const mnt = join(dir.path, 'mnt');
  await mkdir(mnt);
  const mounted =
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' }).status === 0;
  t.after(async () => {
    if (mounted) spawnSync('umount', ['-l', mnt], { stdio: 'ignore' });
    await dir.cleanup();
  });
  if (!mounted) {
    process.stderr.write('NOTICE: cannot mount a tmpfs here (needs root); ENOSPC test skipped\n');
    t.skip('cannot mount a tmpfs here (needs root)');
    return;
  }
  const pl = 256 << 10;
  const l = makeLayout(pl, [{ path: ['dl', 'file.bin'], length: 8 * pl }]);
  const payload = seededBytes(8 * pl, 9);
  // Writes on the thread pool and synchronous ones fail the same way.
  for (const writeMode of ['async', 'sync'] as const) {
    await spaceAndReadOnly(writeMode);
    assert.equal(spawnSync('mount', ['-o', 'remount,rw', mnt]).status, 0);
    await rm(join(mnt, 'dl'), { recursive: true, force: true });
  }

  async function spaceAndReadOnly(writeMode: 'async' | 'sync'): Promise<void> {
    const s = new FileStorage(l, mnt, { writeMode });
    let written = 0;
    let error: unknown;
    for (let p = 0; p < 8; p++) {
      try {
        await s.write(p, 0, payload.subarray(p * pl, (p + 1) * pl));
        written++;
      } catch (e) {
        error = e;
        break;
      }
    }
    assert.ok(written >= 2 && written < 8, `wrote ${written} pieces`);
    assert.ok(isNbtError(error, 'STORAGE_NO_SPACE'), String(error));
    assert.ok((error as Error).message.includes(join(mnt, 'dl', 'file.bin')));
    for (let p = 0; p < written; p++)
      assert.deepEqual(await s.read(p, 0, pl), payload.subarray(p * pl, (p + 1) * pl), `piece ${p} intact`);
    await s.close();

    assert.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0);
    const ro = new FileStorage(l, mnt, { writeMode });
    await assert.rejects(
      ro.write(0, 0, payload.subarray(0, pl)),
      (e) => isNbtError(e, 'STORAGE_READ_ONLY') && e.message.includes('file.bin'),
    );
    assert.deepEqual(await ro.read(0, 0, pl), payload.subarray(0, pl));
    await ro.close();
  }
});

test('piece read cache: one read per piece, LRU bounded, invalidation', async () => {
  const l = makeLayout(1000, [{ path: ['x'], length: 5500 }]);
  const m = new MemoryStorage(l);
  const payload = seededBytes(5500, 2);
  for (let p = 0; p < 6; p++)
    await m.write(p, 0, payload.subarray(p * 1000, Math.min(5500, p * 1000 + 1000)));
  const cache = new PieceReadCache(m, 4000);
  const reads = await Promise.all([cache.read(1, 0, 100), cache.read(1, 100, 200), cache.read(5, 400, 100)]);
  assert.deepEqual(reads[0], payload.subarray(1000, 1100));
  assert.deepEqual(reads[1], payload.subarray(1100, 1300));
  assert.deepEqual(reads[2], payload.subarray(5400, 5500));
  assert.equal(cache.misses, 2);
  assert.equal(cache.hits, 1);
  for (let p = 0; p < 6; p++) await cache.read(p, 0, 10);
  assert.ok(cache.cachedBytes <= 4000);
  cache.invalidate(5);
  await m.write(5, 0, Buffer.alloc(500, 9));
  assert.deepEqual(await cache.read(5, 0, 3), Buffer.alloc(3, 9));
  await assert.rejects(cache.read(6, 0, 1), (e) => isNbtError(e, 'STORAGE_BAD_RANGE'));
});

test('random layouts: scattered writes then reads match a reference, on disk and in memory', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const rnd = prng(77);
  for (let round = 0; round < 12; round++) {
    const files = Array.from({ length: 1 + Math.floor(rnd() * 6) }, (_, i) => {
      const r = rnd();
      const length = r < 0.15 ? 0 : r < 0.3 ? 1 + Math.floor(rnd() * 5) : Math.floor(rnd() * 5000);
      return { path: [`r${round}`, `f${i}`], length, pad: rnd() < 0.15 };
    });
    if (files.every((f) => f.length === 0))
      files.push({ path: [`r${round}`, 'last'], length: 10, pad: false });
    const l = makeLayout(1 + Math.floor(rnd() * 3000), files);
    const ref = Buffer.alloc(l.length);
    const stores = [new FileStorage(l, dir.path, { maxOpenFiles: 2, fsync: false }), new MemoryStorage(l)];
    for (let w = 0; w < 30; w++) {
      const piece = Math.floor(rnd() * l.pieceCount);
      const size = piece === l.pieceCount - 1 ? l.lastPieceLength : l.pieceLength;
      const off = Math.floor(rnd() * size);
      const len = Math.floor(rnd() * (size - off + 1));
      const bytes = seededBytes(len, round * 100 + w);
      const at = piece * l.pieceLength + off;
      bytes.copy(ref, at);
      // Pad bytes are never stored: the reference keeps zeros there.
      for (const f of l.files)
        if (f.pad) ref.fill(0, Math.max(at, f.offset), Math.min(at + len, f.offset + f.length));
      const parts =
        len > 2 ? [bytes.subarray(0, 1), bytes.subarray(1, len >> 1), bytes.subarray(len >> 1)] : [bytes];
      for (const s of stores) await s.write(piece, off, parts);
    }
    for (const s of stores) {
      const back = Buffer.alloc(l.length, 0xaa);
      await s.readInto(0, back, { allowMissing: true });
      assert.deepEqual(back, ref, `round ${round} ${s.constructor.name}`);
      await s.close();
    }
  }
});

test('fileStats of many files in missing folders stats each folder once, the files not at all', async () => {
  const tmp = await tempDir('nbt-fs-stats');
  const dir = tmp.path;
  // 20,000 files in 200 folders, of which one exists and holds two of the files.
  const files = Array.from({ length: 20_000 }, (_, i) => ({
    path: ['t', `d${i % 200}`, `f${i}`],
    length: 1,
  }));
  const l = makeLayout(1 << 14, files);
  await mkdir(join(dir, 't', 'd7'), { recursive: true });
  await writeFile(join(dir, 't', 'd7', 'f7'), 'x');
  await writeFile(join(dir, 't', 'd7', 'f207'), 'yy');
  const s = new FileStorage(l, dir);
  const stats = await s.fileStats();
  assert.equal(stats.length, 20_000);
  assert.equal(stats[7]?.size, 1);
  assert.equal(stats[207]?.size, 2);
  assert.equal(stats.filter((x) => x !== undefined).length, 2);
  assert.equal(stats[407], undefined, 'a missing file in an existing folder');
  await s.close();
  await tmp.cleanup();
});

test('a read spanning thousands of tiny files keeps the open descriptors bounded', async (t) => {
  if (process.platform !== 'linux') return t.skip('counts /proc/self/fd');
  const tmp = await tempDir('nbt-fs-tiny');
  t.after(tmp.cleanup);
  // 4,000 files of 3 bytes in one 16 KiB piece: a check of 400,000 such files read 8 MiB, and so
  // ~290,000 files, at once and failed with EMFILE.
  const files = Array.from({ length: 4000 }, (_, i) => ({ path: ['t', `d${i % 40}`, `f${i}`], length: 3 }));
  const l = makeLayout(1 << 14, files);
  const bytes = seededBytes(l.length, 11);
  const s = new FileStorage(l, tmp.path, { maxOpenFiles: 8 });
  await s.write(0, 0, bytes);
  await s.close();
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const base = fds();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, fds())), 1);
  const r = new FileStorage(l, tmp.path, { maxOpenFiles: 8 });
  try {
    assert.deepEqual(await r.read(0, 0, l.length), bytes);
  } finally {
    clearInterval(sampler);
    await r.close();
  }
  assert.ok(peak - base <= 8 + 16 + 8, `${peak - base} descriptors open at once`);
});

for (const writeMode of ['auto', 'sync', 'async'] as const)
  test(`file storage: big writes (in 16 and 32 KiB chunks) of uneven parts across files round-trip (${writeMode})`, async (t) => {
    const dir = await tempDir();
    t.after(() => dir.cleanup());
    const pl = 1 << 20;
    // A file boundary mid-piece and off any chunk boundary; parts that straddle chunk edges.
    const l = makeLayout(pl, [
      { path: ['big', 'a.bin'], length: pl + 70_001 },
      { path: ['big', 'b.bin'], length: 2 * pl - 70_001 + 12_345 },
    ]);
    const payload = seededBytes(l.length, 21);
    const s = new FileStorage(l, dir.path, { writeMode });
    const sizes = [1, 16_391, 32_768, 40_000, 7, 65_536 + 3];
    const jobs: Promise<void>[] = [];
    for (let p = l.pieceCount - 1; p >= 0; p--) {
      const size = p === l.pieceCount - 1 ? l.lastPieceLength : pl;
      const parts: Buffer[] = [];
      for (let o = 0, k = 0; o < size; k++) {
        const n = Math.min(size - o, sizes[k % sizes.length]!);
        parts.push(payload.subarray(p * pl + o, p * pl + o + n));
        o += n;
      }
      jobs.push(s.write(p, 0, parts));
    }
    await Promise.all(jobs);
    await s.close();
    const a = await readFile(join(dir.path, 'big', 'a.bin'));
    const b = await readFile(join(dir.path, 'big', 'b.bin'));
    assert.equal(a.length, pl + 70_001);
    assert.ok(Buffer.concat([a, b]).equals(payload));
  });

test('span writer: a synchronous span that blocks hands the rest to the thread pool, bytes intact', async (t) => {
  const dir = await tempDir();
  t.after(() => dir.cleanup());
  const path = join(dir.path, 'span.bin');
  const handle = await open(path, 'w+');
  t.after(() => handle.close());
  let poolWrites = 0;
  const writev = handle.writev.bind(handle);
  handle.writev = ((buffers: Buffer[], position?: number) => {
    poolWrites++;
    return writev(buffers, position);
  }) as typeof handle.writev;
  const policy = new SyncPolicy('auto', { slowMs: 8, backoffMs: 1000 });
  // Each clock read is 5 ms later: the second 16 KiB write ends the synchronous part.
  let clock = 0;
  const now = (): number => (clock += 5);
  const payload = seededBytes((1 << 20) + 3, 31);
  const parts = [payload.subarray(0, 5), payload.subarray(5, 40_000), payload.subarray(40_000)];
  await writeSpan(handle, parts, 0, policy, now);
  assert.equal(policy.fallbacks, 1);
  // 2 × 16 KiB synchronously, then the remaining 1 MiB − 29 KiB in 32 KiB pool writes.
  assert.equal(poolWrites, Math.ceil((payload.length - 2 * SYNC_CHUNK) / ASYNC_CHUNK));
  assert.equal(policy.sync(clock), false, 'later spans go to the pool during the back-off');
  const more = seededBytes(100, 32);
  await writeSpan(handle, [more], payload.length, policy, now);
  assert.equal(poolWrites, Math.ceil((payload.length - 2 * SYNC_CHUNK) / ASYNC_CHUNK) + 1);
  assert.ok((await readFile(path)).equals(Buffer.concat([payload, more])));
});
