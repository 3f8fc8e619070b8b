/** A torrent's remembered record: a new one for an add, and what the engine reads from it. */
import { resolve } from 'node:path';
import type { TorrentRateLimits } from '../torrent/rate-limits.js';
import type { AddRequest } from './daemon-types.js';
import type { DaemonSettings, TorrentRecord } from './store.js';

/** What a new record is made of. */
export interface NewRecord {
  id: number;
  infoHash: string;
  name: string;
  /** The magnet link it was added by (else a .torrent, saved under the config directory). */
  magnet: string | undefined;
  req: AddRequest;
  settings: DaemonSettings;
  queuePosition: number;
  /** Unix seconds. */
  now: number;
}

/** The record of a torrent being added, with the session's defaults (download-dir, incomplete-dir, start-added-torrents). */
export function newRecord(o: NewRecord): TorrentRecord {
  return {
    id: o.id,
    infoHash: o.infoHash,
    name: o.name,
    source: o.magnet ? { kind: 'magnet', uri: o.magnet } : { kind: 'file' },
    savePath: resolve(o.req.downloadDir ?? o.settings['download-dir']),
    ...(o.settings['incomplete-dir-enabled'] &&
    resolve(o.settings['incomplete-dir']) !== resolve(o.req.downloadDir ?? o.settings['download-dir'])
      ? { incompleteDir: resolve(o.settings['incomplete-dir']) }
      : {}),
    stopped: o.req.paused ?? !o.settings['start-added-torrents'],
    addedDate: o.now,
    doneDate: 0,
    labels: o.req.labels ?? [],
    sequential: false,
    downloadLimit: 0,
    downloadLimited: false,
    uploadLimit: 0,
    uploadLimited: false,
    bandwidthPriority: 0,
    queuePosition: o.queuePosition,
    seedRatioMode: 0,
    seedRatioLimit: 2,
    seedIdleMode: 0,
    seedIdleLimit: 30,
    uploadedEver: 0,
    downloadedEver: 0,
  };
}

/** A record's Transmission-style limits as the engine's per-torrent limits. */
export function rateLimitsOf(r: TorrentRecord): TorrentRateLimits {
  return {
    download: r.downloadLimited ? r.downloadLimit : 0,
    upload: r.uploadLimited ? r.uploadLimit : 0,
    priority: r.bandwidthPriority < 0 ? 'low' : r.bandwidthPriority > 0 ? 'high' : 'normal',
    honorsSessionLimits: r.honorsSessionLimits ?? true,
  };
}

/** Where a torrent's data is now: the incomplete directory until it is done, then its save path. */
export function dataDir(r: TorrentRecord): string {
  return r.incompleteDir ?? r.savePath;
}
