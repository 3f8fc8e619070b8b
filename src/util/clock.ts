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

function earlier(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * A clock that only moves when told to; timers fire in time order (ties: the one scheduled
 * first) inside `advance`. Timers sit in a binary heap, so a simulation with thousands of live
 * timers (test/sim) pays O(log n) per timer, not a scan of all of them.
 */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private heap: Scheduled[] = [];
  private live = 0;

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
    this.advanceTo(this.time + ms);
  }

  /**
   * Moves time to `end` exactly (never backwards), running every timer due by then, in order.
   * A simulator steps to the next event's time with this, free of `now + (t - now)` rounding.
   */
  advanceTo(end: number): void {
    for (;;) {
      const next = this.peek();
      if (!next || next.at > end) break;
      this.time = Math.max(this.time, next.at);
      this.pop();
      if (next.every > 0) {
        next.at += next.every;
        this.push(next);
      } else {
        next.cancelled = true;
        this.live--;
      }
      next.fn();
    }
    this.time = Math.max(this.time, end);
  }

  /** When the earliest live timer is due (undefined when none is): a simulator's next event. */
  nextTimerAt(): number | undefined {
    return this.peek()?.at;
  }

  get pending(): number {
    return this.live;
  }

  private schedule(fn: () => void, ms: number, every: number): TimerHandle {
    const entry: Scheduled = {
      at: this.time + Math.max(0, ms),
      seq: this.seq++,
      every,
      fn,
      cancelled: false,
    };
    this.push(entry);
    this.live++;
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        this.live--;
        // Cancelled timers leave the heap lazily; rebuild it when they are most of it.
        if (this.heap.length > 1024 && this.heap.length > 4 * this.live) this.compact();
      },
    };
  }

  private compact(): void {
    const keep = this.heap.filter((t) => !t.cancelled);
    this.heap = [];
    for (const t of keep) this.push(t);
  }

  /** The earliest live timer; cancelled ones at the top are dropped on the way. */
  private peek(): Scheduled | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  private push(e: Scheduled): void {
    const h = this.heap;
    let i = h.push(e) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(e, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && earlier(h[r]!, h[l]!) ? r : l;
      if (!earlier(h[child]!, last)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
  }
}
