/**
 * What qBittorrent 4.5 returns about a torrent, computed from a daemon torrent: torrents/info
 * objects (also sync/maindata's), properties, files, trackers and pieceStates, with its field
 * names, JSON types, sentinel values (-1, 8640000) and state strings.
 */
import { join } from 'node:path';
import { buildMagnet } from '../../metainfo/index.js';
import type { TorrentStats } from '../../torrent/types.js';
import { secondsIn, type Daemon, type DaemonTorrent } from '../../daemon/daemon.js';
import { fileBytesCompleted, filePriorities } from '../transmission/torrent-fields.js';

/** qBittorrent's "infinite" ETA (100 days). */
export const MAX_ETA = 8_640_000;
const MAX_RATIO = 9999;

/** Our file priority (0 skip, 1 … 7) as qBittorrent's (0 skip, 1 normal, 6 high, 7 maximal). */
export function qbtPriority(p: number): number {
  return p <= 0 ? 0 : p >= 7 ? 7 : p === 6 ? 6 : 1;
}

/** qBittorrent's file priority as ours: normal is our 4 (Transmission's normal too). */
export function ourPriority(q: number): number {
  return q === 0 ? 0 : q >= 7 ? 7 : q === 6 ? 6 : 4;
}

/** Numbers several endpoints need, computed once per torrent per request. */
export class TorrentFacts {
  readonly meta: boolean;
  readonly prios: number[];
  private doneValue: number[] | undefined;
  private sizeValue: number | undefined;
  private leftValue: number | undefined;
  private statsValue: TorrentStats | undefined;
  private statsRead = false;

  constructor(
    readonly daemon: Daemon,
    readonly e: DaemonTorrent,
  ) {
    this.meta = !!e.torrent?.hasMetadata;
    this.prios = filePriorities(e);
  }

  get hash(): string {
    return this.e.record.infoHash;
  }
  get stats(): TorrentStats | undefined {
    if (!this.statsRead) {
      this.statsValue = this.e.torrent?.stats();
      this.statsRead = true;
    }
    return this.statsValue;
  }
  get filesDone(): number[] {
    this.doneValue ??= this.meta ? fileBytesCompleted(this.e.torrent!) : [];
    return this.doneValue;
  }
  get name(): string {
    const r = this.e.record;
    return r.displayName ?? (this.meta ? this.e.torrent!.metainfo.name : r.name);
  }
  /** Bytes of the wanted files. */
  get size(): number {
    this.sizeValue ??= this.meta
      ? this.e.torrent!.metainfo.files.reduce(
          (s, f, i) => s + (this.prios[i]! > 0 && !f.pad ? f.length : 0),
          0,
        )
      : 0;
    return this.sizeValue;
  }
  /** Wanted bytes not verified yet. */
  get left(): number {
    this.leftValue ??= this.meta
      ? this.e.torrent!.metainfo.files.reduce(
          (s, f, i) => s + (this.prios[i]! > 0 && !f.pad ? f.length - this.filesDone[i]! : 0),
          0,
        )
      : 0;
    return this.leftValue;
  }
  get finished(): boolean {
    return this.meta && this.left === 0;
  }
  get downloaded(): number {
    return this.stats?.downloaded ?? this.e.record.downloadedEver;
  }
  get uploaded(): number {
    return this.stats?.uploaded ?? this.e.record.uploadedEver;
  }
  /** qBittorrent's share ratio: uploaded over downloaded (or over the data we have, if we seeded it). */
  get ratio(): number {
    const done = this.stats?.bytesDone ?? 0;
    const base = this.downloaded < done * 0.01 ? done : this.downloaded;
    if (base === 0) return this.uploaded === 0 ? 0 : MAX_RATIO;
    return Math.min(MAX_RATIO, this.uploaded / base);
  }
  get eta(): number {
    const eta = this.stats?.eta;
    return this.finished || eta === undefined || !Number.isFinite(eta)
      ? MAX_ETA
      : Math.min(MAX_ETA, Math.round(eta));
  }
  get contentPath(): string {
    if (!this.meta) return '';
    const t = this.e.torrent!;
    // The top folder (or the single file) as it is named now, after any rename.
    return join(this.e.record.savePath, t.metainfo.multiFile ? t.name : t.filePath(0).join('/'));
  }
  get trackerUrls(): string[] {
    return this.meta ? this.e.torrent!.metainfo.announce.flat() : [];
  }
  /** The tracker that answered last ('' if none has). */
  get workingTracker(): string {
    const list = this.e.torrent?.trackers ?? [];
    return list.find((t) => t.lastAnnounce !== undefined && !t.lastError)?.url ?? '';
  }
  /** The ratio limit as qBittorrent's: -2 the global one, -1 none. */
  get ratioLimit(): number {
    const r = this.e.record;
    return r.seedRatioMode === 0 ? -2 : r.seedRatioMode === 2 ? -1 : r.seedRatioLimit;
  }
  get maxRatio(): number {
    const r = this.e.record;
    const s = this.daemon.settings;
    if (r.seedRatioMode === 1) return r.seedRatioLimit;
    return r.seedRatioMode === 0 && s.seedRatioLimited ? s.seedRatioLimit : -1;
  }
  get seedingSeconds(): number {
    return secondsIn(this.e, 'seeding', this.daemon.now());
  }
  get activeSeconds(): number {
    return secondsIn(this.e, 'downloading', this.daemon.now()) + this.seedingSeconds;
  }
}

