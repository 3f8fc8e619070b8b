/**
 * Checks data already on disk against the piece hashes. Reads go one at a time in large
 * sequential chunks (so a disk sees one stream), into buffers shared by every check in the process
 * (src/storage/check-buffers.ts: bounded, released when checks end), while the hash pool's
 * workers digest the chunks already read: reading stays ahead of hashing and every
 * core hashes. Missing or short files just make their pieces missing.
 */
import { Bitfield } from '../util/bitfield.js';
import { NbtError } from '../util/errors.js';
import { sharedHashPool } from '../hash/index.js';
import { FileStorage } from './file-storage.js';
import { sharedCheckBuffers, type CheckBuffers } from './check-buffers.js';
import { pieceSize, type StorageLayout } from './layout.js';
import type { Storage } from './storage.js';
import type { MerklePiece } from '../hash/pool.js';

/** What the check needs from a hash pool (src/hash HashPool fits). */
export interface PieceHasher {
  hashPieces(data: Uint8Array, pieceLength: number): Promise<Buffer>;
  /** Hash the first `length` bytes of a lent buffer and give it back (HashPool.hashLent). */
  hashLent?(data: Buffer, pieceLength: number, length: number): Promise<{ digests: Buffer; data: Buffer }>;
  /** BEP 52 pieces of a lent buffer: a 32-byte Merkle root each (HashPool.hashMerkleLent). */
  hashMerkleLent?(data: Buffer, pieces: readonly MerklePiece[]): Promise<{ digests: Buffer; data: Buffer }>;
  /** Start the workers now, so their start-up overlaps the first read. */
  warmUp?(): void;
}

/** BEP 52 pieces checked by the pool: each piece's tree shape and its expected root. */
export interface MerkleCheck {
  shape(piece: number): { dataLength: number; width: number };
  matches(piece: number, root: Buffer): boolean;
}

export interface CheckOptions {
  /** Default: the process-wide sharedHashPool(). */
  pool?: PieceHasher;
  /** Called after each chunk with pieces checked so far and pieces to check. */
  onProgress?: (checked: number, total: number) => void;
  signal?: AbortSignal;
  /** Polled before each chunk, like `signal` (no timer needed to watch a flag). */
  cancelled?: () => boolean;
  /** Only check these pieces (others come back missing). Default: all. */
  pieces?: Bitfield;
  /** Bytes per read (rounded to whole pieces; default 8 MiB). */
  chunkBytes?: number;
  /** Chunks being read or hashed at once (default 3). */
  inFlight?: number;
  /** Where read buffers come from (default: the process-wide sharedCheckBuffers()). */
  buffers?: CheckBuffers;
  /**
   * Checks one piece's bytes on this thread instead of SHA-1 in the pool (BEP 52 pieces,
   * whose hashes are Merkle roots); `hashes` is then not used.
   */
  verify?: (piece: number, data: Buffer) => boolean;
  /**
   * BEP 52 pieces (Merkle roots) hashed in the pool when it can (`hashMerkleLent`), else with
   * `verify` here; `hashes` is then not used.
   */
  merkle?: MerkleCheck;
}

/** Piece hashes: 20 bytes per piece concatenated, or a function (e.g. Metainfo.pieceHash). */
export type PieceHashes = Uint8Array | ((piece: number) => Uint8Array);

