/**
 * Renaming a torrent's file or folder (Transmission's torrent-rename-path, qBittorrent's
 * renameFile/renameFolder, libtorrent's rename_file): a pure plan over the files' current paths,
 * shared by the storage that moves them on disk, the torrent that reports them and the resume
 * data that remembers them. Paths are component lists relative to the save path (a multi-file
 * torrent's top folder included).
 */
import { NbtError } from '../util/errors.js';
import type { StorageLayout } from './layout.js';

/** Renamed files: file index → its current path components. */
export type FileRenames = ReadonlyMap<number, readonly string[]>;

const MAX_COMPONENT_BYTES = 255;
const MAX_DEPTH = 64;

/** A path given by a user or a resume file, split and checked (no '', '.', '..', separators, NUL). */
export function checkedComponents(path: string | readonly string[]): string[] {
  const parts = typeof path === 'string' ? path.split('/') : [...path];
  if (parts.length === 0 || parts.length > MAX_DEPTH) throw bad(`path "${String(path)}" has a bad depth`);
  for (const c of parts)
    if (
      c === '' ||
      c === '.' ||
      c === '..' ||
      /[/\\\0]/.test(c) ||
      // eslint-disable-next-line no-control-regex
      /[\x00-\x1f\x7f]/.test(c) ||
      Buffer.byteLength(c) > MAX_COMPONENT_BYTES
    )
      throw bad(`"${c}" is not a usable file or folder name`);
  return parts;
}

/** The layout with renamed files' paths in place of the metainfo's. */
export function renamedLayout(layout: StorageLayout, renames: FileRenames): StorageLayout {
  if (renames.size === 0) return layout;
  return {
    pieceLength: layout.pieceLength,
    pieceCount: layout.pieceCount,
    lastPieceLength: layout.lastPieceLength,
    length: layout.length,
    files: layout.files.map((f, i) => {
      const p = renames.get(i);
      return p ? { ...f, path: p } : f;
    }),
  };
}

const startsWith = (path: readonly string[], prefix: readonly string[]): boolean =>
  prefix.length <= path.length && prefix.every((c, k) => path[k] === c);

/**
 * The files that `from` (a file, or a folder: every file below it) moves to `to`, with their new
 * paths. STORAGE_RENAME when nothing is at `from`, or the new paths would collide with another
 * file (or put a file where a folder is, or the reverse); pad files move along silently.
 */
export function planRename(
  paths: readonly (readonly string[])[],
  pad: readonly boolean[],
  fromPath: string | readonly string[],
  toPath: string | readonly string[],
): Map<number, string[]> {
  const from = checkedComponents(fromPath);
  const to = checkedComponents(toPath);
  const moved = new Map<number, string[]>();
  for (const [i, p] of paths.entries())
    if (startsWith(p, from)) moved.set(i, [...to, ...p.slice(from.length)]);
  if (![...moved.keys()].some((i) => !pad[i]))
    throw bad(`no file or folder "${from.join('/')}" in this torrent`);
  if (startsWith(to, from) && to.length > from.length) throw bad('a folder cannot move into itself');
  const key = (p: readonly string[]): string => p.join('/');
  const after = paths.map((p, i) => moved.get(i) ?? p);
  const files = new Set<string>();
  for (const [i, p] of after.entries()) {
    if (pad[i]) continue;
    if (files.has(key(p))) throw bad(`"${key(p)}" would be there twice`);
    files.add(key(p));
  }
  for (const [i, p] of after.entries()) {
    if (pad[i]) continue;
    for (let k = 1; k < p.length; k++)
      if (files.has(key(p.slice(0, k))))
        throw bad(`"${key(p.slice(0, k))}" would be both a file and a folder`);
  }
  return moved;
}

function bad(message: string): NbtError {
  return new NbtError('STORAGE_RENAME', `rename: ${message}`);
}
