/**
 * The torrents/* endpoints that change something: add (urls and uploaded files), delete,
 * pause/resume (stop/start), recheck, reannounce, location, names, categories, tags, limits,
 * file priorities and the queue. Every parameter is checked before the first change.
 */
import { resolve } from 'node:path';
import { rateLimitsOf, type Daemon, type DaemonTorrent } from '../../daemon/daemon.js';
import { parseTorrent } from '../../metainfo/index.js';
import { ApiError } from './errors.js';
import { categoryMap, ensureCategory, parseTags, rememberTags, validCategoryName } from './categories.js';
import {
  field,
  flag,
  integer,
  one,
  required,
  selected,
  type Call,
  type Endpoint,
  type Reply,
} from './call.js';
import { ourPriority } from './torrent-info.js';
import { filePriorities } from '../transmission/torrent-fields.js';

const forEach =
  (fn: (d: Daemon, e: DaemonTorrent) => Promise<void> | void): Endpoint['run'] =>
  async (c) => {
    for (const e of selected(c)) await fn(c.daemon, e);
    return undefined;
  };

async function add(c: Call): Promise<Reply> {
  const d = c.daemon;
  const urls = (field(c, 'urls') ?? '')
    .split(/\r?\n/)
    .map((u) => u.trim())
    .filter((u) => u);
  const category = field(c, 'category') ?? '';
  if (category !== '' && !validCategoryName(category)) throw new ApiError(400, 'Invalid category name');
  const tags = parseTags(field(c, 'tags'));
  const paused = flag(c, 'paused') ?? flag(c, 'stopped');
  const name = field(c, 'rename');
  const up = integer(c, 'upLimit');
  const down = integer(c, 'dlLimit');
  const ratio = integer(c, 'ratioLimit');
  const seedingTime = integer(c, 'seedingTimeLimit');
  let savePath = field(c, 'savepath') ?? '';
  if (savePath === '' && category !== '') savePath = categoryMap(d)[category]?.savePath ?? '';
  // Files are parsed (and bad ones refused with 415) before anything is added.
  for (const f of c.form.files) {
    try {
      parseTorrent(f.data);
    } catch {
      throw new ApiError(415, `Error: '${f.filename}' is not a valid torrent file.`);
    }
  }
  if (category !== '') ensureCategory(d, category);
  if (tags.length) rememberTags(d, tags);
  const base = {
    ...(savePath !== '' ? { downloadDir: resolve(savePath) } : {}),
    ...(paused !== undefined ? { paused } : {}),
    ...(tags.length ? { labels: tags } : {}),
    ...(flag(c, 'skip_checking') ? { skipCheck: true } : {}),
  };
  const sources = [
    ...c.form.files.map((f) => ({ metainfo: new Uint8Array(f.data) })),
    ...urls.map((filename) => ({ filename })),
  ];
  let added = 0;
  for (const s of sources) {
    const result = await d.add({ ...base, ...s }).catch(() => undefined);
    if (!result || result.duplicate) continue;
    added++;
    const r = result.entry.record;
    if (category !== '') r.category = category;
    if (name) r.displayName = name;
    if (flag(c, 'sequentialDownload')) r.sequential = true;
    if (down !== undefined && down > 0) Object.assign(r, { downloadLimit: down, downloadLimited: true });
    if (up !== undefined && up > 0) Object.assign(r, { uploadLimit: up, uploadLimited: true });
    if (ratio !== undefined) setRatio(result.entry, ratio);
    if (seedingTime !== undefined) r.seedingTimeLimit = seedingTime;
    const t = result.entry.torrent;
    t?.setRateLimits(rateLimitsOf(r));
    if (t && r.sequential) t.setSequential(true);
  }
  await d.saveRecord();
  return { text: added > 0 ? 'Ok.' : 'Fails.' };
}

/** qBittorrent's ratio limit (-2 global, -1 none, else the limit) as our seed ratio mode. */
function setRatio(e: DaemonTorrent, ratio: number): void {
  const r = e.record;
  if (ratio === -2) r.seedRatioMode = 0;
  else if (ratio < 0) r.seedRatioMode = 2;
  else Object.assign(r, { seedRatioMode: 1, seedRatioLimit: ratio });
}

