import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTorrent, parseInfoDict, type Metainfo } from '../../../src/metainfo/index.js';
import { HashPool } from '../../../src/hash/index.js';
import { checkStorage, FileStorage, makeLayout } from '../../../src/storage/index.js';
import { merklePieces, verificationFor, type PieceVerification } from '../../../src/torrent/verification.js';
import { prng, seededBytes, tempDir } from '../../helpers/tmp.js';

/** The torrent's byte stream (pad files as zeros), as peers would send it. */
function stream(m: Metainfo, contents: Map<string, Buffer>): Buffer {
  return Buffer.concat(m.files.map((f) => (f.pad ? Buffer.alloc(f.length) : contents.get(f.name)!)));
}

async function tree(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>([
    ['big', seededBytes(100_000, 1)], // > a 32 KiB piece: piece layer
    ['one', seededBytes(32 * 1024, 2)], // exactly a piece: its root
    ['small', seededBytes(5000, 3)], // less than a block
    ['z/three', seededBytes(3 * 16384 - 1, 4)], // two pieces, the second of one short leaf
    ['z/x', seededBytes(3 * 16384 - 1, 5)], // in 64 KiB pieces: 3 leaves in a tree of 4
    ['empty', Buffer.alloc(0)],
  ]);
  for (const [rel, data] of files) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), data);
  }
  return new Map([...files].map(([k, v]) => [`d/${k}`, v]));
}

/** A hybrid torrent (32 KiB pieces) of tree()'s files under `root`, and its byte stream. */
async function hybridOfTree(root: string): Promise<{ m: Metainfo; data: Buffer }> {
  const contents = await tree(root);
  const { metainfo: m } = await createTorrent(root, { version: 'hybrid', pieceLength: 32768, date: false });
  return { m, data: stream(m, contents) };
}

/** Bytes of file data at the start of piece i (the rest, if any, is pad zeros nobody hashes). */
function dataIn(m: Metainfo, i: number): number {
  const { start, end } = m.pieceRange(i);
  return m.slices(start, end).reduce((n, s) => n + (m.files[s.file]!.pad ? 0 : s.length), 0);
}

const digestOf = (v: PieceVerification, piece: number, data: Buffer): Buffer => {
  const h = v.hasher(piece);
  // Odd chunks, as blocks arrive.
  for (let at = 0; at < data.length; at += 5000) h.update(data.subarray(at, at + 5000));
  return h.digest();
};

test('v2 pieces verify against piece layers and file roots; one flipped byte fails its piece only', async () => {
  const tmp = await tempDir();
  const pool = new HashPool({ threads: 1 });
  try {
    const contents = await tree(join(tmp.path, 'd'));
    const { metainfo: m } = await createTorrent(join(tmp.path, 'd'), {
      version: 2,
      pieceLength: 32768,
      date: false,
    });
    const v = verificationFor(m);
    assert.equal(v.kind, 'sha256-merkle');
    const data = stream(m, contents);
    assert.equal(data.length, m.length);
    const r = prng(3);
    for (let i = 0; i < m.pieceCount; i++) {
      const { start, end } = m.pieceRange(i);
      const piece = data.subarray(start, end);
      assert.ok(v.matches(i, digestOf(v, i, piece)), `piece ${i}`);
      const pooled = await v.poolDigest(pool, i, piece);
      assert.ok(pooled.equals(digestOf(v, i, piece)), `piece ${i} (pool path)`);
      const bad = Buffer.from(piece);
      bad[Math.floor(r() * dataIn(m, i))]! ^= 0x10;
      assert.equal(v.matches(i, digestOf(v, i, bad)), false, `corrupt piece ${i}`);
      if (i > 0) assert.equal(v.matches(i - 1, digestOf(v, i, piece)), false, `piece ${i} as ${i - 1}`);
    }
    // Without piece layers only the pieces of files of at most one piece can be checked.
    const bare = merklePieces(m, new Map());
    const checkable: number[] = [];
    for (let i = 0; i < m.pieceCount; i++) {
      const { start, end } = m.pieceRange(i);
      if (bare.matches(i, digestOf(bare, i, data.subarray(start, end)))) checkable.push(i);
    }
    // big: pieces 0-3, one: 4, small: 5, z/three: 6-7, z/x: 8-9.
    assert.deepEqual(checkable, [4, 5]);
    // In 64 KiB pieces z/x is one piece: a tree over its 3 leaves, padded to 4, is its root.
    const { metainfo: m64 } = await createTorrent(join(tmp.path, 'd'), {
      version: 2,
      pieceLength: 65536,
      date: false,
    });
    const v64 = merklePieces(m64, new Map());
    const x = m64.files.find((f) => f.name === 'd/z/x')!;
    const px = x.offset / 65536;
    assert.ok(v64.matches(px, digestOf(v64, px, stream(m64, contents).subarray(x.offset, x.offset + 65536))));
  } finally {
    await pool.close();
    await tmp.cleanup();
  }
});

