/**
 * The LSD state machine (BEP 14), sans I/O: which info-hashes to multicast when, and what a
 * received announce means. Each running public torrent is announced when it starts and then at
 * most once per `intervalMs` (5 min); due torrents share packets (up to what fits in 1400 bytes,
 * or `maxHashesPerPacket`), and packets themselves are rate limited by a token bucket (a burst
 * for start-up, then one per `packetIntervalMs`) so that many torrents cannot flood the LAN.
 * Received announces carrying our cookie are ours (multicast loopback) and ignored; the same
 * sender repeating the same torrent within `repeatMs` is ignored too. LSD has no replies.
 */
import { decodeAnnounce, hashesPerPacket, type LsdAnnounce } from './codec.js';
import { NbtError } from '../util/errors.js';

export interface LsdAnnouncerOptions {
  /** Our cookie, sent in every announce (printable, ≤ 64 characters). */
  cookie: string;
  /** Shortest time between two announces of one torrent (default 5 min, as BEP 14 and libtorrent). */
  intervalMs?: number;
  /** Info-hashes per packet (default: as many as fit in 1400 bytes). */
  maxHashesPerPacket?: number;
  /** Packets that may go out back to back (default 3). */
  packetBurst?: number;
  /** After the burst, one packet per this (default 60 s: BEP 14's "no more than 1 announce per minute"). */
  packetIntervalMs?: number;
  /** A sender repeating a torrent within this is ignored (default 60 s). */
  repeatMs?: number;
  /** Senders remembered for `repeatMs` (default 1024; the oldest is forgotten first). */
  maxRemembered?: number;
}

/** What a received datagram meant. */
export type LsdReceived =
  | {
      kind: 'peers';
      /** The sender as a BitTorrent peer: its UDP source address and its announced port. */
      host: string;
      port: number;
      /** Hex info-hashes of our torrents it announced (each new from this sender). */
      infoHashes: string[];
    }
  | { kind: 'ignored'; reason: 'own' | 'not-ours' | 'repeat' }
  | { kind: 'malformed'; error: NbtError };

/** Rounding slack for the token bucket (a refill computed to the ms is whole). */
const EPSILON = 1e-9;

interface Entry {
  hash: Buffer;
  active: boolean;
  /** Clock ms of the last announce (-Infinity: never). */
  sent: number;
  /** Clock ms at which it may (and should) be announced next. */
  due: number;
}

export class LsdAnnouncer {
  readonly cookie: string;
  private readonly intervalMs: number;
  private readonly perPacket: number;
  private readonly burst: number;
  private readonly packetIntervalMs: number;
  private readonly repeatMs: number;
  private readonly maxRemembered: number;
  private readonly entries = new Map<string, Entry>();
  /** "hash host:port" → when we last took it; insertion order is age order. */
  private readonly seen = new Map<string, number>();
  private port = 0;
  private tokens: number;
  private refilledAt: number;
  /** Packets sent, datagrams received, and how received ones were judged. */
  readonly stats = { sent: 0, received: 0, peers: 0, own: 0, repeat: 0, notOurs: 0, malformed: 0 };

  constructor(o: LsdAnnouncerOptions, now: number) {
    this.cookie = o.cookie;
    this.intervalMs = o.intervalMs ?? 5 * 60_000;
    // The IPv6 Host header is the longer one: what fits there fits in both families.
    const fits = hashesPerPacket(6, 65535, o.cookie);
    this.perPacket = Math.max(1, Math.min(fits, o.maxHashesPerPacket ?? fits));
    this.burst = Math.max(1, o.packetBurst ?? 3);
    this.packetIntervalMs = o.packetIntervalMs ?? 60_000;
    this.repeatMs = o.repeatMs ?? 60_000;
    this.maxRemembered = o.maxRemembered ?? 1024;
    this.tokens = this.burst;
    this.refilledAt = now;
  }

  /** Our BitTorrent listen port; nothing is announced while it is 0. */
  setPort(port: number): void {
    this.port = port;
  }

