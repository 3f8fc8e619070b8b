/**
 * Progress display: a redrawn bar on a terminal, plain lines (at each 10%) otherwise, so
 * logs and pipes stay readable.
 */
import { systemClock, type Clock } from '../util/clock.js';
import { formatBytes, formatDuration, formatRate } from './format.js';
import type { CliOutput } from './types.js';

/** Rate over a sliding window of recent samples. */
export class RateMeter {
  private samples: { t: number; v: number }[] = [];
  constructor(private readonly windowMs = 5000) {}

  /** Records the running total `value` at time `nowMs`. */
  sample(nowMs: number, value: number): void {
    this.samples.push({ t: nowMs, v: value });
    while (this.samples.length > 2 && nowMs - this.samples[1]!.t > this.windowMs) this.samples.shift();
  }

  /** Units per second, 0 until there are two samples apart in time. */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t <= first.t) return 0;
    return ((last.v - first.v) * 1000) / (last.t - first.t);
  }
}

/** Seconds to go at `rate` units/s, Infinity when not moving. */
export function eta(remaining: number, rate: number): number {
  return remaining <= 0 ? 0 : rate > 0 ? remaining / rate : Infinity;
}

export class ProgressBar {
  private readonly meter = new RateMeter();
  private lastDraw = -Infinity;
  private lastDecile = -1;
  private readonly start: number;
  private finished = false;

  constructor(
    private readonly out: CliOutput,
    private readonly label: string,
    private readonly total: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.start = clock.now();
    this.meter.sample(this.start, 0);
  }

  update(done: number): void {
    if (this.finished) return;
    const now = this.clock.now();
    this.meter.sample(now, done);
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    if (this.out.isTTY) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line(done, frac)}\x1b[K`);
    } else {
      const decile = Math.floor(frac * 10);
      if (decile === this.lastDecile || decile === 10) return;
      this.lastDecile = decile;
      this.out.write(`${this.label}: ${(frac * 100).toFixed(0)}% of ${formatBytes(this.total)}\n`);
    }
  }

  /** Ends the display with a summary line. */
  done(done = this.total): void {
    if (this.finished) return;
    this.finished = true;
    const secs = (this.clock.now() - this.start) / 1000;
    const avg = secs > 0 ? done / secs : 0;
    const summary = `${this.label}: ${formatBytes(done)} in ${formatDuration(secs)} (${formatRate(avg)})`;
    this.out.write(this.out.isTTY ? `\r${summary}\x1b[K\n` : `${summary}\n`);
  }

  private line(done: number, frac: number): string {
    const rate = this.meter.rate();
    const tail = ` ${(frac * 100).toFixed(1).padStart(5)}% ${formatBytes(done)}/${formatBytes(this.total)} ${formatRate(rate)} ETA ${formatDuration(eta(this.total - done, rate))}`;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - this.label.length - tail.length - 4));
    const filled = Math.round(frac * width);
    return `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`;
  }
}
