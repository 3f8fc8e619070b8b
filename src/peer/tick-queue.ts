/**
 * The connected peers' periodic ticks (keep-alive, idle and useless timeouts) through one timer
 * per clock and period instead of one interval per peer (~0.3 KB each: the timer, its handle
 * and two closures). Each peer still ticks exactly one period after it joined and every period
 * after that, as with its own interval: peers of one period join in time order, so an
 * insertion-ordered Map is also a due-time order, and one timeout waits for its head.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

/** The method a member ticks through: a symbol, so it stays out of the member's public API. */
export const TICK: unique symbol = Symbol('tick');

export interface Ticking {
  [TICK](): void;
}

class TickQueue {
  /** Member → when it ticks next; insertion order is due order. */
  private readonly due = new Map<Ticking, number>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly period: number,
  ) {}

  add(t: Ticking): void {
    const at = this.clock.now() + this.period;
    this.due.delete(t);
    this.due.set(t, at);
    if (this.timer === undefined) this.arm(at);
  }

  remove(t: Ticking): void {
    // A timer left for a removed head fires, finds nothing due and re-arms: cheaper than
    // re-arming on every close. The last member leaving stops it (an idle session has no timer).
    if (this.due.delete(t) && this.due.size === 0) {
      this.timer?.cancel();
      this.timer = undefined;
    }
  }

  private arm(at: number): void {
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    try {
      for (const [t, at] of this.due) {
        if (at > now) break;
        // Re-queued before it ticks, at the tail (now + period is the latest due time there
        // is), so a tick that closes the peer removes it for good.
        this.due.delete(t);
        this.due.set(t, now + this.period);
        t[TICK]();
      }
    } finally {
      const head = this.due.values().next();
      if (!head.done && this.timer === undefined) this.arm(head.value);
    }
  }

  /** Whether a timer is pending (for tests). */
  get armed(): boolean {
    return this.timer !== undefined;
  }
}

const queues = new WeakMap<Clock, Map<number, TickQueue>>();

/** The shared queue for this clock and period. */
export function tickQueue(clock: Clock, period: number): TickQueue {
  let byPeriod = queues.get(clock);
  if (!byPeriod) queues.set(clock, (byPeriod = new Map()));
  let q = byPeriod.get(period);
  if (!q) byPeriod.set(period, (q = new TickQueue(clock, period)));
  return q;
}

export type { TickQueue };
