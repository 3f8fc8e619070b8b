/**
 * File paths under a save path. Metainfo already sanitises names; this is the second line of
 * defence: every component is re-checked and the joined path must stay inside the save path, and
 * directories are made one component at a time so a symlink in the save folder cannot make us
 * create anything outside it.
 */
import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { NbtError } from '../util/errors.js';

const BAD_COMPONENT = /[/\\\0]/;

/** The absolute path of a file, or STORAGE_BAD_PATH if it could land outside `savePath`. */
export function safeJoin(savePath: string, components: readonly string[]): string {
  const root = resolvedRoot(savePath);
  if (components.length === 0) throw bad(components, 'empty path');
  for (const c of components) {
    if (c === '' || c === '.' || c === '..' || BAD_COMPONENT.test(c) || isAbsolute(c))
      throw bad(components, `unsafe component "${c}"`);
  }
  // Components with no separator and no dot segment only name entries below the root, so
  // joining them is concatenation: nothing for resolve() to normalise or relative() to catch.
  // (resolve, join and relative made ~9 KB of garbage per torrent in a restart of 1,000.)
  return (root.endsWith(sep) ? root : root + sep) + components.join(sep);
}

let lastSavePath: string | undefined;
let lastRoot = '';

/** resolve(savePath), remembered for the last one asked (torrents mostly share a save path). */
function resolvedRoot(savePath: string): string {
  if (savePath !== lastSavePath || !isAbsolute(savePath)) {
    lastRoot = resolve(savePath);
    lastSavePath = savePath;
  }
  return lastRoot;
}

/**
 * STORAGE_RESERVED_PATH when a file at `path` (absolute) would be one of the `reserved` paths
 * (the engine's own state: resume folder, DHT state file) or inside one. Compared case-folded
 * too, since case-insensitive file systems (macOS, Windows) map `.NBT-Resume` to `.nbt-resume`.
 */
export function assertNotReserved(path: string, reserved: readonly string[]): void {
  if (reserved.length === 0) return;
  const full = resolve(path);
  const folded = full.toLowerCase();
  for (const [root, rootFolded] of resolvedReserved(reserved)) {
    if (underOrAt(root, full) || underOrAt(rootFolded, folded))
      throw new NbtError(
        'STORAGE_RESERVED_PATH',
        `storage: refusing ${path}: it is inside the engine's own state (${root})`,
      );
  }
}

const reservedRoots = new WeakMap<readonly string[], [string, string][]>();

/**
 * The reserved paths resolved and case-folded, once per list (every file of every torrent is
 * compared): a list is not changed once used (the Client's is fixed; FileStorage keeps a copy).
 */
function resolvedReserved(reserved: readonly string[]): [string, string][] {
  let roots = reservedRoots.get(reserved);
  if (!roots)
    reservedRoots.set(
      reserved,
      (roots = reserved.map((r) => {
        const root = resolve(r);
        return [root, root.toLowerCase()];
      })),
    );
  return roots;
}

/** `path` is `root` or below it; both absolute and normalised (resolve()d). */
function underOrAt(root: string, path: string): boolean {
  if (!path.startsWith(root)) return false;
  return path.length === root.length || root.endsWith(sep) || path[root.length] === sep;
}

/** assertNotReserved for every (non-pad) file of a torrent under `savePath`. */
export function assertFilesNotReserved(
  savePath: string,
  files: readonly { path: readonly string[]; pad?: boolean }[],
  reserved: readonly string[],
): void {
  if (reserved.length > 0)
    for (const f of files) if (!f.pad) assertNotReserved(safeJoin(savePath, f.path), reserved);
}

/** The engine's own state paths (absolute) that no torrent file may touch. */
export function engineStatePaths(...paths: (string | undefined)[]): string[] {
  return paths.filter((p) => p !== undefined).map((p) => resolve(p));
}

/** `child` is `root` itself or below it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Makes sure directory `dir` (below `root`) exists when `create`, and that its real path is inside
 * `rootReal` (the real path of `root`). Walks down from `root` one component at a time: a missing
 * component is created only after every component above it was found to be a real directory or
 * a symlink resolving inside the save path, so nothing is ever created outside it (a recursive
 * mkdir would follow `root/X -> /elsewhere` and create `/elsewhere/...` before any check).
 * Failures: STORAGE_BAD_PATH (leads outside), or the fs error (ENOENT when missing and not
 * `create`, ENOTDIR when a component is a file) for the caller to map.
 */
export async function ensureDirInside(
  root: string,
  rootReal: string,
  dir: string,
  create: boolean,
): Promise<void> {
  const rel = relative(root, dir);
  if (!isInside(root, dir)) throw outside(dir, dir);
  let current = root;
  for (const c of rel === '' ? [] : rel.split(sep)) {
    current = join(current, c);
    let st = await lstat(current).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!st) {
      if (!create) throw fsError('ENOENT', current);
      // Not recursive: its parent was checked just above. EEXIST means someone raced us: re-check.
      await mkdir(current).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      st = await lstat(current);
    }
    if (st.isSymbolicLink()) {
      const real = await realpath(current);
      if (!isInside(rootReal, real)) throw outside(current, real);
      st = await stat(current);
    }
    if (!st.isDirectory()) throw fsError('ENOTDIR', current);
  }
  // The walk's view again in one call (a component swapped for a symlink meanwhile).
  const real = await realpath(dir);
  if (!isInside(rootReal, real)) throw outside(dir, real);
}

function outside(path: string, real: string): NbtError {
  return new NbtError('STORAGE_BAD_PATH', `storage: ${path} resolves to ${real}, outside the save path`);
}

function fsError(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${path}`), { code, path });
}

function bad(components: readonly string[], why: string): NbtError {
  return new NbtError('STORAGE_BAD_PATH', `storage: refusing path "${components.join('/')}": ${why}`);
}
