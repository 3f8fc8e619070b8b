/** Public types of a Torrent: states, events, stats, options. */
import type { TorrentRateLimits } from './rate-limits.js';
import type { Peer } from '../peer/index.js';
import type { DisconnectInfo } from '../peer/disconnect.js';
import type { PeerSource } from '../peer/types.js';
import type { PeerAddress } from '../util/compact.js';
import type { Metainfo } from '../metainfo/types.js';
import type { AnnounceInfo, TrackerErrorInfo } from '../tracker/index.js';
import type { WebSeedErrorInfo } from './web-seed.js';
import type { WebSeedStats } from './web-seeds.js';
import type { EventRecord } from '../util/typed-emitter.js';

/**
 * metadata: a magnet link fetching its info dictionary (ut_metadata); checking: verifying existing data; downloading / seeding: transferring; paused: connections
 * stay, nothing is transferred; stopped: no connections; error: a disk error stopped it.
 */
export type TorrentState =
  'metadata' | 'checking' | 'downloading' | 'seeding' | 'paused' | 'stopped' | 'error';

/** A disk problem, with the file it concerns when known. */
export interface FileErrorInfo {
  /** errno code when there is one ('ENOSPC', 'EACCES', 'ENOENT', ...) or an NbtError code. */
  code: string;
  message: string;
  /**
   * What we were doing: 'write' | 'read' | 'check' | 'open', or 'upload' (the data changed on
   * disk while seeding: no error state, the pieces are checked again and fetched again).
   */
  operation: string;
  piece?: number;
}

export interface TorrentEvents {
  state: [state: TorrentState, previous: TorrentState];
  /** A magnet's metadata arrived and verified; `torrent.metainfo` is now the real one. */
  metadata: [metainfo: Metainfo];
  /** BEP 52: piece layers fetched from peers were proven and added to `metainfo.pieceLayers`. */
  'piece-layers': [];
  /** A peer finished its handshake and joined this torrent. */
  'peer-connect': [peer: Peer<unknown>];
  /** A peer that had joined left (with the reason). */
  'peer-disconnect': [peer: Peer<unknown>, info: DisconnectInfo];
  'piece-hash-pass': [index: number];
  /** `peers` are the addresses ("host:port") that sent blocks of the bad piece. */
  'piece-hash-fail': [index: number, peers: string[]];
  /** Progress of a data check: pieces checked so far and in all. */
  'check-progress': [checked: number, total: number];
  /**
   * The spot check of pieces trusted from resume data ended (it runs after the torrent started;
   * `complete` stays false until it passed). A failure starts a full check.
   */
  'spot-check': [passed: boolean];
  /** Every wanted piece is verified and written. */
  done: [];
  /** Every wanted piece is verified (with skipped files, before or instead of `done`). */
  finished: [];
  /** The torrent entered the error state. */
  error: [error: Error];
  'file-error': [info: FileErrorInfo];
  /** The data moved to another save path (`torrent.moveStorage`). */
  moved: [info: { from: string; to: string }];
  /** A file or folder was renamed (paths '/'-joined, relative to the save path). */
  renamed: [info: { from: string; to: string }];
  /** An address was banned for sending corrupt data. */
  banned: [host: string];
  'resume-saved': [];
  /** Peers were added to the candidate list (from any source). */
  peers: [addresses: PeerAddress[], source: PeerSource];
  /** A tracker answered an announce (peers count, seeders, leechers, interval). */
  'tracker-announce': [info: AnnounceInfo];
  /** A tracker answered with a `warning message`. */
  'tracker-warning': [info: { url: string; message: string }];
  /** An announce or scrape failed (code: TRACKER_FAILURE, TRACKER_TIMEOUT, …; message says why). */
  'tracker-error': [info: TrackerErrorInfo];
  /**
   * A web seed failed: it rests and tries again (`retryInMs`), or was dropped (`dropped`: it
   * served wrong data, lacks a file, ignores ranges, or failed too often in a row).
   */
  'web-seed-error': [info: WebSeedErrorInfo];
}

/**
 * One torrent event as the session sees it (name and arguments, narrowed by `event`): the
 * Client and its services observe every torrent through one shared hook, not listeners per
 * torrent (1,000 torrents: 20,000 closures fewer).
 */
export type TorrentEventRecord = EventRecord<TorrentEvents>;

export interface TorrentStats {
  state: TorrentState;
  /** 0..1 of the wanted bytes that are verified. */
  progress: number;
  pieces: { have: number; total: number };
  /** Verified bytes on disk. */
  bytesDone: number;
  length: number;
  /** Payload bytes, all time (including earlier sessions, from resume data) and this session. */
  downloaded: number;
  uploaded: number;
  sessionDownloaded: number;
  sessionUploaded: number;
  /** Bytes received that were thrown away (duplicates, failed pieces, unrequested). */
  wasted: number;
  hashFailures: number;
  /** Payload bytes/s. */
  downloadRate: number;
  uploadRate: number;
  /** Seconds until done at the current rate; undefined when unknown or not downloading. */
  eta: number | undefined;
  peers: {
    total: number;
    /** Peers we are downloading from (they unchoked us and we are interested). */
    downloading: number;
    /** Peers we are uploading to (we unchoked them and they are interested). */
    uploading: number;
    seeds: number;
    incoming: number;
    outgoing: number;
    encrypted: number;
    /** Addresses waiting to be connected. */
    candidates: number;
    halfOpen: number;
  };
  /** Each web seed (BEP 19) by URL; their rates are part of `downloadRate`. */
  webSeeds: WebSeedStats[];
}

export interface TorrentOptions {
  /** Directory the torrent's files are saved under. */
  savePath: string;
  /** Add in the paused state. */
  paused?: boolean;
  /** Trust the data on disk without checking (e.g. we just created the torrent from it). */
  skipCheck?: boolean;
  /** Pick pieces in order (streaming). */
  sequential?: boolean;
  /** BEP 16 super-seeding once the check finds it complete (default: the super_seeding setting). */
  superSeeding?: boolean;
  /** This torrent's own limits (bytes/s, 0 = unlimited) and bandwidth priority; see `Torrent.setRateLimits`. */
  rateLimits?: Partial<TorrentRateLimits>;
  /** One priority per file, 0 (skip) to 7 (highest); default 1 for every file. */
  filePriorities?: readonly number[];
  /** Upload slots, or 'auto' (rate-based); default: the client's unchokeSlots. */
  unchokeSlots?: number | 'auto';
  /** Peers to connect to once started. */
  peers?: PeerAddress[];
}
