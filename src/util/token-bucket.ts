/**
 * Rate limiting by token bucket: `rate` tokens (bytes) per second accumulate up to `burst`.
 * `take` grants what is available (possibly less than asked, never more), `waitMs` says when
 * a request could be served in full. A rate of 0 or Infinity means unlimited. Time comes from
 * a Clock; the bucket itself never sets timers.
 */
import type { Clock } from './clock.js';

export class TokenBucket {
  private tokens: number;
  private last: number;
  private ratePerSec: number;
  private burstSize: number;

  constructor(
    private readonly clock: Clock,
    rate: number,
    /** Most tokens held at once (default: one second's worth, at least 16 KiB). */
    burst?: number,
  ) {
    this.ratePerSec = rate;
    this.burstSize = burst ?? Math.max(16384, rate);
    this.tokens = this.burstSize;
    this.last = clock.now();
  }

  get unlimited(): boolean {
    return !(this.ratePerSec > 0) || this.ratePerSec === Infinity;
  }

  get rate(): number {
    return this.ratePerSec;
  }

  get burst(): number {
    return this.burstSize;
  }

  /** Changes the rate (0 = unlimited); the burst follows unless given. */
  setRate(rate: number, burst?: number): void {
    this.refill();
    this.ratePerSec = rate;
    this.burstSize = burst ?? Math.max(16384, rate);
    this.tokens = Math.min(this.tokens, this.burstSize);
  }

  /** Tokens available now. */
  get available(): number {
    if (this.unlimited) return Infinity;
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Takes up to `n` tokens; returns how many were granted (n when unlimited). */
  take(n: number): number {
    if (this.unlimited) return n;
    this.refill();
    const granted = Math.max(0, Math.min(n, Math.floor(this.tokens)));
    this.tokens -= granted;
    return granted;
  }

  /** Takes exactly `n` tokens or none. */
  tryTake(n: number): boolean {
    if (this.unlimited) return true;
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /**
   * Milliseconds until `n` tokens (capped at the burst, so a large request is never starved)
   * are available; 0 when they are now.
   */
  waitMs(n: number): number {
    if (this.unlimited) return 0;
    this.refill();
    const need = Math.min(n, this.burstSize) - this.tokens;
    return need <= 0 ? 0 : Math.ceil((need * 1000) / this.ratePerSec);
  }

  private refill(): void {
    const now = this.clock.now();
    const dt = now - this.last;
    this.last = now;
    if (dt > 0) this.tokens = Math.min(this.burstSize, this.tokens + (dt * this.ratePerSec) / 1000);
  }
}

/**
 * Shares one TokenBucket fairly among many consumers (e.g. all peers under a global limit):
 * waiting requests are served in FIFO order, each granted at most `fairShare` tokens per turn
 * and requeued for the rest, so one large consumer cannot starve the others.
 */
export class FairLimiter {
  private readonly queue: { n: number; grant: (n: number) => void; weight: number }[] = [];
  private timer: { cancel(): void } | undefined;

  constructor(
    private readonly clock: Clock,
    readonly bucket: TokenBucket,
    private readonly fairShare = 16384,
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Asks for up to `n` tokens; `grant` is called (maybe synchronously, maybe several times with
   * parts) until the sum of grants equals `n`. `weight` scales the turn size (bandwidth
   * priority: 2 gets twice the share of 1 while both wait).
   */
  request(n: number, grant: (n: number) => void, weight = 1): void {
    if (n <= 0) return;
    if (this.queue.length === 0) {
      const now = this.bucket.take(n);
      if (now > 0) grant(now);
      if (now >= n) return;
      n -= now;
    }
    this.queue.push({ n, grant, weight });
    this.schedule();
  }

  /** Drops every waiting request (e.g. on shutdown). */
  clear(): void {
    this.queue.length = 0;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private serve(): void {
    this.timer = undefined;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const got = this.bucket.take(Math.min(head.n, Math.max(1, Math.round(this.fairShare * head.weight))));
      if (got === 0) break;
      head.n -= got;
      this.queue.shift();
      if (head.n > 0) this.queue.push(head);
      head.grant(got);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const wait = this.bucket.waitMs(Math.min(this.queue[0]!.n, this.fairShare));
    this.timer = this.clock.setTimeout(() => this.serve(), Math.max(1, wait));
  }
}
