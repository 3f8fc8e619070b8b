/**
 * The session's tracker service: one shared HTTP and UDP tracker client, and a TrackerLink per
 * torrent (announces follow the torrent's state; peers go to `torrent.addPeers`). Tracker results
 * are re-emitted on the Client as 'tracker-announce' / 'tracker-warning' / 'tracker-error'.
 * Closing waits for `stopped` announces at most `stopTimeoutMs`. UDP trackers are asked through
 * the session's UDP socket (the listen port, shared with the DHT) once the client listens, and
 * through a socket of the UDP client's own before that.
 */
import type { Clock } from '../util/clock.js';
import {
  HttpTrackerClient,
  TorrentTrackers,
  UdpTrackerClient,
  type HttpTrackerOptions,
  type TrackerTransport,
} from '../tracker/index.js';
import type { PeerAddress } from '../util/compact.js';
import { TrackerLink } from '../torrent/tracker-link.js';
import type { Torrent } from '../torrent/torrent.js';
import type { TrackerPeerSource } from '../tracker/index.js';
import type { ClientService } from '../torrent/engine-extension.js';
import type { ClientEvents } from './events.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import type { SharedUdp } from './session-udp.js';

export interface TrackerServiceOptions {
  /** Peers asked for per announce (default min(50, maxPeersPerTorrent)). */
  numwant?: number;
  /** Deadline of one announce or scrape (default 30 s). */
  requestTimeoutMs?: number;
  /** Bound on `stopped` announces when a torrent stops or the client closes (default 5 s). */
  stopTimeoutMs?: number;
  /** A downloading torrent with fewer connected + known peers re-announces early (default 10). */
  lowPeers?: number;
  /** Transports to use instead of the built-in HTTP and UDP clients (tests). */
  http?: TrackerTransport;
  udp?: TrackerTransport;
  /** HTTPS: extra trusted CA certificates (PEM). */
  ca?: string | Buffer;
  /** HTTP tracker redirects followed: `same-host` (default) or `none` (see HttpTrackerOptions). */
  redirects?: 'same-host' | 'none';
  /** HTTP trackers connect through these (the session's proxy or bound address). */
  agents?: HttpTrackerOptions['agents'];
  /** UDP trackers may use sockets of their own before the session's is bound (default true). */
  udpOwnSockets?: boolean;
  /** UDP tracker host names are resolved by local DNS (default true; false in proxy-only mode). */
  udpResolveNames?: boolean;
}

/** What the service needs from the client. */
export interface TrackerServiceHost extends TypedEmitter<ClientEvents> {
  readonly peerId: Buffer;
  readonly port: number;
  /** The port to announce when it differs from `port` (a port mapping's external TCP port). */
  readonly announcePort?: number;
  /** Our external IPv4 address when known (sent to HTTP trackers as BEP 7 `ipv4=`). */
  readonly externalAddress?: string | undefined;
  readonly options: { readonly clock: Clock; readonly limits: { readonly maxPeersPerTorrent: number } };
  /** The session's shared UDP socket (absent: the UDP tracker client uses sockets of its own). */
  readonly udp?: SharedUdp;
  /** The session's IP filter: trackers at blocked addresses are never contacted. */
  readonly ipFilter?: { allows(address: string): boolean };
}

/** A magnet link's trackers announcing before its metadata (and so its Torrent) exists. */
export interface MagnetAnnouncer {
  readonly trackers: TorrentTrackers;
  /** Sends `stopped` (bounded) and releases the announcer. */
  stop(): Promise<void>;
}

/**
 * `left` for a torrent whose size is not known yet: non-zero so trackers count us as a leecher
 * (some give seeders no seeds), which is what mainstream clients send for magnet links.
 */
export const UNKNOWN_LEFT = 16_384;

export class TrackerService implements ClientService {
  readonly name = 'trackers';
  private readonly host: TrackerServiceHost;
  private readonly o: TrackerServiceOptions;
  private readonly http: TrackerTransport;
  private readonly udp: TrackerTransport;
  private readonly links = new Map<Torrent, TrackerLink>();
  /** Extra tracker URLs (magnet `tr=`) per info-hash, for the torrent that appears later. */
  private readonly extra = new Map<string, string[]>();
  private readonly magnets = new Set<MagnetAnnouncer>();
  private closed = false;

