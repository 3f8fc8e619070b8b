/**
 * Dialing one remote peer: an ordered plan of attempts (a connector, with or without MSE), the
 * connect timeout of each, and the rule for which attempt follows a failure. Today's plan is
 * TCP+MSE then TCP plaintext (policy 'enabled'); with uTP it becomes uTP then TCP. Whoever
 * dials (the Peer) gets one fresh transport per attempt and keeps its own identity throughout.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { NbtError } from '../util/errors.js';
import type { Connector, Transport } from './transport.js';

export interface DialAttempt {
  readonly connector: Connector;
  /** Offer MSE on this attempt (the plaintext BitTorrent handshake otherwise). */
  readonly mse: boolean;
}

/**
 * The attempts for an encryption policy, connector by connector: 'enabled' tries MSE first and
 * plaintext second on each connector, 'required' only MSE, 'disabled' only plaintext.
 */
export function dialPlan(
  connectors: readonly Connector[],
  encryption: 'disabled' | 'enabled' | 'required',
): DialAttempt[] {
  const plan: DialAttempt[] = [];
  for (const connector of connectors) {
    if (encryption !== 'disabled') plan.push({ connector, mse: true });
    if (encryption !== 'required') plan.push({ connector, mse: false });
  }
  return plan;
}

/**
 * How an attempt failed: 'connect' = no connection (refused, unreachable, timed out);
 * 'encryption' = connected, but the MSE exchange failed (bad reply, reset, handshake timeout).
 */
export type DialFailure = 'connect' | 'encryption';

/**
 * The attempt after `index` failed, or -1. A connector that could not connect is not asked
 * again (plaintext would not connect either); a failed MSE exchange is followed by the next
 * attempt without MSE.
 */
export function nextAttempt(plan: readonly DialAttempt[], index: number, failure: DialFailure): number {
  const failed = plan[index];
  for (let i = index + 1; i < plan.length; i++) {
    const a = plan[i]!;
    if (failure === 'connect' ? a.connector !== failed?.connector : !a.mse) return i;
  }
  return -1;
}

/** What the dialing side hears. */
export interface DialEvents {
  /** The attempt's transport is connected; from now on the caller owns (and destroys) it. */
  connected(transport: Transport, attempt: DialAttempt): void;
  /** With `sharedReads`: bytes read into a shared buffer, valid only during the call. */
  read(transport: Transport, chunk: Buffer): void;
  /** No attempt is left after a connect failure: it timed out, or closed after `error`. */
  failed(timedOut: boolean, error: NodeJS.ErrnoException | undefined): void;
}

export interface DialOptions {
  host: string;
  port: number;
  plan: readonly DialAttempt[];
  clock: Clock;
  /** Per attempt, ms. */
  connectTimeout: number;
  /** Ask connectors to read into a shared buffer (see Connector.connect's `onRead`). */
  sharedReads?: boolean;
  /** Race the next connector after this many ms without a connection (see Dial). */
  raceAfterMs?: number;
}

/** One attempt still connecting. */
interface Pending {
  readonly transport: Transport;
  readonly timer: TimerHandle;
  error: NodeJS.ErrnoException | undefined;
}

/**
 * One outgoing connection's attempts, driven in order until one connects or none is left. With
 * `raceAfterMs`, an attempt that has not connected by then is raced by the next connector's
 * (Happy Eyeballs across transports: uTP first, TCP too once uTP is slow to answer, since a
 * peer without uTP usually stays silent rather than refusing); the first to connect wins and
 * the other is destroyed before any byte is sent.
 */
export class Dial {
  private index = 0;
  /** Attempts still connecting, by plan index. */
  private readonly pending = new Map<number, Pending>();
  /** The furthest attempt opened (a connect failure of everything continues after it). */
  private furthest = 0;
  private raceTimer: TimerHandle | undefined;
  private done = false;

  constructor(
    private readonly o: DialOptions,
    private readonly events: DialEvents,
  ) {
    if (o.plan.length === 0) throw new NbtError('PEER_BAD_OPTIONS', 'no connector to dial with');
  }

  get attempt(): DialAttempt {
    return this.o.plan[this.index]!;
  }

  /** Opens the first attempt; throws when its connector rejects the address outright. */
  start(): void {
    this.open(0);
  }

  /** True when an attempt is left for this failure of the current (connected) one. */
  canRetry(failure: DialFailure): boolean {
    return !this.done && nextAttempt(this.o.plan, this.index, failure) >= 0;
  }

  /** Opens the next attempt after the current one failed (check canRetry first). */
  retry(failure: DialFailure): void {
    const next = nextAttempt(this.o.plan, this.index, failure);
    if (this.done || next < 0) return;
    this.index = next;
    try {
      this.open(next);
    } catch (e) {
      this.finish(false, e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Stops dialing: cancels the timers and destroys every transport still connecting. */
  abort(): void {
    this.done = true;
    this.dropPending(-1);
  }

  private open(i: number): void {
    const { connector } = this.o.plan[i]!;
    const read = (chunk: Buffer): void => this.events.read(t, chunk);
    const t = connector.connect(this.o.host, this.o.port, this.o.sharedReads ? { onRead: read } : undefined);
    this.furthest = Math.max(this.furthest, i);
    const mine = (): boolean => this.pending.get(i)?.transport === t && !this.done;
    const entry: Pending = {
      transport: t,
      error: undefined,
      timer: this.o.clock.setTimeout(() => {
        if (mine()) this.connectFailed(i, true, undefined);
      }, this.o.connectTimeout),
    };
    this.pending.set(i, entry);
    t.on('error', (e) => {
      if (mine()) entry.error = e;
    });
    t.once('connect', () => {
      if (!mine()) return;
      entry.timer.cancel();
      this.pending.delete(i);
      this.dropPending(i);
      this.index = i;
      this.events.connected(t, this.o.plan[i]!);
    });
    t.once('close', () => {
      if (mine()) this.connectFailed(i, false, entry.error);
    });
    const racer = nextAttempt(this.o.plan, i, 'connect');
    if (this.o.raceAfterMs !== undefined && racer > this.furthest && !this.raceTimer)
      this.raceTimer = this.o.clock.setTimeout(() => {
        this.raceTimer = undefined;
        if (!mine() || racer <= this.furthest) return;
        try {
          this.open(racer);
        } catch {
          // The racer's connector refused the address: the first attempt goes on alone.
        }
      }, this.o.raceAfterMs);
  }

  /** Cancels the race timer and every pending attempt but `keep`. */
  private dropPending(keep: number): void {
    this.raceTimer?.cancel();
    this.raceTimer = undefined;
    for (const [i, p] of this.pending) {
      if (i === keep) continue;
      this.pending.delete(i);
      p.timer.cancel();
      p.transport.destroy();
    }
  }

  private connectFailed(i: number, timedOut: boolean, error: NodeJS.ErrnoException | undefined): void {
    const p = this.pending.get(i);
    this.pending.delete(i);
    p?.timer.cancel();
    p?.transport.destroy();
    // A racing attempt is still connecting: it carries on.
    if (this.pending.size > 0) return;
    this.raceTimer?.cancel();
    this.raceTimer = undefined;
    const next = nextAttempt(this.o.plan, this.furthest, 'connect');
    if (next < 0) return this.finish(timedOut, error);
    this.index = next;
    try {
      this.open(next);
    } catch (e) {
      this.finish(false, e instanceof Error ? e : new Error(String(e)));
    }
  }

  private finish(timedOut: boolean, error: NodeJS.ErrnoException | undefined): void {
    this.done = true;
    this.events.failed(timedOut, error);
  }
}
