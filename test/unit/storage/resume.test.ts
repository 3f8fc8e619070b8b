import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeResume,
  encodeResume,
  makeLayout,
  readFileIfExists,
  trustResume,
  writeFileAtomic,
  type ResumeData,
} from '../../../src/storage/index.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { isNbtError, NbtError } from '../../../src/util/errors.js';
import { prng, tempDir } from '../../helpers/tmp.js';

const layout = makeLayout(100, [
  { path: ['a'], length: 250 },
  { path: ['pad'], length: 50, pad: true },
  { path: ['b'], length: 300 },
  { path: ['c'], length: 95 },
]);

function sample(): ResumeData {
  const have = new Bitfield(layout.pieceCount);
  for (const i of [0, 1, 3, 4, 6]) have.set(i);
  const blocks = new Bitfield(7);
  blocks.set(0);
  blocks.set(6);
  return {
    version: 1,
    infoHash: Buffer.alloc(20, 0xab),
    have,
    files: [
      { size: 250, mtimeMs: 1_700_000_000_123 },
      undefined,
      { size: 300, mtimeMs: 5 },
      { size: 95, mtimeMs: 6 },
    ],
    unfinished: [{ piece: 5, blocks }],
    peers: [
      { host: '10.0.0.1', port: 6881 },
      { host: '2001:db8::1', port: 51413 },
    ],
    uploaded: 12345,
    downloaded: 2 ** 40,
    savePath: '/srv/tørrents',
  };
}

test('resume data round-trips and checks what torrent it belongs to', () => {
  const r = sample();
  const buf = encodeResume(r);
  const back = decodeResume(buf, { infoHash: r.infoHash, pieceCount: 7, fileCount: 4, blockCount: () => 7 });
  assert.deepEqual([...back.have.indices()], [0, 1, 3, 4, 6]);
  assert.deepEqual(back.files, r.files);
  assert.deepEqual(
    back.unfinished.map((u) => [u.piece, [...u.blocks.indices()]]),
    [[5, [0, 6]]],
  );
  assert.deepEqual(back.peers, r.peers);
  assert.equal(back.downloaded, 2 ** 40);
  assert.equal(back.savePath, r.savePath);
  const code = (f: () => unknown): string => {
    try {
      f();
      return 'none';
    } catch (e) {
      return e instanceof NbtError ? e.code : 'other';
    }
  };
  assert.equal(
    code(() => decodeResume(buf, { infoHash: Buffer.alloc(20) })),
    'RESUME_MISMATCH',
  );
  assert.equal(
    code(() => decodeResume(buf, { pieceCount: 8 })),
    'RESUME_MISMATCH',
  );
  assert.equal(
    code(() => decodeResume(buf, { fileCount: 3 })),
    'RESUME_MISMATCH',
  );
  assert.equal(
    code(() => decodeResume(buf, { blockCount: () => 4 })),
    'RESUME_MISMATCH',
  );
  assert.equal(
    code(() => decodeResume(encodeResume({ ...r, version: 2 }))),
    'RESUME_VERSION',
  );
  assert.equal(
    code(() => decodeResume(Buffer.from('le'))),
    'RESUME_CORRUPT',
  );
});

test('resume decoder throws only RESUME_* errors on mangled input (seeded fuzz)', () => {
  const good = encodeResume(sample());
  const rnd = prng(42);
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(good);
    const kind = rnd();
    let input: Buffer = b;
    if (kind < 0.4) input = b.subarray(0, Math.floor(rnd() * b.length));
    else for (let k = 0; k < 1 + rnd() * 4; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    try {
      decodeResume(input);
    } catch (e) {
      assert.ok(e instanceof NbtError && e.code.startsWith('RESUME_'), String(e));
      rejected++;
    }
  }
  assert.ok(rejected > 1000);
});

