/**
 * The daemon's persistent session: one JSON file (session.json) in the config directory with
 * every torrent the daemon acknowledged and the session settings, plus a copy of each torrent's
 * .torrent under torrents/. Every write goes to a temporary file that is fsynced and renamed over
 * the old one, so a kill -9 at any moment leaves either the old or the new file, never a torn one.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NbtError } from '../util/errors.js';
import { writeFileAtomic } from '../storage/atomic.js';

/** Where a torrent came from: its saved .torrent (by info hash) or a magnet link. */
export type TorrentSource = { kind: 'file' } | { kind: 'magnet'; uri: string };

/** Per-torrent options and history, as the daemon remembers them. */
export interface TorrentRecord {
  /** Transmission's torrent id: small, stable for the torrent's life, never reused. */
  id: number;
  infoHash: string;
  name: string;
  source: TorrentSource;
  savePath: string;
  /** Stopped by the user (Transmission's "paused"). */
  stopped: boolean;
  /** Unix seconds; 0 = never. */
  addedDate: number;
  doneDate: number;
  labels: string[];
  sequential: boolean;
  /** Where the data lives until it is complete (incomplete-dir-enabled when added); absent: savePath. */
  incompleteDir?: string;
  /** Per-file priority in our scale (0 skip, 1 normal … 7 first); absent = all normal. */
  filePriorities?: number[];
  /** Bytes/s, applied when the matching `…Limited` is true (Torrent.setRateLimits). */
  downloadLimit: number;
  downloadLimited: boolean;
  uploadLimit: number;
  uploadLimited: boolean;
  /** -1 low, 0 normal, 1 high (Transmission's TR_PRI_*). */
  bandwidthPriority: number;
  /** false: the session's speed limits do not apply to this torrent (absent = true). */
  honorsSessionLimits?: boolean;
  /** Position in the queue (0 first). */
  queuePosition: number;
  /** Transmission's modes: 0 global, 1 this torrent's limit, 2 unlimited. */
  seedRatioMode: number;
  seedRatioLimit: number;
  seedIdleMode: number;
  seedIdleLimit: number;
  /** Stopped because its seed ratio or idle limit was reached (Transmission's isFinished). */
  seedLimitReached?: boolean;
  /** Totals of earlier sessions, also kept in the resume file. */
  uploadedEver: number;
  downloadedEver: number;
  /** qBittorrent's category ('' or absent: none); its tags are the labels. */
  category?: string;
  /** A name given by the user (qBittorrent's torrents/rename), shown instead of the metainfo's. */
  displayName?: string;
  /** qBittorrent's seeding time limit in minutes (-2 global, -1 none): remembered, not enforced. */
  seedingTimeLimit?: number;
}

/** A qBittorrent category: a name and its save path ('' = the default one). */
export interface CategoryRecord {
  savePath: string;
}

/** The daemon's session settings (Transmission names where Transmission has the setting). */
export interface DaemonSettings {
  'download-dir': string;
  'incomplete-dir': string;
  'incomplete-dir-enabled': boolean;
  'speed-limit-down': number;
  'speed-limit-down-enabled': boolean;
  'speed-limit-up': number;
  'speed-limit-up-enabled': boolean;
  'alt-speed-down': number;
  'alt-speed-up': number;
  'alt-speed-enabled': boolean;
  'alt-speed-time-enabled': boolean;
  'alt-speed-time-begin': number;
  'alt-speed-time-end': number;
  'alt-speed-time-day': number;
  'watch-dir': string;
  'watch-dir-enabled': boolean;
  'download-queue-size': number;
  'download-queue-enabled': boolean;
  'seed-queue-size': number;
  'seed-queue-enabled': boolean;
  seedRatioLimit: number;
  seedRatioLimited: boolean;
  'idle-seeding-limit': number;
  'idle-seeding-limit-enabled': boolean;
  'peer-limit-global': number;
  'peer-limit-per-torrent': number;
  'start-added-torrents': boolean;
  'rename-partial-files': boolean;
  encryption: 'required' | 'preferred' | 'tolerated';
  'queue-stalled-enabled': boolean;
  'queue-stalled-minutes': number;
  'blocklist-enabled': boolean;
  'blocklist-url': string;
}

