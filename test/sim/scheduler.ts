/**
 * The discrete-event scheduler: one virtual time for the network's packets and the engine's
 * timers (a FakeClock), stepped event by event. Between steps that reached engine code the
 * promise jobs (and setImmediate callbacks) are drained, so a whole Client — timers, storage
 * promises, peer queues — advances deterministically: no real I/O, no real time, no
 * Math.random unless installRandom() replaced it.
 */
import { FakeClock } from '../../src/util/clock.js';
import { EventQueue, type SimEvent } from './event-queue.js';
import { Prng } from './prng.js';

export interface SimulationOptions {
  /** Everything random in the run derives from this (default 1). */
  seed?: number;
  /** Virtual start time in ms (default 0). */
  start?: number;
}

export interface RunOptions {
  /** Stop as soon as this is true (checked after every step). */
  until?: () => boolean;
  /** Stop after this much virtual time (ms) at the latest. */
  for?: number;
  /** Guard against run-away tests: network events plus timer steps (default 20 million). */
  maxSteps?: number;
}

export interface Cancellable {
  cancel(): void;
}

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Simulation {
  readonly clock: FakeClock;
  readonly rng: Prng;
  /** Network events processed so far. */
  events = 0;
  /** Steps that fired engine timers. */
  timerSteps = 0;
  private readonly queue = new EventQueue();
  private dirty = true;
  private h1 = 0x811c9dc5;
  private h2 = 0x2545f491;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);
  private restoreRandom: (() => void) | undefined;

  constructor(o: SimulationOptions = {}) {
    this.clock = new FakeClock(o.start ?? 0);
    this.rng = new Prng(o.seed ?? 1);
  }

  now(): number {
    return this.clock.now();
  }

  /** Runs `fn` after `delayMs` of virtual time (0: after what is due now). */
  after(delayMs: number, fn: () => void): Cancellable {
    const e: SimEvent = this.queue.push(this.clock.now() + Math.max(0, delayMs), fn);
    return { cancel: () => void (e.cancelled = true) };
  }

  /** Runs `fn` at virtual time `time` (now, if that has passed). */
  at(time: number, fn: () => void): Cancellable {
    const e: SimEvent = this.queue.push(Math.max(time, this.clock.now()), fn);
    return { cancel: () => void (e.cancelled = true) };
  }

  /** Something reached engine code (a 'data', 'connect', 'close'…): drain its promise jobs. */
  touch(): void {
    this.dirty = true;
  }

  /** Mixes an observable fact (a packet delivered, dropped…) into the run's trace hash. */
  trace(kind: number, a: number, b: number, c: number): void {
    this.f64[0] = this.clock.now();
    for (const v of [kind, this.u32[0]!, this.u32[1]!, a, b, c]) {
      this.h1 = Math.imul(this.h1 ^ (v >>> 0), 0x01000193) >>> 0;
      this.h2 = Math.imul(this.h2 ^ ((v >>> 0) + 0x9e3779b9), 0x5bd1e995) >>> 0;
      this.h2 ^= this.h2 >>> 15;
    }
  }

  /** The trace hash so far: two runs with the same seed and scenario give the same string. */
  get traceHash(): string {
    return this.h1.toString(16).padStart(8, '0') + this.h2.toString(16).padStart(8, '0');
  }

  /**
   * Replaces Math.random with this simulation's generator (the engine's picker and choker use
   * it) until dispose(). Needed for bit-for-bit identical runs of whole Clients.
   */
  installRandom(): void {
    if (this.restoreRandom) return;
    const original = Math.random;
    const rng = this.rng.fork();
    Math.random = () => rng.next();
    this.restoreRandom = () => void (Math.random = original);
  }

  dispose(): void {
    this.restoreRandom?.();
    this.restoreRandom = undefined;
  }

  /**
   * Steps events and timers in time order until `until()` holds, `for` ms have passed, or
   * nothing is left to happen. Resolves true when `until` held (or, without one, always).
   */
  async run(o: RunOptions = {}): Promise<boolean> {
    const deadline = o.for === undefined ? Infinity : this.clock.now() + o.for;
    const limit = o.maxSteps ?? 20_000_000;
    const maxSteps = this.events + this.timerSteps + limit;
    this.dirty = true; // the caller may just have queued engine work
    let first = true;
    for (;;) {
      if (this.dirty) {
        this.dirty = false;
        // One macrotask turn runs every promise job queued so far and those they queue. The
        // first turn of a run takes two, for setImmediate callbacks the caller's code queued
        // (addTorrent starts a torrent that way).
        await macrotask();
        if (first) await macrotask();
        first = false;
      }
      if (o.until?.()) return true;
      if (this.events + this.timerSteps >= maxSteps)
        throw new Error(`simulation: more than ${limit} steps (a run without \`until\` or \`for\`?)`);
      const ev = this.queue.peek();
      const timerAt = this.clock.nextTimerAt() ?? Infinity;
      const eventAt = ev?.at ?? Infinity;
      const next = Math.min(timerAt, eventAt);
      if (next > deadline || next === Infinity) {
        if (deadline !== Infinity) this.clock.advanceTo(deadline);
        return o.until ? o.until() : true;
      }
      if (timerAt <= eventAt) {
        this.timerSteps++;
        this.clock.advanceTo(timerAt);
        this.dirty = true;
        continue;
      }
      this.queue.pop();
      this.clock.advanceTo(eventAt);
      this.events++;
      ev!.fn();
    }
  }
}
