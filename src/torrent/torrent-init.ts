/** What a Torrent is built from: the session hooks it needs and its start-up settings. */
import type { Metainfo } from '../metainfo/types.js';
import type { FileStat, Storage } from '../storage/storage.js';
import type { HashPool } from '../hash/pool.js';
import type { CheckSlots } from '../storage/check-slots.js';
import type { Clock } from '../util/clock.js';
import type { Bitfield } from '../util/bitfield.js';
import type { DownloaderTuning } from './downloader.js';
import type { ChokeTimings } from './choke-link.js';
import type { TorrentRateLimits } from './rate-limits.js';
import type { RangeFetcher, WebSeedTuning } from './web-seed.js';
import type { Torrent } from './torrent.js';
import type { TorrentEventRecord } from './types.js';

/** What a torrent needs from the session that owns it. */
export interface TorrentHost {
  readonly clock: Clock;
  readonly hashPool: HashPool;
  /** The session's bound on torrents checking at once (active_checking); absent: no bound. */
  readonly checkSlots?: CheckSlots;
  /** The torrent has addresses to connect to (or a free slot): the client should dial. */
  connectSoon(): void;
  /** HTTP range requests for web seeds (absent: web seeds are not used). */
  readonly webSeedFetcher?: RangeFetcher;
  readonly webSeedTuning?: Partial<WebSeedTuning>;
  /** Every event of every torrent, before its listeners (the Client's router, src/client/torrent-events.ts). */
  torrentEvent?(torrent: Torrent, e: TorrentEventRecord): void;
}

export interface TorrentInit {
  metainfo: Metainfo;
  savePath: string;
  storage: () => Storage;
  host: TorrentHost;
  paused?: boolean;
  skipCheck?: boolean;
  sequential?: boolean;
  /** BEP 16 super-seeding once the check finds the torrent complete (src/torrent/super-seed-link.ts). */
  superSeeding?: boolean;
  /** Files renamed earlier (resume data): index → path components under the save path. */
  renames?: ReadonlyMap<number, readonly string[]>;
  /** Per-torrent limits and bandwidth priority from the start. */
  rateLimits?: Partial<TorrentRateLimits>;
  filePriorities?: readonly number[];
  unchokeSlots?: number | 'auto';
  /** Choking round and optimistic unchoke intervals, idle-slot rules (the session's settings). */
  choke?: ChokeTimings;
  /** Pieces known good from resume data (skip their check). */
  trusted?: Bitfield;
  /** With `trusted`: the pieces that still need a check (their files changed). */
  recheck?: Bitfield;
  /** With `trusted`: the files' stats the resume decision was made on (the first check's). */
  fileStats?: (FileStat | undefined)[];
  /**
   * A magnet link: `metainfo` is a placeholder (src/torrent/metadata-exchange.ts) until
   * `installMetainfo()`; the torrent waits in the 'metadata' state.
   */
  awaitingMetadata?: boolean;
  /** Received blocks of unfinished pieces (resume data; their files are unchanged). */
  unfinished?: { piece: number; blocks: Bitfield }[];
  /** Totals from earlier sessions. */
  previous?: { downloaded: number; uploaded: number };
  tuning?: Partial<DownloaderTuning>;
  /** Read-cache budget in bytes (default 16 MiB). */
  readCacheBytes?: number;
  /** Web seeds besides the metainfo's `url-list` (a magnet's `ws=`). */
  webSeeds?: readonly string[];
}
