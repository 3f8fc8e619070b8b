/** Turns fs errors into NbtError codes the torrent can show and act on (enter its error state). */
import { NbtError } from '../util/errors.js';

const codes: Record<string, [string, string]> = {
  ENOSPC: ['STORAGE_NO_SPACE', 'no space left on device'],
  EDQUOT: ['STORAGE_NO_SPACE', 'disk quota exceeded'],
  EACCES: ['STORAGE_ACCESS', 'permission denied'],
  EPERM: ['STORAGE_ACCESS', 'operation not permitted'],
  EROFS: ['STORAGE_READ_ONLY', 'read-only file system'],
  ENOENT: ['STORAGE_FILE_MISSING', 'file or directory missing'],
  EISDIR: ['STORAGE_NOT_A_FILE', 'is a directory'],
  ENOTDIR: ['STORAGE_NOT_A_FILE', 'a path component is not a directory'],
  EMFILE: ['STORAGE_TOO_MANY_FILES', 'too many open files'],
  ENFILE: ['STORAGE_TOO_MANY_FILES', 'too many open files in system'],
  EIO: ['STORAGE_IO', 'I/O error'],
  ELOOP: ['STORAGE_BAD_PATH', 'is a symbolic link (refused)'],
  ENAMETOOLONG: ['STORAGE_BAD_PATH', 'name too long'],
  EFBIG: ['STORAGE_NO_SPACE', 'file too large for this file system'],
};

export function storageError(e: unknown, op: string, path: string): NbtError {
  if (e instanceof NbtError) return e;
  const sys = (e as { code?: unknown } | null)?.code;
  const [code, what] = (typeof sys === 'string' && codes[sys]) || [
    'STORAGE_IO',
    e instanceof Error ? e.message : String(e),
  ];
  return new NbtError(code, `storage: cannot ${op} ${path}: ${what}`, { cause: e });
}
