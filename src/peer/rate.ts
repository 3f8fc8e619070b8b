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
 * Several meters over the same window that roll together: a peer's four meters (payload and
 * total, each way) cost one object, a small array of totals and, while bytes flow, one
 * Float64Array of one-second buckets. `compact()` gives the buckets back once a whole window
 * saw nothing, so an idle connection holds no typed array (~0.5 KB with its ArrayBuffer).
 */
export class RateMeters {
  /** Bytes counted by each meter since it was made (integers: small ones stay unboxed). */
  private readonly totals: number[];
  /** windowSeconds buckets per meter, made by add() and given back by compact(). */
  private buckets: Float64Array | undefined;
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
    this.totals = new Array<number>(count).fill(0);
  }

  add(meter: number, bytes: number): void {
    let b = this.buckets;
    if (!b) {
      // Nothing counted within a window: all-zero buckets at the current second.
      b = this.buckets = new Float64Array(this.count * this.windowSeconds);
      this.current = 0;
      this.second = Math.floor(this.clock.now() / 1000);
    } else this.roll(b);
    b[meter * this.windowSeconds + this.current]! += bytes;
    this.totals[meter]! += bytes;
  }

  /**
   * Bytes per second over the completed seconds of the window; during the first seconds of the
   * meters' life, over everything so far (at least one second, so a first burst is not inflated).
   */
  rate(meter: number): number {
    const d = this.buckets;
    if (!d) return 0;
    this.roll(d);
    const n = this.windowSeconds;
    const base = meter * n;
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
    return this.totals[meter]!;
  }

  /** Drops the buckets if every one is empty (nothing counted for a whole window). */
  compact(): void {
    const d = this.buckets;
    if (!d) return;
    this.roll(d);
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) return;
    this.buckets = undefined;
  }

  private roll(d: Float64Array): void {
    const s = Math.floor(this.clock.now() / 1000);
    let steps = s - this.second;
    if (steps <= 0) return;
    const n = this.windowSeconds;
    if (steps > n) steps = n;
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % n;
      for (let m = 0; m < this.count; m++) d[m * n + this.current] = 0;
    }
    this.second = s;
  }
}