/** Returns the pieces whose data on disk matches their hash. */
export async function checkStorage(
  storage: Storage,
  hashes: PieceHashes,
  o: CheckOptions = {},
): Promise<Bitfield> {
  const layout = storage.layout;
  const n = layout.pieceCount;
  const hashOf =
    typeof hashes === 'function' ? hashes : (i: number): Uint8Array => hashes.subarray(i * 20, i * 20 + 20);
  if (typeof hashes !== 'function' && hashes.length !== n * 20)
    throw new NbtError(
      'STORAGE_BAD_HASHES',
      `expected ${n * 20} bytes of piece hashes, got ${hashes.length}`,
    );
  if (o.pieces && o.pieces.size !== n) throw new RangeError('pieces bitfield size mismatch');
  const result = new Bitfield(n);
  if (n === 0) return result;

  const pool = o.pool ?? sharedHashPool();
  const merkle = o.merkle && pool.hashMerkleLent ? o.merkle : undefined;
  if (!o.verify || merkle) pool.warmUp?.();
  const piecesPerChunk = Math.max(1, Math.floor((o.chunkBytes ?? 8 << 20) / layout.pieceLength));
  const chunks = planChunks(n, piecesPerChunk, o.pieces);
  const total = chunks.reduce((sum, c) => sum + c.count, 0);
  const lanes = Math.max(1, Math.min(o.inFlight ?? 3, chunks.length));
  const buffers = o.buffers ?? sharedCheckBuffers();
  let nextChunk = 0;
  let checked = 0;
  let readChain: Promise<unknown> = Promise.resolve();
  let failed: unknown;

  const lane = async (): Promise<void> => {
    while (nextChunk < chunks.length && failed === undefined) {
      if (o.signal?.aborted || o.cancelled?.())
        throw new NbtError('STORAGE_CHECK_ABORTED', 'hash check aborted');
      const c = chunks[nextChunk++]!;
      const start = c.first * layout.pieceLength;
      let bytes = 0;
      for (let i = c.first; i < c.first + c.count; i++) bytes += pieceSize(layout, i);
      // A buffer per chunk, not per lane: a waiting check holds none.
      let buf: Buffer | undefined = await buffers.acquire(bytes);
      try {
        // One read at a time, in order: the next lane's read starts when this one ends.
        const view = buf.subarray(0, bytes);
        const read = readChain.then(() => storage.readInto(start, view, { allowMissing: true }));
        readChain = read.catch(() => undefined);
        const missing = await read;
        const bad = new Set<number>();
        for (const r of missing) {
          const from = Math.floor(r.start / layout.pieceLength);
          const to = Math.floor((r.end - 1) / layout.pieceLength);
          for (let i = from; i <= to; i++) bad.add(i);
        }
        if (bad.size < c.count && merkle) {
          const pieces: (MerklePiece & { index: number })[] = [];
          for (let i = c.first, at = 0; i < c.first + c.count; i++) {
            const size = pieceSize(layout, i);
            if (!bad.has(i)) pieces.push({ index: i, at, size, ...merkle.shape(i) });
            at += size;
          }
          const lent = buf;
          buf = undefined; // at the worker now; a failed job does not bring it back
          const r = await pool.hashMerkleLent!(lent, pieces);
          buf = r.data;
          pieces.forEach((p, k) => {
            if (merkle.matches(p.index, r.digests.subarray(k * 32, k * 32 + 32))) result.set(p.index);
          });
        } else if (bad.size < c.count && o.verify) {
          for (let i = c.first, at = 0; i < c.first + c.count; i++) {
            const size = pieceSize(layout, i);
            if (!bad.has(i) && o.verify(i, view.subarray(at, at + size))) result.set(i);
            at += size;
          }
        } else if (bad.size < c.count) {
          let digests: Buffer;
          if (pool.hashLent) {
            const lent = buf;
            buf = undefined; // at the worker now; a failed job does not bring it back
            const r = await pool.hashLent(lent, layout.pieceLength, bytes);
            buf = r.data;
            digests = r.digests;
          } else digests = await pool.hashPieces(view, layout.pieceLength);
          for (let k = 0; k < c.count; k++) {
            const i = c.first + k;
            if (!bad.has(i) && digests.subarray(k * 20, k * 20 + 20).equals(hashOf(i))) result.set(i);
          }
        }
      } finally {
        if (buf) buffers.release(buf);
        else buffers.forget();
      }
      checked += c.count;
      o.onProgress?.(checked, total);
    }
  };

  const runs = Array.from({ length: lanes }, () =>
    lane().catch((e: unknown) => {
      failed ??= e;
    }),
  );
  await Promise.all(runs);
  if (failed !== undefined) throw failed;
  return result;
}

interface Chunk {
  first: number;
  count: number;
}

/** Runs of consecutive selected pieces, cut into chunks of at most `per` pieces. */
function planChunks(n: number, per: number, only: Bitfield | undefined): Chunk[] {
  const out: Chunk[] = [];
  let i = 0;
  while (i < n) {
    if (only && !only.has(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && j - i < per && (!only || only.has(j))) j++;
    out.push({ first: i, count: j - i });
    i = j;
  }
  return out;
}

/** Checks files under `savePath` laid out as `layout` (opens and closes a FileStorage). */
export async function checkFiles(
  layout: StorageLayout,
  savePath: string,
  hashes: PieceHashes,
  o: CheckOptions = {},
): Promise<Bitfield> {
  const storage = new FileStorage(layout, savePath);
  try {
    return await checkStorage(storage, hashes, o);
  } finally {
    await storage.close();
  }
}
