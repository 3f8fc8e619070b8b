/**
 * How `Client.addTorrent` makes a Torrent: the TorrentInit from the add options, the session's
 * settings and resume data (files under the save path unless a storage is given).
 */
import type { Metainfo } from '../metainfo/types.js';
import type { Storage } from '../storage/storage.js';
import { FileStorage } from '../storage/file-storage.js';
import type { OpenFileBudget } from '../storage/fd-pool.js';
import type { SettingsStore } from '../settings/index.js';
import { Torrent, type TorrentHost } from '../torrent/torrent.js';
import type { TorrentOptions } from '../torrent/types.js';
import type { ResolvedOptions } from './options.js';
import type { LoadedResume } from './resume-store.js';
import { announceMagnet, saveFetchedTorrent, selectOnlyFiles, type OpenedMagnet } from './magnet.js';
import type { TrackerService } from './tracker-service.js';
import { chokeSettingNames, chokeTimings, downloaderTuning } from './settings-map.js';
import type { ClientOptions } from './options.js';
import type { SessionRoute } from './session-route.js';
import type { Clock } from '../util/clock.js';
import { HttpRangeFetcher } from '../webseed/http-fetcher.js';
import { PACKAGE_VERSION } from '../util/version.js';

export interface AddTorrentOptions extends Partial<TorrentOptions> {
  /** Use this storage instead of files under savePath (tests: MemoryStorage). */
  storage?: (m: Metainfo) => Storage;
}

export interface TorrentFactoryHost {
  readonly options: ResolvedOptions;
  readonly settings: SettingsStore;
  readonly torrentHost: TorrentHost;
  /** The engine's own state folders: no torrent file may land there. */
  readonly reservedPaths: string[];
  /** The session's bound on open files (file_pool_size), shared by every torrent's storage. */
  readonly openFiles: OpenFileBudget;
}

/**
 * The session's HTTP client for web seeds (undefined with `webSeeds: false`): through the
 * session's route (proxy), every address it leads to checked by `allowAddress`, its bytes
 * through `downloadGate` (the same download limit as the peers').
 */
export function makeWebSeedFetcher(
  clock: Clock,
  ws: ClientOptions['webSeeds'],
  route: SessionRoute,
  allowAddress: (ip: string) => boolean,
  downloadGate: (bytes: number) => Promise<void> | void,
): HttpRangeFetcher | undefined {
  if (ws === false) return undefined;
  const agents = route.agents({ keepAlive: true, maxSockets: 8 });
  return new HttpRangeFetcher({
    clock,
    allowAddress,
    downloadGate,
    userAgent: `net-bittorrent/${PACKAGE_VERSION}`,
    ...(agents ? { agents } : {}),
    ...(ws?.maxRedirects !== undefined ? { maxRedirects: ws.maxRedirects } : {}),
    ...(ws?.stallTimeoutMs !== undefined ? { stallTimeoutMs: ws.stallTimeoutMs } : {}),
  });
}

/** A new Torrent (not started) for this metainfo, its add options and resume data. */
export function makeTorrent(
  host: TorrentFactoryHost,
  metainfo: Metainfo,
  savePath: string,
  o: AddTorrentOptions,
  magnet: OpenedMagnet | undefined,
  saved: LoadedResume | undefined,
): Torrent {
  const settings = host.settings;
  // A magnet's metainfo is replaced when its metadata arrives: storage uses the current one.
  const torrent: Torrent = new Torrent({
    metainfo,
    savePath,
    ...(magnet?.awaiting ? { awaitingMetadata: true } : {}),
    storage: o.storage
      ? () => o.storage!(torrent.metainfo)
      : () =>
          new FileStorage(torrent.storageLayout, torrent.savePath, {
            fsync: host.options.fsync,
            reserved: host.reservedPaths,
            openFiles: host.openFiles,
            writeMode: settings.get('disk_write_mode'),
          }),
    host: host.torrentHost,
    paused: o.paused ?? false,
    skipCheck: o.skipCheck ?? false,
    sequential: o.sequential ?? false,
    superSeeding: o.superSeeding ?? settings.get('super_seeding'),
    ...(o.rateLimits ? { rateLimits: o.rateLimits } : {}),
    ...(o.filePriorities ? { filePriorities: o.filePriorities } : {}),
    unchokeSlots: o.unchokeSlots ?? host.options.limits.unchokeSlots,
    choke: chokeTimings(settings),
    tuning: downloaderTuning(settings),
    readCacheBytes: settings.get('read_cache_size'),
    ...(magnet?.link.webSeeds.length ? { webSeeds: magnet.link.webSeeds } : {}),
    ...(saved
      ? {
          trusted: saved.trusted,
          recheck: saved.recheck,
          unfinished: saved.unfinished,
          fileStats: saved.fileStats,
        }
      : {}),
    ...(saved?.renames.size ? { renames: saved.renames } : {}),
    ...(saved ? { previous: { downloaded: saved.downloaded, uploaded: saved.uploaded } } : {}),
  });
  return torrent;
}

/**
 * A just-added torrent's first peers (resume data, the add options, the magnet link), a
 * magnet's file selection and first announce, and the piece layers a magnet fetches kept with
 * its saved .torrent (resume).
 */
export function feedNewTorrent(
  torrent: Torrent,
  o: AddTorrentOptions,
  magnet: OpenedMagnet | undefined,
  saved: LoadedResume | undefined,
  trackers: TrackerService | undefined,
  resumeDir: string | undefined,
  warn: (e: unknown) => void,
): void {
  if (saved?.peers.length) torrent.addPeers(saved.peers, { kind: 'resume' });
  if (o.peers?.length) torrent.addPeers(o.peers, { kind: 'user' });
  if (magnet?.link.selectOnly?.length) selectOnlyFiles(torrent, magnet.link.selectOnly);
  if (magnet?.link.peers.length) torrent.addPeers(magnet.link.peers, { kind: 'magnet' });
  if (magnet?.awaiting) announceMagnet(trackers, torrent, magnet.link.trackers);
  if (magnet?.awaiting && resumeDir)
    torrent.on(
      'piece-layers',
      () => void saveFetchedTorrent(resumeDir, torrent, torrent.metainfo.info).catch((e) => warn(e)),
    );
}

/**
 * Changed settings that reach running torrents at once: the unchoke slots (except on torrents
 * added with their own) and the choking timings.
 */
export function applyTorrentSettings(
  torrents: readonly Torrent[],
  changed: readonly string[],
  host: TorrentFactoryHost,
  ownSlots: WeakSet<Torrent>,
): void {
  if (changed.includes('unchoke_slots_limit') || changed.includes('choking_algorithm'))
    for (const t of torrents) if (!ownSlots.has(t)) t.unchokeSlots = host.options.limits.unchokeSlots;
  if (chokeSettingNames.some((n) => changed.includes(n))) {
    const timings = chokeTimings(host.settings);
    for (const t of torrents) t.setChokeTimings(timings);
  }
}
