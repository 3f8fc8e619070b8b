/** What an endpoint gets (the daemon, the request's form, its session) and helpers to read it. */
import type { Daemon, DaemonTorrent } from '../../daemon/daemon.js';
import { ApiError } from './errors.js';
import type { Form } from './form.js';
import type { SyncSnapshot } from './sync.js';

export interface Session {
  /** Daemon wall-clock seconds after which the SID is forgotten. */
  expiresAt: number;
  sync?: SyncSnapshot;
}

export interface Call {
  daemon: Daemon;
  form: Form;
  session: Session | undefined;
  webUiPort: number;
  /** '' without credentials. */
  username: string;
  nextRid(): number;
}

/** A JSON body, a text body, bytes of a type, or an empty 200. */
export type Reply = { json: unknown } | { text: string } | { bytes: Buffer; type: string } | undefined;

export interface Endpoint {
  /** State changes need POST (405 otherwise), as qBittorrent 4.5. */
  post?: boolean;
  run(c: Call): Promise<Reply> | Reply;
}

export function field(c: Call, key: string): string | undefined {
  return c.form.fields.get(key);
}

export function required(c: Call, key: string): string {
  const v = c.form.fields.get(key);
  if (v === undefined) throw new ApiError(400, `Missing parameter: ${key}`);
  return v;
}

export function flag(c: Call, key: string): boolean | undefined {
  const v = c.form.fields.get(key);
  return v === undefined ? undefined : v.toLowerCase() === 'true' || v === '1';
}

export function integer(c: Call, key: string): number | undefined {
  const v = c.form.fields.get(key);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ApiError(400, `${key}: not a number`);
  return n;
}

/** `hashes`: "all" or hashes separated by "|"; unknown ones are skipped. */
export function selected(c: Call, key = 'hashes'): DaemonTorrent[] {
  const v = required(c, key);
  if (v.toLowerCase() === 'all') return c.daemon.list();
  const out: DaemonTorrent[] = [];
  for (const h of v.split('|')) {
    const e = /^[0-9a-fA-F]{40}$/.test(h.trim()) ? c.daemon.byHash(h.trim()) : undefined;
    if (e && !out.includes(e)) out.push(e);
  }
  return out;
}

/** `hash`: one torrent (400 without it, 404 when unknown, as qBittorrent). */
export function one(c: Call): DaemonTorrent {
  const h = required(c, 'hash').trim();
  const e = /^[0-9a-fA-F]{40}$/.test(h) ? c.daemon.byHash(h) : undefined;
  if (!e) throw new ApiError(404, 'Torrent hash was not found');
  return e;
}
