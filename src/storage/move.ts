/** Moving files and folders: rename, or across file systems copy (timestamps kept) then delete. */
import { cp, rename, rm } from 'node:fs/promises';

/** Moves `from` to `to`; a missing `from` is nothing to move. */
export async function moveAcross(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'EXDEV') throw e;
    await cp(from, to, { recursive: true, errorOnExist: true, force: false, preserveTimestamps: true });
    await rm(from, { recursive: true, force: true });
  }
}