test('trust: unchanged files keep their pieces, changed files are rechecked, missing files are missing', () => {
  const r = sample();
  const same = r.files.slice();
  const d = trustResume(layout, r, same);
  assert.deepEqual([...d.have.indices()], [0, 1, 3, 4, 6]);
  assert.equal(d.recheck.count, 0);
  assert.equal(d.unfinished.length, 1);

  // b (bytes 300..599, pieces 3..5) touched: its pieces get rechecked, even one not had before.
  const touched = d && trustResume(layout, r, [same[0], undefined, { size: 300, mtimeMs: 99 }, same[3]]);
  assert.deepEqual([...touched.have.indices()], [0, 1, 6]);
  assert.deepEqual([...touched.recheck.indices()], [3, 4, 5]);
  assert.deepEqual(touched.unfinished, []);
  assert.deepEqual(touched.changedFiles, [2]);

  // a missing: pieces 0..2 are simply missing; c resized: 6 rechecked.
  const gone = trustResume(layout, r, [undefined, undefined, same[2], { size: 96, mtimeMs: 6 }]);
  assert.deepEqual([...gone.have.indices()], [3, 4]);
  assert.deepEqual([...gone.recheck.indices()], [6]);
  assert.equal(gone.unfinished.length, 1);
  assert.throws(
    () => trustResume(layout, r, [undefined]),
    (e) => isNbtError(e, 'RESUME_MISMATCH'),
  );
});

test('atomic save replaces the file whole and leaves no temp files', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const path = join(dir.path, 'x.resume');
  assert.equal(await readFileIfExists(path), undefined);
  await writeFile(path, 'old');
  await writeFileAtomic(path, Buffer.from('new data'));
  assert.equal((await readFileIfExists(path))!.toString(), 'new data');
  assert.deepEqual(await readdir(dir.path), ['x.resume']);
  await assert.rejects(writeFileAtomic(join(dir.path, 'no', 'dir', 'x'), Buffer.from('a')), (e) =>
    isNbtError(e, 'STORAGE_FILE_MISSING'),
  );
  await assert.rejects(readFileIfExists(path, 3), (e) => isNbtError(e) && e.code.startsWith('STORAGE_'));
});

test('resume data is self-checking: a flipped bit, a torn tail or the old format is RESUME_CORRUPT', () => {
  const good = encodeResume(sample());
  assert.equal(decodeResume(good).have.count, 5);
  // Every single-bit flip anywhere (the `pieces` bits included) is caught.
  for (let at = 0; at < good.length; at++) {
    const b = Buffer.from(good);
    b[at] = b[at]! ^ 0x10;
    assert.throws(
      () => decodeResume(b),
      (e) => isNbtError(e) && e.code.startsWith('RESUME_'),
      `bit flip at byte ${at}`,
    );
  }
  assert.throws(
    () => decodeResume(good.subarray(0, good.length - 1)),
    (e) => isNbtError(e, 'RESUME_CORRUPT'),
  );
  assert.throws(
    () => decodeResume(good.subarray(0, good.length - 20)),
    (e) => isNbtError(e, 'RESUME_CORRUPT'),
    'the dictionary alone (the old format) is not trusted',
  );
});

test('trust: pieces claimed past the end of an unchanged file make the whole resume inconsistent', () => {
  const r = sample();
  assert.equal(trustResume(layout, r, r.files.slice()).consistent, true);
  // b recorded (and still) 120 bytes long, yet pieces 3 and 4 (bytes 300..499) claimed.
  const short = { ...r, files: [r.files[0], undefined, { size: 120, mtimeMs: 5 }, r.files[3]] };
  assert.equal(trustResume(layout, short, short.files.slice()).consistent, false);
  // Claiming nothing there is fine.
  short.have.clear(4);
  assert.equal(trustResume(layout, short, short.files.slice()).consistent, true);
});

test('resume data keeps renamed paths; unsafe or out-of-range renames are RESUME_CORRUPT', () => {
  const r = { ...sample(), renamed: [[2, ['b-renamed', 'x']] as [number, string[]]] };
  const back = decodeResume(encodeResume(r), { fileCount: 4 });
  assert.deepEqual(back.renamed, [[2, ['b-renamed', 'x']]]);
  assert.equal(decodeResume(encodeResume(sample())).renamed, undefined);
  for (const renamed of [
    [[2, ['..', 'etc']]],
    [[9, ['x']]],
    [
      [1, ['a']],
      [1, ['b']],
    ],
    [[0, []]],
  ] as [number, string[]][][])
    assert.throws(() => decodeResume(encodeResume({ ...sample(), renamed })), { code: 'RESUME_CORRUPT' });
});
