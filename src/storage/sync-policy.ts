/**
 * Whether file I/O runs right here, synchronously on the engine's thread, or on libuv's thread
 * pool. On a local disk most operations are page-cache copies or cached metadata lookups
 * (microseconds) and a pool job's hand-off (two thread wake-ups and a promise) costs more than
 * the work; on a throttled, slow or network disk one call can block for milliseconds. So: sync
 * while each call stays quick, and to the pool for a growing back-off as soon as one blocks.
 * Used for span writes (span-writer.ts) and for small metadata reads (quick-io.ts).
 */

/** 'auto': synchronous while the operations stay quick; 'sync' / 'async': always one way. */
export type DiskWriteMode = 'auto' | 'sync' | 'async';

export interface SyncPolicyOptions {
  /** A synchronous call (or span of calls) running longer than this (ms) sends what follows to the pool. */
  slowMs?: number;
  /** First back-off to the pool (ms); it doubles while calls keep blocking. */
  backoffMs?: number;
  /** Longest back-off (ms); after a quiet spell this long the back-off starts over. */
  maxBackoffMs?: number;
}

/** When to do file I/O synchronously (pure: the caller passes the time, in ms). */
export class SyncPolicy {
  private readonly slowMs: number;
  private readonly baseBackoff: number;
  private readonly maxBackoff: number;
  private backoff: number;
  private asyncUntil = -Infinity;
  private lastSlow = -Infinity;
  /** Times a call blocked and sent later ones to the pool (for tests and stats). */
  fallbacks = 0;

  constructor(
    readonly mode: DiskWriteMode = 'auto',
    o: SyncPolicyOptions = {},
  ) {
    this.slowMs = o.slowMs ?? 8;
    this.baseBackoff = o.backoffMs ?? 30_000;
    this.maxBackoff = Math.max(this.baseBackoff, o.maxBackoffMs ?? 600_000);
    this.backoff = this.baseBackoff;
  }

  /** Whether a call (or span) starting at `now` runs synchronously. */
  sync(now: number): boolean {
    if (this.mode === 'auto') return now >= this.asyncUntil;
    return this.mode === 'sync';
  }

  /**
   * A synchronous call or span started at `start` and has run until `now`: false when it has
   * blocked too long, so the rest goes to the pool and so does everything for the back-off period.
   */
  keepSync(start: number, now: number): boolean {
    if (this.mode !== 'auto' || now - start <= this.slowMs) return true;
    if (now - this.lastSlow > this.maxBackoff + this.backoff) this.backoff = this.baseBackoff;
    this.asyncUntil = now + this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    this.lastSlow = now;
    this.fallbacks++;
    return false;
  }
}
