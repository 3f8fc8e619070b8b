/**
 * A torrent's web seeds (BEP 19 `url-list`, magnet `ws=`, `addWebSeed`): each becomes a WebSeed
 * link with its own PeerSession while the torrent downloads, joined to the Downloader like a peer
 * that has every piece (and asks for contiguous runs). They close when the torrent seeds, stops
 * or checks. A seed that alone sent a piece failing its hash is dropped for good and reported.
 */
import { DisconnectReason } from '../peer/disconnect.js';
import type { Message } from '../wire/index.js';
import type { TorrentCore } from './core.js';
import { PeerSession } from './session.js';
import type { PeerLink } from './peer-link.js';
import {
  WebSeed,
  defaultWebSeedTuning,
  type WebSeedKind,
  type RangeFetcher,
  type WebSeedErrorInfo,
  type WebSeedTuning,
} from './web-seed.js';

/** One web seed in `torrent.stats().webSeeds` and `torrent.webSeeds`. */
export interface WebSeedStats {
  url: string;
  /** `url-list` (BEP 19) or `httpseed` (BEP 17). */
  kind: WebSeedKind;
  /** connected: fetching (or ready to); resting: waiting after an error; idle: not in use now; dropped: given up. */
  state: 'connected' | 'resting' | 'idle' | 'dropped';
  /** Payload bytes it delivered this session. */
  downloaded: number;
  downloadRate: number;
  /** The last error, if any. */
  error?: { code: string; message: string };
}

/** What the set reads of its torrent (the downloader its sessions join, the state it follows). */
export type WebSeedSetHost = Pick<
  TorrentCore,
  'clock' | 'metainfo' | 'transfers' | 'state' | 'hasMetadata' | 'have' | 'choking' | 'events'
>;

/** More URLs than this are ignored (a hostile .torrent could list thousands). */
const MAX_WEB_SEEDS = 32;
/**
 * A web seed session starts with one full run in its pipeline (4 MiB by default): HTTP has no
 * per-block round trips to grow into, so a few blocks would leave the server idle at first; but
 * not more, since the Downloader only shrinks an oversized pipeline slowly and a slow mirror's
 * queue must stay within the request timeout. Slow start grows it from there.
 */
function initialPipeline(t: Partial<WebSeedTuning>): number {
  const d = defaultWebSeedTuning;
  const bytes = Math.min(t.maxRunBytes ?? d.maxRunBytes, (t.maxInFlight ?? d.maxInFlight) * 1024 * 1024);
  return Math.max(16, Math.min(t.maxRequests ?? d.maxRequests, Math.ceil(bytes / 16384)));
}

interface WebSeedMaps {
  readonly kinds: Map<string, WebSeedKind>;
  readonly links: Map<PeerLink, PeerSession<WebSeed>>;
  readonly byUrl: Map<string, WebSeed>;
  readonly dropped: Map<string, WebSeedErrorInfo>;
  readonly delivered: Map<string, number>;
  readonly lastErrors: Map<string, WebSeedErrorInfo>;
}

const NO_LINKS: ReadonlyMap<PeerLink, PeerSession<WebSeed>> = new Map();

export class WebSeedSet {
  private readonly urls: string[] = [];
  // Made on the first URL: most torrents have none, and six empty Maps are ~1.1 KB each torrent.
  private maps: WebSeedMaps | undefined;
  private get m(): WebSeedMaps {
    return (this.maps ??= {
      kinds: new Map(),
      links: new Map(),
      byUrl: new Map(),
      dropped: new Map(),
      delivered: new Map(),
      lastErrors: new Map(),
    });
  }

  constructor(
    private readonly h: WebSeedSetHost,
    /** undefined: the session has web seeds turned off. */
    private readonly fetcher: RangeFetcher | undefined,
    private readonly tuning: Partial<WebSeedTuning> | undefined,
  ) {}

  /** The torrent wants data from web seeds now (downloading or paused, with metadata). */
  private get wanted(): boolean {
    const { h } = this;
    return (h.state === 'downloading' || h.state === 'paused') && h.hasMetadata && !h.have.complete;
  }

  /** Adds a URL (http or https; others are ignored, as BEP 19 says). Returns whether it is new. */
  add(url: string, kind: WebSeedKind = 'url-list'): boolean {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
    const revived = this.m.dropped.delete(url);
    if (this.urls.includes(url)) {
      if (revived) this.sync();
      return revived;
    }
    if (this.urls.length >= MAX_WEB_SEEDS) return false;
    this.urls.push(url);
    this.m.kinds.set(url, kind);
    this.sync();
    return true;
  }

