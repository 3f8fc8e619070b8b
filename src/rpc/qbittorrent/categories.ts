/**
 * qBittorrent's categories and tags, kept in the daemon's session file. A torrent has at most one
 * category (its record's `category`); its tags are its labels, so Transmission clients see them as
 * labels. The tag list is the tags created on their own plus every label in use.
 */
import type { Daemon } from '../../daemon/daemon.js';
import type { CategoryRecord } from '../../daemon/store.js';
import { ApiError } from './errors.js';

const MAX_NAME = 255;

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true;
  return false;
}

export function categoryMap(daemon: Daemon): Record<string, CategoryRecord> {
  return (daemon.store.session.categories ??= {});
}

/** categories as qBittorrent answers them: {name: {name, savePath}}. */
export function categoriesView(daemon: Daemon): Record<string, { name: string; savePath: string }> {
  const out: Record<string, { name: string; savePath: string }> = {};
  for (const [name, c] of Object.entries(categoryMap(daemon))) out[name] = { name, savePath: c.savePath };
  return out;
}

/** qBittorrent's rule: no empty segments, no leading/trailing slash, no backslash. */
export function validCategoryName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= MAX_NAME &&
    !name.includes('\\') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.includes('//') &&
    !hasControl(name)
  );
}

export function validTagName(tag: string): boolean {
  return tag.length > 0 && tag.length <= MAX_NAME && !tag.includes(',') && !hasControl(tag);
}

/** Splits a comma-separated tag list (qBittorrent's `tags` parameter). */
export function parseTags(v: string | undefined): string[] {
  if (v === undefined) return [];
  const tags = [
    ...new Set(
      v
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t),
    ),
  ];
  for (const t of tags) if (!validTagName(t)) throw new ApiError(400, `Invalid tag name: ${t}`);
  return tags;
}

export function tagList(daemon: Daemon): string[] {
  const set = new Set(daemon.store.session.tags ?? []);
  for (const e of daemon.list()) for (const l of e.record.labels) set.add(l);
  return [...set].sort();
}

/** Remembers tags as existing (torrents/createTags, or tags given on add/addTags). */
export function rememberTags(daemon: Daemon, tags: string[]): void {
  const list = (daemon.store.session.tags ??= []);
  for (const t of tags) if (!list.includes(t)) list.push(t);
}

/** Creates a category unless it exists (add and setCategory's implicit creation). */
export function ensureCategory(daemon: Daemon, name: string, savePath = ''): void {
  if (!validCategoryName(name)) throw new ApiError(400, 'Invalid category name');
  const map = categoryMap(daemon);
  map[name] ??= { savePath };
}
