/**
 * Rate limits as gates: one token bucket per direction, shared fairly by every consumer (FIFO
 * turns of 8 KiB scaled by a weight, so one fast peer cannot starve the others).
 * The session has one per direction, each torrent may have its own; a peer passes both.
 */
import type { Clock } from './clock.js';
import { FairLimiter, TokenBucket } from './token-bucket.js';

/** Called with a byte count; a returned promise delays the caller until the bytes are granted. */
export type RateGate = (bytes: number) => Promise<void> | undefined;

export class BandwidthLimiter {
  readonly bucket: TokenBucket;
  // Made by the first request that waits: most torrents never get a limit of their own.
  private limiter: FairLimiter | undefined;

  constructor(
    private readonly clock: Clock,
    rate: number,
  ) {
    this.bucket = new TokenBucket(clock, rate);
  }

  get rate(): number {
    return this.bucket.rate;
  }

  get unlimited(): boolean {
    return this.bucket.unlimited;
  }

  setRate(rate: number): void {
    this.bucket.setRate(rate);
  }

  private boundGate: RateGate | undefined;

  /**
   * The gate for a Peer (a bound function): no promise at all while unlimited, so the fast path
   * stays synchronous. Made on first use: an idle torrent's two limiters hold no closure.
   */
  get gate(): RateGate {
    return (this.boundGate ??= (bytes: number) => this.request(bytes, 1));
  }

  /** As `gate`, with turns `weight` times the fair share (bandwidth priority). */
  request(bytes: number, weight: number): Promise<void> | undefined {
    if (this.bucket.unlimited || bytes <= 0) return undefined;
    // 8 KiB turns: a 16 KiB block takes two at weight 1, one at weight 2 and four at ½, so
    // priorities split a limited rate 1 : 2 : 4 even though each peer waits for one block at a time.
    const limiter = (this.limiter ??= new FairLimiter(this.clock, this.bucket, 8192));
    return new Promise<void>((resolve) => {
      let left = bytes;
      limiter.request(
        bytes,
        (n) => {
          left -= n;
          if (left <= 0) resolve();
        },
        weight,
      );
    });
  }

  close(): void {
    this.limiter?.clear();
  }
}

/** Both gates' grants (either may be absent or unlimited); synchronous when neither waits. */
export function bothGates(
  a: Promise<void> | undefined,
  b: Promise<void> | undefined,
): Promise<void> | undefined {
  if (!a) return b;
  if (!b) return a;
  return Promise.all([a, b]).then(() => undefined);
}
