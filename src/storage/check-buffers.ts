/**
 * The read buffers of hash checks, shared by every check in the process and bounded: a session
 * that checks 1,000 torrents at once holds a few buffers, not three per torrent, and holds none
 * once the last check is done (memory is returned, not kept for a check that may never come).
 *
 * Buffers are plain ArrayBuffers lent to a hash worker and handed back (HashPool.hashLent), not
 * SharedArrayBuffers: a worker that idles after its last job keeps what it was sent alive
 * until it collects garbage, which an idle worker may never do.
 */

export interface CheckBufferLimits {
  /** Buffers at most (default 4: three chunks of one check in flight, and one more). */
  maxBuffers?: number;
}

interface Waiter {
  bytes: number;
  resolve: (b: Buffer) => void;
}

export class CheckBuffers {
  private readonly max: number;
  private readonly free: Buffer[] = [];
  private readonly waiters: Waiter[] = [];
  /** Buffers that exist: free, lent to a caller, or out at a worker. */
  private count = 0;

  constructor(o: CheckBufferLimits = {}) {
    this.max = Math.max(1, o.maxBuffers ?? 4);
  }

  /** Buffers alive now (free or in use): for tests and stats. */
  get size(): number {
    return this.count;
  }

  /**
   * A buffer of at least `bytes` that spans its whole ArrayBuffer (so it can be transferred);
   * waits while all are in use. Give it back with release(), or forget() it if it was lost.
   */
  acquire(bytes: number): Promise<Buffer> {
    const b = this.take(bytes);
    if (b) return Promise.resolve(b);
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  /** Returns a buffer (the same memory, possibly a new Buffer object after a worker trip). */
  release(b: Buffer): void {
    if (b.byteLength === 0) {
      this.forget();
      return;
    }
    this.free.push(b);
    this.serve();
  }

  /** A lent buffer that did not come back (a failed worker job): its slot is free again. */
  forget(): void {
    this.count--;
    this.serve();
  }

  private serve(): void {
    while (this.waiters.length > 0) {
      const b = this.take(this.waiters[0]!.bytes);
      if (!b) break;
      this.waiters.shift()!.resolve(b);
    }
    // Nobody checking: let the memory go, unless a check takes a buffer again right away
    // (a lane moving to its next chunk).
    if (this.idle() && !this.dropPending) {
      this.dropPending = true;
      setImmediate(() => {
        this.dropPending = false;
        if (!this.idle()) return;
        this.count -= this.free.length;
        this.free.length = 0;
      });
    }
  }

  private dropPending = false;

  private idle(): boolean {
    return this.waiters.length === 0 && this.free.length === this.count && this.count > 0;
  }

  private take(bytes: number): Buffer | undefined {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i]!.byteLength;
      if (len >= bytes && (best < 0 || len < this.free[best]!.byteLength)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0];
    if (this.count >= this.max) {
      // All exist but none fits: replace a free one that is too small.
      if (this.free.length === 0) return undefined;
      this.free.shift();
      this.count--;
    }
    this.count++;
    return Buffer.allocUnsafeSlow(bytes);
  }
}

let shared: CheckBuffers | undefined;

/** The process-wide check buffers. */
export function sharedCheckBuffers(): CheckBuffers {
  shared ??= new CheckBuffers();
  return shared;
}
