/** Small file I/O helpers for resume data and similar state files. */
import { readFile, stat } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { storageError } from './errors.js';

const statAsync = promisify(stat);
const readFileAsync = promisify(readFile);

/**
 * Replaces `path` with `data` so that a crash leaves either the old or the new file, never a
 * torn one: write a temp file beside it, fsync, rename over, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw storageError(e, 'save', path);
  }
  // Make the rename itself durable; some file systems cannot fsync a directory, which is fine.
  const dir = await open(dirname(path), 'r').catch(() => undefined);
  await dir?.sync().catch(() => undefined);
  await dir?.close().catch(() => undefined);
}

/** The file's bytes, or undefined when it does not exist. Other errors throw STORAGE_*. */
export async function readFileIfExists(path: string, maxBytes = 64 << 20): Promise<Buffer | undefined> {
  try {
    // The callback API: a restart reads 1,000 resume files, and FileHandle objects cost more
    // than the reads themselves. (A file that grows between the two calls is read whole.)
    const { size } = await statAsync(path);
    if (size > maxBytes) throw storageError(new Error(`file is larger than ${maxBytes} bytes`), 'read', path);
    return await readFileAsync(path);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw storageError(e, 'read', path);
  }
}
