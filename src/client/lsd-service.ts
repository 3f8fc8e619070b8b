/**
 * Local service discovery (BEP 14) for the session: the LsdAnnouncer (src/lsd) decides what to
 * multicast and when, LsdSockets carry it on every interface, and announces heard from the LAN
 * feed the torrent's candidates with source 'lsd' (and a Client 'lsd-peer' event). Sockets open
 * when the client listens (the announce needs our port). Private torrents are never announced
 * and take no LSD peers (BEP 27); a magnet found to be private is dropped when its metadata comes.
 */
import { randomBytes } from 'node:crypto';
import { LsdAnnouncer, encodeAnnounce, LSD_PORT } from '../lsd/index.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Torrent } from '../torrent/torrent.js';
import type { TorrentEventRecord, TorrentState } from '../torrent/types.js';
import type { ClientService } from '../torrent/engine-extension.js';
import { LsdSockets, lsdInterfaces, type LsdSocketOptions } from './lsd-sockets.js';

export interface LsdServiceOptions {
  /** false turns LSD off (default on). */
  enabled?: boolean;
  /** Interfaces (addresses or names) to announce on; default every non-internal one. */
  interfaces?: string[];
  /** The IPv6 group too, where IPv6 multicast works (default true). */
  ipv6?: boolean;
  /** Shortest time between two announces of a torrent (default 5 min). */
  intervalMs?: number;
  /** Packets back to back before the rate limit (default 3), then one per `packetIntervalMs` (60 s). */
  packetBurst?: number;
  packetIntervalMs?: number;
  /** Info-hashes per packet (default: as many as fit in 1400 bytes). */
  maxHashesPerPacket?: number;
  /** Multicast TTL (default 16). */
  ttl?: number;
  /** UDP port (default 6771; other clients only hear 6771). */
  port?: number;
}

export interface LsdServiceHost {
  readonly clock: Clock;
  /** Our peer listen port (0 before listen()). */
  listenPort(): number;
  /** The address the listen socket bound ('0.0.0.0', '::' or one address). */
  listenHost(): string;
  /** Settles when the client listens (rejects if it closes first). */
  readonly listening: Promise<void>;
  torrent(infoHashHex: string): Torrent | undefined;
  /** An announce from the LAN named this torrent (before candidates' own de-duplication). */
  lsdPeer(torrent: Torrent, host: string, port: number): void;
  warn(e: Error): void;
}

const RUNNING: readonly TorrentState[] = ['metadata', 'downloading', 'seeding'];

export class LsdService implements ClientService {
  readonly name = 'lsd';
  readonly announcer: LsdAnnouncer;
  /** Settles once the sockets are open (or failed). */
  readonly ready: Promise<void>;
  private readonly sockets: LsdSockets;
  private readonly clock: Clock;
  private readonly torrents = new Set<Torrent>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private closed = false;

  constructor(
    private readonly host: LsdServiceHost,
    o: LsdServiceOptions = {},
  ) {
    this.clock = host.clock;
    this.announcer = new LsdAnnouncer(
      {
        cookie: randomBytes(6).toString('hex'),
        ...(o.intervalMs !== undefined ? { intervalMs: o.intervalMs } : {}),
        ...(o.packetBurst !== undefined ? { packetBurst: o.packetBurst } : {}),
        ...(o.packetIntervalMs !== undefined ? { packetIntervalMs: o.packetIntervalMs } : {}),
        ...(o.maxHashesPerPacket !== undefined ? { maxHashesPerPacket: o.maxHashesPerPacket } : {}),
      },
      this.clock.now(),
    );
    const socketOptions: LsdSocketOptions = {
      ttl: o.ttl ?? 16,
      ipv6: o.ipv6 ?? true,
      port: o.port ?? LSD_PORT,
      only: o.interfaces ?? [],
    };
    this.sockets = new LsdSockets(
      socketOptions,
      (data, from) => this.received(data, from),
      (e) => host.warn(e),
    );
    this.ready = this.start(socketOptions).catch((e: unknown) => {
      if (!this.closed) host.warn(new Error(`lsd: ${errorMessage(e)}`));
    });
  }

  /** Opens the sockets once the client listens, then announces what is running. */
  private async start(socketOptions: LsdSocketOptions): Promise<void> {
    await this.host.listening;
    if (this.closed) return;
    const ifaces = lsdInterfaces(socketOptions, this.host.listenHost());
    await this.sockets.open(ifaces);
    if (this.closed) return void (await this.sockets.close());
    // No interface (a client on 127.0.0.1, a host without multicast): LSD stays inert, no timers.
    if (this.sockets.interfaces.length === 0) return;
    this.announcer.setPort(this.host.listenPort());
    this.pump();
  }

  torrentAdded(torrent: Torrent): void {
    if (this.closed || this.torrents.has(torrent) || torrent.metainfo.private) return;
    this.torrents.add(torrent);
    this.follow(torrent);
  }

  torrentEvent(torrent: Torrent, e: TorrentEventRecord): void {
    if (!this.torrents.has(torrent)) return;
    if (e.event === 'state') this.follow(torrent);
    else if (e.event === 'metadata' && torrent.metainfo.private) this.torrentRemoved(torrent);
  }

  torrentRemoved(torrent: Torrent): void {
    if (!this.torrents.delete(torrent)) return;
    this.announcer.forget(torrent.infoHash);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [...this.torrents.keys()]) this.torrentRemoved(t);
    this.timer?.cancel();
    await this.sockets.close();
  }

  /** Announced while running (metadata, downloading, seeding); silent when paused or stopped. */
  private follow(torrent: Torrent): void {
    if (RUNNING.includes(torrent.state)) this.announcer.start(torrent.infoHash, this.clock.now());
    else this.announcer.stop(torrent.infoHash);
    this.pump();
  }

  /** Sends what is due and sets the timer for the next. */
  private pump(): void {
    if (this.closed) return;
    const now = this.clock.now();
    const { batches, nextAt } = this.announcer.poll(now);
    const port = this.announcer.listenPort;
    for (const hashes of batches)
      this.sockets.send((family) => encodeAnnounce(family, port, hashes, this.announcer.cookie));
    if (nextAt === undefined || nextAt >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = nextAt;
    this.timer = this.clock.setTimeout(
      () => {
        this.timerAt = Infinity;
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, nextAt - now),
    );
  }

  private received(data: Buffer, from: string): void {
    if (this.closed) return;
    const r = this.announcer.receive(data, from, this.clock.now());
    if (r.kind !== 'peers') return;
    for (const hex of r.infoHashes) {
      const torrent = this.host.torrent(hex);
      if (!torrent || !this.torrents.has(torrent) || torrent.metainfo.private) continue;
      this.host.lsdPeer(torrent, r.host, r.port);
      torrent.addPeers([{ host: r.host, port: r.port }], { kind: 'lsd' });
    }
  }
}