/** qBittorrent 4.5's state string. */
export function stateOf(f: TorrentFacts): string {
  const { e } = f;
  const t = e.torrent;
  const done = f.finished;
  if (!t) return 'checkingResumeData';
  if (t.state === 'error') {
    const code = (t.error as { code?: string } | undefined)?.code;
    return code === 'ENOENT' ? 'missingFiles' : 'error';
  }
  if (e.record.stopped) return done ? 'pausedUP' : 'pausedDL';
  if (e.queued) return done ? 'queuedUP' : 'queuedDL';
  const forced = !!e.forceStart;
  switch (t.state) {
    case 'checking':
      return e.record.doneDate > 0 ? 'checkingUP' : 'checkingDL';
    case 'stopped':
      return 'checkingResumeData';
    case 'metadata':
      return forced ? 'forcedMetaDL' : 'metaDL';
    case 'paused':
      return done ? 'pausedUP' : 'pausedDL';
    default: {
      const s = f.stats!;
      if (done) return forced ? 'forcedUP' : s.uploadRate > 0 ? 'uploading' : 'stalledUP';
      return forced ? 'forcedDL' : s.downloadRate > 0 ? 'downloading' : 'stalledDL';
    }
  }
}

/**
 * qBittorrent's queue positions (torrents/info `priority`): 1, 2, … over the torrents still
 * downloading, in queue order; complete ones have none (0).
 */
export function queueRanks(daemon: Daemon): Map<string, number> {
  const out = new Map<string, number>();
  let n = 0;
  for (const e of daemon.list()) if (!new TorrentFacts(daemon, e).finished) out.set(e.record.infoHash, ++n);
  return out;
}

/**
 * One torrents/info object (without `hash` when `withHash` is false: sync/maindata keys by it).
 * `ranks` (queueRanks) is computed once per request by callers that list many torrents.
 */
