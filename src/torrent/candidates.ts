/**
 * Addresses we may connect to, from every source (trackers, DHT, PEX, the user, resume data,
 * incoming peers' listen ports). Failed attempts back off exponentially and are dropped after a
 * few tries; banned hosts are never added.
 */
import type { PeerAddress } from '../util/compact.js';
import type { PeerSource } from '../peer/types.js';
import { formatAddress } from '../util/compact.js';

export interface Candidate extends PeerAddress {
  source: PeerSource;
  failures: number;
  /** Clock ms before which we do not try again. */
  retryAt: number;
}

export class CandidateList {
  private readonly byAddress = new Map<string, Candidate>();
  /** Connected or connecting addresses: not handed out again. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly maxCandidates = 2000,
    private readonly maxFailures = 4,
    private readonly retryBaseMs = 15_000,
  ) {}

  get size(): number {
    return this.byAddress.size;
  }

  /** Adds addresses; returns those that were new. */
  add(addrs: readonly PeerAddress[], source: PeerSource, banned: (host: string) => boolean): PeerAddress[] {
    const added: PeerAddress[] = [];
    for (const a of addrs) {
      if (!(a.port > 0 && a.port < 65536) || banned(a.host)) continue;
      const key = formatAddress(a);
      if (this.byAddress.has(key) || this.busy.has(key)) continue;
      if (this.byAddress.size >= this.maxCandidates) break;
      this.byAddress.set(key, { host: a.host, port: a.port, source, failures: 0, retryAt: 0 });
      added.push({ host: a.host, port: a.port });
    }
    return added;
  }

  /** The next address due for a try (marked busy), or undefined. */
  next(now: number, usable: (c: Candidate) => boolean): Candidate | undefined {
    for (const [key, c] of this.byAddress) {
      if (c.retryAt > now || !usable(c)) continue;
      this.byAddress.delete(key);
      this.busy.add(key);
      return c;
    }
    return undefined;
  }

  /** Any candidate is due now. */
  hasDue(now: number): boolean {
    for (const c of this.byAddress.values()) if (c.retryAt <= now) return true;
    return false;
  }

  /** The attempt failed before the handshake: retry later, or give up. */
  failed(c: Candidate, now: number): void {
    const key = formatAddress(c);
    this.busy.delete(key);
    c.failures++;
    if (c.failures >= this.maxFailures) return;
    c.retryAt = now + this.retryBaseMs * 2 ** (c.failures - 1);
    this.byAddress.set(key, c);
  }

  /** A connection (ours or theirs) to this address exists. */
  markBusy(a: PeerAddress): void {
    const key = formatAddress(a);
    this.byAddress.delete(key);
    this.busy.add(key);
  }

  /** A connection ended: the address may be tried again later. */
  release(a: PeerAddress, source: PeerSource, now: number, retry: boolean): void {
    const key = formatAddress(a);
    this.busy.delete(key);
    if (retry && !this.byAddress.has(key))
      this.byAddress.set(key, {
        host: a.host,
        port: a.port,
        source,
        failures: 1,
        retryAt: now + this.retryBaseMs,
      });
  }

  removeHost(host: string): void {
    for (const [key, c] of this.byAddress) if (c.host === host) this.byAddress.delete(key);
  }

  /** Known addresses (for resume data and PEX). */
  addresses(): PeerAddress[] {
    return [...this.byAddress.values()].map((c) => ({ host: c.host, port: c.port }));
  }
}
