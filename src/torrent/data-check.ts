/**
 * Which pieces of a torrent are already verified on disk: the full check at start, narrowed by
 * resume data (trusted pieces are not read) and by the files that exist at all.
 */
import type { Metainfo } from '../metainfo/types.js';
import type { Storage } from '../storage/storage.js';
import type { HashPool } from '../hash/pool.js';
import type { Clock } from '../util/clock.js';
import { Bitfield } from '../util/bitfield.js';
import { checkStorage } from '../storage/check.js';

export interface DataCheckInput {
  metainfo: Metainfo;
  storage: () => Storage;
  clock: Clock;
  hashPool: HashPool;
  /** Trust every piece without reading (the user's skipCheck). */
  skipCheck: boolean;
  /** Pieces known good from resume data, and those among them that need a check anyway. */
  trusted: Bitfield | undefined;
  recheck: Bitfield | undefined;
  /** Polled while hashing: true aborts the check (the torrent stopped or restarted it). */
  cancelled: () => boolean;
  onProgress: (checked: number, total: number) => void;
}

/** The verified pieces on disk (trusted resume pieces included). */
export async function findVerifiedPieces(input: DataCheckInput): Promise<Bitfield> {
  const m = input.metainfo;
  if (input.skipCheck) return Bitfield.full(m.pieceCount);
  const trusted = input.trusted?.size === m.pieceCount ? input.trusted : undefined;
  // Resume data vouches for everything (the usual restart): nothing to stat or read.
  if (trusted && (!input.recheck || input.recheck.empty)) return trusted.clone();
  // Pieces that touch no file on disk cannot be there: do not even read them.
  const only = await piecesOnDisk(m, input.storage(), trusted ? input.recheck : undefined);
  // Polled per chunk rather than watched by a timer: 1,000 torrents checking at once would
  // otherwise run 1,000 timers.
  const found = only.empty
    ? new Bitfield(m.pieceCount)
    : await checkStorage(input.storage(), (i) => m.pieceHash(i), {
        pool: input.hashPool,
        onProgress: input.onProgress,
        cancelled: input.cancelled,
        pieces: only,
      });
  if (trusted) for (const i of trusted.indices()) found.set(i);
  return found;
}

/** The pieces (within `among`, if given) that overlap at least one existing, non-empty file. */
async function piecesOnDisk(m: Metainfo, storage: Storage, among: Bitfield | undefined): Promise<Bitfield> {
  const stats = await storage.fileStats();
  const out = new Bitfield(m.pieceCount);
  m.files.forEach((f, i) => {
    if (f.pad || f.length === 0 || !stats[i] || stats[i].size === 0) return;
    const first = Math.floor(f.offset / m.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / m.pieceLength);
    for (let p = first; p <= last; p++) if (!among || among.has(p)) out.set(p);
  });
  return out;
}