export function torrentInfo(
  f: TorrentFacts,
  withHash = true,
  ranks: Map<string, number> = queueRanks(f.daemon),
): Record<string, unknown> {
  const r = f.e.record;
  const s = f.stats;
  const size = f.size;
  const left = f.left;
  const trackers = f.e.torrent?.trackers ?? [];
  const sum = (k: 'seeders' | 'leechers'): number => trackers.reduce((n, t) => n + (t[k] ?? 0), 0);
  const seeds = s?.peers.seeds ?? 0;
  const limit = (limited: boolean, v: number): number => (limited && v > 0 ? v : 0);
  const info: Record<string, unknown> = {
    added_on: r.addedDate,
    amount_left: left,
    auto_tmm: false,
    availability: -1,
    category: r.category ?? '',
    completed: size - left,
    completion_on: r.doneDate,
    content_path: f.contentPath,
    dl_limit: limit(r.downloadLimited, r.downloadLimit),
    dlspeed: Math.round(s?.downloadRate ?? 0),
    download_path: '',
    downloaded: f.downloaded,
    downloaded_session: s?.sessionDownloaded ?? 0,
    eta: f.eta,
    f_l_piece_prio: false,
    force_start: !!f.e.forceStart,
    hash: r.infoHash,
    infohash_v1: r.infoHash,
    infohash_v2: '',
    last_activity: s && (s.downloadRate > 0 || s.uploadRate > 0) ? f.daemon.now() : r.addedDate,
    magnet_uri: magnetOf(f),
    max_ratio: f.maxRatio,
    max_seeding_time: -1,
    name: f.name,
    num_complete: sum('seeders'),
    num_incomplete: sum('leechers'),
    num_leechs: (s?.peers.total ?? 0) - seeds,
    num_seeds: seeds,
    priority: ranks.get(r.infoHash) ?? 0,
    progress: size > 0 ? (size - left) / size : f.meta ? 1 : 0,
    ratio: f.ratio,
    ratio_limit: f.ratioLimit,
    save_path: r.savePath,
    seeding_time: f.seedingSeconds,
    seeding_time_limit: r.seedingTimeLimit ?? -2,
    seen_complete: f.finished ? r.doneDate : 0,
    seq_dl: r.sequential,
    size,
    state: stateOf(f),
    super_seeding: f.e.torrent?.superSeeding ?? false,
    tags: r.labels.join(', '),
    time_active: f.activeSeconds,
    total_size: f.meta ? f.e.torrent!.metainfo.length : -1,
    tracker: f.workingTracker,
    trackers_count: f.trackerUrls.length,
    up_limit: limit(r.uploadLimited, r.uploadLimit),
    uploaded: f.uploaded,
    uploaded_session: s?.sessionUploaded ?? 0,
    upspeed: Math.round(s?.uploadRate ?? 0),
  };
  if (!withHash) delete info['hash'];
  return info;
}

function magnetOf(f: TorrentFacts): string {
  const r = f.e.record;
  if (r.source.kind === 'magnet') return r.source.uri;
  return buildMagnet({ infoHash: Buffer.from(r.infoHash, 'hex'), name: f.name, trackers: f.trackerUrls });
}

/** torrents/properties. */
export function torrentProperties(f: TorrentFacts): Record<string, unknown> {
  const r = f.e.record;
  const s = f.stats;
  const m = f.meta ? f.e.torrent!.metainfo : undefined;
  const seconds = Math.max(1, f.activeSeconds);
  const limit = (limited: boolean, v: number): number => (limited && v > 0 ? v : -1);
  const next = (f.e.torrent?.trackers ?? [])
    .map((t) => t.nextAnnounce)
    .filter((n): n is number => n !== undefined);
  const clockNow = f.daemon.client.options.clock.now();
  const peersConnected = s?.peers.total ?? 0;
  const seeds = s?.peers.seeds ?? 0;
  return {
    addition_date: r.addedDate,
    comment: m?.comment ?? '',
    completion_date: r.doneDate > 0 ? r.doneDate : -1,
    created_by: m?.createdBy ?? '',
    creation_date: m ? (m.creationDate ?? 0) : -1,
    dl_limit: limit(r.downloadLimited, r.downloadLimit),
    dl_speed: Math.round(s?.downloadRate ?? 0),
    dl_speed_avg: Math.round(f.downloaded / seconds),
    download_path: '',
    eta: f.eta,
    hash: r.infoHash,
    infohash_v1: r.infoHash,
    infohash_v2: '',
    is_private: m?.private ?? false,
    last_seen: f.finished ? r.doneDate : -1,
    name: f.name,
    nb_connections: peersConnected,
    nb_connections_limit: f.daemon.settings['peer-limit-per-torrent'],
    peers: peersConnected - seeds,
    peers_total: peersConnected - seeds + (s?.peers.candidates ?? 0),
    piece_size: m ? m.pieceLength : -1,
    pieces_have: s?.pieces.have ?? 0,
    pieces_num: m ? m.pieceCount : -1,
    reannounce: next.length ? Math.max(0, Math.round((Math.min(...next) - clockNow) / 1000)) : 0,
    save_path: r.savePath,
    seeding_time: f.seedingSeconds,
    seeds,
    seeds_total: seeds,
    share_ratio: f.ratio,
    time_elapsed: f.activeSeconds,
    total_downloaded: f.downloaded,
    total_downloaded_session: s?.sessionDownloaded ?? 0,
    total_size: m ? m.length : -1,
    total_uploaded: f.uploaded,
    total_uploaded_session: s?.sessionUploaded ?? 0,
    total_wasted: s?.wasted ?? 0,
    up_limit: limit(r.uploadLimited, r.uploadLimit),
    up_speed: Math.round(s?.uploadRate ?? 0),
    up_speed_avg: Math.round(f.uploaded / seconds),
  };
}

