/**
 * sync/maindata: the whole state on rid 0 (or a rid the session does not hold), then only what
 * changed since the client's rid: new torrents whole, changed ones with their changed fields,
 * `torrents_removed`, and likewise categories, tags, trackers and server_state. Each session keeps
 * only its last snapshot (as qBittorrent does), so memory is bounded by sessions × torrents.
 */
export interface SyncState {
  torrents: Map<string, Record<string, unknown>>;
  categories: Record<string, { name: string; savePath: string }>;
  tags: string[];
  trackers: Record<string, string[]>;
  server: Record<string, unknown>;
}

export interface SyncSnapshot extends SyncState {
  rid: number;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function changedFields(
  now: Record<string, unknown>,
  before: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in now) if (!same(now[k], before[k])) out[k] = now[k];
  return out;
}

/** The maindata answer for `rid` (the new snapshot's) given the session's previous snapshot. */
export function maindata(
  now: SyncState,
  previous: SyncSnapshot | undefined,
  clientRid: number,
  rid: number,
): Record<string, unknown> {
  if (!previous || clientRid === 0 || clientRid !== previous.rid) {
    return {
      categories: now.categories,
      full_update: true,
      rid,
      server_state: now.server,
      tags: now.tags,
      torrents: Object.fromEntries(now.torrents),
      trackers: now.trackers,
    };
  }
  const out: Record<string, unknown> = { rid };
  const categories: Record<string, unknown> = {};
  for (const [name, c] of Object.entries(now.categories))
    if (!same(c, previous.categories[name])) categories[name] = c;
  if (Object.keys(categories).length) out['categories'] = categories;
  const catsRemoved = Object.keys(previous.categories).filter((n) => !(n in now.categories));
  if (catsRemoved.length) out['categories_removed'] = catsRemoved;

  const server = changedFields(now.server, previous.server);
  if (Object.keys(server).length) out['server_state'] = server;

  const tags = now.tags.filter((t) => !previous.tags.includes(t));
  if (tags.length) out['tags'] = tags;
  const tagsRemoved = previous.tags.filter((t) => !now.tags.includes(t));
  if (tagsRemoved.length) out['tags_removed'] = tagsRemoved;

  const torrents: Record<string, unknown> = {};
  for (const [hash, t] of now.torrents) {
    const before = previous.torrents.get(hash);
    if (!before) torrents[hash] = t;
    else {
      const diff = changedFields(t, before);
      if (Object.keys(diff).length) torrents[hash] = diff;
    }
  }
  if (Object.keys(torrents).length) out['torrents'] = torrents;
  const removed = [...previous.torrents.keys()].filter((h) => !now.torrents.has(h));
  if (removed.length) out['torrents_removed'] = removed;

  const trackers: Record<string, string[]> = {};
  for (const [url, hashes] of Object.entries(now.trackers))
    if (!same(hashes, previous.trackers[url])) trackers[url] = hashes;
  if (Object.keys(trackers).length) out['trackers'] = trackers;
  const trackersRemoved = Object.keys(previous.trackers).filter((u) => !(u in now.trackers));
  if (trackersRemoved.length) out['trackers_removed'] = trackersRemoved;
  return out;
}
