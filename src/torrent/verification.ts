/**
 * How pieces are verified: a strategy, so v1 (SHA-1 over each piece) and v2 (SHA-256 Merkle
 * trees over 16 KiB blocks, BEP 52) plug into the same download machinery. The Downloader asks
 * for a hasher per piece, feeds it the piece's bytes in order, and asks whether the digest
 * matches; the hash pool path hands whole pieces to `poolDigest`.
 */
import { createHash } from 'node:crypto';
import type { HashPool } from '../hash/pool.js';

/** Bytes in, one digest out (node:crypto's Hash fits). */
export interface PieceHasher {
  update(data: Uint8Array): unknown;
  digest(): Buffer;
}

export interface PieceVerification {
  /** 'sha1' (v1 pieces); 'sha256-merkle' for v2 next. */
  readonly kind: string;
  /** A hasher for one piece, fed its bytes in order. */
  hasher(piece: number): PieceHasher;
  /** The digest of a whole piece computed off the main thread. */
  poolDigest(pool: HashPool, piece: number, data: Buffer): Promise<Buffer>;
  /** The piece's digest is the expected one. */
  matches(piece: number, digest: Buffer): boolean;
}

/** BEP 3: the SHA-1 of each piece is listed in the info dictionary. */
export function sha1Pieces(pieceHash: (piece: number) => Buffer): PieceVerification {
  return {
    kind: 'sha1',
    hasher: () => createHash('sha1'),
    poolDigest: (pool, _piece, data) => pool.hashPieces(data, data.length),
    matches: (piece, digest) => digest.equals(pieceHash(piece)),
  };
}
