/**
 * BEP 52 creation parity with libtorrent's create_torrent (python3-libtorrent via
 * test/peers/lt_create.py): the same files and piece length give the same info-hashes, and
 * each side loads the other's torrent with the same files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTorrent, parseTorrent } from '../../src/metainfo/index.js';
import { peersDir, requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';

const script = join(peersDir, 'lt_create.py');

function lt(args: string[]): Record<string, unknown> {
  const r = spawnSync('/usr/bin/python3', [script, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function writeTree(root: string, files: [string, number][]): Promise<void> {
  let seed = 1;
  for (const [rel, size] of files) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), seededBytes(size, seed++));
  }
}

const KiB = 1024;
/** Edges: exactly a block / a piece, one byte over, empty files, "a.txt" beside the directory "a". */
const tree: [string, number][] = [
  ['a.txt', 1000],
  ['a/b', 70_000],
  ['.hidden', 5],
  ['B', 16 * KiB],
  ['sub/deeper/z', 40_001],
  ['empty', 0],
  ['sub/empty2', 0],
  ['ü', 300],
  ['big', 600_000],
];

for (const version of [2, 'hybrid'] as const) {
  test(`create --version ${version}: the same info-hashes as libtorrent (file, directory, 16 KiB–4 MiB pieces)`, async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    try {
      const dir = join(tmp.path, 'tree');
      await writeTree(dir, tree);
      const single = join(tmp.path, 'one.bin');
      await writeFile(single, seededBytes(5 * 16 * KiB + 7, 99));
      const block = join(tmp.path, 'block.bin');
      await writeFile(block, seededBytes(16 * KiB, 98));
      // Spans three of the pool's 4 MiB jobs, ending inside a piece.
      const big = join(tmp.path, 'big.bin');
      await writeFile(big, seededBytes(9 * 1024 * KiB + 3, 97));
      const oneFileDir = join(tmp.path, 'onedir');
      await writeTree(oneFileDir, [['only', 50_000]]);
      const cases: [string, number][] = [
        [dir, 16 * KiB],
        [dir, 32 * KiB],
        [dir, 64 * KiB],
        [dir, 4096 * KiB],
        [single, 16 * KiB],
        [single, 64 * KiB],
        [single, 1024 * KiB],
        [block, 16 * KiB],
        [big, 64 * KiB],
        [oneFileDir, 16 * KiB],
      ];
      for (const [path, pieceLength] of cases) {
        const what = `${path} @ ${pieceLength}`;
        const out = join(tmp.path, 'lt.torrent');
        const ref = lt([
          'create',
          path,
          out,
          '--version',
          String(version),
          '--piece-length',
          String(pieceLength),
        ]);
        const { torrent, metainfo } = await createTorrent(path, { version, pieceLength, date: false });
        assert.equal(metainfo.infoHashes.v2?.toString('hex'), ref.v2, `v2 hash, ${what}`);
        assert.equal(metainfo.infoHashes.v1?.toString('hex') ?? null, ref.v1, `v1 hash, ${what}`);
        assert.equal(metainfo.version, version, what);
        // Their torrent parses here with the same hashes, piece layers included.
        const theirs = parseTorrent(await readFile(out));
        assert.equal(theirs.infoHashes.v2?.toString('hex'), ref.v2, what);
        assert.deepEqual(
          [...theirs.pieceLayers.keys()].sort(),
          [...metainfo.pieceLayers.keys()].sort(),
          what,
        );
        // Ours loads in libtorrent with the same files and hashes.
        const mine = join(tmp.path, 'mine.torrent');
        await writeFile(mine, torrent);
        const loaded = lt(['load', mine]);
        assert.equal(loaded.ok, true, `libtorrent refused ours (${what}): ${String(loaded.error)}`);
        assert.equal(loaded.v2, ref.v2, what);
        const ltFiles = (loaded.files as [string, number, boolean][]).filter((f) => !f[2]);
        const ours = metainfo.files.filter((f) => !f.pad);
        assert.deepEqual(
          ours.map((f) => [f.name, f.length]),
          ltFiles.map(([p, n]) => [p, n]),
          what,
        );
      }
    } finally {
      await tmp.cleanup();
    }
  });
}

// libtorrent's v1_only keeps the directory listing order (unsorted), so v1 directories follow
// mktorrent instead (create-mktorrent.test.ts); a single file has no order to differ in.
test('create --version 1: the same info-hash as libtorrent for a single file', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const tmp = await tempDir();
  try {
    const file = join(tmp.path, 'v1.bin');
    await writeFile(file, seededBytes(300_001, 5));
    for (const pieceLength of [16 * KiB, 256 * KiB]) {
      const ref = lt([
        'create',
        file,
        join(tmp.path, 'v1.torrent'),
        '--version',
        '1',
        '--piece-length',
        String(pieceLength),
      ]);
      const { metainfo } = await createTorrent(file, { pieceLength, date: false });
      assert.equal(metainfo.infoHash.toString('hex'), ref.v1);
      assert.equal(ref.v2, null);
    }
  } finally {
    await tmp.cleanup();
  }
});
