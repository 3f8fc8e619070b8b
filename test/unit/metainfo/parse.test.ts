import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, type BEncodable } from '../../../src/bencode/index.js';
import { parseTorrent, parseInfoDict } from '../../../src/metainfo/index.js';
import { isNbtError } from '../../../src/util/errors.js';
import { sha1 } from '../../../src/util/sha1.js';

type Dict = { [k: string]: BEncodable | undefined };
const hashes = (n: number): Buffer => Buffer.alloc(n * 20, 0xab);

function single(over: Dict = {}, top: Dict = {}): Buffer {
  return encode({
    announce: 'http://t.example/announce',
    ...top,
    info: { length: 100, name: 'file.bin', 'piece length': 32, pieces: hashes(4), ...over },
  });
}

function multi(files: BEncodable[], over: Dict = {}, total?: number): Buffer {
  const t = total ?? files.reduce<number>((s, f) => s + Number((f as { length: number }).length), 0);
  return encode({
    info: { files, name: 'dir', 'piece length': 16, pieces: hashes(Math.ceil(t / 16)), ...over },
  });
}

function fails(buf: Buffer, code: string): void {
  assert.throws(
    () => parseTorrent(buf),
    (e: unknown) => isNbtError(e, code) && e.message.length > 10,
    `expected ${code}`,
  );
}

test('single-file torrent', () => {
  const buf = single(
    { private: 1 },
    {
      comment: 'hi',
      'created by': 'me',
      'creation date': 1700000000,
      encoding: 'UTF-8',
      'url-list': 'http://ws/',
    },
  );
  const m = parseTorrent(buf);
  const infoBytes = encode({
    length: 100,
    name: 'file.bin',
    'piece length': 32,
    pieces: hashes(4),
    private: 1,
  });
  assert.deepEqual(m.info, infoBytes);
  assert.deepEqual(m.infoHash, sha1(infoBytes));
  assert.equal(m.infoHashHex, sha1(infoBytes).toString('hex'));
  assert.equal(m.name, 'file.bin');
  assert.equal(m.length, 100);
  assert.equal(m.pieceLength, 32);
  assert.equal(m.pieceCount, 4);
  assert.equal(m.lastPieceLength, 4);
  assert.equal(m.multiFile, false);
  assert.equal(m.private, true);
  assert.deepEqual(m.announce, [['http://t.example/announce']]);
  assert.deepEqual(m.urlList, ['http://ws/']);
  assert.equal(m.comment, 'hi');
  assert.equal(m.createdBy, 'me');
  assert.equal(m.creationDate, 1700000000);
  assert.equal(m.encoding, 'UTF-8');
  assert.deepEqual(m.files, [
    { path: ['file.bin'], name: 'file.bin', length: 100, offset: 0, pad: false, attr: '' },
  ]);
  assert.deepEqual(m.pieceHash(3), Buffer.alloc(20, 0xab));
  assert.equal(m.pieceSize(0), 32);
  assert.equal(m.pieceSize(3), 4);
  assert.deepEqual(m.pieceRange(3), { start: 96, end: 100 });
  assert.throws(
    () => m.pieceHash(4),
    (e: unknown) => isNbtError(e, 'METAINFO_BAD_PIECE_INDEX'),
  );
  assert.throws(
    () => m.pieceSize(-1),
    (e: unknown) => isNbtError(e, 'METAINFO_BAD_PIECE_INDEX'),
  );
});

test('multi-file torrent: offsets, announce-list tiers, nodes, slices', () => {
  const files = [
    { length: 10, path: ['a', 'x.txt'] },
    { length: 0, path: ['empty'] },
    { length: 30, path: ['b.bin'] },
  ];
  const buf = encode({
    announce: 'http://ignored/',
    'announce-list': [['http://a/', 'udp://b:80'], [], ['http://c/'], 'junk'],
    nodes: [['router.example', 6881], ['bad'], ['1.2.3.4', 70000]],
    info: { files, name: 'dir', 'piece length': 16, pieces: hashes(3) },
  });
  const m = parseTorrent(buf);
  assert.equal(m.multiFile, true);
  assert.equal(m.length, 40);
  assert.deepEqual(
    m.files.map((f) => [f.name, f.offset, f.length]),
    [
      ['dir/a/x.txt', 0, 10],
      ['dir/empty', 10, 0],
      ['dir/b.bin', 10, 30],
    ],
  );
  assert.deepEqual(m.files[0]!.path, ['dir', 'a', 'x.txt']);
  assert.deepEqual(m.announce, [['http://a/', 'udp://b:80'], ['http://c/']]);
  assert.deepEqual(m.nodes, [{ host: 'router.example', port: 6881 }]);
  // Piece 0 = bytes 0..16: all of file 0 and the first 6 bytes of file 2.
  assert.deepEqual(m.slices(0, 16), [
    { file: 0, offset: 0, length: 10 },
    { file: 2, offset: 0, length: 6 },
  ]);
  assert.deepEqual(m.slices(16, 40), [{ file: 2, offset: 6, length: 24 }]);
  assert.deepEqual(m.slices(39, 100), [{ file: 2, offset: 29, length: 1 }]);
  assert.deepEqual(m.slices(40, 50), []);
});

