/**
 * Incoming connections that have not finished their handshake. They get their own bounded pool,
 * apart from established peers: idle sockets that never handshake (from one IP or many) would
 * otherwise fill every connection slot and lock out real peers, incoming and outgoing. Past the
 * per-IP bound a newcomer is refused; when the pool is full the oldest pending one is evicted
 * (a real peer handshakes within a round trip, a slot-holder waits for the timeout).
 */
import type { ConnectionLimits } from './options.js';

export class PendingIncoming<P> {
  /** Oldest first. */
  private readonly pending = new Map<P, string>();
  private readonly perHost = new Map<string, number>();

  constructor(
    /** Read on every admission: limits changed at runtime apply to the next newcomer. */
    private readonly maxTotal: () => number,
    private readonly maxPerHost: () => number,
    /** Closes a connection evicted to make room. */
    private readonly evict: (peer: P) => void,
  ) {}

  /**
   * The pool for these limits (a live view: the client's limits object follows its settings):
   * min(50, maxConnections) in all, 4 × maxPerHost per IP by default.
   */
  static forLimits<P>(limits: ConnectionLimits, evict: (peer: P) => void): PendingIncoming<P> {
    return new PendingIncoming(
      () => limits.maxPendingIncoming ?? Math.min(50, limits.maxConnections),
      () => limits.maxPendingPerHost ?? 4 * limits.maxPerHost,
      evict,
    );
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Takes a new connection from `host`; false (refuse it) when that host has its share pending
   * already. A full pool evicts its oldest connection to make room.
   */
  admit(peer: P, host: string): boolean {
    if ((this.perHost.get(host) ?? 0) >= this.maxPerHost()) return false;
    // A loop: a lowered limit brings the pool down to it.
    const max = this.maxTotal();
    while (this.pending.size > 0 && this.pending.size >= max) {
      const oldest = this.pending.keys().next().value as P;
      this.done(oldest);
      this.evict(oldest);
    }
    this.pending.set(peer, host);
    this.perHost.set(host, (this.perHost.get(host) ?? 0) + 1);
    return true;
  }

  /** The connection handshook or closed: it leaves the pool. */
  done(peer: P): void {
    const host = this.pending.get(peer);
    if (host === undefined) return;
    this.pending.delete(peer);
    const left = (this.perHost.get(host) ?? 1) - 1;
    if (left > 0) this.perHost.set(host, left);
    else this.perHost.delete(host);
  }
}
