/**
 * Renaming files and folders: the pure plan (what moves where, what collides, what is refused)
 * and FileStorage moving real files while writes are in flight, never over an existing file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStorage, MemoryStorage, makeLayout } from '../../../src/storage/index.js';
import { checkedComponents, planRename, renamedLayout } from '../../../src/storage/renames.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

const paths = [
  ['t', 'a.bin'],
  ['t', '.pad', '500'],
  ['t', 'sub', 'b.bin'],
  ['t', 'sub', 'c.bin'],
  ['t', 'd'],
];
const pad = [false, true, false, false, false];

test('planRename: a file, a folder with everything below it, the top folder (pads move along)', () => {
  assert.deepEqual([...planRename(paths, pad, 't/a.bin', 't/A.bin')], [[0, ['t', 'A.bin']]]);
  assert.deepEqual(
    [...planRename(paths, pad, 't/sub', 't/sub2')],
    [
      [2, ['t', 'sub2', 'b.bin']],
      [3, ['t', 'sub2', 'c.bin']],
    ],
  );
  const top = planRename(paths, pad, 't', 'T');
  assert.deepEqual([...top.keys()], [0, 1, 2, 3, 4]);
  assert.deepEqual(top.get(1), ['T', '.pad', '500']);
  // Moving a file across folders is allowed (qBittorrent's renameFile does it).
  assert.deepEqual([...planRename(paths, pad, 't/sub/b.bin', 't/b.bin')], [[2, ['t', 'b.bin']]]);
});

test('planRename refuses what would be wrong, with STORAGE_RENAME', () => {
  const refused = (from: string, to: string, why: RegExp): void =>
    assert.throws(
      () => planRename(paths, pad, from, to),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'STORAGE_RENAME');
        assert.match(e.message, why);
        return true;
      },
    );
  refused('t/nothing', 't/x', /no file or folder/);
  refused('t/.pad/500', 't/x', /no file or folder/); // only pads there
  refused('t/a.bin', 't/d', /twice/);
  refused('t/a.bin', 't/sub', /both a file and a folder/);
  refused('t/d', 't/sub/b.bin/x', /both a file and a folder/);
  refused('t/sub', 't/sub/deeper', /into itself/);
  for (const bad of ['t/../x', 't/./x', 't//x', '', 't/a\0b', 't/a\\b', 't/\x1b[2J', 't/' + 'x'.repeat(256)])
    refused('t/a.bin', bad, /not a usable|bad depth/);
  assert.throws(() => checkedComponents('a/'.repeat(65) + 'b'), { code: 'STORAGE_RENAME' });
});

test('renamedLayout replaces only the renamed paths', () => {
  const l = makeLayout(1000, [
    { path: ['t', 'a'], length: 10 },
    { path: ['t', 'b'], length: 20 },
  ]);
  assert.equal(renamedLayout(l, new Map()), l);
  const r = renamedLayout(l, new Map([[1, ['t', 'B']]]));
  assert.deepEqual(
    r.files.map((f) => f.path),
    [
      ['t', 'a'],
      ['t', 'B'],
    ],
  );
  assert.equal(r.files[1]!.offset, l.files[1]!.offset);
});

test('FileStorage.rename moves data on disk while writes continue; never over an existing file', async () => {
  const tmp = await tempDir();
  const layout = makeLayout(1024, [
    { path: ['t', 'a.bin'], length: 3000 },
    { path: ['t', 'sub', 'b.bin'], length: 5000 },
  ]);
  const data = seededBytes(layout.length, 3);
  const s = new FileStorage(layout, tmp.path);
  try {
    const piece = (p: number): Buffer => data.subarray(p * 1024, Math.min(layout.length, (p + 1) * 1024));
    for (let p = 0; p < 4; p++) await s.write(p, 0, piece(p));
    // A folder rename with writes issued before and after it: all land in the renamed folder.
    const before = s.write(4, 0, piece(4));
    const moving = s.rename(['t', 'sub'], ['t', 'sub2']);
    const after = [5, 6, 7].map((p) => s.write(p, 0, piece(p)));
    await Promise.all([before, moving, ...after]);
    await assert.rejects(access(join(tmp.path, 't', 'sub')));
    assert.deepEqual(await readFile(join(tmp.path, 't', 'sub2', 'b.bin')), data.subarray(3000));
    assert.equal(s.filePath(1), join(tmp.path, 't', 'sub2', 'b.bin'));
    // The top folder, then reads through the new paths.
    await s.rename(['t'], ['T']);
    assert.deepEqual(await s.read(0, 0, 1024), data.subarray(0, 1024));
    assert.deepEqual(await readFile(join(tmp.path, 'T', 'a.bin')), data.subarray(0, 3000));
    // Something already at the target: refused, nothing moved.
    await mkdir(join(tmp.path, 'T', 'taken'), { recursive: true });
    await writeFile(join(tmp.path, 'T', 'taken', 'keep'), 'mine');
    await assert.rejects(s.rename(['T', 'a.bin'], ['T', 'taken']), { code: 'STORAGE_RENAME' });
    await access(join(tmp.path, 'T', 'a.bin'));
    assert.equal(await readFile(join(tmp.path, 'T', 'taken', 'keep'), 'utf8'), 'mine');
    // A file not written yet only gets its new path.
    const fresh = new FileStorage(layout, join(tmp.path, 'fresh'));
    await fresh.rename(['t', 'a.bin'], ['t', 'z.bin']);
    await fresh.write(0, 0, piece(0));
    await access(join(tmp.path, 'fresh', 't', 'z.bin'));
    await fresh.close();
    // Memory storage checks the same plan.
    const mem = new MemoryStorage(layout);
    await assert.rejects(mem.rename(['t', 'nope'], ['t', 'x']), { code: 'STORAGE_RENAME' });
    await mem.rename(['t', 'a.bin'], ['t', 'x.bin']);
  } finally {
    await s.close();
    await tmp.cleanup();
  }
});
