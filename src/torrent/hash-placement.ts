/**
 * Where a new piece is hashed: incrementally on the main thread as its blocks arrive, or whole
 * by the worker pool once the main thread is busy (event-loop utilisation over the last second
 * above `offloadAboveUtilization`; pieces below `workerHashMinPiece` never go to the pool).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { HashPool } from '../hash/pool.js';
import { digestHere, type LentDigest, type PoolHashing } from './verification.js';

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

/**
 * A whole piece's digest from the pool on its lent buffer (no copy either way), or here when the
 * pool refused it before taking it. Undefined when the buffer was lost with a worker that died
 * holding it: the piece's bytes are gone and it must be fetched again.
 */
export async function digestLentInPool(
  verification: PoolHashing,
  pool: HashPool,
  piece: number,
  buffer: Buffer,
  size: number,
): Promise<LentDigest | undefined> {
  try {
    return await verification.poolDigestLent(pool, piece, buffer, size);
  } catch {
    if (buffer.byteLength === 0) return undefined;
    return { digest: digestHere(verification, piece, buffer.subarray(0, size)), buffer };
  }
}
