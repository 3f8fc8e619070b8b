/**
 * File paths under a save path. Metainfo already sanitises names; this is the second line of
 * defence: every component is re-checked and the joined path must stay inside the save path.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { NbtError } from '../util/errors.js';

const BAD_COMPONENT = /[/\\\0]/;

/** The absolute path of a file, or STORAGE_BAD_PATH if it could land outside `savePath`. */
export function safeJoin(savePath: string, components: readonly string[]): string {
  const root = resolve(savePath);
  if (components.length === 0) throw bad(components, 'empty path');
  for (const c of components) {
    if (c === '' || c === '.' || c === '..' || BAD_COMPONENT.test(c) || isAbsolute(c))
      throw bad(components, `unsafe component "${c}"`);
  }
  const full = resolve(join(root, ...components));
  if (!isInside(root, full)) throw bad(components, 'resolves outside the save path');
  return full;
}

/** `child` is `root` itself or below it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

function bad(components: readonly string[], why: string): NbtError {
  return new NbtError('STORAGE_BAD_PATH', `storage: refusing path "${components.join('/')}": ${why}`);
}
