/** Small file I/O helpers for resume data and similar state files. */
import { close, fstat, open as openFd, read } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { storageError } from './errors.js';

const openAsync = promisify(openFd);
const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);
const readAsync = promisify(read);

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
  let fd: number;
  try {
    fd = await openAsync(path, 'r');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw storageError(e, 'read', path);
  }
  try {
    // The callback API, and the size from the open descriptor: a restart reads 1,000 resume
    // files, and FileHandle objects or a stat before a readFile cost more than the reads.
    const { size } = await fstatAsync(fd);
    if (size > maxBytes) throw new Error(`file is larger than ${maxBytes} bytes`);
    const buf = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await readAsync(fd, buf, at, size - at, at);
      if (bytesRead === 0) break; // shrank meanwhile: what is there
      at += bytesRead;
    }
    return at === size ? buf : buf.subarray(0, at);
  } catch (e) {
    throw storageError(e, 'read', path);
  } finally {
    await closeAsync(fd).catch(() => undefined);
  }
}