export interface SessionFile {
  version: 1;
  nextId: number;
  settings: Partial<DaemonSettings>;
  torrents: TorrentRecord[];
  /** qBittorrent's categories by name, and tags that exist without a torrent carrying them. */
  categories?: Record<string, CategoryRecord>;
  tags?: string[];
  /** Engine settings changed at runtime (src/daemon/engine-settings.ts), by name. */
  engine?: Record<string, unknown>;
}

const EMPTY: SessionFile = { version: 1, nextId: 1, settings: {}, torrents: [] };

/** The session file and the saved .torrent files; writes are serialised and coalesced. */
export class SessionStore {
  readonly dir: string;
  readonly torrentsDir: string;
  readonly resumeDir: string;
  private data: SessionFile = structuredClone(EMPTY);
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(configDir: string) {
    this.dir = configDir;
    this.torrentsDir = join(configDir, 'torrents');
    this.resumeDir = join(configDir, 'resume');
  }

  /** Creates the directories and reads session.json (a missing file is an empty session). */
  async open(): Promise<SessionFile> {
    await mkdir(this.torrentsDir, { recursive: true });
    await mkdir(this.resumeDir, { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(join(this.dir, 'session.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      try {
        this.data = validSession(JSON.parse(text));
      } catch (e) {
        throw new NbtError(
          'DAEMON_SESSION_CORRUPT',
          `${join(this.dir, 'session.json')}: ${(e as Error).message}`,
        );
      }
    }
    return this.data;
  }

  get session(): SessionFile {
    return this.data;
  }

  torrentFile(infoHash: string): string {
    return join(this.torrentsDir, `${infoHash}.torrent`);
  }

  /** Saves a .torrent (before its record, so a record never points at a missing file). */
  async saveTorrentFile(infoHash: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(join(this.torrentsDir, `${infoHash}.torrent`), bytes);
  }

  async removeTorrentFile(infoHash: string): Promise<void> {
    await rm(this.torrentFile(infoHash), { force: true });
  }

  allocateId(): number {
    return this.data.nextId++;
  }

  /**
   * Writes session.json with the current data. Concurrent calls share writes: a call made while
   * a write runs waits for one more write that includes its change. Resolves once on disk.
   */
  flush(): Promise<void> {
    this.dirty = true;
    const next = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      await writeFileAtomic(join(this.dir, 'session.json'), Buffer.from(JSON.stringify(this.data, null, 1)));
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}

function validSession(v: unknown): SessionFile {
  if (!v || typeof v !== 'object') throw new Error('not an object');
  const o = v as Partial<SessionFile>;
  if (o.version !== 1) throw new Error(`unknown version ${String(o.version)}`);
  if (!Array.isArray(o.torrents)) throw new Error('torrents is not a list');
  const torrents = o.torrents.filter(
    (t): t is TorrentRecord =>
      !!t &&
      typeof t === 'object' &&
      typeof t.id === 'number' &&
      typeof t.infoHash === 'string' &&
      /^[0-9a-f]{40}$/.test(t.infoHash),
  );
  const maxId = torrents.reduce((m, t) => Math.max(m, t.id), 0);
  return {
    version: 1,
    nextId: Math.max(typeof o.nextId === 'number' ? o.nextId : 1, maxId + 1),
    settings: o.settings && typeof o.settings === 'object' ? o.settings : {},
    torrents,
    categories: validCategories(o.categories),
    tags: Array.isArray(o.tags) ? o.tags.filter((t): t is string => typeof t === 'string') : [],
    ...(o.engine && typeof o.engine === 'object' && !Array.isArray(o.engine)
      ? { engine: o.engine as Record<string, unknown> }
      : {}),
  };
}

function validCategories(v: unknown): Record<string, CategoryRecord> {
  const out: Record<string, CategoryRecord> = {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [name, c] of Object.entries(v as Record<string, unknown>)) {
    const savePath = c && typeof c === 'object' ? (c as { savePath?: unknown }).savePath : undefined;
    out[name] = { savePath: typeof savePath === 'string' ? savePath : '' };
  }
  return out;
}