function limitSetter(kind: 'download' | 'upload'): Endpoint {
  return {
    post: true,
    run: async (c) => {
      const list = selected(c);
      const limit = integer(c, 'limit');
      if (limit === undefined) throw new ApiError(400, 'Missing parameter: limit');
      for (const e of list) {
        const v = Math.max(0, Math.round(limit));
        if (kind === 'download') Object.assign(e.record, { downloadLimit: v, downloadLimited: v > 0 });
        else Object.assign(e.record, { uploadLimit: v, uploadLimited: v > 0 });
        e.torrent?.setRateLimits(rateLimitsOf(e.record));
      }
      await c.daemon.saveRecord();
      return undefined;
    },
  };
}

/** renameFile / renameFolder: `oldPath` → `newPath`, paths as torrents/files names them. */
function renamer(): Endpoint {
  return {
    post: true,
    run: async (c) => {
      const e = one(c);
      const oldPath = required(c, 'oldPath');
      const newPath = required(c, 'newPath');
      if (oldPath === '' || newPath === '') throw new ApiError(400, 'Invalid path');
      const t = e.torrent;
      if (!t?.hasMetadata) throw new ApiError(409, "Torrent's metadata has not yet downloaded");
      try {
        await c.daemon.renamePath(e, oldPath, newPath);
      } catch (err) {
        throw new ApiError(409, (err as Error).message);
      }
      return undefined;
    },
  };
}

function queueMove(to: (position: number, count: number) => number, fromBottom: boolean): Endpoint {
  return {
    post: true,
    run: async (c) => {
      const list = selected(c).sort((a, b) => a.record.queuePosition - b.record.queuePosition);
      const n = c.daemon.list().length;
      for (const e of fromBottom ? list.reverse() : list)
        await c.daemon.moveInQueue(e, to(e.record.queuePosition, n));
      return undefined;
    },
  };
}

async function tagsChange(c: Call, adding: boolean): Promise<Reply> {
  const list = selected(c);
  const tags = parseTags(required(c, 'tags'));
  if (adding) rememberTags(c.daemon, tags);
  for (const e of list) {
    const r = e.record;
    r.labels = adding ? [...new Set([...r.labels, ...tags])] : r.labels.filter((l) => !tags.includes(l));
  }
  await c.daemon.saveRecord();
  return undefined;
}

