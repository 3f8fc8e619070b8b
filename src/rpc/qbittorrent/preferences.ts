/**
 * app/preferences and app/setPreferences over the daemon's session settings. qBittorrent's rates
 * are bytes/s, ours kB/s (1000 bytes, Transmission's unit); preferences that have no setting of
 * ours are reported with qBittorrent's defaults and ignored when set.
 */
import type { Daemon } from '../../daemon/daemon.js';
import type { DaemonSettings } from '../../daemon/store.js';
import { ApiError } from './errors.js';

const ENCRYPTION = ['preferred', 'required', 'tolerated'] as const;

export interface PreferencesContext {
  daemon: Daemon;
  webUiPort: number;
  username: string;
}

export function preferences(ctx: PreferencesContext): Record<string, unknown> {
  const s = ctx.daemon.settings;
  const c = ctx.daemon.client.settings();
  const rate = (enabled: boolean, kB: number): number => (enabled ? kB * 1000 : 0);
  const hm = (minutes: number): [number, number] => [Math.floor(minutes / 60), minutes % 60];
  const [fromH, fromM] = hm(s['alt-speed-time-begin']);
  const [toH, toM] = hm(s['alt-speed-time-end']);
  return {
    alt_dl_limit: s['alt-speed-down'] * 1000,
    alt_up_limit: s['alt-speed-up'] * 1000,
    anonymous_mode: false,
    auto_tmm_enabled: false,
    bypass_auth_subnet_whitelist: '',
    bypass_auth_subnet_whitelist_enabled: false,
    bypass_local_auth: ctx.username === '',
    dht: c.dht_enabled,
    dl_limit: rate(s['speed-limit-down-enabled'], s['speed-limit-down']),
    encryption: ENCRYPTION.indexOf(s.encryption),
    export_dir: '',
    export_dir_fin: '',
    incomplete_files_ext: s['rename-partial-files'],
    listen_port: ctx.daemon.client.port,
    locale: 'en',
    lsd: c.enable_lsd,
    max_active_checking_torrents: c.active_checking,
    max_active_downloads: s['download-queue-size'],
    max_active_torrents: s['download-queue-size'] + s['seed-queue-size'],
    max_active_uploads: s['seed-queue-size'],
    max_connec: s['peer-limit-global'],
    max_connec_per_torrent: s['peer-limit-per-torrent'],
    max_ratio: s.seedRatioLimited ? s.seedRatioLimit : -1,
    max_ratio_act: 0,
    max_ratio_enabled: s.seedRatioLimited,
    max_seeding_time: -1,
    max_seeding_time_enabled: false,
    pex: c.pex_enabled,
    preallocate_all: false,
    queueing_enabled: s['download-queue-enabled'],
    random_port: false,
    save_path: s['download-dir'],
    scan_dirs: s['watch-dir-enabled'] ? { [s['watch-dir']]: 1 } : {},
    schedule_from_hour: fromH,
    schedule_from_min: fromM,
    schedule_to_hour: toH,
    schedule_to_min: toM,
    scheduler_days: 0,
    scheduler_enabled: s['alt-speed-time-enabled'],
    start_paused_enabled: !s['start-added-torrents'],
    temp_path: s['incomplete-dir'],
    temp_path_enabled: s['incomplete-dir-enabled'],
    torrent_content_layout: 'Original',
    up_limit: rate(s['speed-limit-up-enabled'], s['speed-limit-up']),
    upnp: c.enable_upnp,
    use_https: false,
    web_ui_address: '*',
    web_ui_csrf_protection_enabled: true,
    web_ui_host_header_validation_enabled: true,
    web_ui_port: ctx.webUiPort,
    web_ui_session_timeout: 3600,
    web_ui_username: ctx.username,
  };
}

type Setter = (v: unknown, pack: Partial<DaemonSettings>, s: DaemonSettings) => void;

function num(key: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw new ApiError(400, `${key}: not a valid number`);
  return v;
}
function bool(key: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ApiError(400, `${key}: not a boolean`);
  return v;
}
function str(key: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new ApiError(400, `${key}: not a path`);
  return v;
}
const kB = (v: number): number => Math.round(v / 1000);

