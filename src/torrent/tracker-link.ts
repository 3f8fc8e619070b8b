/**
 * Ties one Torrent to its trackers: a TorrentTrackers follows the torrent's state (`started` when
 * it starts transferring, `completed` once when its download finishes, `stopped` when it stops),
 * announces the torrent's real transfer totals, feeds tracker peers to `torrent.addPeers` tagged
 * with the tracker's URL, and re-emits tracker results as Torrent events. The client's
 * TrackerService makes one per torrent.
 */
import type { Clock } from '../util/clock.js';
import {
  TorrentTrackers,
  type TrackerScrape,
  type TrackerStatus,
  type TrackerTransport,
  type TransferStats,
} from '../tracker/index.js';
import { wireInfoHashes } from '../metainfo/info-hash.js';
import type { Torrent } from './torrent.js';
import type { TorrentState } from './types.js';

export interface TrackerLinkOptions {
  peerId: Uint8Array;
  /** Our listen port, read when the torrent starts (the client may listen after adding). */
  port: () => number;
  /** Our external IPv4 address when known (a port mapping's), sent as BEP 7 `ipv4=`. */
  ipv4?: () => string | undefined;
  clock: Clock;
  /** The session's shared transports. */
  http?: TrackerTransport;
  udp?: TrackerTransport;
  /** Peers asked for per announce (default 50). */
  numwant?: number;
  /** Deadline of one announce (default 30 s). */
  requestTimeoutMs?: number;
  /** How long `stopped` announces may take (default 5 s). */
  stopTimeoutMs?: number;
  /** Below this many connected + known peers a downloading torrent re-announces early (default 10). */
  lowPeers?: number;
  /** Extra trackers (e.g. a magnet link's `tr=`), each its own tier after the torrent's own. */
  extraTrackers?: readonly string[];
}

const RUNNING: readonly TorrentState[] = ['downloading', 'seeding'];
const HALTED: readonly TorrentState[] = ['stopped', 'error'];

export class TrackerLink {
  readonly trackers: TorrentTrackers;
  /** A hybrid's announces under its truncated v2 hash. */
  private readonly v2: TorrentTrackers | undefined;
  private readonly torrent: Torrent;
  private readonly lowPeers: number;
  private running = false;
  private closed = false;
  private stopping: Promise<void> = Promise.resolve();
  private readonly detach: () => void;

  constructor(torrent: Torrent, o: TrackerLinkOptions) {
    this.torrent = torrent;
    this.lowPeers = o.lowPeers ?? 10;
    torrent.trackerLink = this;
    const tiers = [...torrent.metainfo.announce.map((t) => [...t])];
    for (const url of o.extraTrackers ?? []) if (!tiers.some((t) => t.includes(url))) tiers.push([url]);
    const readPort = o.port;
    const readIpv4 = o.ipv4;
    const announcer = (infoHash: Uint8Array): TorrentTrackers =>
      new TorrentTrackers({
        tiers,
        infoHash,
        peerId: o.peerId,
        // Read at each announce: the client may start listening after the torrent was added.
        get port() {
          return readPort();
        },
        get ipv4() {
          return readIpv4?.();
        },
        stats: () => this.stats(),
        clock: o.clock,
        numwant: o.numwant ?? 50,
        requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
        stopTimeoutMs: o.stopTimeoutMs ?? 5_000,
        ...(o.http ? { http: o.http } : {}),
        ...(o.udp ? { udp: o.udp } : {}),
      });
    this.trackers = announcer(torrent.infoHash);
    // BEP 52: a hybrid is announced under its truncated v2 hash too (as libtorrent does), so
    // v2 peers that know only that name find us; only its peers are used, its results are not
    // reported again (the status and events stay those of the v1 announces).
    const names = wireInfoHashes(torrent.infoHashes);
    if (names.length === 2) {
      this.v2 = announcer(names[1]!);
      this.v2.on('peers', (peers, source) => torrent.addPeers(peers, source));
      this.v2.on('error', () => undefined);
    }
    const t = this.trackers;
    t.on('peers', (peers, source) => torrent.addPeers(peers, source));
    t.on('announce', (info) => {
      torrent.emit('tracker-announce', info);
      // Peers arrive with the answer ('peers' comes after 'announce'): judge once they are added.
      if (info.event !== 'stopped') queueMicrotask(() => this.maybeShort());
    });
    t.on('warning', (info) => torrent.emit('tracker-warning', info));
    t.on('error', (info) => torrent.emit('tracker-error', info));

    const onState = (state: TorrentState): void => this.onState(state);
    const onDone = (): void => {
      if (this.running) {
        t.completed();
        this.v2?.completed();
      }
    };
    const onDisconnect = (): void => this.maybeShort();
    torrent.on('state', onState);
    torrent.on('done', onDone);
    torrent.on('peer-disconnect', onDisconnect);
    this.detach = () => {
      torrent.off('state', onState);
      torrent.off('done', onDone);
      torrent.off('peer-disconnect', onDisconnect);
    };
    // Added while already transferring (a service registered late).
    if (RUNNING.includes(torrent.state)) this.onState(torrent.state);
  }

  /** True when the torrent has at least one http(s) or udp tracker. */
  get hasTrackers(): boolean {
    return this.trackers.trackers.length > 0;
  }

  get status(): TrackerStatus[] {
    return this.trackers.trackers;
  }

  scrape(): Promise<TrackerScrape[]> {
    return this.trackers.scrape();
  }

  /** Announces `stopped` (when started) and waits for it, bounded by stopTimeoutMs. */
  stop(): Promise<void> {
    if (this.running) {
      this.running = false;
      const previous = this.stopping;
      this.stopping = previous.then(() =>
        Promise.all([this.trackers.stop(), this.v2?.stop()]).then(() => undefined),
      );
    }
    return this.stopping;
  }

  /** Stops and forgets the torrent's events (the torrent was removed or the client closes). */
  async close(): Promise<void> {
    if (this.closed) return this.stopping;
    this.closed = true;
    this.detach();
    await this.stop();
  }

  private onState(state: TorrentState): void {
    if (this.closed) return;
    if (RUNNING.includes(state) && !this.running) {
      if (!this.hasTrackers) return;
      this.running = true;
      this.trackers.start();
      this.v2?.start();
    } else if (HALTED.includes(state)) void this.stop();
  }

  /**
   * Downloading and short of peers (after an announce, or when a peer leaves): ask again as soon
   * as the trackers allow (their min interval, at least a minute after the last announce).
   */
  private maybeShort(): void {
    const t = this.torrent;
    if (!this.running || t.complete || t.state !== 'downloading') return;
    if (t.peerCount + t.candidates.size < this.lowPeers) {
      this.trackers.announceNow();
      this.v2?.announceNow();
    }
  }

  private stats(): TransferStats {
    const s = this.torrent.stats();
    // BEP 3: totals since `started`; the torrent's session counters restart with each start.
    return { uploaded: s.sessionUploaded, downloaded: s.sessionDownloaded, left: s.length - s.bytesDone };
  }
}
