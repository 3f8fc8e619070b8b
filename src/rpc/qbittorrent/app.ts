/** app/*, transfer/* and sync/maindata. */
import { statfs } from 'node:fs/promises';
import { PACKAGE_VERSION } from '../../util/version.js';
import { ApiError } from './errors.js';
import { categoriesView, tagList } from './categories.js';
import type { DaemonSettings } from '../../daemon/store.js';
import { field, integer, type Call, type Endpoint } from './call.js';
import { preferences, setPreferences } from './preferences.js';
import { maindata, type SyncState } from './sync.js';
import { queueRanks, TorrentFacts, torrentInfo } from './torrent-info.js';

/** The qBittorrent release whose Web API (2.8.19) we follow: tools pick their requests by it. */
export const QBT_VERSION = 'v4.5.2';
export const QBT_WEBAPI_VERSION = '2.8.19';

function totals(c: Call): {
  down: number;
  up: number;
  sessionDown: number;
  sessionUp: number;
  all: [number, number];
} {
  let down = 0;
  let up = 0;
  let sessionDown = 0;
  let sessionUp = 0;
  let allDown = 0;
  let allUp = 0;
  for (const e of c.daemon.list()) {
    const s = e.torrent?.stats();
    down += s?.downloadRate ?? 0;
    up += s?.uploadRate ?? 0;
    sessionDown += s?.sessionDownloaded ?? 0;
    sessionUp += s?.sessionUploaded ?? 0;
    allDown += s?.downloaded ?? e.record.downloadedEver;
    allUp += s?.uploaded ?? e.record.uploadedEver;
  }
  return { down: Math.round(down), up: Math.round(up), sessionDown, sessionUp, all: [allDown, allUp] };
}

function rateLimit(enabled: boolean, kB: number): number {
  return enabled ? kB * 1000 : 0;
}

function limitsNow(c: Call): { down: number; up: number } {
  const s = c.daemon.settings;
  if (s['alt-speed-enabled']) return { down: s['alt-speed-down'] * 1000, up: s['alt-speed-up'] * 1000 };
  return {
    down: rateLimit(s['speed-limit-down-enabled'], s['speed-limit-down']),
    up: rateLimit(s['speed-limit-up-enabled'], s['speed-limit-up']),
  };
}

function transferInfo(c: Call): Record<string, unknown> {
  const t = totals(c);
  const l = limitsNow(c);
  return {
    connection_status: c.daemon.client.port > 0 ? 'connected' : 'disconnected',
    dht_nodes: 0,
    dl_info_data: t.sessionDown,
    dl_info_speed: t.down,
    dl_rate_limit: l.down,
    up_info_data: t.sessionUp,
    up_info_speed: t.up,
    up_rate_limit: l.up,
  };
}

function serverState(c: Call): Record<string, unknown> {
  const t = totals(c);
  const [allDown, allUp] = t.all;
  let peers = 0;
  let wasted = 0;
  for (const e of c.daemon.list()) {
    const s = e.torrent?.stats();
    peers += s?.peers.total ?? 0;
    wasted += s?.wasted ?? 0;
  }
  return {
    ...transferInfo(c),
    alltime_dl: allDown,
    alltime_ul: allUp,
    average_time_queue: 0,
    free_space_on_disk: 0,
    global_ratio: allDown > 0 ? (allUp / allDown).toFixed(2) : '-',
    queued_io_jobs: 0,
    queueing: c.daemon.settings['download-queue-enabled'],
    read_cache_hits: '0',
    read_cache_overload: '0',
    refresh_interval: 1500,
    total_buffers_size: 0,
    total_peer_connections: peers,
    total_queued_size: 0,
    total_wasted_session: wasted,
    use_alt_speed_limits: c.daemon.settings['alt-speed-enabled'],
    write_cache_overload: '0',
  };
}

function syncState(c: Call): SyncState {
  const torrents = new Map<string, Record<string, unknown>>();
  const trackers: Record<string, string[]> = {};
  const ranks = queueRanks(c.daemon);
  for (const e of c.daemon.list()) {
    const f = new TorrentFacts(c.daemon, e);
    torrents.set(f.hash, torrentInfo(f, false, ranks));
    for (const url of f.trackerUrls) (trackers[url] ??= []).push(f.hash);
  }
  return {
    torrents,
    categories: categoriesView(c.daemon),
    tags: tagList(c.daemon),
    trackers,
    server: serverState(c),
  };
}

async function freeSpace(path: string): Promise<number> {
  try {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  } catch {
    return 0;
  }
}

export const appEndpoints: Record<string, Endpoint> = {
  'app/version': { run: () => ({ text: QBT_VERSION }) },
  'app/webapiVersion': { run: () => ({ text: QBT_WEBAPI_VERSION }) },
  'app/buildInfo': {
    run: () => ({
      json: {
        bitness: 64,
        boost: '',
        libtorrent: `net-bittorrent ${PACKAGE_VERSION}`,
        openssl: '',
        qt: '',
        zlib: '',
      },
    }),
  },
  'app/preferences': {
    run: (c) => ({ json: preferences({ daemon: c.daemon, webUiPort: c.webUiPort, username: c.username }) }),
  },
  'app/setPreferences': {
    post: true,
    run: async (c) => {
      await setPreferences(c.daemon, field(c, 'json'));
      return undefined;
    },
  },
  'app/defaultSavePath': { run: (c) => ({ text: c.daemon.settings['download-dir'] }) },
  'transfer/info': { run: (c) => ({ json: transferInfo(c) }) },
  'transfer/speedLimitsMode': { run: (c) => ({ text: c.daemon.settings['alt-speed-enabled'] ? '1' : '0' }) },
  'transfer/toggleSpeedLimitsMode': {
    post: true,
    run: async (c) => {
      await c.daemon.setSettings({ 'alt-speed-enabled': !c.daemon.settings['alt-speed-enabled'] });
      return undefined;
    },
  },
  'transfer/downloadLimit': { run: (c) => ({ text: String(limitsNow(c).down) }) },
  'transfer/uploadLimit': { run: (c) => ({ text: String(limitsNow(c).up) }) },
  'transfer/setDownloadLimit': speedLimitSetter('down'),
  'transfer/setUploadLimit': speedLimitSetter('up'),
  'sync/maindata': {
    run: async (c) => {
      const now = syncState(c);
      now.server['free_space_on_disk'] = await freeSpace(c.daemon.settings['download-dir']);
      const rid = c.nextRid();
      const out = maindata(now, c.session?.sync, integer(c, 'rid') ?? 0, rid);
      if (c.session) c.session.sync = { ...now, rid };
      return { json: out };
    },
  },
};

/** transfer/setDownloadLimit and setUploadLimit: bytes/s (0 = none) as the session's kB/s limit. */
function speedLimitSetter(dir: 'down' | 'up'): Endpoint {
  return {
    post: true,
    run: async (c) => {
      const v = integer(c, 'limit');
      if (v === undefined) throw new ApiError(400, 'Missing parameter: limit');
      const pack: Partial<DaemonSettings> = {};
      pack[`speed-limit-${dir}-enabled`] = v > 0;
      if (v > 0) pack[`speed-limit-${dir}`] = Math.max(1, Math.round(v / 1000));
      await c.daemon.setSettings(pack);
      return undefined;
    },
  };
}
