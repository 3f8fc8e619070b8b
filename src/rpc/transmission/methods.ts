/**
 * The Transmission RPC methods on a Daemon. Each takes the request's `arguments` object and
 * returns the response's; a bad argument throws RpcError, whose message becomes the response's
 * `result` (Transmission reports every failure that way, with HTTP 200) and whose code is the
 * JSON-RPC form's error code (jsonrpc.ts).
 */
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { rateLimitsOf, type Daemon, type DaemonTorrent } from '../../daemon/daemon.js';
import type { DaemonSettings } from '../../daemon/store.js';
import {
  filePriorities,
  PRIORITY_HIGH,
  PRIORITY_LOW,
  PRIORITY_NORMAL,
  statusOf,
  Status,
  torrentObject,
} from './torrent-fields.js';
import { sessionObject, sessionSettable } from './session-fields.js';
import { JsonRpcCode, type LegacyAnswer } from './jsonrpc.js';

export class RpcError extends Error {
  constructor(
    message: string,
    readonly code: JsonRpcCode = JsonRpcCode.INVALID_PARAMS,
  ) {
    super(message);
  }
}

export type Args = Record<string, unknown>;

export interface MethodContext {
  daemon: Daemon;
  sessionId: string;
  rpcPort: number;
  /** session-close: the server answers, then the daemon shuts down. */
  requestClose(): void;
}

type Method = (ctx: MethodContext, args: Args) => Promise<Args> | Args;

/** Seconds within which a torrent counts as "recently-active". */
const RECENT_SECONDS = 60;

export function selectTorrents(daemon: Daemon, ids: unknown): DaemonTorrent[] {
  if (ids === undefined) return daemon.list();
  if (ids === 'recently-active')
    return daemon.list().filter((e) => {
      const s = e.torrent?.stats();
      return (
        !!s &&
        (s.downloadRate > 0 ||
          s.uploadRate > 0 ||
          daemon.now() - e.record.addedDate < RECENT_SECONDS ||
          e.torrent!.state === 'checking')
      );
    });
  const list = Array.isArray(ids) ? ids : [ids];
  const out: DaemonTorrent[] = [];
  for (const id of list) {
    const e =
      typeof id === 'number' && Number.isInteger(id)
        ? daemon.byId(id)
        : typeof id === 'string' && /^[0-9a-fA-F]{40}$/.test(id)
          ? daemon.byHash(id)
          : typeof id === 'string' && /^\d+$/.test(id)
            ? daemon.byId(Number(id))
            : undefined;
    if (e && !out.includes(e)) out.push(e);
  }
  return out;
}

function str(args: Args, key: string): string | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new RpcError(`'${key}' must be a string`);
  return v;
}

function bool(args: Args, key: string): boolean | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  throw new RpcError(`'${key}' must be a boolean`);
}

function num(args: Args, key: string): number | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RpcError(`'${key}' must be a number`);
  return v;
}

function indices(args: Args, key: string, count: number): number[] | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new RpcError(`'${key}' must be a list of file indices`);
  // An empty list means every file (Transmission's rule).
  if (v.length === 0) return [...Array(count).keys()];
  return v.map((i) => {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= count)
      throw new RpcError(`'${key}': file index ${String(i)} out of range`, JsonRpcCode.FILE_IDX_OOR);
    return i;
  });
}

function labels(args: Args): string[] | undefined {
  const v = args['labels'];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((l) => typeof l === 'string' && !l.includes(',')))
    throw new RpcError("'labels' must be a list of strings without commas");
  return [...new Set((v as string[]).map((l) => l.trim()).filter((l) => l))];
}

const forEach =
  (fn: (d: Daemon, e: DaemonTorrent) => Promise<void> | void): Method =>
  async (ctx, args) => {
    for (const e of selectTorrents(ctx.daemon, args['ids'])) await fn(ctx.daemon, e);
    return {};
  };

/** File wanted/priority changes of torrent-add and torrent-set, applied to a copy. */
function fileChanges(args: Args, prios: number[]): boolean {
  const n = prios.length;
  let changed = false;
  const set = (key: string, f: (p: number) => number): void => {
    const list = indices(args, key, n);
    if (!list) return;
    for (const i of list) prios[i] = f(prios[i]!);
    changed = true;
  };
  // A skipped file remembers nothing: wanting it again gives it normal priority.
  set('files-unwanted', () => 0);
  set('files-wanted', (p) => (p > 0 ? p : PRIORITY_NORMAL));
  set('priority-low', (p) => (p > 0 ? PRIORITY_LOW : 0));
  set('priority-normal', (p) => (p > 0 ? PRIORITY_NORMAL : 0));
  set('priority-high', (p) => (p > 0 ? PRIORITY_HIGH : 0));
  return changed;
}

