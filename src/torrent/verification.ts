/**
 * How pieces are verified: a strategy, so v1 (SHA-1 over each piece) and v2 (SHA-256 Merkle
 * trees over 16 KiB blocks, BEP 52) plug into the same download machinery. The Downloader asks
 * for a hasher per piece, feeds it the piece's bytes in order, and asks whether the digest
 * matches; the hash pool path hands whole pieces to `poolDigest`. A hybrid with its piece
 * layers checks both halves, as libtorrent does: a piece passes only when its SHA-1 and its Merkle
 * root both match, and one passing while the other fails is the torrent's fault (`inconsistent`).
 */
import { createHash } from 'node:crypto';
import { HASH_BYTES, MERKLE_BLOCK, MerkleHasher, nextPow2 } from '../hash/merkle.js';
import type { HashPool } from '../hash/pool.js';
import type { Metainfo } from '../metainfo/types.js';

/** Bytes in, one digest out (node:crypto's Hash fits). */
export interface PieceHasher {
  update(data: Uint8Array): unknown;
  digest(): Buffer;
}

export interface PieceVerification {
  /** 'sha1' (v1 pieces) or 'sha256-merkle' (BEP 52 pieces). */
  readonly kind: string;
  /** A hasher for one piece, fed its bytes in order. */
  hasher(piece: number): PieceHasher;
  /** The digest of a whole piece computed off the main thread. */
  poolDigest(pool: HashPool, piece: number, data: Buffer): Promise<Buffer>;
  /**
   * As poolDigest, on the first `size` bytes of a lent buffer (spanning its whole ArrayBuffer):
   * moved to a worker, no copy, and handed back with the digest (`buffer`; the one passed in is
   * detached from the call on).
   */
  poolDigestLent(pool: HashPool, piece: number, buffer: Buffer, size: number): Promise<LentDigest>;
  /** The piece's digest is the expected one. */
  matches(piece: number, digest: Buffer): boolean;
  /**
   * Hybrids: the digest matches one half of the torrent but not the other, so the torrent's v1
   * and v2 hashes describe different data (nobody's piece is to blame).
   */
  inconsistent?(piece: number, digest: Buffer): boolean;
  /** Hybrids: the two halves can be hashed in two places (see SplitVerification). */
  readonly split?: SplitVerification;
}

/** Hashing one piece off the main thread on a lent buffer, or here if the pool refuses it. */
export type PoolHashing = Pick<PieceVerification, 'hasher' | 'poolDigestLent'>;

/**
 * A digest in two halves: `hasher`'s incrementally on the main thread as blocks arrive, `rest`'s
 * by a hash worker on the finished piece, so neither the main thread nor one worker does both
 * (a hybrid's SHA-1 here, its Merkle root there). `combine` makes the digest `matches` takes.
 */
export interface SplitVerification {
  hasher(piece: number): PieceHasher;
  readonly rest: PoolHashing;
  combine(main: Buffer, rest: Buffer): Buffer;
}

/** A whole piece's digest on this thread, in one go. */
export function digestHere(
  verification: Pick<PieceVerification, 'hasher'>,
  piece: number,
  data: Buffer,
): Buffer {
  const h = verification.hasher(piece);
  h.update(data);
  return h.digest();
}

/** A digest computed on a lent buffer, and the buffer back. */
export interface LentDigest {
  digest: Buffer;
  buffer: Buffer;
}

/** A v2 piece's tree: bytes of file data it covers and its width in leaves (src/hash MerklePiece). */
export interface MerkleShape {
  dataLength: number;
  width: number;
}

/** BEP 52 verification, with the tree shape of each piece for batch hashing (data checks). */
export interface MerkleVerification extends PieceVerification {
  shape(piece: number): MerkleShape;
}

/** BEP 3: the SHA-1 of each piece is listed in the info dictionary. */
export function sha1Pieces(pieceHash: (piece: number) => Buffer): PieceVerification {
  return {
    kind: 'sha1',
    hasher: () => createHash('sha1'),
    poolDigest: (pool, _piece, data) => pool.hashPieces(data, data.length),
    poolDigestLent: async (pool, _piece, buffer, size) => {
      const r = await pool.hashLent(buffer, size, size);
      return { digest: r.digests, buffer: r.data };
    },
    matches: (piece, digest) => digest.equals(pieceHash(piece)),
  };
}

/** What a v2 piece is checked against: its leaves, their tree's width and the expected root. */
interface MerkleTarget {
  /** Bytes of file data in the piece (the rest of the piece is pad zeros, not hashed). */
  dataLength: number;
  width: number;
  /** Undefined while the file's piece layer is unknown (a magnet, or a .torrent without it). */
  expected: Buffer | undefined;
}

/**
 * BEP 52: a piece is the subtree of its file's Merkle tree over `pieceLength / 16 KiB` leaves
 * and must equal that file's piece-layer entry; a file of at most one piece is checked against
 * its `pieces root` (a tree as wide as its own leaves, rounded up to a power of two). Pieces
 * never span files (the v2 layout pads every file to a piece boundary). `layers` (hex root →
 * concatenated hashes) defaults to the .torrent's piece layers; a caller that learns more
 * layers from peers adds them to the same map.
 */
