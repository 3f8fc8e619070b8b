/** Types shared by the piece picker and its users. */
import type { Bitfield } from '../util/bitfield.js';

/** Anything that identifies a peer connection (compared by identity / value in a Map). */
export type PeerKey = string | number | object;

export interface BlockRef {
  piece: number;
  /** Byte offset inside the piece. */
  offset: number;
  length: number;
}

export const BLOCK_SIZE = 16384;
export const MAX_PRIORITY = 7;
export const DEFAULT_PRIORITY = 4;

export interface PickerOptions {
  pieceCount: number;
  /** Size of a full piece (the largest); block counts per piece derive from it. */
  pieceLength: number;
  /**
   * Size of each piece, from the storage layout: in v1 every piece but the last is full, in v2
   * each file's last piece is short. Default: every piece is `pieceLength`.
   */
  pieceSize?: (piece: number) => number;
  /** Default 16 KiB. */
  blockSize?: number;
  /** Random source in [0, 1) (inject a seeded one in tests). */
  random?: () => number;
  /** Pieces picked at random (not rarest first) until this many are verified (default 4). */
  randomFirstPieces?: number;
  /** In endgame, at most this many peers hold a request for the same block (default 2). */
  endgamePeersPerBlock?: number;
  /** Sequential mode: how many pieces from the first missing one are picked in order (default 16). */
  sequentialWindow?: number;
  /** Pieces already verified. */
  have?: Bitfield;
}

export interface PickOptions {
  /** When set, only these pieces may be picked (the peer is choking us and allowed them, BEP 6). */
  fast?: ReadonlySet<number>;
  /** false: this peer gets no time-critical pieces (too slow for deadlines). Default true. */
  critical?: boolean;
  /** Only time-critical pieces (an extra budget beyond the normal pipeline). */
  criticalOnly?: boolean;
  /**
   * Prefer runs of adjacent pieces (web seeds: one HTTP range per run): a new piece is the one
   * after the last this peer started, while that one is free and no more common than it.
   */
  contiguous?: boolean;
}

export interface ReceivedResult {
  /** Other peers that also had this block requested (endgame): send them a cancel. */
  duplicateHolders: PeerKey[];
  /** The block was already received, or its piece is not in progress: drop the data. */
  duplicate: boolean;
  /** Every block of the piece has now arrived: hash it, then call pieceVerified/pieceFailed. */
  pieceComplete: boolean;
}
