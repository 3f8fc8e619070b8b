import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decode, encode, type BDict } from '../../../src/bencode/index.js';
import { createTorrent, parseInfoDict, parseTorrent } from '../../../src/metainfo/index.js';
import { NbtError } from '../../../src/util/errors.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

const d = (v: unknown): BDict => v as BDict;

async function made(version: 2 | 'hybrid'): Promise<{ torrent: Buffer; cleanup: () => Promise<void> }> {
  const tmp = await tempDir();
  await mkdir(join(tmp.path, 'd', 'sub'), { recursive: true });
  await writeFile(join(tmp.path, 'd', 'a'), seededBytes(40_000, 1));
  await writeFile(join(tmp.path, 'd', 'e'), Buffer.alloc(0));
  await writeFile(join(tmp.path, 'd', 'sub', 'c'), seededBytes(5000, 2));
  const { torrent } = await createTorrent(join(tmp.path, 'd'), { version, pieceLength: 16384, date: false });
  return { torrent, cleanup: tmp.cleanup };
}

test('v2 layout: each non-empty file padded to a piece boundary, roots and layers attached', async () => {
  const { torrent, cleanup } = await made(2);
  try {
    const m = parseTorrent(torrent);
    assert.equal(m.version, 2);
    assert.equal(m.infoHashes.v1, undefined);
    assert.ok(m.infoHash.equals(m.infoHashes.v2!.subarray(0, 20)), 'the wire hash is v2 truncated');
    assert.deepEqual(
      m.files.map((f) => [f.name, f.length, f.offset, f.pad]),
      [
        ['d/a', 40_000, 0, false],
        ['d/.pad/9152', 9152, 40_000, true],
        ['d/e', 0, 49_152, false],
        ['d/sub/c', 5000, 49_152, false],
        ['d/.pad/11384', 11_384, 54_152, true],
      ],
    );
    assert.equal(m.length, 65_536);
    assert.equal(m.pieceCount, 4);
    assert.equal(m.pieces.length, 0);
    assert.equal(m.pieceLayers.size, 1, 'only d/a is longer than a piece');
    assert.equal(m.pieceLayers.get(m.files[0]!.piecesRoot!.toString('hex'))!.length, 3 * 32);
    assert.equal(m.files[2]!.piecesRoot, undefined, 'an empty file has no root');
    // A bare info dict (ut_metadata) has no layers but the same identity.
    const bare = parseInfoDict(m.info);
    assert.equal(bare.pieceLayers.size, 0);
    assert.ok(bare.infoHashes.v2!.equals(m.infoHashes.v2!));
  } finally {
    await cleanup();
  }
});

test('a single-file v2 torrent is named after its only tree key', async () => {
  const tmp = await tempDir();
  try {
    await writeFile(join(tmp.path, 'f.bin'), seededBytes(20_000, 3));
    const { torrent } = await createTorrent(join(tmp.path, 'f.bin'), {
      version: 2,
      pieceLength: 16384,
      date: false,
    });
    const t = d(decode(torrent));
    d(t.info).name = Buffer.from('other');
    const m = parseTorrent(encode(t));
    assert.equal(m.name, 'f.bin');
    assert.equal(m.multiFile, false);
    assert.deepEqual(m.files[0]!.path, ['f.bin']);
    assert.deepEqual(
      m.files.map((f) => f.pad),
      [false, true],
    );
  } finally {
    await tmp.cleanup();
  }
});

test('a hybrid whose halves disagree is refused with one line naming the difference', async () => {
  const { torrent, cleanup } = await made('hybrid');
  try {
    const m = parseTorrent(torrent);
    assert.equal(m.version, 'hybrid');
    assert.ok(m.files[0]!.piecesRoot, 'v1 files carry their v2 roots');
    const t = d(decode(torrent));
    d((d(t.info).files as BDict[])[3]).length = 5001;
    d((d(t.info).files as BDict[])[4]).length = 11_383;
    assert.throws(
      () => parseTorrent(encode(t)),
      (e: unknown) =>
        e instanceof NbtError &&
        e.code === 'METAINFO_HYBRID_MISMATCH' &&
        !e.message.includes('\n') &&
        e.message.includes('file 3') &&
        e.message.includes('d/sub/c'),
    );
  } finally {
    await cleanup();
  }
});
