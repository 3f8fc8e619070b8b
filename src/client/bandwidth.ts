/**
 * Global rate limits: one token bucket per direction shared fairly by every peer (FIFO turns of
 * at most 16 KiB each, so one fast peer cannot starve the others). Plugged into each Peer as its
 * bandwidth gate.
 */
import type { Clock } from '../util/clock.js';
import { FairLimiter, TokenBucket } from '../util/token-bucket.js';
import type { BandwidthGate } from '../peer/types.js';

export class BandwidthLimiter {
  private readonly limiter: FairLimiter;
  readonly bucket: TokenBucket;

  constructor(clock: Clock, rate: number) {
    this.bucket = new TokenBucket(clock, rate);
    this.limiter = new FairLimiter(clock, this.bucket);
  }

  get rate(): number {
    return this.bucket.rate;
  }

  setRate(rate: number): void {
    this.bucket.setRate(rate);
  }

  /** The gate for a Peer: no promise at all while unlimited, so the fast path stays synchronous. */
  readonly gate: BandwidthGate = (bytes: number) => {
    if (this.bucket.unlimited || bytes <= 0) return undefined;
    return new Promise<void>((resolve) => {
      let left = bytes;
      this.limiter.request(bytes, (n) => {
        left -= n;
        if (left <= 0) resolve();
      });
    });
  };

  close(): void {
    this.limiter.clear();
  }
}
