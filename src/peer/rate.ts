import type { Clock } from '../util/clock.js';

/**
 * Bytes per second over a sliding window of one-second buckets: cheap to update per chunk and
 * steady enough for choking and display.
 */
export class RateMeter {
  /** Allocated by the first add(): a peer has four meters, and an idle one never counts a byte. */
  private buckets: Float64Array | undefined;
  private current = 0;
  /** Clock second of buckets[current]. */
  private second: number;
  private total = 0;
  private readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly windowSeconds = 5,
  ) {
    this.startedAt = clock.now();
    this.second = Math.floor(this.startedAt / 1000);
  }

  add(bytes: number): void {
    if (!this.buckets) {
      // Nothing was counted before: an all-zero window at the current second.
      this.buckets = new Float64Array(this.windowSeconds);
      this.second = Math.floor(this.clock.now() / 1000);
    }
    this.roll();
    this.buckets[this.current]! += bytes;
    this.total += bytes;
  }

  /**
   * Bytes per second over the completed seconds of the window; during the first seconds of a
   * meter's life, over everything so far (at least one second, so a first burst is not inflated).
   */
  get rate(): number {
    if (!this.buckets) return 0;
    this.roll();
    const n = this.buckets.length;
    const elapsed = this.clock.now() - this.startedAt;
    let sum = 0;
    if (elapsed < (n - 1) * 1000) {
      for (let i = 0; i < n; i++) sum += this.buckets[i]!;
      return (sum * 1000) / Math.max(elapsed, 1000);
    }
    for (let i = 0; i < n; i++) if (i !== this.current) sum += this.buckets[i]!;
    return sum / (n - 1);
  }

  get bytes(): number {
    return this.total;
  }

  private roll(): void {
    if (!this.buckets) return;
    const s = Math.floor(this.clock.now() / 1000);
    let steps = s - this.second;
    if (steps <= 0) return;
    const n = this.buckets.length;
    if (steps > n) steps = n;
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % n;
      this.buckets[this.current] = 0;
    }
    this.second = s;
  }
}
