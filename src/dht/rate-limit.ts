/**
 * Per-source-IP token buckets for incoming queries, so one host cannot make us answer (and
 * amplify) without bound. The table of sources is bounded; idle entries are forgotten first.
 */
import type { Clock } from '../util/clock.js';

export interface RateLimitOptions {
  /** Sustained queries per second per IP. */
  perSecond?: number;
  /** Burst size per IP. */
  burst?: number;
  /** Most IPs tracked at once. */
  maxSources?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  readonly perSecond: number;
  readonly burst: number;
  private readonly maxSources: number;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    options: RateLimitOptions = {},
  ) {
    this.perSecond = options.perSecond ?? 25;
    this.burst = options.burst ?? 50;
    this.maxSources = options.maxSources ?? 10_000;
  }

  /** Takes one token for `host`; false means the query should be dropped. */
  allow(host: string): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(host);
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
      this.buckets.delete(host); // re-insert below keeps Map order least-recently-used first
    } else {
      b = { tokens: this.burst, at: now };
      while (this.buckets.size >= this.maxSources)
        this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(host, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