  constructor(host: TrackerServiceHost, o: TrackerServiceOptions = {}) {
    this.host = host;
    this.o = o;
    const clock = host.options.clock;
    this.http =
      o.http ??
      new HttpTrackerClient({
        clock,
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.redirects ? { redirects: o.redirects } : {}),
        ...(o.agents ? { agents: o.agents } : {}),
        allowAddress: (address) => host.ipFilter?.allows(address) ?? true,
      });
    const shared = host.udp;
    this.udp =
      o.udp ??
      new UdpTrackerClient({
        clock,
        ...(shared ? { endpoint: (f) => shared.endpoint('tracker', f) } : {}),
        ...(o.udpOwnSockets === false ? { ownSockets: false } : {}),
        ...(o.udpResolveNames === false ? { resolveNames: false } : {}),
      });
  }

  /** The link of a torrent (undefined once removed). @internal */
  link(torrent: Torrent): TrackerLink | undefined {
    return this.links.get(torrent);
  }

  /**
   * Trackers to use for an info-hash besides its metainfo's (a magnet link's `tr=`): call before
   * the torrent is added; they become extra tiers of its announce list.
   */
  addTrackers(infoHashHex: string, urls: readonly string[]): void {
    const key = infoHashHex.toLowerCase();
    const list = this.extra.get(key) ?? [];
    for (const u of urls) if (!list.includes(u)) list.push(u);
    this.extra.set(key, list);
  }

  /**
   * Announces a magnet link to its `tr=` trackers at once, before its metadata arrives (left is
   * unknown: UNKNOWN_LEFT). Peers go to `onPeers`; stop it when the Torrent takes over.
   */
  announceMagnet(
    infoHash: Uint8Array,
    trackers: readonly string[],
    onPeers: (peers: PeerAddress[], source: TrackerPeerSource) => void,
  ): MagnetAnnouncer {
    const tt = new TorrentTrackers({
      tiers: trackers.map((u) => [u]),
      infoHash,
      peerId: this.host.peerId,
      port: this.host.announcePort ?? this.host.port,
      ...(this.host.externalAddress ? { ipv4: this.host.externalAddress } : {}),
      stats: () => ({ uploaded: 0, downloaded: 0, left: UNKNOWN_LEFT }),
      clock: this.host.options.clock,
      numwant: this.numwant(),
      http: this.http,
      udp: this.udp,
      requestTimeoutMs: this.o.requestTimeoutMs ?? 30_000,
      stopTimeoutMs: this.o.stopTimeoutMs ?? 5_000,
    });
    tt.on('peers', onPeers);
    tt.on('error', () => undefined);
    let stopped: Promise<void> | undefined;
    const m: MagnetAnnouncer = {
      trackers: tt,
      stop: () => {
        this.magnets.delete(m);
        return (stopped ??= tt.stop());
      },
    };
    this.magnets.add(m);
    if (this.closed) void m.stop();
    else tt.start();
    return m;
  }

  torrentAdded(torrent: Torrent): void {
    if (this.closed || this.links.has(torrent)) return;
    const extra = this.extra.get(torrent.infoHashHex);
    this.extra.delete(torrent.infoHashHex);
    const host = this.host;
    const link = new TrackerLink(torrent, {
      peerId: host.peerId,
      port: () => host.announcePort ?? host.port,
      ipv4: () => host.externalAddress,
      clock: host.options.clock,
      http: this.http,
      udp: this.udp,
      numwant: this.numwant(),
      requestTimeoutMs: this.o.requestTimeoutMs ?? 30_000,
      stopTimeoutMs: this.o.stopTimeoutMs ?? 5_000,
      ...(this.o.lowPeers !== undefined ? { lowPeers: this.o.lowPeers } : {}),
      ...(extra ? { extraTrackers: extra } : {}),
    });
    // Its 'tracker-*' events reach the Client's through src/client/torrent-events.ts.
    this.links.set(torrent, link);
  }

  torrentRemoved(torrent: Torrent): void {
    const link = this.links.get(torrent);
    this.links.delete(torrent);
    void link?.close();
  }

  /** Waits (bounded) for every `stopped` announce, then closes the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all([...links.map((l) => l.close()), ...[...this.magnets].map((m) => m.stop())]);
    if (!this.o.http) this.http.close?.();
    if (!this.o.udp) this.udp.close?.();
  }

  private numwant(): number {
    return this.o.numwant ?? Math.min(50, this.host.options.limits.maxPeersPerTorrent);
  }
}
