/** Small file I/O helpers for resume data and similar state files. */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { storageError } from './errors.js';
import { quickIo } from './quick-io.js';

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

/**
 * The file's bytes, or undefined when it does not exist. Other errors throw STORAGE_*. Read on
 * the engine's thread while reads stay quick (quick-io.ts).
 */
export async function readFileIfExists(path: string, maxBytes = 64 << 20): Promise<Buffer | undefined> {
  try {
    return await quickIo.readFileIfExists(path, maxBytes);
  } catch (e) {
    throw storageError(e, 'read', path);
  }
}
