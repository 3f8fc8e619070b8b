/**
 * Bytes per second over a sliding window of whole-second buckets (default 5 s). Time comes from
 * a Clock, so tests drive it with FakeClock. Reading the rate is O(buckets), adding is O(1).
 */
import type { Clock } from './clock.js';

export class RateMeter {
  // A plain array: a typed one costs ~0.4 KB more (its ArrayBuffer and backing store).
  private readonly buckets: number[];
  private readonly bucketMs: number;
  private readonly started: number;
  /** Index (time / bucketMs) of the newest bucket written. */
  private head: number;
  private totalBytes = 0;

  constructor(
    private readonly clock: Clock,
    o: { windowMs?: number; bucketMs?: number } = {},
  ) {
    this.bucketMs = Math.max(1, o.bucketMs ?? 1000);
    const n = Math.max(1, Math.round((o.windowMs ?? 5000) / this.bucketMs));
    this.buckets = new Array<number>(n).fill(0);
    this.started = clock.now();
    this.head = Math.floor(this.started / this.bucketMs);
  }

  /** All bytes ever added. */
  get total(): number {
    return this.totalBytes;
  }

  add(bytes: number): void {
    this.advance();
    this.buckets[this.head % this.buckets.length]! += bytes;
    this.totalBytes += bytes;
  }

  /** Bytes per second over the window (or over the time since creation while that is shorter). */
  get rate(): number {
    this.advance();
    const now = this.clock.now();
    const windowMs = this.buckets.length * this.bucketMs;
    // The newest bucket is partly filled: count the window as the full older buckets plus the elapsed part.
    const intoHead = now - this.head * this.bucketMs;
    const span = Math.min(windowMs - this.bucketMs + intoHead, now - this.started);
    let sum = 0;
    for (const b of this.buckets) sum += b;
    return span <= 0 ? 0 : (sum * 1000) / Math.max(span, this.bucketMs);
  }

  private advance(): void {
    const idx = Math.floor(this.clock.now() / this.bucketMs);
    if (idx <= this.head) return;
    const n = this.buckets.length;
    for (let i = Math.max(this.head + 1, idx - n + 1); i <= idx; i++) this.buckets[i % n] = 0;
    this.head = idx;
  }
}