/** torrents/files (`indexes`: only those). */
export function torrentFiles(f: TorrentFacts, indexes?: Set<number>): Record<string, unknown>[] {
  if (!f.meta) return [];
  const m = f.e.torrent!.metainfo;
  const seed = f.finished;
  const out: Record<string, unknown>[] = [];
  m.files.forEach((file, i) => {
    if (file.pad || (indexes && !indexes.has(i))) return;
    const first = Math.floor(file.offset / m.pieceLength);
    const last = file.length > 0 ? Math.floor((file.offset + file.length - 1) / m.pieceLength) : first;
    const o: Record<string, unknown> = {
      availability: -1,
      index: i,
      name: f.e.torrent!.filePath(i).join('/'),
      piece_range: [first, last],
      priority: qbtPriority(f.prios[i]!),
      progress: file.length > 0 ? f.filesDone[i]! / file.length : 1,
      size: file.length,
    };
    // qBittorrent puts is_seed on the first file only.
    if (out.length === 0) o['is_seed'] = seed;
    out.push(o);
  });
  return out;
}

const PSEUDO_TRACKERS = ['** [DHT] **', '** [PeX] **', '** [LSD] **'];

/** qBittorrent's tracker status: 0 disabled, 1 not contacted, 2 working, 3 updating, 4 not working. */
export function torrentTrackers(f: TorrentFacts): Record<string, unknown>[] {
  const c = f.daemon.client.settings();
  const priv = f.meta && f.e.torrent!.metainfo.private;
  const enabled = [c.dht_enabled && !priv, c.pex_enabled && !priv, false];
  const out: Record<string, unknown>[] = PSEUDO_TRACKERS.map((url, i) => ({
    msg: priv && i < 2 ? 'This torrent is private' : '',
    num_downloaded: 0,
    num_leeches: 0,
    num_peers: 0,
    num_seeds: 0,
    status: enabled[i] ? 2 : 0,
    tier: -1,
    url,
  }));
  const live = new Map((f.e.torrent?.trackers ?? []).map((t) => [t.url, t]));
  const stopped = f.e.record.stopped;
  const tiers = f.meta ? f.e.torrent!.metainfo.announce : [];
  tiers.forEach((tier, ti) => {
    for (const url of tier) {
      const t = live.get(url);
      const status = !t
        ? 1
        : t.lastError && t.failures > 0
          ? 4
          : t.lastAnnounce !== undefined
            ? 2
            : stopped
              ? 1
              : 3;
      out.push({
        msg: t?.lastError ?? '',
        num_downloaded: t?.downloaded ?? -1,
        num_leeches: t?.leechers ?? -1,
        num_peers: t?.lastAnnounce !== undefined ? (t.seeders ?? 0) + (t.leechers ?? 0) : -1,
        num_seeds: t?.seeders ?? -1,
        status,
        tier: ti,
        url,
      });
    }
  });
  return out;
}

/** torrents/pieceStates: 0 not downloaded, 1 downloading, 2 downloaded. */
export function pieceStates(f: TorrentFacts): number[] {
  if (!f.meta) return [];
  const t = f.e.torrent!;
  return Array.from({ length: t.metainfo.pieceCount }, (_, i) => (t.have.has(i) ? 2 : 0));
}