  get list(): readonly string[] {
    return this.urls;
  }

  /** Web seed sessions joined to the Downloader now. */
  get size(): number {
    return this.maps?.links.size ?? 0;
  }

  session(link: PeerLink): PeerSession<WebSeed> | undefined {
    return this.maps?.links.get(link);
  }

  sessions(): IterableIterator<PeerSession<WebSeed>> {
    return (this.maps?.links ?? NO_LINKS).values();
  }

  /** Opens or closes the links to match what the torrent wants now. */
  sync(): void {
    if (!this.fetcher || !this.wanted) {
      this.closeAll(DisconnectReason.TORRENT_STOPPED);
      return;
    }
    for (const url of this.urls)
      if (!this.m.byUrl.has(url) && !this.m.dropped.has(url)) this.open(url, this.fetcher);
  }

  closeAll(reason: DisconnectReason): void {
    if (this.maps) for (const link of [...this.maps.byUrl.values()]) link.close(reason);
  }

  /**
   * A piece failed its hash check. When one web seed sent every block of it, that seed serves
   * wrong data (peers cannot have touched it): drop it and say so.
   */
  pieceFailed(piece: number, senders: readonly string[]): void {
    if (senders.length === 1) this.drop(senders[0]!, `piece ${piece} failed its hash check`);
  }

  /** The smart-ban tally banned this host: if it is one of ours, drop it for sending corrupt data. */
  banned(host: string): void {
    this.drop(host, 'banned: shared in too many pieces that failed their hash check');
  }

  private drop(url: string, message: string): void {
    const link = this.m.byUrl.get(url);
    if (!link || this.m.dropped.has(url)) return;
    const info: WebSeedErrorInfo = { url, code: 'WEBSEED_CORRUPT', message, dropped: true };
    this.m.dropped.set(url, info);
    this.m.lastErrors.set(url, info);
    this.h.events.emit('web-seed-error', info);
    link.close(DisconnectReason.CORRUPT_DATA, message);
  }

  stats(): WebSeedStats[] {
    return this.urls.map((url) => {
      const link = this.m.byUrl.get(url);
      const err = this.m.dropped.get(url) ?? link?.lastError ?? this.m.lastErrors.get(url);
      const state: WebSeedStats['state'] = this.m.dropped.has(url)
        ? 'dropped'
        : !link
          ? 'idle'
          : link.peerChoking
            ? 'resting'
            : 'connected';
      const s: WebSeedStats = {
        url,
        kind: this.m.kinds.get(url) ?? 'url-list',
        state,
        downloaded: (this.m.delivered.get(url) ?? 0) + (link?.downloaded ?? 0),
        downloadRate: link?.downloadRate ?? 0,
      };
      if (err) s.error = { code: err.code, message: err.message };
      return s;
    });
  }

  private open(url: string, fetcher: RangeFetcher): void {
    const clock = this.h.clock;
    const link = new WebSeed(
      url,
      {
        clock,
        torrent: this.h.metainfo,
        fetcher,
        message: (l, m: Message) => {
          const s = this.m.links.get(l);
          if (s) this.h.transfers.downloader.onMessage(s, m);
        },
        error: (_l, info) => {
          this.m.lastErrors.set(url, info);
          if (info.dropped) this.m.dropped.set(url, info);
          this.h.events.emit('web-seed-error', info);
        },
        closed: (l) => this.closed(l),
      },
      this.tuning,
      this.m.kinds.get(url),
    );
    const session = new PeerSession(link, url, clock.now());
    session.contiguous = true;
    this.m.links.set(link, session);
    this.m.byUrl.set(url, link);
    const d = this.h.transfers.downloader;
    d.peerAdded(session);
    session.target = Math.max(session.target, initialPipeline(this.tuning ?? {}));
    this.h.choking.resumeTick();
    d.onMessage(session, { type: 'haveAll' });
  }

  private closed(link: WebSeed): void {
    const s = this.m.links.get(link);
    if (!s) return;
    this.m.links.delete(link);
    this.m.byUrl.delete(link.url);
    this.m.delivered.set(link.url, (this.m.delivered.get(link.url) ?? 0) + link.downloaded);
    this.h.transfers.downloader.peerRemoved(s);
  }
}
