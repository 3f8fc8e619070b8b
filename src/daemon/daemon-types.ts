/** What the daemon is opened with, what it keeps per torrent, and what an add asks for. */
import type { ClientOptions } from '../client/index.js';
import type { Torrent } from '../torrent/torrent.js';
import type { Logger } from './log.js';
import type { TorrentRecord } from './store.js';

export interface DaemonOptions {
  configDir: string;
  /** Default save directory (the session's download-dir, unless the session file says otherwise). */
  downloadDir?: string;
  /** Peer listen port, or a range tried in order (0 = any). */
  port?: number | [number, number];
  /** Client options for tests (clock, network, limits, trackers/dht off …). */
  client?: ClientOptions;
  /** Wall-clock Unix seconds (added/done dates); default Date.now()/1000. */
  now?: () => number;
  log?: Logger;
}

/** What a remote tool sees: the remembered record and the running torrent (absent while re-adding). */
export interface DaemonTorrent {
  record: TorrentRecord;
  torrent: Torrent | undefined;
  /** Waiting in the download or seed queue (kept paused by the policy). */
  queued?: boolean;
  /** Started with start-now: skips the queues until stopped. */
  forceStart?: boolean;
  /** Its data is being moved out of the incomplete directory. */
  moving?: boolean;
  /** Upload total and the clock time (ms) it last changed: the idle seeding limit's measure. */
  lastUpload?: { bytes: number; at: number };
  /** Download total and the clock time (ms) it last grew while running: the stall measure. */
  lastProgress?: { bytes: number; at: number };
  /** Seconds spent downloading / seeding in this run, and since when (Unix s) in the current one. */
  activeSeconds?: { downloading: number; seeding: number; state?: 'downloading' | 'seeding'; since: number };
}

export interface AddRequest {
  /** .torrent bytes. */
  metainfo?: Uint8Array;
  /** A .torrent path, magnet link or http(s) URL. */
  filename?: string;
  downloadDir?: string;
  paused?: boolean;
  labels?: string[];
  /** Trust the data on disk without a hash check (qBittorrent's skip_checking). */
  skipCheck?: boolean;
}

export interface AddResult {
  entry: DaemonTorrent;
  duplicate: boolean;
}