  get listenPort(): number {
    return this.port;
  }

  /** Torrents being announced. */
  get size(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.active) n++;
    return n;
  }

  /** A public torrent is running: announce it now, or once its interval since the last one ends. */
  start(infoHash: Buffer, now: number): void {
    const key = infoHash.toString('hex');
    const e = this.entries.get(key);
    if (e) {
      if (e.active) return;
      e.active = true;
      e.due = Math.max(now, e.sent + this.intervalMs);
    } else this.entries.set(key, { hash: Buffer.from(infoHash), active: true, sent: -Infinity, due: now });
  }

  /** The torrent stopped: no more announces, and its announces are no longer taken. */
  stop(infoHash: Buffer): void {
    const e = this.entries.get(infoHash.toString('hex'));
    if (e) e.active = false;
  }

  /** The torrent is gone for good. */
  forget(infoHash: Buffer): void {
    this.entries.delete(infoHash.toString('hex'));
  }

  /**
   * The info-hash batches to announce now (one packet each, for every family and interface),
   * and when to ask again (undefined: nothing pending until start() or setPort()).
   */
  poll(now: number): { batches: Buffer[][]; nextAt: number | undefined } {
    if (this.port === 0) return { batches: [], nextAt: undefined };
    this.refill(now);
    const due = [...this.entries.values()]
      .filter((e) => e.active && e.due <= now)
      .sort((a, b) => a.due - b.due);
    const batches: Buffer[][] = [];
    while (due.length > 0 && this.tokens >= 1 - EPSILON) {
      this.tokens -= 1;
      const batch = due.splice(0, this.perPacket);
      for (const e of batch) {
        e.sent = now;
        e.due = now + this.intervalMs;
      }
      batches.push(batch.map((e) => e.hash));
    }
    this.stats.sent += batches.length;
    return { batches, nextAt: this.nextAt(now) };
  }

  /** A datagram arrived on an LSD socket from `host` (its UDP source address). */
  receive(data: Uint8Array, host: string, now: number): LsdReceived {
    this.stats.received++;
    let a: LsdAnnounce;
    try {
      a = decodeAnnounce(data);
    } catch (e) {
      this.stats.malformed++;
      const error = e instanceof NbtError ? e : new NbtError('LSD_BAD_HEADER', String(e));
      return { kind: 'malformed', error };
    }
    if (a.cookie !== undefined && a.cookie === this.cookie) {
      this.stats.own++;
      return { kind: 'ignored', reason: 'own' };
    }
    const from = host.startsWith('::ffff:') ? host.slice(7) : host;
    const ours = a.infoHashes.map((h) => h.toString('hex')).filter((h) => this.entries.get(h)?.active);
    if (ours.length === 0) {
      this.stats.notOurs++;
      return { kind: 'ignored', reason: 'not-ours' };
    }
    const fresh = ours.filter((h) => this.remember(`${h} ${from}:${a.port}`, now));
    if (fresh.length === 0) {
      this.stats.repeat++;
      return { kind: 'ignored', reason: 'repeat' };
    }
    this.stats.peers++;
    return { kind: 'peers', host: from, port: a.port, infoHashes: fresh };
  }

  /** True when `key` was not taken within repeatMs (and notes it now). */
  private remember(key: string, now: number): boolean {
    const last = this.seen.get(key);
    if (last !== undefined && now - last < this.repeatMs) return false;
    this.seen.delete(key);
    this.seen.set(key, now);
    while (this.seen.size > this.maxRemembered) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }

  private refill(now: number): void {
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) / this.packetIntervalMs);
      this.refilledAt = now;
    }
  }

  private nextAt(now: number): number | undefined {
    let earliest = Infinity;
    for (const e of this.entries.values()) if (e.active && e.due < earliest) earliest = e.due;
    if (earliest === Infinity) return undefined;
    const token =
      this.tokens >= 1 - EPSILON ? now : now + Math.ceil((1 - this.tokens) * this.packetIntervalMs);
    return Math.max(earliest, token, now);
  }
}