/** What setPreferences changes, by qBittorrent key. */
const setters: Record<string, Setter> = {
  save_path: (v, p) => (p['download-dir'] = str('save_path', v)),
  temp_path: (v, p) => (p['incomplete-dir'] = str('temp_path', v)),
  temp_path_enabled: (v, p) => (p['incomplete-dir-enabled'] = bool('temp_path_enabled', v)),
  dl_limit: (v, p) => {
    const n = num('dl_limit', v, -1);
    p['speed-limit-down-enabled'] = n > 0;
    if (n > 0) p['speed-limit-down'] = Math.max(1, kB(n));
  },
  up_limit: (v, p) => {
    const n = num('up_limit', v, -1);
    p['speed-limit-up-enabled'] = n > 0;
    if (n > 0) p['speed-limit-up'] = Math.max(1, kB(n));
  },
  alt_dl_limit: (v, p) => (p['alt-speed-down'] = kB(num('alt_dl_limit', v))),
  alt_up_limit: (v, p) => (p['alt-speed-up'] = kB(num('alt_up_limit', v))),
  scheduler_enabled: (v, p) => (p['alt-speed-time-enabled'] = bool('scheduler_enabled', v)),
  schedule_from_hour: (v, p, s) =>
    (p['alt-speed-time-begin'] =
      Math.min(23, num('schedule_from_hour', v)) * 60 +
      ((p['alt-speed-time-begin'] ?? s['alt-speed-time-begin']) % 60)),
  schedule_from_min: (v, p, s) =>
    (p['alt-speed-time-begin'] =
      Math.floor((p['alt-speed-time-begin'] ?? s['alt-speed-time-begin']) / 60) * 60 +
      Math.min(59, num('schedule_from_min', v))),
  schedule_to_hour: (v, p, s) =>
    (p['alt-speed-time-end'] =
      Math.min(23, num('schedule_to_hour', v)) * 60 +
      ((p['alt-speed-time-end'] ?? s['alt-speed-time-end']) % 60)),
  schedule_to_min: (v, p, s) =>
    (p['alt-speed-time-end'] =
      Math.floor((p['alt-speed-time-end'] ?? s['alt-speed-time-end']) / 60) * 60 +
      Math.min(59, num('schedule_to_min', v))),
  queueing_enabled: (v, p) => (p['download-queue-enabled'] = bool('queueing_enabled', v)),
  max_active_downloads: (v, p) =>
    (p['download-queue-size'] = Math.max(0, Math.floor(num('max_active_downloads', v, -1)))),
  max_active_uploads: (v, p) => {
    const n = Math.floor(num('max_active_uploads', v, -1));
    p['seed-queue-enabled'] = n >= 0;
    if (n >= 0) p['seed-queue-size'] = n;
  },
  max_ratio_enabled: (v, p) => (p.seedRatioLimited = bool('max_ratio_enabled', v)),
  max_ratio: (v, p) => {
    const n = num('max_ratio', v, -1);
    if (n >= 0) p.seedRatioLimit = n;
    else p.seedRatioLimited = false;
  },
  max_connec: (v, p) => (p['peer-limit-global'] = Math.max(1, Math.floor(num('max_connec', v, -1)))),
  max_connec_per_torrent: (v, p) =>
    (p['peer-limit-per-torrent'] = Math.max(1, Math.floor(num('max_connec_per_torrent', v, -1)))),
  start_paused_enabled: (v, p) => (p['start-added-torrents'] = !bool('start_paused_enabled', v)),
  incomplete_files_ext: (v, p) => (p['rename-partial-files'] = bool('incomplete_files_ext', v)),
  encryption: (v, p) => {
    const e = ENCRYPTION[num('encryption', v)];
    if (!e) throw new ApiError(400, 'encryption: 0, 1 or 2');
    p.encryption = e;
  },
};

/** Applies a setPreferences `json` object: every key is checked before anything changes. */
export async function setPreferences(daemon: Daemon, json: string | undefined): Promise<void> {
  let v: unknown;
  try {
    v = JSON.parse(json ?? '');
  } catch {
    throw new ApiError(400, 'json: not valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'json: not an object');
  const current = daemon.settings;
  const pack: Partial<DaemonSettings> = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) setters[k]?.(value, pack, current);
  if (Object.keys(pack).length) await daemon.setSettings(pack);
}
