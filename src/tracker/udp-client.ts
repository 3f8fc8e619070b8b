/**
 * UDP tracker client (BEP 15): requests go out through the session's UDP endpoint (the socket the
 * DHT shares, src/net/udp-mux.ts) or, for an address family it has none for, a socket of the
 * client's own; connection ids cached for a minute per tracker, random transaction ids matched
 * with the tracker's address, and retransmission after 15 × 2^n s (n up to 8; base and limit
 * configurable) on the injected Clock.
 */
import { lookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import { type UdpEndpoint, type UdpFamily, type UdpSource } from '../net/udp.js';
import { openUdpEndpoint, type SocketEndpoint } from '../net/udp-socket.js';
import { TrackerFailure } from './http-codec.js';
import {
  MAX_SCRAPE_HASHES,
  decodeTrackerResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  type UdpTrackerResponse,
} from './udp-codec.js';
import type { AnnounceRequest, AnnounceResponse, ScrapeResult, TrackerTransport } from './types.js';

export interface UdpTrackerOptions {
  clock?: Clock;
  /** First retransmission timeout; BEP 15 says 15 s. Tests make it small. */
  baseTimeoutMs?: number;
  /** Highest n in base × 2^n; after that timeout the request fails (BEP 15: 8). */
  maxRetransmits?: number;
  /** How long a connection id is reused (BEP 15: one minute). */
  connectionIdTtlMs?: number;
  /**
   * The session's endpoint for a family (the shared UDP socket), read for every request; for a
   * family it gives none (or before the session socket is bound) the client opens its own.
   * Replies are claimed by transaction id and tracker address, so the DHT keeps the rest.
   */
  endpoint?: (family: UdpFamily) => UdpEndpoint | undefined;
  /**
   * Whether the client may open sockets of its own when the session gives no endpoint (default
   * true). False in a proxy-only session: a request then fails with TRACKER_NO_ROUTE instead of
   * going out directly.
   */
  ownSockets?: boolean;
  /** Whether host names are resolved with a local DNS query (default true; false: TRACKER_NO_ROUTE). */
  resolveNames?: boolean;
}

/** BEP 15's retransmission schedule: the wait after the n-th send (n from 0). */
export function retransmitTimeout(n: number, baseMs: number): number {
  return baseMs * 2 ** n;
}

interface Target {
  host: string;
  port: number;
  family: 4 | 6;
  key: string;
  urlData: string | undefined;
}

interface Pending {
  target: Target;
  expect: UdpTrackerResponse['action'];
  resolve: (r: UdpTrackerResponse | undefined) => void;
  reject: (e: Error) => void;
}

export class UdpTrackerClient implements TrackerTransport {
  private readonly clock: Clock;
  private readonly baseTimeoutMs: number;
  private readonly maxRetransmits: number;
  private readonly connectionIdTtlMs: number;
  private readonly sessionEndpoint: ((family: UdpFamily) => UdpEndpoint | undefined) | undefined;
  /** Endpoints we opened ourselves, per family. */
  private readonly own = new Map<UdpFamily, Promise<SocketEndpoint>>();
  private readonly ownOpen = new Set<SocketEndpoint>();
  /** Every endpoint our handler is on, with the function that takes it off. */
  private readonly attached = new Map<UdpEndpoint, () => void>();
  private readonly pending = new Map<number, Pending>();
  private readonly connections = new Map<string, { id: Buffer; expires: number }>();
  private closed = false;
  private readonly ownSockets: boolean;
  private readonly resolveNames: boolean;

  constructor(o: UdpTrackerOptions = {}) {
    this.ownSockets = o.ownSockets ?? true;
    this.resolveNames = o.resolveNames ?? true;
    this.clock = o.clock ?? systemClock;
    this.baseTimeoutMs = o.baseTimeoutMs ?? 15_000;
    this.maxRetransmits = o.maxRetransmits ?? 8;
    this.connectionIdTtlMs = o.connectionIdTtlMs ?? 60_000;
    this.sessionEndpoint = o.endpoint;
  }

  async announce(url: string, r: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> {
    const target = await this.resolve(url);
    const res = await this.exchange(
      target,
      'announce',
      (connectionId, transactionId) =>
        encodeAnnounceRequest({
          connectionId,
          transactionId,
          infoHash: r.infoHash,
          peerId: r.peerId,
          downloaded: r.downloaded,
          left: r.left,
          uploaded: r.uploaded,
          event: r.event,
          key: r.key,
          numwant: r.event === 'stopped' ? 0 : r.numwant,
          port: r.port,
          urlData: target.urlData,
        }),
      signal,
    );
    if (res.action !== 'announce')
      throw new NbtError('TRACKER_BAD_PACKET', `expected announce, got ${res.action}`);
    return { interval: res.interval, seeders: res.seeders, leechers: res.leechers, peers: res.peers };
  }

  async scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeResult> {
    const out: ScrapeResult = new Map();
    const target = await this.resolve(url);
    for (let i = 0; i < infoHashes.length; i += MAX_SCRAPE_HASHES) {
      const batch = infoHashes.slice(i, i + MAX_SCRAPE_HASHES);
      const res = await this.exchange(target, 'scrape', (c, t) => encodeScrapeRequest(c, t, batch), signal);
      if (res.action !== 'scrape')
        throw new NbtError('TRACKER_BAD_PACKET', `expected scrape, got ${res.action}`);
      res.entries.forEach((e, j) => {
        const h = batch[j];
        if (h) out.set(Buffer.from(h).toString('hex'), e);
      });
    }
    return out;
  }

  /** Closes our own sockets (a session endpoint stays open); pending requests fail with TRACKER_CLOSED. */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values())
      p.reject(new NbtError('TRACKER_CLOSED', 'udp tracker client closed'));
    this.pending.clear();
    for (const off of this.attached.values()) off();
    this.attached.clear();
    for (const e of this.own.values())
      void e.then(
        (s) => s.close(),
        () => undefined,
      );
    this.own.clear();
    this.ownOpen.clear();
  }

  private async resolve(url: string): Promise<Target> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new NbtError('TRACKER_BAD_URL', `bad tracker URL: ${url}`);
    }
    if (u.protocol !== 'udp:') throw new NbtError('TRACKER_BAD_URL', `not a udp:// URL: ${url}`);
    const port = Number(u.port);
    if (!(port > 0 && port < 65536))
      throw new NbtError('TRACKER_BAD_URL', `udp tracker URL without a port: ${url}`);
    const name = u.hostname.replace(/^\[|\]$/g, '');
    let host = name;
    let family = isIP(name);
    if (family === 0) {
      if (!this.resolveNames)
        throw new NbtError(
          'TRACKER_NO_ROUTE',
          `udp tracker ${name}: host names are not resolved locally in this session (proxy only)`,
        );
      try {
        const a = await lookup(name);
        host = a.address;
        family = a.family;
      } catch (e) {
        throw new NbtError('TRACKER_DNS', `cannot resolve ${name}: ${errorMessage(e)}`);
      }
    }
    const path = u.pathname + u.search;
    return {
      host,
      port,
      family: family === 6 ? 6 : 4,
      key: `${host}|${port}`,
      urlData: path && path !== '/' ? path : undefined,
    };
  }

  /** Connect (if the cached id expired) then request, retransmitting on BEP 15's schedule. */
  private async exchange(
    target: Target,
    expect: 'announce' | 'scrape',
    build: (connectionId: Buffer, transactionId: number) => Buffer,
    signal?: AbortSignal,
  ): Promise<UdpTrackerResponse> {
    for (let n = 0; n <= this.maxRetransmits;) {
      const wait = retransmitTimeout(n, this.baseTimeoutMs);
      const endpoint = await this.endpointFor(target.family);
      // A tracker may bind the connection id to our port (ours does), and requests move from our
      // own socket to the session's once the client listens: ids are kept per local port.
      const key = `${target.key}|${endpoint.localPort}`;
      const conn = this.connections.get(key);
      if (!conn || conn.expires <= this.clock.now()) {
        this.connections.delete(key);
        const r = await this.roundTrip(
          endpoint,
          target,
          'connect',
          (t) => encodeConnectRequest(t),
          wait,
          signal,
        );
        if (!r) {
          n++;
          continue;
        }
        if (r.action === 'error') throw new TrackerFailure(r.message);
        if (r.action !== 'connect')
          throw new NbtError('TRACKER_BAD_PACKET', `expected connect, got ${r.action}`);
        this.connections.set(key, {
          id: r.connectionId,
          expires: this.clock.now() + this.connectionIdTtlMs,
        });
        continue;
      }
      const r = await this.roundTrip(endpoint, target, expect, (t) => build(conn.id, t), wait, signal);
      if (!r) {
        n++;
        continue;
      }
      if (r.action === 'error') {
        // The id may be what the tracker objects to; get a fresh one next time.
        this.connections.delete(key);
        throw new TrackerFailure(r.message);
      }
      return r;
    }
    throw new NbtError('TRACKER_TIMEOUT', `no answer from udp tracker ${target.host}:${target.port}`);
  }

  /** One send and wait: resolves with the matching response or undefined on timeout. */
  private roundTrip(
    endpoint: UdpEndpoint,
    target: Target,
    expect: UdpTrackerResponse['action'],
    build: (transactionId: number) => Buffer,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<UdpTrackerResponse | undefined> {
    if (this.closed) return Promise.reject(new NbtError('TRACKER_CLOSED', 'udp tracker client closed'));
    if (signal?.aborted) return Promise.reject(new NbtError('TRACKER_ABORTED', 'tracker request aborted'));
    let transactionId: number;
    do transactionId = randomBytes(4).readUInt32BE(0);
    while (this.pending.has(transactionId));
    const packet = build(transactionId);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        timer.cancel();
        this.pending.delete(transactionId);
        if (this.pending.size === 0) for (const s of this.ownOpen) s.setKeepAlive(false);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(new NbtError('TRACKER_ABORTED', 'tracker request aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // An outstanding request keeps the process alive (as an HTTP request's socket does);
      // an idle client does not. (The session's socket lives as long as the session.)
      for (const s of this.ownOpen) s.setKeepAlive(true);
      this.pending.set(transactionId, {
        target,
        expect,
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
      });
      const timer: TimerHandle = this.clock.setTimeout(() => (done(), resolve(undefined)), timeoutMs);
      endpoint.send(packet, target.port, target.host, (err) => {
        if (err && this.pending.has(transactionId)) {
          done();
          reject(new NbtError('TRACKER_UDP_ERROR', `udp send failed: ${errorMessage(err)}`));
        }
      });
    });
  }

  /** The session's endpoint for the family when it has one, else ours (opened on first use). */
  private async endpointFor(family: UdpFamily): Promise<UdpEndpoint> {
    if (this.closed) throw new NbtError('TRACKER_CLOSED', 'udp tracker client closed');
    const shared = this.sessionEndpoint?.(family);
    if (shared && shared.localPort > 0) return this.attach(shared);
    if (!this.ownSockets)
      throw new NbtError(
        'TRACKER_NO_ROUTE',
        `no udp route for IPv${family} trackers in this session (proxy only)`,
      );
    let own = this.own.get(family);
    if (!own) {
      // Send errors reach the send callback; anything else (ICMP on some systems) is noise here.
      own = openUdpEndpoint(0, family === 6 ? '::' : '0.0.0.0').then((s) => {
        if (this.closed) void s.close();
        else this.ownOpen.add(s);
        return s;
      });
      this.own.set(family, own);
      own.catch(() => this.own.delete(family));
    }
    const s = await own.catch((e: unknown) => {
      throw new NbtError('TRACKER_UDP_ERROR', `cannot open a udp socket: ${errorMessage(e)}`, { cause: e });
    });
    if (this.closed) throw new NbtError('TRACKER_CLOSED', 'udp tracker client closed');
    return this.attach(s);
  }

  private attach(endpoint: UdpEndpoint): UdpEndpoint {
    if (!this.attached.has(endpoint) && !this.closed)
      this.attached.set(
        endpoint,
        endpoint.onPacket((msg, from) => this.onMessage(msg, from)),
      );
    return endpoint;
  }

  /** True when the datagram answers one of our requests (a shared socket then gives it no one else). */
  private onMessage(msg: Buffer, from: UdpSource): boolean {
    if (msg.length < 8) return false;
    const p = this.pending.get(msg.readUInt32BE(4));
    // Answers must come from the tracker we asked; anything else is ignored.
    if (!p || p.target.port !== from.port || !sameHost(p.target.host, from.host)) return false;
    let r: UdpTrackerResponse;
    try {
      r = decodeTrackerResponse(msg, from.family);
    } catch (e) {
      p.reject(e instanceof Error ? e : new Error(String(e)));
      return true;
    }
    if (r.action !== p.expect && r.action !== 'error')
      p.reject(new NbtError('TRACKER_BAD_PACKET', `expected ${p.expect} response, got ${r.action}`));
    else p.resolve(r);
    return true;
  }
}

function sameHost(a: string, b: string): boolean {
  const norm = (h: string): string => (h.startsWith('::ffff:') ? h.slice(7) : h).toLowerCase();
  return norm(a) === norm(b);
}
