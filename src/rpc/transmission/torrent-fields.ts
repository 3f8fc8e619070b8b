/**
 * torrent-get's fields: Transmission's names, JSON types and status numbers, computed from a
 * daemon torrent. Unknown field names are skipped (as Transmission does); a torrent that has no
 * metadata yet reports zeros and empty lists.
 */
import { peerObjects, trackerLive } from './peer-fields.js';
import { buildMagnet } from '../../metainfo/index.js';
import type { Torrent } from '../../torrent/torrent.js';
import { secondsIn, type Daemon, type DaemonTorrent } from '../../daemon/daemon.js';

/** Transmission's tr_torrent_activity. */
export const Status = {
  STOPPED: 0,
  CHECK_WAIT: 1,
  CHECK: 2,
  DOWNLOAD_WAIT: 3,
  DOWNLOAD: 4,
  SEED_WAIT: 5,
  SEED: 6,
} as const;

export function statusOf(e: DaemonTorrent): number {
  const t = e.torrent;
  if (!t || e.record.stopped) return Status.STOPPED;
  if (e.queued) return t.finished ? Status.SEED_WAIT : Status.DOWNLOAD_WAIT;
  switch (t.state) {
    case 'checking':
      return Status.CHECK;
    case 'metadata':
      return Status.DOWNLOAD;
    case 'downloading':
      return t.finished ? Status.SEED : Status.DOWNLOAD;
    case 'seeding':
      return Status.SEED;
    default:
      return Status.STOPPED;
  }
}

/** Our file priority scale (0 skip, 1 … 7) and Transmission's (-1 low, 0 normal, 1 high; wanted). */
export const PRIORITY_LOW = 1;
export const PRIORITY_NORMAL = 4;
export const PRIORITY_HIGH = 7;

export function filePriorities(e: DaemonTorrent): number[] {
  const n = e.torrent?.hasMetadata ? e.torrent.metainfo.files.length : 0;
  return e.record.filePriorities?.length === n
    ? e.record.filePriorities
    : new Array<number>(n).fill(PRIORITY_NORMAL);
}

export function trPriority(p: number): number {
  return p >= 6 ? 1 : p > 0 && p <= 2 ? -1 : 0;
}

/** Verified bytes of each file (a piece counts for the part of it inside the file). */
export function fileBytesCompleted(t: Torrent): number[] {
  const m = t.metainfo;
  return m.files.map((f) => {
    if (f.length === 0) return 0;
    const first = Math.floor(f.offset / m.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / m.pieceLength);
    let done = 0;
    for (let i = first; i <= last; i++) {
      if (!t.have.has(i)) continue;
      const start = Math.max(f.offset, i * m.pieceLength);
      const end = Math.min(f.offset + f.length, i * m.pieceLength + m.pieceSize(i));
      done += end - start;
    }
    return done;
  });
}

/** What several fields need, computed once per torrent per request. */
class View {
  private filesDone: number[] | undefined;
  private wantedSize: number | undefined;
  private left: number | undefined;
  private statsValue: ReturnType<Torrent['stats']> | undefined;
  private statsRead = false;
  constructor(
    readonly e: DaemonTorrent,
    readonly daemon: Daemon,
  ) {}
  get t(): Torrent | undefined {
    return this.e.torrent;
  }
  get meta(): boolean {
    return !!this.t?.hasMetadata;
  }
  get done(): number[] {
    this.filesDone ??= this.meta ? fileBytesCompleted(this.t!) : [];
    return this.filesDone;
  }
  get sizeWhenDone(): number {
    if (this.wantedSize === undefined) {
      const prios = filePriorities(this.e);
      this.wantedSize = this.meta
        ? this.t!.metainfo.files.reduce((s, f, i) => s + (prios[i]! > 0 && !f.pad ? f.length : 0), 0)
        : 0;
    }
    return this.wantedSize;
  }
  get leftUntilDone(): number {
    if (this.left === undefined) {
      const prios = filePriorities(this.e);
      this.left = this.meta
        ? this.t!.metainfo.files.reduce(
            (s, f, i) => s + (prios[i]! > 0 && !f.pad ? f.length - this.done[i]! : 0),
            0,
          )
        : 0;
    }
    return this.left;
  }
  /** Once per torrent per request: several fields read it, and 1,000 torrents add up. */
  get stats(): ReturnType<Torrent['stats']> | undefined {
    if (!this.statsRead) {
      this.statsValue = this.t?.stats();
      this.statsRead = true;
    }
    return this.statsValue;
  }
}

type Field = (v: View) => unknown;

const zero: Field = () => 0;
const r = (v: View) => v.e.record;

