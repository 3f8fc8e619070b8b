/**
 * File priorities to piece priorities: a piece gets the highest priority of the (non-padding)
 * files it touches, so a piece shared by a skipped and a wanted file is still downloaded.
 */
import type { StorageLayout } from '../storage/layout.js';
import { MAX_PRIORITY } from './picker.js';

export function piecePriorities(layout: StorageLayout, filePriorities: readonly number[]): Uint8Array {
  if (filePriorities.length !== layout.files.length) throw new RangeError('one priority per file expected');
  const out = new Uint8Array(layout.pieceCount);
  layout.files.forEach((f, i) => {
    if (f.pad || f.length === 0) return;
    const p = Math.max(0, Math.min(MAX_PRIORITY, Math.trunc(filePriorities[i]!) || 0));
    if (p === 0) return;
    const first = Math.floor(f.offset / layout.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / layout.pieceLength);
    for (let k = first; k <= last; k++) if (out[k]! < p) out[k] = p;
  });
  return out;
}

/** Validates one priority per file (integers 0..MAX_PRIORITY) and returns a copy. */
export function checkedPriorities(priorities: readonly number[], files: number): number[] {
  if (priorities.length !== files)
    throw new RangeError(`${priorities.length} file priorities given for ${files} files`);
  return priorities.map((p) => {
    if (!Number.isInteger(p) || p < 0 || p > MAX_PRIORITY)
      throw new RangeError(`file priority ${p} is not an integer from 0 to ${MAX_PRIORITY}`);
    return p;
  });
}