test('a hybrid with piece layers checks both halves; without them SHA-1; v2-only Merkle roots', async () => {
  const tmp = await tempDir();
  const pool = new HashPool({ threads: 1 });
  try {
    const { m, data } = await hybridOfTree(join(tmp.path, 'd'));
    const v = verificationFor(m);
    assert.equal(v.kind, 'sha1+sha256-merkle');
    for (let i = 0; i < m.pieceCount; i++) {
      const { start, end } = m.pieceRange(i);
      const piece = data.subarray(start, end);
      const d = digestOf(v, i, piece);
      assert.equal(d.length, 52);
      assert.ok(v.matches(i, d), `piece ${i}`);
      assert.equal(v.inconsistent!(i, d), false);
      assert.ok((await v.poolDigest(pool, i, piece)).equals(d), `piece ${i} (pool path)`);
      if (dataIn(m, i) === 0) continue; // a pad-only piece has no data to corrupt
      const bad = Buffer.from(piece);
      bad[dataIn(m, i) - 1]! ^= 1;
      const b = digestOf(v, i, bad);
      assert.equal(v.matches(i, b), false, `corrupt piece ${i}`);
      assert.equal(v.inconsistent!(i, b), false, 'corrupt data fails both halves: a peer to blame');
      // One half right and the other wrong: the torrent's halves disagree, no peer lied.
      const halfGood = Buffer.concat([d.subarray(0, 20), b.subarray(20)]);
      assert.equal(v.matches(i, halfGood), false);
      assert.equal(v.inconsistent!(i, halfGood), true);
    }
    // The bare info dict (a magnet's metadata) has no piece layers: SHA-1 alone.
    assert.equal(verificationFor(parseInfoDict(m.info)).kind, 'sha1');
    await writeFile(join(tmp.path, 'f'), seededBytes(70_000, 9));
    const v2 = await createTorrent(join(tmp.path, 'f'), { version: 2, pieceLength: 16384, date: false });
    assert.equal(verificationFor(v2.metainfo).kind, 'sha256-merkle');
    assert.throws(() => v2.metainfo.pieceHash(0), { code: 'METAINFO_NO_V1_PIECES' });
  } finally {
    await pool.close();
    await tmp.cleanup();
  }
});

test('checking a v2-only torrent on disk finds every piece, and exactly the corrupt one missing', async () => {
  const tmp = await tempDir();
  try {
    await tree(join(tmp.path, 'd'));
    const { metainfo: m } = await createTorrent(join(tmp.path, 'd'), {
      version: 2,
      pieceLength: 32768,
      date: false,
    });
    const v = merklePieces(m);
    let here = 0;
    const verify = (i: number, data: Buffer): boolean => {
      here++;
      const h = v.hasher(i);
      h.update(data);
      return v.matches(i, h.digest());
    };
    const merkle = { shape: v.shape, matches: v.matches };
    const storage = new FileStorage(makeLayout(m.pieceLength, m.files), tmp.path);
    const pool = new HashPool({ threads: 2 });
    try {
      const all = await checkStorage(storage, () => Buffer.alloc(0), { verify, chunkBytes: 64 * 1024 });
      assert.equal(all.count, m.pieceCount);
      // With a pool that hashes Merkle pieces, the pool does it all: `verify` is not called.
      const pooled = await checkStorage(storage, () => Buffer.alloc(0), {
        verify,
        merkle,
        pool,
        chunkBytes: 64 * 1024,
      });
      assert.equal(pooled.count, m.pieceCount);
      assert.equal(here, m.pieceCount, 'only the first check hashed on this thread');
      const fh = await open(join(tmp.path, 'd', 'big'), 'r+');
      await fh.write(Buffer.from([0xff]), 0, 1, 40_000); // piece 1 of 'big'
      await fh.close();
      const missing = (b: { has(i: number): boolean }): number[] =>
        Array.from({ length: m.pieceCount }, (_, i) => i).filter((i) => !b.has(i));
      assert.deepEqual(missing(await checkStorage(storage, () => Buffer.alloc(0), { verify })), [1]);
      assert.deepEqual(
        missing(await checkStorage(storage, () => Buffer.alloc(0), { verify, merkle, pool })),
        [1],
      );
    } finally {
      await pool.close();
      await storage.close();
    }
  } finally {
    await tmp.cleanup();
  }
});

