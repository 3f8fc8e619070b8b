import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTorrent, parseTorrent } from '../../src/metainfo/index.js';
import { requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';

async function makeTree(root: string): Promise<void> {
  const files: [string, Buffer][] = [
    ['a.txt', seededBytes(1000, 1)],
    ['a/b', seededBytes(70_000, 2)],
    ['.hidden', seededBytes(5, 3)],
    ['B', seededBytes(16384, 4)],
    ['sub/deeper/z', seededBytes(40_001, 5)],
    ['empty', Buffer.alloc(0)],
    ['ü', seededBytes(300, 6)],
  ];
  for (const [rel, data] of files) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), data);
  }
}

function runMktorrent(target: string, out: string, log2: number, extra: string[] = []): void {
  const r = spawnSync('mktorrent', ['-d', '-l', String(log2), '-o', out, ...extra, target], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
}

test('info dict is byte-identical to mktorrent (single file and nested directory)', async (t) => {
  if (!requirePeer(t, 'mktorrent')) return;
  const tmp = await tempDir();
  try {
    const file = join(tmp.path, 'single.dat');
    await writeFile(file, seededBytes(300_001, 11));
    const dir = join(tmp.path, 'nested');
    await makeTree(dir);
    const cases: [string, number, string[], { private?: boolean; name?: string }][] = [
      [file, 15, [], {}],
      [file, 18, ['-p', '-a', 'http://t/a', '-c', 'comment', '-w', 'http://ws/'], { private: true }],
      [dir, 15, [], {}],
      [dir, 16, ['-p', '-n', 'renamed'], { private: true, name: 'renamed' }],
    ];
    for (const [i, [target, log2, extra, opts]] of cases.entries()) {
      const out = join(tmp.path, `mk${i}.torrent`);
      runMktorrent(target, out, log2, extra);
      const theirs = parseTorrent(await readFile(out));
      const ours = await createTorrent(target, { pieceLength: 2 ** log2, date: false, ...opts });
      assert.deepEqual(ours.metainfo.info, theirs.info, `case ${i}: info dicts differ`);
      assert.equal(ours.metainfo.infoHashHex, theirs.infoHashHex);
    }
  } finally {
    await tmp.cleanup();
  }
});