const fields: Record<string, Field> = {
  activityDate: (v) => (v.stats?.downloadRate || v.stats?.uploadRate ? v.daemon.now() : r(v).addedDate),
  addedDate: (v) => r(v).addedDate,
  bandwidthPriority: (v) => r(v).bandwidthPriority,
  comment: (v) => (v.meta ? (v.t!.metainfo.comment ?? '') : ''),
  corruptEver: (v) => v.stats?.wasted ?? 0,
  creator: (v) => (v.meta ? (v.t!.metainfo.createdBy ?? '') : ''),
  dateCreated: (v) => (v.meta ? (v.t!.metainfo.creationDate ?? 0) : 0),
  desiredAvailable: (v) => v.leftUntilDone,
  doneDate: (v) => r(v).doneDate,
  downloadDir: (v) => r(v).savePath,
  downloadedEver: (v) => v.stats?.downloaded ?? r(v).downloadedEver,
  downloadLimit: (v) => Math.round(r(v).downloadLimit / 1000),
  downloadLimited: (v) => r(v).downloadLimited,
  editDate: zero,
  error: (v) => (v.t?.error ? 3 : 0),
  errorString: (v) => v.t?.error?.message ?? '',
  eta: (v) => v.stats?.eta ?? -1,
  etaIdle: () => -1,
  'file-count': (v) => (v.meta ? v.t!.metainfo.files.length : 0),
  fileCount: (v) => (v.meta ? v.t!.metainfo.files.length : 0),
  files: (v) =>
    v.meta
      ? v.t!.metainfo.files.map((f, i) => ({
          bytesCompleted: v.done[i]!,
          length: f.length,
          name: fileName(v, i),
        }))
      : [],
  fileStats: (v) => {
    const prios = filePriorities(v.e);
    return v.meta
      ? v.t!.metainfo.files.map((_, i) => ({
          bytesCompleted: v.done[i]!,
          wanted: prios[i]! > 0,
          priority: trPriority(prios[i]!),
        }))
      : [];
  },
  group: () => '',
  hashString: (v) => r(v).infoHash,
  haveUnchecked: zero,
  haveValid: (v) => v.stats?.bytesDone ?? 0,
  honorsSessionLimits: (v) => r(v).honorsSessionLimits ?? true,
  id: (v) => r(v).id,
  // Transmission: stopped because a seed ratio or idle limit was reached.
  isFinished: (v) => !!r(v).seedLimitReached && r(v).stopped,
  isPrivate: (v) => (v.meta ? v.t!.metainfo.private : false),
  isStalled: () => false,
  labels: (v) => r(v).labels,
  leftUntilDone: (v) => v.leftUntilDone,
  magnetLink: (v) =>
    r(v).source.kind === 'magnet'
      ? (r(v).source as { uri: string }).uri
      : buildMagnet({
          infoHash: Buffer.from(r(v).infoHash, 'hex'),
          name: r(v).name,
          trackers: v.meta ? v.t!.metainfo.announce.flat() : [],
        }),
  manualAnnounceTime: () => -1,
  maxConnectedPeers: (v) => v.daemon.settings['peer-limit-per-torrent'],
  metadataPercentComplete: (v) => (v.meta ? 1 : 0),
  name: (v) => r(v).displayName ?? (v.meta ? v.t!.name : r(v).name),
  'peer-limit': (v) => v.daemon.settings['peer-limit-per-torrent'],
  peers: (v) => (v.t ? peerObjects(v.t) : []),
  peersConnected: (v) => v.stats?.peers.total ?? 0,
  peersFrom: (v) => ({
    fromCache: 0,
    fromDht: 0,
    fromIncoming: v.stats?.peers.incoming ?? 0,
    fromLpd: 0,
    fromLtep: 0,
    fromPex: 0,
    fromTracker: v.stats?.peers.outgoing ?? 0,
  }),
  peersGettingFromUs: (v) => v.stats?.peers.uploading ?? 0,
  peersSendingToUs: (v) => v.stats?.peers.downloading ?? 0,
  percentComplete: (v) => (v.meta ? (v.stats?.bytesDone ?? 0) / Math.max(1, v.t!.metainfo.length) : 0),
  percentDone: (v) => (v.sizeWhenDone ? (v.sizeWhenDone - v.leftUntilDone) / v.sizeWhenDone : v.meta ? 1 : 0),
  pieces: (v) => (v.meta ? v.t!.have.bytes.toString('base64') : ''),
  pieceCount: (v) => (v.meta ? v.t!.metainfo.pieceCount : 0),
  pieceSize: (v) => (v.meta ? v.t!.metainfo.pieceLength : 0),
  priorities: (v) => filePriorities(v.e).map(trPriority),
  'primary-mime-type': () => 'application/octet-stream',
  queuePosition: (v) => r(v).queuePosition,
  rateDownload: (v) => Math.round(v.stats?.downloadRate ?? 0),
  rateUpload: (v) => Math.round(v.stats?.uploadRate ?? 0),
  recheckProgress: (v) => (v.t?.state === 'checking' ? v.t.checkProgress : 0),
  secondsDownloading: (v) => secondsIn(v.e, 'downloading', v.daemon.now()),
  secondsSeeding: (v) => secondsIn(v.e, 'seeding', v.daemon.now()),
  seedIdleLimit: (v) => r(v).seedIdleLimit,
  seedIdleMode: (v) => r(v).seedIdleMode,
  seedRatioLimit: (v) => r(v).seedRatioLimit,
  seedRatioMode: (v) => r(v).seedRatioMode,
  sequentialDownload: (v) => r(v).sequential,
  sizeWhenDone: (v) => v.sizeWhenDone,
  startDate: (v) => (r(v).stopped ? 0 : Math.max(r(v).addedDate, v.daemon.startedAt)),
  status: (v) => statusOf(v.e),
  totalSize: (v) => (v.meta ? v.t!.metainfo.length : 0),
  torrentFile: (v) => v.daemon.store.torrentFile(r(v).infoHash),
  trackers: (v) => trackerList(v),
  trackerList: (v) => (v.meta ? v.t!.metainfo.announce.map((tier) => tier.join('\n')).join('\n\n') : ''),
  trackerStats: (v) =>
    trackerList(v).map((t) => ({
      ...t,
      host: hostOf(t.announce),
      announceState: 0,
      downloadCount: -1,
      hasAnnounced: false,
      hasScraped: false,
      isBackup: false,
      lastAnnouncePeerCount: 0,
      lastAnnounceResult: '',
      lastAnnounceStartTime: 0,
      lastAnnounceSucceeded: false,
      lastAnnounceTime: 0,
      lastAnnounceTimedOut: false,
      lastScrapeResult: '',
      lastScrapeStartTime: 0,
      lastScrapeSucceeded: false,
      lastScrapeTime: 0,
      lastScrapeTimedOut: false,
      leecherCount: -1,
      nextAnnounceTime: 0,
      nextScrapeTime: 0,
      scrapeState: 0,
      seederCount: -1,
      ...trackerLive(
        v.t?.trackerLink?.status,
        t.announce,
        v.daemon.client.options.clock.now(),
        v.daemon.now(),
      ),
    })),
  uploadedEver: (v) => v.stats?.uploaded ?? r(v).uploadedEver,
  uploadLimit: (v) => Math.round(r(v).uploadLimit / 1000),
  uploadLimited: (v) => r(v).uploadLimited,
  uploadRatio: (v) => {
    const s = v.stats;
    if (!s) return -1;
    const base = s.downloaded || v.sizeWhenDone - v.leftUntilDone;
    return base > 0 ? s.uploaded / base : -1;
  },
  wanted: (v) => filePriorities(v.e).map((p) => (p > 0 ? 1 : 0)),
  webseeds: (v) => (v.meta ? v.t!.metainfo.urlList : []),
  webseedsSendingToUs: (v) =>
    v.t?.webSeeds.filter((w) => w.state === 'connected' && w.downloadRate > 0).length ?? 0,
};