test('info-hash comes from the original bytes of an unsorted info dict', () => {
  const info = Buffer.from(
    'd4:name1:a6:lengthi1e12:piece lengthi16e6:pieces20:' + 'x'.repeat(20) + 'e',
    'latin1',
  );
  const buf = Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')]);
  const m = parseTorrent(buf);
  assert.deepEqual(m.info, info);
  assert.deepEqual(m.infoHash, sha1(info));
  // Unsorted is tolerated; duplicates are not.
  const dup = Buffer.from(
    'd4:infod6:lengthi1e6:lengthi1e4:name1:a12:piece lengthi16e6:pieces20:' + 'x'.repeat(20) + 'ee',
    'latin1',
  );
  fails(dup, 'BENCODE_DUPLICATE_KEY');
});

test('parseInfoDict (magnet metadata) has empty tracker fields', () => {
  const info = encode({ length: 5, name: 'n', 'piece length': 16384, pieces: hashes(1) });
  const m = parseInfoDict(info);
  assert.deepEqual(m.infoHash, sha1(info));
  assert.deepEqual(m.announce, []);
  assert.deepEqual(m.urlList, []);
  assert.equal(m.comment, undefined);
  assert.throws(
    () => parseInfoDict(encode([1])),
    (e: unknown) => isNbtError(e, 'METAINFO_NOT_A_DICT'),
  );
});

test('BEP 47 pad files and attributes', () => {
  const files = [
    { length: 10, path: ['a'], attr: 'x' },
    { length: 6, path: ['.pad', '6'], attr: 'p' },
    { length: 16, path: ['b'], attr: 'hx' },
    { length: 6, path: ['.pad', '6'], attr: 'p' }, // same path as the other pad: fine, never written
    { length: 4, path: ['c'] },
  ];
  const m = parseTorrent(multi(files));
  assert.deepEqual(
    m.files.map((f) => [f.name, f.pad, f.attr, f.offset]),
    [
      ['dir/a', false, 'x', 0],
      ['dir/.pad/6', true, 'p', 10],
      ['dir/b', false, 'hx', 16],
      ['dir/.pad/6', true, 'p', 32],
      ['dir/c', false, '', 38],
    ],
  );
  assert.equal(m.length, 42);
});

test('validation errors', () => {
  fails(Buffer.from('i1e'), 'METAINFO_NOT_A_DICT');
  fails(encode({ announce: 'x' }), 'METAINFO_NO_INFO');
  fails(encode({ info: 'x' }), 'METAINFO_NO_INFO');
  fails(single({ 'piece length': undefined }), 'METAINFO_NO_PIECE_LENGTH');
  fails(single({ 'piece length': 0 }), 'METAINFO_BAD_PIECE_LENGTH');
  fails(single({ 'piece length': -16 }), 'METAINFO_BAD_PIECE_LENGTH');
  fails(single({ 'piece length': 512 * 1024 * 1024 }), 'METAINFO_BAD_PIECE_LENGTH');
  fails(single({ 'piece length': 'x' }), 'METAINFO_BAD_PIECE_LENGTH');
  // Found by the fuzzer: a dictionary (no prototype) or a list holding one as the piece length
  // made the error message itself throw a TypeError.
  fails(single({ 'piece length': { a: 1 } }), 'METAINFO_BAD_PIECE_LENGTH');
  fails(single({ 'piece length': [{ a: 1 }] }), 'METAINFO_BAD_PIECE_LENGTH');
  fails(single({ pieces: undefined }), 'METAINFO_NO_PIECES');
  fails(single({ pieces: undefined, 'file tree': {} }), 'METAINFO_NO_META_VERSION');
  fails(single({ 'file tree': {} }), 'METAINFO_NO_META_VERSION');
  fails(single({ pieces: Buffer.alloc(79) }), 'METAINFO_BAD_PIECES');
  fails(single({ pieces: 5 }), 'METAINFO_BAD_PIECES');
  fails(single({ pieces: hashes(3) }), 'METAINFO_PIECE_COUNT');
  fails(single({ pieces: hashes(5) }), 'METAINFO_PIECE_COUNT');
  fails(single({ name: undefined }), 'METAINFO_NO_NAME');
  fails(single({ name: 7 }), 'METAINFO_BAD_NAME');
  fails(single({ length: undefined }), 'METAINFO_NO_LENGTH');
  fails(single({ length: -1 }), 'METAINFO_BAD_LENGTH');
  fails(single({ length: 'big' }), 'METAINFO_BAD_LENGTH');
  fails(single({ length: 2n ** 60n }), 'METAINFO_TOO_LARGE');
  fails(single({ length: -(2n ** 60n) }), 'METAINFO_BAD_LENGTH');
  fails(single({ length: 0, pieces: hashes(0) }), 'METAINFO_EMPTY');
  fails(multi([]), 'METAINFO_NO_FILES');
  fails(multi([], { files: 'x' }), 'METAINFO_BAD_FILES');
  fails(multi([5], {}, 1), 'METAINFO_BAD_FILES');
  fails(multi([{ length: 1 }], {}, 1), 'METAINFO_BAD_PATH');
  fails(multi([{ length: 1, path: [] }], {}, 1), 'METAINFO_BAD_PATH');
  fails(multi([{ length: 1, path: 'a' }], {}, 1), 'METAINFO_BAD_PATH');
  fails(multi([{ length: 1, path: ['a', 5] }], {}, 1), 'METAINFO_BAD_PATH');
  fails(multi([{ length: 1, path: new Array<string>(300).fill('a') }], {}, 1), 'METAINFO_BAD_PATH');
  fails(multi([{ path: ['a'] }], {}, 1), 'METAINFO_NO_LENGTH');
  fails(
    multi(
      [
        { length: 2 ** 52, path: ['a'] },
        { length: 2 ** 52, path: ['b'] },
      ],
      { 'piece length': 256 * 1024 * 1024, pieces: hashes(1) },
      1,
    ),
    'METAINFO_TOO_LARGE',
  );
  // The default: 32 MiB, what real torrents need (libtorrent refuses above 10 MB).
  const big = Buffer.concat([single(), Buffer.alloc((32 << 20) - single().length + 1)]);
  assert.throws(
    () => parseTorrent(big),
    (e: unknown) => isNbtError(e, 'METAINFO_TOO_LARGE'),
  );
  assert.throws(
    () => parseTorrent(single(), { maxSize: 10 }),
    (e: unknown) => isNbtError(e, 'METAINFO_TOO_LARGE'),
  );
  assert.throws(
    () => parseTorrent(single(), { maxPieces: 3 }),
    (e: unknown) => isNbtError(e, 'METAINFO_TOO_MANY_PIECES'),
  );
  assert.throws(
    () =>
      parseTorrent(
        multi([
          { length: 1, path: ['a'] },
          { length: 1, path: ['b'] },
        ]),
        { maxFiles: 1 },
      ),
    (e: unknown) => isNbtError(e, 'METAINFO_TOO_MANY_FILES'),
  );
  fails(Buffer.from('d4:info'), 'BENCODE_TRUNCATED');
});

