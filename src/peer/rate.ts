import type { Clock } from '../util/clock.js';

/**
 * Bytes per second over a sliding window of one-second buckets: cheap to update per chunk and
 * steady enough for choking and display. One meter of a RateMeters.
 */
export class RateMeter {
  private readonly meters: RateMeters;

  constructor(clock: Clock, windowSeconds = 5) {
    this.meters = new RateMeters(clock, 1, windowSeconds);
  }

  add(bytes: number): void {
    this.meters.add(0, bytes);
  }

  /**
   * Bytes per second over the completed seconds of the window; during the first seconds of a
   * meter's life, over everything so far (at least one second, so a first burst is not inflated).
   */
  get rate(): number {
    return this.meters.rate(0);
  }

  get bytes(): number {
    return this.meters.bytes(0);
  }
}

/**
 * Several meters over the same window that roll together, in one array allocated by the first
 * add(): a peer's four meters (payload and total, each way) cost one object and, once bytes
 * flow, one Float64Array, instead of four meters with an array each.
 */
export class RateMeters {
  /** [totals (one per meter) | buckets (windowSeconds per meter)], made by the first add(). */
  private data: Float64Array | undefined;
  private current = 0;
  /** Clock second of each meter's buckets[current]. */
  private second: number;
  private readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly count: number,
    private readonly windowSeconds = 5,
  ) {
    this.startedAt = clock.now();
    this.second = Math.floor(this.startedAt / 1000);
  }

  add(meter: number, bytes: number): void {
    if (!this.data) {
      // Nothing was counted before: all-zero windows at the current second.
      this.data = new Float64Array(this.count * (1 + this.windowSeconds));
      this.second = Math.floor(this.clock.now() / 1000);
    }
    this.roll(this.data);
    this.data[this.count + meter * this.windowSeconds + this.current]! += bytes;
    this.data[meter]! += bytes;
  }

  /**
   * Bytes per second over the completed seconds of the window; during the first seconds of the
   * meters' life, over everything so far (at least one second, so a first burst is not inflated).
   */
  rate(meter: number): number {
    const d = this.data;
    if (!d) return 0;
    this.roll(d);
    const n = this.windowSeconds;
    const base = this.count + meter * n;
    const elapsed = this.clock.now() - this.startedAt;
    let sum = 0;
    if (elapsed < (n - 1) * 1000) {
      for (let i = 0; i < n; i++) sum += d[base + i]!;
      return (sum * 1000) / Math.max(elapsed, 1000);
    }
    for (let i = 0; i < n; i++) if (i !== this.current) sum += d[base + i]!;
    return sum / (n - 1);
  }

  bytes(meter: number): number {
    return this.data ? this.data[meter]! : 0;
  }

  private roll(d: Float64Array): void {
    const s = Math.floor(this.clock.now() / 1000);
    let steps = s - this.second;
    if (steps <= 0) return;
    const n = this.windowSeconds;
    if (steps > n) steps = n;
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % n;
      for (let m = 0; m < this.count; m++) d[this.count + m * n + this.current] = 0;
    }
    this.second = s;
  }
}
