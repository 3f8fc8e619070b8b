/**
 * How much one peer may make us process (sans-I/O: messages and clock time in, a verdict out).
 * A keep-alive flood or repeated huge extension handshakes cost the main thread seconds of CPU
 * while every message is legal on its own; over a fixed window each peer gets a budget of
 * keep-alives, extension handshakes, control messages and extended-message bytes, and a peer
 * over any of them is closed (FLOOD). Block traffic (piece, request, cancel, reject) is not
 * counted: it follows our requests and the remote's download rate, and has its own limits.
 * Costs one clock comparison and a counter or two per message, no allocation.
 */
import type { Message } from '../wire/index.js';

export interface InputBudgetLimits {
  /** Length of a budget window (ms). */
  windowMs: number;
  /** Keep-alives per window (a polite peer sends one per two minutes). */
  keepAlives: number;
  /** Extension handshakes per window (one, and an update or two). */
  extendedHandshakes: number;
  /** Control messages (have, bitfield, interest, choke, extended, …) per window. */
  controlMessages: number;
  /** Bytes of extended-message payload per window (metadata pieces are the largest: 16 KiB each). */
  extendedBytes: number;
  /** BEP 52 hash requests, hashes and hash rejects per window (each may cost a tree walk or 256 KiB). */
  hashMessages: number;
}

export const DEFAULT_INPUT_BUDGET: Readonly<InputBudgetLimits> = {
  windowMs: 10_000,
  keepAlives: 20,
  extendedHandshakes: 3,
  controlMessages: 200_000,
  extendedBytes: 16 * 1024 * 1024,
  hashMessages: 2000,
};

export class InputBudget {
  private windowStart = -Infinity;
  private keepAlives = 0;
  private handshakes = 0;
  private control = 0;
  private extendedBytes = 0;
  private hashMessages = 0;

  constructor(private readonly limits: Readonly<InputBudgetLimits> = DEFAULT_INPUT_BUDGET) {}

  /** Counts a received message at clock time `now`; returns why the peer is over budget, if it is. */
  charge(m: Message, now: number): string | undefined {
    const type = m.type;
    if (type === 'piece' || type === 'request' || type === 'cancel' || type === 'reject') return undefined;
    if (now - this.windowStart >= this.limits.windowMs) {
      this.windowStart = now;
      this.keepAlives = this.handshakes = this.control = this.extendedBytes = this.hashMessages = 0;
    }
    const l = this.limits;
    if (type === 'keepAlive') {
      return ++this.keepAlives > l.keepAlives
        ? `more than ${l.keepAlives} keep-alives in ${l.windowMs} ms`
        : undefined;
    }
    if (++this.control > l.controlMessages)
      return `more than ${l.controlMessages} messages in ${l.windowMs} ms`;
    if (type === 'hashRequest' || type === 'hashes' || type === 'hashReject')
      return ++this.hashMessages > l.hashMessages
        ? `more than ${l.hashMessages} hash messages in ${l.windowMs} ms`
        : undefined;
    if (type === 'extended') {
      if (m.id === 0 && ++this.handshakes > l.extendedHandshakes)
        return `more than ${l.extendedHandshakes} extension handshakes in ${l.windowMs} ms`;
      this.extendedBytes += m.payload.length;
      if (this.extendedBytes > l.extendedBytes)
        return `more than ${l.extendedBytes} bytes of extended messages in ${l.windowMs} ms`;
    }
    return undefined;
  }
}
