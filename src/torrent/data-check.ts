/**
 * Which pieces of a torrent are already verified on disk: the full check at start, narrowed by
 * resume data (trusted pieces are not read) and by the files that exist at all.
 */
import type { Metainfo } from '../metainfo/types.js';
import type { FileStat, Storage } from '../storage/storage.js';
import type { HashPool } from '../hash/pool.js';
import type { Clock } from '../util/clock.js';
import { Bitfield } from '../util/bitfield.js';
import { checkStorage } from '../storage/check.js';
import type { CheckSlots } from '../storage/check-slots.js';
import { digestHere, merklePieces } from './verification.js';
import { randomInt } from 'node:crypto';

export interface DataCheckInput {
  metainfo: Metainfo;
  storage: () => Storage;
  clock: Clock;
  hashPool: HashPool;
  /** Reading waits for one of these (the session's active_checking); absent: reads at once. */
  slots?: CheckSlots | undefined;
  /** Trust every piece without reading (the user's skipCheck). */
  skipCheck: boolean;
  /** Pieces known good from resume data, and those among them that need a check anyway. */
  trusted: Bitfield | undefined;
  recheck: Bitfield | undefined;
  /** Polled while hashing: true aborts the check (the torrent stopped or restarted it). */
  cancelled: () => boolean;
  onProgress: (checked: number, total: number) => void;
  /** The files' stats if just taken (resume data's): which files exist, without stat-ing again. */
  fileStats?: (FileStat | undefined)[];
}

/** Trusted pieces hashed anyway at every start, so resume data that lies is caught. */
export const SPOT_CHECK_PIECES = 8;
/**
 * How long after the start the spot check runs: 1,000 torrents restarting together are all
 * seeding before their spot checks compete with the start-up for the CPU and the disk.
 */
export const SPOT_CHECK_DELAY_MS = 2000;

export interface VerifiedPieces {
  /** Verified on disk, trusted resume pieces included. */
  found: Bitfield;
  /** Trusted pieces to hash once the torrent runs (spotCheckPasses); empty without resume data. */
  spot: number[];
}

/**
 * The verified pieces on disk (trusted resume pieces included). Trusted pieces are not read;
 * a spot check of SPOT_CHECK_PIECES of them spread over the torrent (random start) is handed
 * back to run after the torrent started: hashing it first made a restart cost as much as a
 * full check for small torrents (8 pieces are all of a 1 MiB torrent's; 1,000 of them took
 * 4x as long as without), while libtorrent hashes nothing at all.
 */
export async function findVerifiedPieces(input: DataCheckInput): Promise<VerifiedPieces> {
  const m = input.metainfo;
  if (input.skipCheck) return { found: Bitfield.full(m.pieceCount), spot: [] };
  const trusted = input.trusted?.size === m.pieceCount ? input.trusted : undefined;
  if (!trusted) return { found: await hashOnDisk(input, undefined), spot: [] };
  const among = input.recheck?.size === m.pieceCount ? input.recheck : new Bitfield(m.pieceCount);
  const found = await hashOnDisk(input, among);
  const spot = spotSample(trusted, SPOT_CHECK_PIECES).filter((i) => !among.has(i));
  for (const i of trusted.indices()) found.set(i);
  return { found, spot };
}

/**
 * Hashes the spot-check pieces (on the files as they are now): false when any fails, i.e. the
 * resume data is wrong about the files and nothing of it may be trusted (a full check follows).
 */
export async function spotCheckPasses(input: DataCheckInput, spot: readonly number[]): Promise<boolean> {
  const m = input.metainfo;
  const among = new Bitfield(m.pieceCount);
  for (const i of spot) among.set(i);
  const { fileStats: _stale, ...fresh } = input;
  const found = await hashOnDisk({ ...fresh, onProgress: () => undefined }, among);
  return spot.every((i) => found.has(i));
}

/** Hashes the pieces (within `among`, if given) that touch an existing file. */
async function hashOnDisk(input: DataCheckInput, among: Bitfield | undefined): Promise<Bitfield> {
  const m = input.metainfo;
  // Pieces that touch no file on disk cannot be there: do not even read them.
  const only = piecesOnDisk(m, input.fileStats ?? (await input.storage().fileStats()), among);
  if (only.empty) return new Bitfield(m.pieceCount);
  // v2-only pieces are Merkle roots (hashed by the pool too). A hybrid's check stays SHA-1: its
  // downloads check both halves, but reading back our own verified data needs only one.
  const v2 = m.pieces.length === 0 ? merklePieces(m) : undefined;
  const check = (): Promise<Bitfield> =>
    checkStorage(input.storage(), (i) => m.pieceHash(i), {
      pool: input.hashPool,
      ...(v2 && {
        merkle: { shape: v2.shape, matches: v2.matches },
        verify: (i: number, data: Buffer) => v2.matches(i, digestHere(v2, i, data)),
      }),
      onProgress: input.onProgress,
      // Polled per chunk rather than watched by a timer: 1,000 torrents checking at once would
      // otherwise run 1,000 timers.
      cancelled: input.cancelled,
      pieces: only,
    });
  return input.slots ? input.slots.run(check) : check();
}

/** Up to `n` members of `set`, evenly spread from a random start (first and last likely). */
function spotSample(set: Bitfield, n: number): number[] {
  const members = [...set.indices()];
  if (members.length <= n) return members;
  const step = members.length / n;
  const start = randomInt(Math.max(1, Math.floor(step)));
  const out: number[] = [];
  for (let k = 0; k < n; k++) out.push(members[Math.min(members.length - 1, Math.floor(start + k * step))]!);
  return out;
}

/** The pieces (within `among`, if given) that overlap at least one existing, non-empty file. */
function piecesOnDisk(m: Metainfo, stats: (FileStat | undefined)[], among: Bitfield | undefined): Bitfield {
  const out = new Bitfield(m.pieceCount);
  m.files.forEach((f, i) => {
    if (f.pad || f.length === 0 || !stats[i] || stats[i].size === 0) return;
    const first = Math.floor(f.offset / m.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / m.pieceLength);
    for (let p = first; p <= last; p++) if (!among || among.has(p)) out.set(p);
  });
  return out;
}
