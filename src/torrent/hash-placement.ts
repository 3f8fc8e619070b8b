/**
 * Where a new piece is hashed: incrementally on the main thread as its blocks arrive, or whole
 * by the worker pool once the main thread is busy (event-loop utilisation over the last second
 * above `offloadAboveUtilization`; pieces below `workerHashMinPiece` never go to the pool).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { HashPool } from '../hash/pool.js';
import type { PieceVerification } from './verification.js';

export class HashPlacement {
  /** Pieces are big enough for the pool. */
  readonly poolEligible: boolean;
  /** New pieces go to the pool (decided once a second from the event-loop utilisation). */
  offload: boolean;
  private elu: EventLoopUtilization = performance.eventLoopUtilization();

  constructor(
    pieceLength: number,
    workerHashMinPiece: number,
    private readonly offloadAboveUtilization: number,
  ) {
    this.poolEligible = pieceLength >= workerHashMinPiece;
    this.offload = this.poolEligible && offloadAboveUtilization <= 0;
  }

  /** Once a second: the main thread's busy share since the last call decides. */
  update(): void {
    if (!this.poolEligible) return;
    const busy = performance.eventLoopUtilization(this.elu).utilization;
    this.elu = performance.eventLoopUtilization();
    this.offload = busy > this.offloadAboveUtilization;
  }
}

/** A whole piece's digest from the pool, or here when the pool is closing or a worker died. */
export async function digestInPool(
  verification: PieceVerification,
  pool: HashPool,
  piece: number,
  data: Buffer,
): Promise<Buffer> {
  try {
    return await verification.poolDigest(pool, piece, data);
  } catch {
    // The pool is closing or a worker died: hash here instead.
    const h = verification.hasher(piece);
    h.update(data);
    return h.digest();
  }
}