const methods: Record<string, Method> = {
  'torrent-start': forEach((d, e) => d.start(e)),
  'torrent-start-now': forEach((d, e) => d.start(e, true)),
  'torrent-stop': forEach((d, e) => d.stop(e)),
  'torrent-verify': forEach((d, e) => d.verify(e)),
  'torrent-reannounce': forEach((d, e) => d.reannounce(e)),

  'torrent-get': (ctx, args) => {
    const f = args['fields'];
    if (!Array.isArray(f) || !f.every((x) => typeof x === 'string'))
      throw new RpcError('no fields specified');
    const format = args['format'] ?? 'objects';
    if (format !== 'objects' && format !== 'table') throw new RpcError("'format' must be objects or table");
    const list = selectTorrents(ctx.daemon, args['ids']);
    const objects = list.map((e) => torrentObject(ctx.daemon, e, f as string[]));
    const out: Args = {};
    if (format === 'table') {
      const names = (f as string[]).filter((n) => objects.length === 0 || n in objects[0]!);
      out['torrents'] = [names, ...objects.map((o) => names.map((n) => o[n]))];
    } else out['torrents'] = objects;
    if (args['ids'] === 'recently-active') out['removed'] = [];
    return out;
  },

  'torrent-add': async (ctx, args) => {
    const filename = str(args, 'filename');
    const meta = str(args, 'metainfo');
    if (!filename && !meta) throw new RpcError('no filename or metainfo specified');
    const paused = bool(args, 'paused');
    const dir = str(args, 'download-dir');
    const l = labels(args);
    let result;
    try {
      result = await ctx.daemon.add({
        ...(meta ? { metainfo: Buffer.from(meta, 'base64') } : { filename: filename! }),
        ...(paused !== undefined ? { paused } : {}),
        ...(dir ? { downloadDir: dir } : {}),
        ...(l ? { labels: l } : {}),
      });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'DAEMON_FETCH_FAILED')
        throw new RpcError(`http error: ${(e as Error).message}`, JsonRpcCode.HTTP_ERROR);
      if (code === 'ENOENT') throw new RpcError('no such file or directory', JsonRpcCode.SYSTEM_ERROR);
      throw new RpcError('invalid or corrupt torrent file', JsonRpcCode.CORRUPT_TORRENT);
    }
    const { entry, duplicate } = result;
    if (!duplicate && entry.torrent?.hasMetadata) {
      const prios = [...filePriorities(entry)];
      if (fileChanges(args, prios)) await ctx.daemon.setFilePriorities(entry, prios);
    }
    const summary = {
      hashString: entry.record.infoHash,
      id: entry.record.id,
      name: torrentObject(ctx.daemon, entry, ['name'])['name'],
    };
    return duplicate ? { 'torrent-duplicate': summary } : { 'torrent-added': summary };
  },

  'torrent-remove': async (ctx, args) => {
    const del = bool(args, 'delete-local-data') ?? false;
    for (const e of selectTorrents(ctx.daemon, args['ids'])) await ctx.daemon.remove(e, del);
    return {};
  },

  'torrent-set': async (ctx, args) => {
    const d = ctx.daemon;
    // Every argument is checked before anything changes: a bad one changes nothing.
    const kB = (key: string): number | undefined => {
      const v = num(args, key);
      if (v !== undefined && v < 0) throw new RpcError(`'${key}' must not be negative`);
      return v === undefined ? undefined : Math.round(v * 1000);
    };
    const oneOf = (key: string, allowed: number[]): number | undefined => {
      const v = num(args, key);
      if (v !== undefined && !allowed.includes(v))
        throw new RpcError(`'${key}' must be one of ${allowed.join(', ')}`);
      return v;
    };
    const set = {
      downloadLimit: kB('downloadLimit'),
      uploadLimit: kB('uploadLimit'),
      downloadLimited: bool(args, 'downloadLimited'),
      uploadLimited: bool(args, 'uploadLimited'),
      bandwidthPriority: oneOf('bandwidthPriority', [-1, 0, 1]),
      seedRatioMode: oneOf('seedRatioMode', [0, 1, 2]),
      seedIdleMode: oneOf('seedIdleMode', [0, 1, 2]),
      seedRatioLimit: num(args, 'seedRatioLimit'),
      seedIdleLimit: num(args, 'seedIdleLimit'),
      labels: labels(args),
      sequential: bool(args, 'sequentialDownload') ?? bool(args, 'sequential_download'),
      honorsSessionLimits: bool(args, 'honorsSessionLimits'),
    };
    const queuePosition = num(args, 'queuePosition');
    const location = str(args, 'location');
    const list = selectTorrents(d, args['ids']);
    const prioChanges = list.map((e) => {
      const prios = [...filePriorities(e)];
      return fileChanges(args, prios) ? prios : undefined;
    });
    for (const [i, e] of list.entries()) {
      const r = e.record;
      for (const [k, v] of Object.entries(set)) if (v !== undefined) Object.assign(r, { [k]: v });
      e.torrent?.setRateLimits(rateLimitsOf(r));
      if (e.torrent && e.torrent.sequential !== r.sequential) e.torrent.setSequential(r.sequential);
      if (queuePosition !== undefined) await d.moveInQueue(e, Math.floor(queuePosition));
      const prios = prioChanges[i];
      if (prios && e.torrent?.hasMetadata) await d.setFilePriorities(e, prios);
      if (location) await d.setLocation(e, location, false);
    }
    await d.saveRecord();
    return {};
  },

  'torrent-set-location': async (ctx, args) => {
    const location = str(args, 'location');
    if (!location) throw new RpcError("no 'location' specified");
    const move = bool(args, 'move') ?? false;
    for (const e of selectTorrents(ctx.daemon, args['ids'])) await ctx.daemon.setLocation(e, location, move);
    return {};
  },

  'torrent-rename-path': async (ctx, args) => {
    const list = selectTorrents(ctx.daemon, args['ids']);
    if (list.length !== 1) throw new RpcError('torrent-rename-path requires 1 torrent');
    const path = str(args, 'path');
    const name = str(args, 'name');
    if (!path || !name || name.includes('/') || name === '.' || name === '..')
      throw new RpcError('Invalid argument');
    const e = list[0]!;
    const t = e.torrent;
    if (!t?.hasMetadata) throw new RpcError('Invalid argument');
    // Transmission renames the last component of `path` (a file or a folder) in place.
    const parts = path.split('/').filter((c) => c !== '');
    const to = [...parts.slice(0, -1), name].join('/');
    try {
      await ctx.daemon.renamePath(e, parts.join('/'), to);
    } catch (err) {
      throw new RpcError(err instanceof Error ? err.message : String(err), JsonRpcCode.SYSTEM_ERROR);
    }
    return { path: parts.join('/'), name, id: e.record.id };
  },

  'session-get': (ctx, args) => {
    const f = args['fields'];
    const all = sessionObject(ctx);
    if (!Array.isArray(f)) return all;
    const out: Args = {};
    for (const k of f) if (typeof k === 'string' && k in all) out[k] = all[k];
    return out;
  },

  'session-set': async (ctx, args) => {
    const pack: Partial<Record<keyof DaemonSettings, unknown>> = {};
    for (const [k, v] of Object.entries(args)) {
      const type = sessionSettable[k as keyof DaemonSettings];
      if (!type) continue; // Transmission ignores what it does not know
      if (type === 'number' && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
        throw new RpcError(`'${k}' must be a non-negative number`);
      if (type === 'boolean' && typeof v !== 'boolean') throw new RpcError(`'${k}' must be a boolean`);
      if (type === 'string' && typeof v !== 'string') throw new RpcError(`'${k}' must be a string`);
      if (k === 'encryption' && !['required', 'preferred', 'tolerated'].includes(v as string))
        throw new RpcError("'encryption' must be required, preferred or tolerated");
      pack[k as keyof DaemonSettings] = k.endsWith('-dir') ? resolve(v as string) : v;
    }
    await ctx.daemon.setSettings(pack as Partial<DaemonSettings>);
    return {};
  },

  'session-stats': (ctx) => {
    const list = ctx.daemon.list();
    let down = 0;
    let up = 0;
    let downloaded = 0;
    let uploaded = 0;
    for (const e of list) {
      const s = e.torrent?.stats();
      down += s?.downloadRate ?? 0;
      up += s?.uploadRate ?? 0;
      downloaded += s?.sessionDownloaded ?? 0;
      uploaded += s?.sessionUploaded ?? 0;
    }
    const active = list.filter((e) => [Status.DOWNLOAD, Status.SEED].includes(statusOf(e) as 4 | 6)).length;
    const seconds = Math.max(0, ctx.daemon.now() - ctx.daemon.startedAt);
    const current = {
      uploadedBytes: uploaded,
      downloadedBytes: downloaded,
      filesAdded: 0,
      sessionCount: 1,
      secondsActive: seconds,
    };
    return {
      activeTorrentCount: active,
      downloadSpeed: Math.round(down),
      pausedTorrentCount: list.filter((e) => statusOf(e) === Status.STOPPED).length,
      torrentCount: list.length,
      uploadSpeed: Math.round(up),
      'cumulative-stats': current,
      'current-stats': current,
    };
  },

  'blocklist-update': async (ctx) => {
    const s = ctx.daemon.settings;
    try {
      return {
        'blocklist-size': await ctx.daemon.blocklist.update(s['blocklist-url'], s['blocklist-enabled']),
      };
    } catch (e) {
      const bad = (e as { code?: string }).code === 'BLOCKLIST_BAD';
      throw new RpcError(
        e instanceof Error ? e.message : String(e),
        bad ? JsonRpcCode.INVALID_BLOCKLIST_DATA : JsonRpcCode.HTTP_ERROR,
      );
    }
  },

  // Answered from our own listen state: the daemon never reaches out to a port-check service.
  'port-test': (ctx) => ({ 'port-is-open': ctx.daemon.client.port > 0 }),

  'session-close': (ctx) => {
    ctx.requestClose();
    return {};
  },

  'queue-move-top': (ctx, args) => queueMove(ctx, args, () => 0),
  'queue-move-bottom': (ctx, args) => queueMove(ctx, args, () => Number.MAX_SAFE_INTEGER),
  'queue-move-up': (ctx, args) => queueMove(ctx, args, (p) => p - 1),
  'queue-move-down': (ctx, args) => queueMove(ctx, args, (p) => p + 1),

  'free-space': async (_ctx, args) => {
    const path = str(args, 'path');
    if (!path) throw new RpcError("no 'path' specified");
    try {
      const s = await statfs(path);
      return { path, 'size-bytes': s.bavail * s.bsize, total_size: s.blocks * s.bsize };
    } catch (e) {
      throw new RpcError(
        (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String(e),
        JsonRpcCode.SYSTEM_ERROR,
      );
    }
  },
};

async function queueMove(ctx: MethodContext, args: Args, to: (p: number) => number): Promise<Args> {
  const list = selectTorrents(ctx.daemon, args['ids']);
  // Moving down goes from the last one, so neighbours keep their relative order.
  const ordered = [...list].sort((a, b) => a.record.queuePosition - b.record.queuePosition);
  const down = to(1) > 1 || to(1) === Number.MAX_SAFE_INTEGER;
  for (const e of down ? ordered.reverse() : ordered)
    await ctx.daemon.moveInQueue(e, to(e.record.queuePosition));
  return {};
}

/**
 * Runs one method; unknown methods and bad arguments become Transmission's error results (and
 * their JSON-RPC codes, for the JSON-RPC form).
 */
export async function runMethod(ctx: MethodContext, method: unknown, args: unknown): Promise<LegacyAnswer> {
  const fail = (result: string, code: JsonRpcCode): LegacyAnswer => ({ result, arguments: {}, code });
  if (typeof method !== 'string' || method === '')
    return fail('no method name', JsonRpcCode.METHOD_NOT_FOUND);
  const fn = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (!fn) return fail('method name not recognized', JsonRpcCode.METHOD_NOT_FOUND);
  const a = args === undefined ? {} : args;
  if (!a || typeof a !== 'object' || Array.isArray(a))
    return fail("'arguments' must be an object", JsonRpcCode.INVALID_PARAMS);
  try {
    return { result: 'success', arguments: await fn(ctx, a as Args), code: JsonRpcCode.SUCCESS };
  } catch (e) {
    if (e instanceof RpcError) return fail(e.message, e.code);
    return fail(`error: ${(e as Error).message ?? String(e)}`, JsonRpcCode.INTERNAL_ERROR);
  }
}