export const torrentFieldNames = Object.keys(fields);

/** The file's path as it is now (renames included), top folder first as Transmission shows it. */
function fileName(v: View, i: number): string {
  return v.t!.filePath(i).join('/');
}

function trackerList(
  v: View,
): { announce: string; id: number; scrape: string; tier: number; sitename: string }[] {
  if (!v.meta) return [];
  let id = 0;
  return v.t!.metainfo.announce.flatMap((tier, t) =>
    tier.map((announce) => ({
      announce,
      id: id++,
      scrape: announce.includes('/announce') ? announce.replace(/\/announce([^/]*)$/, '/scrape$1') : '',
      tier: t,
      sitename: siteName(announce),
    })),
  );
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}

function siteName(url: string): string {
  try {
    const parts = new URL(url).hostname.split('.');
    return parts.length >= 2 ? parts[parts.length - 2]! : parts[0]!;
  } catch {
    return '';
  }
}

/** The requested fields of one torrent, in the object format. */
export function torrentObject(
  daemon: Daemon,
  e: DaemonTorrent,
  names: readonly string[],
): Record<string, unknown> {
  const v = new View(e, daemon);
  const out: Record<string, unknown> = {};
  for (const n of names) {
    const f = fields[n];
    if (f) out[n] = f(v);
  }
  return out;
}
