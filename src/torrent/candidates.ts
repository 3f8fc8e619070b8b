/**
 * Addresses we may connect to, from every source (trackers, DHT, PEX, the user, resume data,
 * incoming peers' listen ports). Failed attempts back off exponentially and are dropped after a
 * few tries; banned hosts are never added.
 */
import type { PeerAddress } from '../util/compact.js';
import type { PeerSource } from '../peer/types.js';
import { formatAddress } from '../util/compact.js';

/**
 * What a source told us about an address beyond host and port (PEX flags, BEP 11): the dialer
 * uses them to pick a transport (uTP first when it speaks uTP) and encryption.
 */
export interface PeerHints {
  /** Speaks uTP (BEP 29). */
  utp?: boolean;
  /** Prefers encryption (MSE). */
  encryption?: boolean;
  /** Is a seed or upload-only. */
  seed?: boolean;
  /** Someone connected out to it: it accepts incoming connections. */
  reachable?: boolean;
}

/** An address with whatever its source knew of it. */
export interface HintedAddress extends PeerAddress {
  hints?: PeerHints;
}

export interface Candidate extends PeerAddress {
  source: PeerSource;
  hints?: PeerHints;
  failures: number;
  /** Clock ms before which we do not try again. */
  retryAt: number;
}

export class CandidateList {
  private readonly byAddress = new Map<string, Candidate>();
  /** Connected or connecting addresses: not handed out again. */
  /** Connected or connecting addresses, with their hints for when they come back. */
  private readonly busy = new Map<string, PeerHints | undefined>();

  constructor(
    private readonly maxCandidates = 2000,
    private readonly maxFailures = 4,
    private readonly retryBaseMs = 15_000,
  ) {}

  get size(): number {
    return this.byAddress.size;
  }

  /** Adds addresses; returns those that were new. */
  add(addrs: readonly HintedAddress[], source: PeerSource, banned: (host: string) => boolean): PeerAddress[] {
    const added: PeerAddress[] = [];
    for (const a of addrs) {
      if (!(a.port > 0 && a.port < 65536) || banned(a.host)) continue;
      const key = formatAddress(a);
      const known = this.byAddress.get(key);
      if (known) {
        // Another source may know more (PEX flags for an address a tracker gave).
        if (a.hints) known.hints = { ...known.hints, ...a.hints };
        continue;
      }
      if (this.busy.has(key)) {
        if (a.hints) this.busy.set(key, { ...this.busy.get(key), ...a.hints });
        continue;
      }
      if (this.byAddress.size >= this.maxCandidates) break;
      const c: Candidate = { host: a.host, port: a.port, source, failures: 0, retryAt: 0 };
      if (a.hints) c.hints = { ...a.hints };
      this.byAddress.set(key, c);
      added.push({ host: a.host, port: a.port });
    }
    return added;
  }

  /** The next address due for a try (marked busy), or undefined. */
  next(now: number, usable: (c: Candidate) => boolean): Candidate | undefined {
    for (const [key, c] of this.byAddress) {
      if (c.retryAt > now || !usable(c)) continue;
      this.byAddress.delete(key);
      this.busy.set(key, c.hints);
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
    const hints = this.byAddress.get(key)?.hints ?? this.busy.get(key);
    this.byAddress.delete(key);
    this.busy.set(key, hints);
  }

  /** A connection ended: the address may be tried again later. */
  release(a: PeerAddress, source: PeerSource, now: number, retry: boolean): void {
    const key = formatAddress(a);
    const hints = this.busy.get(key);
    this.busy.delete(key);
    if (retry && !this.byAddress.has(key)) {
      const c: Candidate = {
        host: a.host,
        port: a.port,
        source,
        failures: 1,
        retryAt: now + this.retryBaseMs,
      };
      if (hints) c.hints = hints;
      this.byAddress.set(key, c);
    }
  }

  removeHost(host: string): void {
    for (const [key, c] of this.byAddress) if (c.host === host) this.byAddress.delete(key);
  }

  /** Known addresses (for resume data and PEX). */
  addresses(): PeerAddress[] {
    return [...this.byAddress.values()].map((c) => ({ host: c.host, port: c.port }));
  }
}
