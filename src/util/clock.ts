/**
 * Time enters the engine only through a Clock, so every timeout can be tested by moving a
 * fake clock instead of sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref?.();
    return { cancel: () => clearInterval(t) };
  },
};

interface Scheduled {
  at: number;
  seq: number;
  every: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to; timers fire in time order inside `advance`. */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: Scheduled[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.time = next.at;
      if (next.every > 0) next.at += next.every;
      else next.cancelled = true;
      next.fn();
    }
    this.time = end;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }

  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private nextDue(end: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.timers) {
      if (t.cancelled || t.at > end) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  private schedule(fn: () => void, ms: number, every: number): TimerHandle {
    const entry: Scheduled = {
      at: this.time + Math.max(0, ms),
      seq: this.seq++,
      every,
      fn,
      cancelled: false,
    };
    this.timers.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  }
}
