/** Requests to the daemon: GETs of our JSON API, and actions (qBittorrent API endpoints) with the CSRF token. */

export interface TorrentRow {
  hash: string;
  name: string;
  size: number;
  progress: number;
  state: string;
  dl: number;
  ul: number;
  ratio: number;
  eta: number;
  peers: number;
  seeds: number;
  label: string;
  added: number;
  savePath: string;
}

export interface SessionInfo {
  token: string;
  version: string;
  login: boolean;
  downloadDir: string;
}

let token = '';

export async function loadSession(): Promise<SessionInfo> {
  const res = await fetch('/api/nbt/session', { credentials: 'same-origin' });
  if (res.status === 401) {
    location.href = '/login';
    throw new Error('login required');
  }
  const info = (await res.json()) as SessionInfo;
  token = info.token;
  return info;
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** Runs a qBittorrent API action (POST) through our token-checked route; throws on failure. */
export async function action(endpoint: string, fields: Record<string, string> | FormData): Promise<string> {
  const body = fields instanceof FormData ? fields : new URLSearchParams(fields);
  const res = await fetch(`/api/nbt/qbt/${endpoint}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-Nbt-Token': token },
    body,
  });
  const text = await res.text();
  if (!res.ok || text === 'Fails.') throw new Error(`${endpoint}: ${res.status} ${text}`);
  return text;
}

export interface Inspected {
  infoHash: string;
  name: string;
  size: number;
  files: { index: number; path: string; size: number }[];
}

/** A .torrent file's info-hash and files, read by the daemon (POST /api/nbt/inspect). */
export async function inspect(file: Blob): Promise<Inspected> {
  const res = await fetch('/api/nbt/inspect', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-Nbt-Token': token, 'Content-Type': 'application/x-bittorrent' },
    body: file,
  });
  const json = (await res.json()) as Inspected & { error?: string };
  if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
  return json;
}

/** Applies engine settings (POST /api/nbt/settings); a refusal names the setting at fault. */
export async function postSettings(
  pack: Record<string, unknown>,
): Promise<{ changed: string[] } | { error: string; code?: string; setting: string }> {
  const res = await fetch('/api/nbt/settings', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'X-Nbt-Token': token, 'Content-Type': 'application/json' },
    body: JSON.stringify(pack),
  });
  const json = (await res.json().catch(() => ({}))) as {
    changed?: string[];
    error?: string;
    setting?: string;
  };
  if (res.ok && json.changed) return { changed: json.changed };
  return { error: json.error ?? `HTTP ${res.status}`, setting: json.setting ?? '' };
}
