/**
 * Moving a torrent's data between directories (torrent-set-location with move, and the
 * incomplete directory's move on completion): every top-level entry the torrent's files use
 * (after renames), renamed in place, or copied with their timestamps and then deleted when the
 * target is on another file system.
 */
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Torrent } from '../torrent/torrent.js';

/** The top-level names under the save path that hold the torrent's (non-pad) files. */
export function topEntries(t: Torrent): string[] {
  const tops = new Set<string>();
  t.metainfo.files.forEach((f, i) => {
    if (!f.pad) tops.add(t.filePath(i)[0]!);
  });
  return [...tops];
}

/** Moves `names` from one directory to another; missing ones are skipped. */
export async function moveEntries(names: readonly string[], from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of names) await moveAcross(join(from, name), join(to, name));
}

/** rename, or copy (timestamps kept) then delete when the target is on another file system. */
export async function moveAcross(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'EXDEV') throw e;
    await cp(from, to, { recursive: true, errorOnExist: false, force: true, preserveTimestamps: true });
    await rm(from, { recursive: true, force: true });
  }
}