test('tolerated oddities: utf-8 variants, bad optional fields, private other than 1', () => {
  const m = parseTorrent(
    single(
      { 'name.utf-8': 'ünï.bin', private: 2 },
      {
        announce: 5,
        'announce-list': 'x',
        'url-list': [5, 'http://w/', ''],
        httpseeds: ['http://h/seed.php', 9],
        comment: 7,
        'creation date': 'x',
        nodes: 'x',
      },
    ),
  );
  assert.equal(m.name, 'ünï.bin');
  assert.equal(m.private, false);
  assert.deepEqual(m.announce, []);
  assert.deepEqual(m.urlList, ['http://w/']);
  assert.deepEqual(m.httpSeeds, ['http://h/seed.php']);
  assert.equal(m.comment, undefined);
  assert.equal(m.creationDate, undefined);
  assert.deepEqual(m.nodes, []);
});

test('accepted as libtorrent accepts: trailing bytes, a pad file without path, a symlink without length', () => {
  // One (or more) bytes after the top-level dictionary: ignored; the info-hash is unchanged.
  const clean = single();
  for (const tail of ['\n', 'x', 'garbage after the end'])
    assert.equal(
      parseTorrent(Buffer.concat([clean, Buffer.from(tail)])).infoHashHex,
      parseTorrent(clean).infoHashHex,
    );
  // The info dictionary from ut_metadata must still be exact: its bytes are the info-hash.
  assert.throws(
    () =>
      parseInfoDict(
        Buffer.concat([
          encode({ length: 1, name: 'x', 'piece length': 16, pieces: hashes(1) }),
          Buffer.from('x'),
        ]),
      ),
    (e) => isNbtError(e, 'BENCODE_TRAILING'),
  );
  const m = parseTorrent(
    multi(
      [
        { length: 10, path: ['a'] },
        { length: 6, attr: 'p' }, // pad file with no path
        { length: 6, path: [], attr: 'p' }, // or an empty one
        { attr: 'l', path: ['link'], 'symlink path': ['a'] }, // zero-length symlink, no length
        { length: 4, path: ['c'] },
      ],
      {},
      26,
    ),
  );
  assert.deepEqual(
    m.files.map((f) => [f.name, f.length, f.pad, f.offset]),
    [
      ['dir/a', 10, false, 0],
      ['dir/.pad', 6, true, 10],
      ['dir/.pad', 6, true, 16],
      ['dir/link', 0, false, 22],
      ['dir/c', 4, false, 22],
    ],
  );
  // Still refused: a real file without a path or a length.
  fails(multi([{ length: 4 }], {}, 4), 'METAINFO_BAD_PATH');
  fails(multi([{ path: ['x'] }, { length: 4, path: ['y'] }], {}, 4), 'METAINFO_NO_LENGTH');
});