export function merklePieces(
  m: Metainfo,
  layers: ReadonlyMap<string, Buffer> = m.pieceLayers,
): MerkleVerification {
  const blocksPerPiece = m.pieceLength / MERKLE_BLOCK;
  const target = (piece: number): MerkleTarget => {
    const { start, end } = m.pieceRange(piece);
    const slice = m.slices(start, end).find((s) => !m.files[s.file]!.pad);
    const f = slice && m.files[slice.file]!;
    if (!slice || !f?.piecesRoot) return { dataLength: 0, width: 1, expected: undefined };
    const dataLength = Math.min(end - start, f.length - slice.offset);
    if (f.length <= m.pieceLength)
      return { dataLength, width: nextPow2(Math.ceil(f.length / MERKLE_BLOCK)), expected: f.piecesRoot };
    const layer = layers.get(f.piecesRoot.toString('hex'));
    const at = (slice.offset / m.pieceLength) * HASH_BYTES;
    return { dataLength, width: blocksPerPiece, expected: layer?.subarray(at, at + HASH_BYTES) };
  };
  const hasher = (piece: number): MerkleHasher => {
    const t = target(piece);
    return new MerkleHasher(t.dataLength, t.width);
  };
  const shape = (piece: number): MerkleShape => {
    const { dataLength, width } = target(piece);
    return { dataLength, width };
  };
  return {
    kind: 'sha256-merkle',
    hasher,
    shape,
    poolDigest: (pool, piece, data) => pool.hashMerkle(data, [{ at: 0, size: data.length, ...shape(piece) }]),
    poolDigestLent: async (pool, piece, buffer, size) => {
      const r = await pool.hashMerkleLent(buffer, [{ at: 0, size, ...shape(piece) }]);
      return { digest: r.digests, buffer: r.data };
    },
    matches: (piece, digest) => target(piece).expected?.equals(digest) ?? false,
  };
}

const SHA1_BYTES = 20;

/** Feeds one piece to SHA-1 and to its Merkle tree; the digest is the SHA-1 then the root. */
class HybridHasher implements PieceHasher {
  private readonly sha1 = createHash('sha1');
  constructor(private readonly merkle: PieceHasher) {}
  update(data: Uint8Array): this {
    this.sha1.update(data);
    this.merkle.update(data);
    return this;
  }
  digest(): Buffer {
    return Buffer.concat([this.sha1.digest(), this.merkle.digest()]);
  }
}

/**
 * A hybrid with its piece layers: both halves are checked (libtorrent does the same and stops a
 * torrent whose halves disagree, torrent_inconsistent_hashes), so a v1 peer's data is held to
 * the v2 tree too and a failed piece can be blamed block by block from proven leaves.
 */
export function hybridPieces(m: Metainfo): MerkleVerification {
  const v1 = sha1Pieces((p) => m.pieceHash(p));
  const v2 = merklePieces(m);
  const halves = (piece: number, d: Buffer): [boolean, boolean] => [
    v1.matches(piece, d.subarray(0, SHA1_BYTES)),
    v2.matches(piece, d.subarray(SHA1_BYTES)),
  ];
  return {
    kind: 'sha1+sha256-merkle',
    hasher: (piece) => new HybridHasher(v2.hasher(piece)),
    shape: v2.shape,
    poolDigest: async (pool, piece, data) => {
      const pieces = [{ at: 0, size: data.length, ...v2.shape(piece) }];
      // Shared bytes: SHA-1 and the tree on two workers at once, neither copying the piece.
      if (!(data.buffer instanceof SharedArrayBuffer) || pool.threads < 2)
        return pool.hashMerkle(data, pieces, true);
      const [sha1, root] = await Promise.all([
        pool.hashPieces(data, data.length),
        pool.hashMerkle(data, pieces),
      ]);
      return Buffer.concat([sha1, root]);
    },
    // One worker computes both: a lent buffer is in one thread at a time.
    poolDigestLent: async (pool, piece, buffer, size) => {
      const r = await pool.hashMerkleLent(buffer, [{ at: 0, size, ...v2.shape(piece) }], true);
      return { digest: r.digests, buffer: r.data };
    },
    // SHA-1 is the cheap half to keep here: one hash object per piece, where the tree makes one
    // per 16 KiB leaf.
    split: {
      hasher: () => createHash('sha1'),
      rest: v2,
      combine: (sha1, root) => Buffer.concat([sha1, root]),
    },
    matches: (piece, d) => halves(piece, d).every(Boolean),
    inconsistent: (piece, d) => {
      const [a, b] = halves(piece, d);
      return a !== b;
    },
  };
}

/**
 * The strategy a torrent's pieces need: SHA-1 for v1, Merkle roots for v2-only, both for a
 * hybrid whose piece layers are all known; a hybrid without them (a magnet's bare info dict:
 * its layers are not fetched, SHA-1 needs none) verifies by SHA-1 alone.
 */
export function verificationFor(m: Metainfo): PieceVerification {
  if (m.pieces.length === 0) return merklePieces(m);
  if (!m.infoHashes.v2 || missingLayers(m, m.pieceLayers)) return sha1Pieces((p) => m.pieceHash(p));
  return hybridPieces(m);
}

/** Some file longer than a piece has no piece layer in `layers`. */
function missingLayers(m: Metainfo, layers: ReadonlyMap<string, Buffer>): boolean {
  return m.files.some(
    (f) =>
      f.piecesRoot !== undefined && f.length > m.pieceLength && !layers.has(f.piecesRoot.toString('hex')),
  );
}

/**
 * Pieces a v2-only torrent cannot verify yet: those of files longer than a piece whose piece
 * layer is unknown (a magnet's bare info dict has none). They are not requested, rather than
 * downloaded, failed and blamed on honest peers, until their layers arrive.
 */
export function unverifiablePieces(
  m: Metainfo,
  layers: ReadonlyMap<string, Buffer> = m.pieceLayers,
): number[] {
  if (m.pieces.length > 0) return [];
  const out: number[] = [];
  for (const f of m.files) {
    if (!f.piecesRoot || f.length <= m.pieceLength || layers.has(f.piecesRoot.toString('hex'))) continue;
    const end = Math.ceil((f.offset + f.length) / m.pieceLength);
    for (let p = f.offset / m.pieceLength; p < end; p++) out.push(p);
  }
  return out;
}
