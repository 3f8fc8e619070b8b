/** The torrents/* endpoints that only read: info (filters, sort, paging), properties, files, … */
import { readFile } from 'node:fs/promises';
import { ApiError } from './errors.js';
import { categoriesView, tagList } from './categories.js';
import { field, flag, integer, one, type Call, type Endpoint } from './call.js';
import {
  pieceStates,
  queueRanks,
  torrentFiles,
  TorrentFacts,
  torrentInfo,
  torrentProperties,
  torrentTrackers,
} from './torrent-info.js';

const DOWNLOADING = new Set([
  'downloading',
  'metaDL',
  'forcedMetaDL',
  'stalledDL',
  'checkingDL',
  'pausedDL',
  'queuedDL',
  'forcedDL',
]);
const SEEDING = new Set(['uploading', 'stalledUP', 'checkingUP', 'pausedUP', 'queuedUP', 'forcedUP']);
const PAUSED = new Set(['pausedDL', 'pausedUP']);
const CHECKING = new Set(['checkingDL', 'checkingUP', 'checkingResumeData']);

/** torrents/info's `filter` (qBittorrent 4.5's names and 5.0's stopped/running); unknown: all. */
function matches(filter: string, t: Record<string, unknown>): boolean {
  const state = t['state'] as string;
  const active = (t['dlspeed'] as number) > 0 || (t['upspeed'] as number) > 0;
  switch (filter) {
    case 'downloading':
      return DOWNLOADING.has(state);
    case 'seeding':
      return SEEDING.has(state);
    case 'completed':
      return (
        (t['amount_left'] as number) === 0 && (t['total_size'] as number) >= 0 && !DOWNLOADING.has(state)
      );
    case 'paused':
    case 'stopped':
      return PAUSED.has(state);
    case 'resumed':
    case 'running':
      return !PAUSED.has(state);
    case 'active':
      return active;
    case 'inactive':
      return !active;
    case 'stalled':
      return state === 'stalledUP' || state === 'stalledDL';
    case 'stalled_uploading':
      return state === 'stalledUP';
    case 'stalled_downloading':
      return state === 'stalledDL';
    case 'checking':
      return CHECKING.has(state);
    case 'moving':
      return state === 'moving';
    case 'errored':
      return state === 'error' || state === 'missingFiles';
    default:
      return true;
  }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return collator.compare(String(a), String(b));
}

function info(c: Call): Record<string, unknown>[] {
  const filter = field(c, 'filter') ?? 'all';
  const category = field(c, 'category');
  const tag = field(c, 'tag');
  const hashes = field(c, 'hashes');
  const wanted = hashes
    ? new Set(
        hashes
          .toLowerCase()
          .split('|')
          .map((h) => h.trim()),
      )
    : undefined;
  const ranks = queueRanks(c.daemon);
  let list = c.daemon
    .list()
    .filter((e) => !wanted || wanted.has(e.record.infoHash))
    // category '' means "without a category"; absent means any.
    .filter((e) => category === undefined || (e.record.category ?? '') === category)
    .filter(
      (e) => tag === undefined || (tag === '' ? e.record.labels.length === 0 : e.record.labels.includes(tag)),
    )
    .map((e) => torrentInfo(new TorrentFacts(c.daemon, e), true, ranks))
    .filter((t) => matches(filter, t));
  const sort = field(c, 'sort');
  if (sort) {
    list.sort((a, b) => compare(a[sort], b[sort]));
    if (flag(c, 'reverse')) list.reverse();
  }
  let offset = integer(c, 'offset') ?? 0;
  if (offset < 0) offset = Math.max(0, list.length + offset);
  const limit = integer(c, 'limit') ?? 0;
  list = list.slice(offset, limit > 0 ? offset + limit : undefined);
  return list;
}

function facts(c: Call): TorrentFacts {
  return new TorrentFacts(c.daemon, one(c));
}

export const torrentReadEndpoints: Record<string, Endpoint> = {
  'torrents/info': { run: (c) => ({ json: info(c) }) },
  'torrents/properties': { run: (c) => ({ json: torrentProperties(facts(c)) }) },
  'torrents/files': {
    run: (c) => {
      const f = facts(c);
      const idx = field(c, 'indexes');
      const set = idx ? new Set(idx.split('|').map(Number)) : undefined;
      return { json: torrentFiles(f, set) };
    },
  },
  'torrents/trackers': { run: (c) => ({ json: torrentTrackers(facts(c)) }) },
  'torrents/webseeds': {
    run: (c) => {
      const f = facts(c);
      return { json: f.meta ? f.e.torrent!.metainfo.urlList.map((url) => ({ url })) : [] };
    },
  },
  'torrents/pieceStates': { run: (c) => ({ json: pieceStates(facts(c)) }) },
  'torrents/pieceHashes': {
    run: (c) => {
      const f = facts(c);
      if (!f.meta) return { json: [] };
      const m = f.e.torrent!.metainfo;
      return {
        json: Array.from({ length: m.pieceCount }, (_, i) => Buffer.from(m.pieceHash(i)).toString('hex')),
      };
    },
  },
  'torrents/categories': { run: (c) => ({ json: categoriesView(c.daemon) }) },
  'torrents/tags': { run: (c) => ({ json: tagList(c.daemon) }) },
  'torrents/downloadLimit': { run: (c) => ({ json: limits(c, 'download') }) },
  'torrents/uploadLimit': { run: (c) => ({ json: limits(c, 'upload') }) },
  'torrents/count': { run: (c) => ({ text: String(c.daemon.list().length) }) },
  // cross-seed and the like fetch the .torrent of a torrent added from a file.
  'torrents/export': {
    run: async (c) => {
      const e = one(c);
      const bytes = await readFile(c.daemon.store.torrentFile(e.record.infoHash)).catch(() => undefined);
      if (!bytes) throw new ApiError(409, 'Torrent metadata is not available');
      return { bytes, type: 'application/x-bittorrent' };
    },
  },
};

function limits(c: Call, kind: 'download' | 'upload'): Record<string, number> {
  const out: Record<string, number> = {};
  const hashes = field(c, 'hashes');
  if (hashes === undefined) throw new ApiError(400, 'Missing parameter: hashes');
  const all = hashes.toLowerCase() === 'all';
  const set = new Set(hashes.toLowerCase().split('|'));
  for (const e of c.daemon.list()) {
    if (!all && !set.has(e.record.infoHash)) continue;
    const r = e.record;
    const [limited, v] =
      kind === 'download' ? [r.downloadLimited, r.downloadLimit] : [r.uploadLimited, r.uploadLimit];
    out[r.infoHash] = limited && v > 0 ? v : 0;
  }
  return out;
}
