import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fileUrl,
  groupRuns,
  planHttpSeed,
  planRange,
  type WebSeedTorrent,
} from '../../../src/webseed/plan.js';

function torrent(
  files: { path: string[]; length: number; pad?: boolean }[],
  multiFile: boolean,
): WebSeedTorrent {
  let offset = 0;
  const fs = files.map((f) => {
    const out = { path: f.path, length: f.length, offset, pad: f.pad ?? false };
    offset += f.length;
    return out;
  });
  const pieceLength = 16;
  const pieceCount = Math.ceil(offset / pieceLength);
  return {
    name: files[0]!.path[0]!,
    infoHash: Buffer.from('9cd9698af555751a9186ae066c57ea21572335e0', 'hex'),
    multiFile,
    pieceLength,
    pieceCount,
    lastPieceLength: offset - (pieceCount - 1) * pieceLength,
    length: offset,
    files: fs,
  };
}

test('file URLs: single file by URL or directory, multi-file under the directory, components encoded', () => {
  const single = torrent([{ path: ['my file#1.iso'], length: 40 }], false);
  assert.equal(fileUrl('http://h/dl/x.iso', single, 0), 'http://h/dl/x.iso');
  assert.equal(fileUrl('http://h/dl/', single, 0), 'http://h/dl/my%20file%231.iso');
  const multi = torrent(
    [
      { path: ['top', 'a b', "c'd?.txt"], length: 10 },
      { path: ['top', 'e%.bin'], length: 10 },
    ],
    true,
  );
  assert.equal(fileUrl('http://h/pub/', multi, 0), 'http://h/pub/top/a%20b/c%27d%3F.txt');
  // A multi-file URL without the final '/' is still a directory.
  assert.equal(fileUrl('http://h/pub', multi, 1), 'http://h/pub/top/e%25.bin');
});

test('planRange splits a run at file boundaries and makes pad files zeros, never requests', () => {
  const t = torrent(
    [
      { path: ['t', 'a'], length: 20 },
      { path: ['t', '.pad', '12'], length: 12, pad: true },
      { path: ['t', 'b'], length: 30 },
    ],
    true,
  );
  const plan = planRange('http://h/', t, 10, 40);
  assert.deepEqual(plan, [
    {
      kind: 'http',
      url: 'http://h/t/a',
      fileIndex: 0,
      fileOffset: 10,
      length: 10,
      fileLength: 20,
      torrentOffset: 10,
    },
    { kind: 'pad', length: 12, torrentOffset: 20 },
    {
      kind: 'http',
      url: 'http://h/t/b',
      fileIndex: 2,
      fileOffset: 0,
      length: 18,
      fileLength: 30,
      torrentOffset: 32,
    },
  ]);
  assert.equal(
    plan.reduce((n, s) => n + s.length, 0),
    40,
  );
  assert.throws(() => planRange('http://h/', t, 50, 20), { code: 'STORAGE_BAD_RANGE' });
});

test('groupRuns: adjacent blocks in request order form runs up to the size limit', () => {
  const pl = 64;
  const b = (piece: number, begin: number, length = 16) => ({ piece, begin, length });
  const blocks = [b(0, 0), b(0, 16), b(0, 32), b(0, 48), b(1, 0), b(1, 16), b(3, 0), b(2, 48), b(3, 0, 8)];
  const runs = groupRuns(pl, blocks, 64);
  assert.deepEqual(
    runs.map((r) => [r.offset, r.length, r.blocks.length]),
    [
      [0, 64, 4],
      [64, 32, 2],
      [192, 16, 1],
      [176, 24, 2],
    ],
  );
  // One block larger than the limit still makes a run of its own.
  assert.equal(groupRuns(pl, [b(0, 0, 16)], 8).length, 1);
});

test('BEP 17 plans: one request per piece, info-hash percent-encoded, inclusive ranges inside the piece', () => {
  const t = torrent([{ path: ['x'], length: 40 }], false); // 16-byte pieces: 16, 16, 8
  const plan = planHttpSeed('http://h/seed.php', t, 10, 28);
  const hash = '%9C%D9%69%8A%F5%55%75%1A%91%86%AE%06%6C%57%EA%21%57%23%35%E0';
  assert.deepEqual(
    plan.map((s) => (s.kind === 'piece' ? [s.url, s.piece, s.length, s.torrentOffset] : s.kind)),
    [
      [`http://h/seed.php?info_hash=${hash}&piece=0&ranges=10-15`, 0, 6, 10],
      [`http://h/seed.php?info_hash=${hash}&piece=1&ranges=0-15`, 1, 16, 16],
      [`http://h/seed.php?info_hash=${hash}&piece=2&ranges=0-5`, 2, 6, 32],
    ],
  );
  // A script URL with a query of its own gets the parameters appended with '&'.
  const q = planHttpSeed('http://h/s?k=1', t, 32, 8)[0]!;
  assert.ok(q.kind === 'piece' && q.url.startsWith('http://h/s?k=1&info_hash='));
  assert.throws(() => planHttpSeed('http://h/', t, 30, 20), RangeError);
});
