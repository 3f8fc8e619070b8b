/**
 * What NAT-PMP and PCP clients share: one request in flight at a time over UDP (answers carry
 * no id worth trusting, only opcode, port or nonce), retransmitted after `initialTimeoutMs`,
 * doubling (RFC 6886 3.1, RFC 6887 8.1.1), a bounded number of times; and the gateway's epoch
 * watched on every answer for a reset. No socket here: the caller sends (through `transmit`)
 * and hands answers back (`answer`, `fail`), so time is the Clock's alone.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { epochReset, type EpochSample } from './pcp-codec.js';

export interface UdpRequestOptions {
  clock: Clock;
  /** Sends of one request before giving up (default 4: 250 + 500 + 1000 + 2000 ms). */
  attempts?: number;
  /** First retransmission delay (default 250 ms). */
  initialTimeoutMs?: number;
  /** The error a request fails with when no answer came after `attempts` sends. */
  timeoutError: (attempts: number) => Error;
  /** The error a request fails with after `close()`. */
  closedError: () => Error;
}

/** One request, built when its turn comes (so it may open the socket first). */
export interface UdpRequest<R> {
  packet: Buffer;
  /** Sends the packet once (the first time and at every retransmission). */
  transmit: (packet: Buffer) => void;
  /** Does this answer belong to the request? */
  matches: (r: R) => boolean;
}

interface InFlight<R> extends UdpRequest<R> {
  resolve: (r: R) => void;
  reject: (e: Error) => void;
  timer: TimerHandle | undefined;
}

export class UdpRequestQueue<R> {
  private inFlight: InFlight<R> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: UdpRequestOptions) {}

  /** The packet of the request waiting for its answer, if one is. */
  get pending(): Buffer | undefined {
    return this.inFlight?.packet;
  }

  /** Runs after the requests before it settle; `prepare` builds the request when its turn comes. */
  request(prepare: () => Promise<UdpRequest<R>>): Promise<R> {
    const run = this.queue.then(async () => {
      if (this.closed) throw this.o.closedError();
      const req = await prepare();
      if (this.closed) throw this.o.closedError();
      return this.send(req);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** An answer: settles the request in flight if it matches. */
  answer(r: R): void {
    const f = this.inFlight;
    if (!f || !f.matches(r)) return;
    f.timer?.cancel();
    this.inFlight = undefined;
    f.resolve(r);
  }

  /** Fails the request in flight (an error answer, a socket error). */
  fail(e: Error): void {
    const f = this.inFlight;
    if (!f) return;
    f.timer?.cancel();
    this.inFlight = undefined;
    f.reject(e);
  }

  /** Fails the request in flight and every later one. */
  close(): void {
    this.closed = true;
    this.fail(this.o.closedError());
  }

  private send(req: UdpRequest<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const f: InFlight<R> = { ...req, resolve, reject, timer: undefined };
      this.inFlight = f;
      const attempts = this.o.attempts ?? 4;
      let sent = 0;
      const transmit = (): void => {
        if (this.inFlight !== f) return;
        if (sent === attempts) return this.fail(this.o.timeoutError(attempts));
        f.transmit(f.packet);
        f.timer = this.o.clock.setTimeout(transmit, (this.o.initialTimeoutMs ?? 250) * 2 ** sent++);
      };
      transmit();
    });
  }
}

/**
 * The gateway's epoch across answers (RFC 6886 3.6, RFC 6887 8.5): one that goes back or lags
 * our clock means the gateway lost its mappings, and the listeners hear of it.
 */
export class GatewayEpoch {
  private last: EpochSample | undefined;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly clock: Clock) {}

  onReset(listener: () => void): void {
    this.listeners.push(listener);
  }

  saw(epoch: number): void {
    const now: EpochSample = { epoch, at: this.clock.now() };
    const reset = epochReset(this.last, now);
    this.last = now;
    if (reset) for (const l of this.listeners) l();
  }
}