test('hybrid pieces in shared memory: SHA-1 and the Merkle root on two workers at once, a corrupt piece fails both halves', async () => {
  const tmp = await tempDir();
  // Records which jobs each piece became and how many ran at the same time.
  class Spy extends HashPool {
    jobs: string[] = [];
    running = 0;
    maxRunning = 0;
    private track<T>(kind: string, p: Promise<T>): Promise<T> {
      this.jobs.push(kind);
      this.maxRunning = Math.max(this.maxRunning, ++this.running);
      return p.finally(() => this.running--);
    }
    override hashPieces(...a: Parameters<HashPool['hashPieces']>): Promise<Buffer> {
      return this.track('sha1', super.hashPieces(...a));
    }
    override hashMerkle(...a: Parameters<HashPool['hashMerkle']>): Promise<Buffer> {
      return this.track(a[2] ? 'both' : 'merkle', super.hashMerkle(...a));
    }
  }
  const pool = new Spy({ threads: 2 });
  try {
    const { m, data } = await hybridOfTree(join(tmp.path, 'd'));
    const v = verificationFor(m);
    for (let i = 0; i < m.pieceCount; i++) {
      const { start, end } = m.pieceRange(i);
      const shared = Buffer.from(new SharedArrayBuffer(end - start));
      data.copy(shared, 0, start, end);
      pool.jobs = [];
      const d = await v.poolDigest(pool, i, shared);
      assert.deepEqual(d, digestOf(v, i, data.subarray(start, end)), `piece ${i}`);
      assert.ok(v.matches(i, d));
      assert.deepEqual(pool.jobs.sort(), ['merkle', 'sha1'], `piece ${i}: two jobs, not one doing both`);
      if (dataIn(m, i) === 0) continue;
      shared[dataIn(m, i) - 1]! ^= 1;
      const b = await v.poolDigest(pool, i, shared);
      assert.equal(v.matches(i, b), false, `corrupt piece ${i}`);
      assert.equal(v.inconsistent!(i, b), false, 'both halves fail: a peer to blame');
    }
    assert.equal(pool.maxRunning, 2, 'the two halves ran at the same time');
    // Bytes that are not shared would be copied for each job: one job does both.
    pool.jobs = [];
    const own = data.subarray(0, m.pieceLength);
    assert.ok(v.matches(0, await v.poolDigest(pool, 0, own)));
    assert.deepEqual(pool.jobs, ['both']);
  } finally {
    await pool.close();
    await tmp.cleanup();
  }
});

test('a hybrid split in two: SHA-1 fed here and the Merkle root from a worker on a lent buffer make the whole digest', async () => {
  const tmp = await tempDir();
  const pool = new HashPool({ threads: 1 });
  try {
    const { m, data } = await hybridOfTree(join(tmp.path, 'd'));
    const v = verificationFor(m);
    const split = v.split!;
    assert.ok(split, 'hybrids can split');
    assert.equal(merklePieces(m).split, undefined, 'v2-only has one half');
    for (let i = 0; i < m.pieceCount; i++) {
      const { start, end } = m.pieceRange(i);
      for (const flip of [false, true]) {
        if (flip && dataIn(m, i) === 0) continue;
        const piece = Buffer.from(data.subarray(start, end));
        if (flip) piece[dataIn(m, i) - 1]! ^= 1;
        const whole = digestOf(v, i, piece);
        const main = split.hasher(i);
        main.update(piece);
        // A lent buffer larger than the piece, as the piece buffer pool's are.
        const lent = Buffer.alloc(m.pieceLength + 100);
        piece.copy(lent);
        const r = await split.rest.poolDigestLent(pool, i, lent, piece.length);
        assert.equal(lent.byteLength, 0, 'moved to the worker');
        assert.ok(r.buffer.subarray(0, piece.length).equals(piece), 'and back intact');
        const d = split.combine(main.digest(), r.digest);
        assert.ok(d.equals(whole), `piece ${i}${flip ? ' (corrupt)' : ''}`);
        assert.equal(v.matches(i, d), !flip);
      }
    }
  } finally {
    await pool.close();
    await tmp.cleanup();
  }
});
