/**
 * Unfinished pieces across restarts: the received blocks of pieces still being assembled are
 * written to storage (unverified data is harmless there: the piece is not in `have`) with their
 * block bitmaps for resume data, and read back into assemblies on the next start.
 */
import { Bitfield } from '../util/bitfield.js';
import type { Storage } from '../storage/storage.js';
import type { PieceAssembly } from './assembly.js';

/** The sender recorded for blocks read back from disk (resume data). */
export const RESUME_SENDER = 'resume';

/** A piece in progress and which of its blocks are in (resume data). */
export interface UnfinishedPiece {
  piece: number;
  blocks: Bitfield;
}

/**
 * Writes the received blocks of every incomplete assembly and returns their bitmaps. `persisting`
 * holds each piece's latest such write, which a verified write of the piece waits for.
 */
export async function persistUnfinished(
  assemblies: Iterable<PieceAssembly>,
  blockSize: number,
  storage: Storage,
  persisting: Map<number, Promise<void>>,
): Promise<UnfinishedPiece[]> {
  const out: UnfinishedPiece[] = [];
  const runs: { piece: number; start: number; data: Buffer }[] = [];
  // Copy everything now: once we await, a piece may complete and its buffer be reused.
  for (const a of assemblies) {
    if (a.complete) continue;
    const blocks = new Bitfield(a.blockCount);
    for (let b = 0; b < a.blockCount; b++) if (a.has(b)) blocks.set(b);
    if (blocks.empty) continue;
    for (let b = 0; b < a.blockCount;) {
      if (!blocks.has(b)) {
        b++;
        continue;
      }
      let e = b;
      while (e < a.blockCount && blocks.has(e)) e++;
      const start = b * blockSize;
      runs.push({
        piece: a.piece,
        start,
        data: Buffer.from(a.data.subarray(start, Math.min(a.size, e * blockSize))),
      });
      b = e;
    }
    out.push({ piece: a.piece, blocks });
  }
  for (const r of runs) {
    // A verified write of the same piece waits for this one, so stale bytes never land last.
    const p = (persisting.get(r.piece) ?? Promise.resolve()).then(() =>
      storage.write(r.piece, r.start, r.data),
    );
    const settled = p.catch(() => undefined);
    persisting.set(r.piece, settled);
    void settled.then(() => {
      if (persisting.get(r.piece) === settled) persisting.delete(r.piece);
    });
    await p;
  }
  return out;
}

/** Reads the saved `blocks` of a piece back from storage into its (new) assembly. */
export async function readUnfinished(a: PieceAssembly, blocks: Bitfield, storage: Storage): Promise<void> {
  for (const b of blocks.indices()) {
    const start = b * a.blockSize;
    const len = Math.min(a.blockSize, a.size - start);
    a.add(start, await storage.read(a.piece, start, len), RESUME_SENDER);
  }
}
