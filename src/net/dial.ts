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
}

/** One outgoing connection's attempts, driven in order until one connects or none is left. */
export class Dial {
  private index = 0;
  /** The transport of the attempt still connecting (undefined once handed over). */
  private pending: Transport | undefined;
  private timer: TimerHandle | undefined;
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
    this.open();
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
      this.open();
    } catch (e) {
      this.finish(false, e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Stops dialing: cancels the timer and destroys a transport that is still connecting. */
  abort(): void {
    this.done = true;
    this.timer?.cancel();
    const t = this.pending;
    this.pending = undefined;
    t?.destroy();
  }

  private open(): void {
    const { connector } = this.attempt;
    const read = (chunk: Buffer): void => this.events.read(t, chunk);
    const t = connector.connect(this.o.host, this.o.port, this.o.sharedReads ? { onRead: read } : undefined);
    let error: NodeJS.ErrnoException | undefined;
    this.pending = t;
    t.on('error', (e) => {
      if (this.pending === t) error = e;
    });
    t.once('connect', () => {
      if (this.pending !== t || this.done) return;
      this.timer?.cancel();
      this.pending = undefined;
      this.events.connected(t, this.attempt);
    });
    t.once('close', () => {
      if (this.pending === t && !this.done) this.connectFailed(false, error);
    });
    this.timer = this.o.clock.setTimeout(() => {
      if (this.pending === t && !this.done) this.connectFailed(true, undefined);
    }, this.o.connectTimeout);
  }

  private connectFailed(timedOut: boolean, error: NodeJS.ErrnoException | undefined): void {
    const t = this.pending;
    this.pending = undefined;
    this.timer?.cancel();
    t?.destroy();
    if (this.canRetry('connect')) this.retry('connect');
    else this.finish(timedOut, error);
  }

  private finish(timedOut: boolean, error: NodeJS.ErrnoException | undefined): void {
    this.done = true;
    this.events.failed(timedOut, error);
  }
}