export const torrentWriteEndpoints: Record<string, Endpoint> = {
  'torrents/add': { post: true, run: add },
  'torrents/delete': {
    post: true,
    run: async (c) => {
      const del = flag(c, 'deleteFiles') ?? false;
      for (const e of selected(c)) await c.daemon.remove(e, del);
      return undefined;
    },
  },
  'torrents/pause': { post: true, run: forEach((d, e) => d.stop(e)) },
  'torrents/stop': { post: true, run: forEach((d, e) => d.stop(e)) },
  'torrents/resume': { post: true, run: forEach((d, e) => d.start(e)) },
  'torrents/start': { post: true, run: forEach((d, e) => d.start(e)) },
  'torrents/setForceStart': {
    post: true,
    run: async (c) => {
      const value = flag(c, 'value') ?? false;
      for (const e of selected(c)) {
        if (value) await c.daemon.start(e, true);
        else e.forceStart = false;
      }
      c.daemon.applyPolicy();
      return undefined;
    },
  },
  'torrents/recheck': { post: true, run: forEach((d, e) => d.verify(e)) },
  'torrents/reannounce': { post: true, run: forEach((d, e) => d.reannounce(e)) },
  'torrents/setLocation': {
    post: true,
    run: async (c) => {
      const list = selected(c);
      const location = required(c, 'location').trim();
      if (location === '') throw new ApiError(400, 'Save path cannot be empty');
      for (const e of list) {
        try {
          await c.daemon.setLocation(e, location, true);
        } catch (err) {
          throw new ApiError(409, `Cannot move files: ${(err as Error).message}`);
        }
      }
      return undefined;
    },
  },
  'torrents/rename': {
    post: true,
    run: async (c) => {
      const e = one(c);
      const name = required(c, 'name').trim();
      if (name === '') throw new ApiError(409, 'Incorrect torrent name');
      e.record.displayName = name;
      await c.daemon.saveRecord();
      return undefined;
    },
  },
  'torrents/renameFile': renamer(),
  'torrents/renameFolder': renamer(),
  'torrents/setCategory': {
    post: true,
    run: async (c) => {
      const list = selected(c);
      const category = required(c, 'category');
      if (category !== '' && !(category in categoryMap(c.daemon)))
        throw new ApiError(409, 'Incorrect category name');
      for (const e of list) e.record.category = category;
      await c.daemon.saveRecord();
      return undefined;
    },
  },
  'torrents/createCategory': {
    post: true,
    run: async (c) => {
      const name = required(c, 'category');
      if (!validCategoryName(name)) throw new ApiError(400, 'Invalid category name');
      if (name in categoryMap(c.daemon)) throw new ApiError(409, 'Unable to create category');
      categoryMap(c.daemon)[name] = { savePath: field(c, 'savePath') ?? '' };
      await c.daemon.saveRecord();
      return undefined;
    },
  },
  'torrents/editCategory': {
    post: true,
    run: async (c) => {
      const name = required(c, 'category');
      const cat = categoryMap(c.daemon)[name];
      if (!cat) throw new ApiError(409, 'Unable to edit category');
      cat.savePath = required(c, 'savePath');
      await c.daemon.saveRecord();
      return undefined;
    },
  },
  'torrents/removeCategories': {
    post: true,
    run: async (c) => {
      const names = required(c, 'categories').split(/\r?\n/);
      const map = categoryMap(c.daemon);
      for (const n of names) delete map[n];
      for (const e of c.daemon.list())
        if (e.record.category && names.includes(e.record.category)) e.record.category = '';
      await c.daemon.saveRecord();
      return undefined;
    },
  },
  'torrents/addTags': { post: true, run: (c) => tagsChange(c, true) },
  'torrents/removeTags': { post: true, run: (c) => tagsChange(c, false) },
  'torrents/createTags': {
    post: true,
    run: async (c) => {
      rememberTags(c.daemon, parseTags(required(c, 'tags')));
      await c.daemon.saveRecord();
      return undefined;
    },
  },
  'torrents/deleteTags': {
    post: true,
    run: async (c) => {
      const tags = parseTags(required(c, 'tags'));
      const s = c.daemon.store.session;
      s.tags = (s.tags ?? []).filter((t) => !tags.includes(t));
      for (const e of c.daemon.list()) e.record.labels = e.record.labels.filter((l) => !tags.includes(l));
      await c.daemon.saveRecord();
      return undefined;
    },
  },
  'torrents/setShareLimits': {
    post: true,
    run: async (c) => {
      const list = selected(c);
      const ratio = integer(c, 'ratioLimit');
      const time = integer(c, 'seedingTimeLimit');
      if (ratio === undefined || time === undefined)
        throw new ApiError(400, 'Missing parameter: ratioLimit or seedingTimeLimit');
      for (const e of list) {
        setRatio(e, ratio);
        e.record.seedingTimeLimit = Math.round(time);
      }
      await c.daemon.saveRecord();
      return undefined;
    },
  },
  'torrents/setDownloadLimit': limitSetter('download'),
  'torrents/setUploadLimit': limitSetter('upload'),
  'torrents/toggleSequentialDownload': {
    post: true,
    run: async (c) => {
      for (const e of selected(c)) e.record.sequential = !e.record.sequential;
      await c.daemon.saveRecord();
      return undefined;
    },
  },
  // Flood sends value=false after every add. On: BEP 16 for the torrents that are complete
  // (the engine ignores it, and turns it off, for one still downloading).
  'torrents/setSuperSeeding': {
    post: true,
    run: (c) => {
      const on = flag(c, 'value') === true;
      for (const e of selected(c)) e.torrent?.setSuperSeeding(on);
      return undefined;
    },
  },
  'torrents/filePrio': {
    post: true,
    run: async (c) => {
      const e = one(c);
      const ids = required(c, 'id').split('|');
      const priority = integer(c, 'priority');
      if (priority === undefined || ![0, 1, 6, 7].includes(priority))
        throw new ApiError(400, 'Priority is not valid');
      if (!e.torrent?.hasMetadata) throw new ApiError(409, "Torrent's metadata has not yet downloaded");
      const prios = [...filePriorities(e)];
      const indexes = ids.map((s) => {
        const i = /^\d+$/.test(s) ? Number(s) : -1;
        if (i < 0 || i >= prios.length) throw new ApiError(409, `File IDs are not valid: ${s}`);
        return i;
      });
      for (const i of indexes) prios[i] = ourPriority(priority);
      await c.daemon.setFilePriorities(e, prios);
      return undefined;
    },
  },
  // Several torrents keep their relative order: the last one moves first.
  'torrents/topPrio': queueMove(() => 0, true),
  'torrents/bottomPrio': queueMove((_, n) => n, false),
  'torrents/increasePrio': queueMove((p) => Math.max(0, p - 1), false),
  'torrents/decreasePrio': queueMove((p) => p + 1, true),
};
