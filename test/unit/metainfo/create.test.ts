import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode, isDict } from '../../../src/bencode/index.js';
import { HashPool } from '../../../src/hash/index.js';
import { autoPieceLength, createTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { isNbtError } from '../../../src/util/errors.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

async function makeTree(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>([
    ['a.txt', seededBytes(1000, 1)],
    ['a/b', seededBytes(70_000, 2)],
    ['.hidden', seededBytes(5, 3)],
    ['B', seededBytes(16384, 4)],
    ['sub/deeper/z', seededBytes(40_001, 5)],
    ['empty', Buffer.alloc(0)],
    ['ü', seededBytes(300, 6)],
  ]);
  for (const [rel, data] of files) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), data);
  }
  return files;
}

function pieceHashes(data: Buffer, pl: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += pl)
    out.push(
      createHash('sha1')
        .update(data.subarray(i, i + pl))
        .digest(),
    );
  return Buffer.concat(out);
}

test('directory: mktorrent order, pieces spanning files, options', async () => {
  const tmp = await tempDir();
  const pool = new HashPool({ threads: 2 });
  try {
    const dir = join(tmp.path, 'tree');
    const files = await makeTree(dir);
    await symlink('a.txt', join(dir, 'link'));
    const progress: number[] = [];
    const { torrent, metainfo: m } = await createTorrent(
      dir,
      {
        pieceLength: 16384,
        private: true,
        trackers: ['http://t1/announce', ['udp://t2:1', 'udp://t3:2']],
        webSeeds: ['http://ws/'],
        comment: 'c',
        date: 1234,
        pool,
      },
      (p) => progress.push(p.hashedBytes),
    );
    const order = ['.hidden', 'B', 'a.txt', 'a/b', 'empty', 'link', 'sub/deeper/z', 'ü'];
    assert.deepEqual(
      m.files.map((f) => f.path.slice(1).join('/')),
      order,
    );
    const all = Buffer.concat(order.map((p) => files.get(p === 'link' ? 'a.txt' : p)!));
    assert.equal(m.length, all.length);
    assert.deepEqual(m.pieces, pieceHashes(all, 16384));
    assert.equal(m.private, true);
    assert.equal(m.name, 'tree');
    assert.deepEqual(m.announce, [['http://t1/announce'], ['udp://t2:1', 'udp://t3:2']]);
    assert.deepEqual(m.urlList, ['http://ws/']);
    assert.equal(m.comment, 'c');
    assert.equal(m.creationDate, 1234);
    assert.equal(m.createdBy, 'net-bittorrent');
    assert.equal(progress.at(-1), all.length);
    assert.deepEqual(parseTorrent(torrent).infoHash, m.infoHash);
  } finally {
    await pool.close();
    await tmp.cleanup();
  }
});

test('single file: multi-chunk hashing, reproducible without a date', async () => {
  const tmp = await tempDir();
  try {
    const file = join(tmp.path, 'big.bin');
    const data = seededBytes((9 << 20) + 12345, 9);
    await writeFile(file, data);
    const a = await createTorrent(file, { pieceLength: 1 << 18, date: false });
    const b = await createTorrent(file, { pieceLength: 1 << 18, date: false, name: 'big.bin' });
    assert.deepEqual(a.torrent, b.torrent);
    assert.equal(a.metainfo.multiFile, false);
    assert.deepEqual(a.metainfo.pieces, pieceHashes(data, 1 << 18));
    const root = decode(a.torrent);
    assert.ok(isDict(root));
    assert.equal(root['creation date'], undefined);
    assert.equal(root.announce, undefined);
    const auto = await createTorrent(file, { date: false, createdBy: false });
    assert.equal(auto.metainfo.pieceLength, autoPieceLength(data.length));
    assert.equal(auto.metainfo.createdBy, undefined);
  } finally {
    await tmp.cleanup();
  }
});

test('autoPieceLength', () => {
  assert.equal(autoPieceLength(1), 16384);
  assert.equal(autoPieceLength(2048 * 16384), 16384);
  assert.equal(autoPieceLength(2048 * 16384 + 1), 32768);
  assert.equal(autoPieceLength(1 << 30), 512 * 1024);
  assert.equal(autoPieceLength(2 ** 45), 16 << 20);
});

test('creation errors are typed', async () => {
  const tmp = await tempDir();
  try {
    const code = async (p: Promise<unknown>, c: string): Promise<void> => {
      await assert.rejects(p, (e: unknown) => isNbtError(e, c));
    };
    await code(createTorrent(join(tmp.path, 'missing')), 'CREATE_NOT_FOUND');
    await mkdir(join(tmp.path, 'emptydir', 'sub'), { recursive: true });
    await code(createTorrent(join(tmp.path, 'emptydir')), 'CREATE_EMPTY');
    await writeFile(join(tmp.path, 'f'), 'x');
    await code(createTorrent(join(tmp.path, 'f'), { pieceLength: 1000 }), 'CREATE_BAD_PIECE_LENGTH');
    await code(createTorrent(join(tmp.path, 'f'), { pieceLength: 8192 }), 'CREATE_BAD_PIECE_LENGTH');
    await code(createTorrent(join(tmp.path, 'f'), { name: 'a/b' }), 'CREATE_BAD_NAME');
  } finally {
    await tmp.cleanup();
  }
});
