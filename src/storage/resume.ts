/**
 * Resume data (pure codec): what a torrent needs to restart without rehashing everything. A
 * bencoded dict followed by the SHA-1 of its bytes (so a flipped bit, a torn write or an old
 * format is caught before any of it is believed); decoding checks that digest, validates every
 * field against limits and the torrent it is for, and throws NbtError RESUME_* on anything wrong.
 * `trustResume` then decides which pieces can be trusted given the files as they are on disk now.
 */
import {
  decodePrefix,
  encode,
  dictGet,
  isBytes,
  isDict,
  isInt,
  type BDict,
  type BValue,
} from '../bencode/index.js';
import { Bitfield } from '../util/bitfield.js';
import {
  decodeCompactPeers,
  decodeCompactPeers6,
  encodeCompactPeers,
  type PeerAddress,
} from '../util/compact.js';
import { checkedComponents } from './renames.js';
import { NbtError } from '../util/errors.js';
import { sha1 } from '../util/sha1.js';
import type { StorageLayout } from './layout.js';
import type { FileStat } from './storage.js';

export const RESUME_VERSION = 1;

export interface UnfinishedPiece {
  piece: number;
  /** One bit per 16 KiB block: received and written. */
  blocks: Bitfield;
}

export interface ResumeData {
  version: number;
  infoHash: Buffer;
  /** Verified pieces. */
  have: Bitfield;
  /** Size and mtime of each file when saved (undefined: missing or padding). */
  files: (FileStat | undefined)[];
  unfinished: UnfinishedPiece[];
  peers: PeerAddress[];
  uploaded: number;
  downloaded: number;
  savePath: string;
  /** Renamed files: [file index, path components under the save path]. */
  renamed?: [number, string[]][];
}

export interface ResumeExpect {
  infoHash?: Uint8Array;
  pieceCount?: number;
  fileCount?: number;
  /** Blocks in a piece (for checking unfinished bitmaps): e.g. picker.blockCount. */
  blockCount?: (piece: number) => number;
}

/** Most bytes of resume data accepted. */
export const MAX_RESUME_BYTES = 64 << 20;
const MAX_PEERS = 2000;

/** Bytes of the digest after the dictionary. */
const CHECKSUM_BYTES = 20;

export function encodeResume(r: ResumeData): Buffer {
  const body = encode({
    version: r.version,
    'info-hash': r.infoHash,
    'piece-count': r.have.size,
    pieces: r.have.bytes,
    files: r.files.map((f) => (f ? [f.size, f.mtimeMs] : [])),
    unfinished: r.unfinished.map((u) => ({ piece: u.piece, blocks: u.blocks.size, bitmap: u.blocks.bytes })),
    peers: encodeCompactPeers(r.peers.slice(0, MAX_PEERS), 4),
    peers6: encodeCompactPeers(r.peers.slice(0, MAX_PEERS), 6),
    uploaded: r.uploaded,
    downloaded: r.downloaded,
    'save-path': r.savePath,
    ...(r.renamed?.length ? { renamed: r.renamed.map(([i, p]) => [i, p]) } : {}),
  });
  return Buffer.concat([body, sha1(body)]);
}

export function decodeResume(buf: Uint8Array, expect: ResumeExpect = {}): ResumeData {
  if (buf.length > MAX_RESUME_BYTES)
    throw bad(`resume data is ${buf.length} bytes, limit ${MAX_RESUME_BYTES}`);
  let root: BValue;
  let end: number;
  try {
    ({ value: root, end } = decodePrefix(buf, { maxDepth: 8 }));
  } catch (e) {
    throw new NbtError('RESUME_CORRUPT', `resume data: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  if (buf.length !== end + CHECKSUM_BYTES || !sha1(buf.subarray(0, end)).equals(buf.subarray(end)))
    throw bad('checksum missing or wrong (damaged, or written by an older version)');
  if (!isDict(root)) throw bad('not a dictionary');
  const version = int(root, 'version', 1, 1000);
  if (version !== RESUME_VERSION)
    throw new NbtError('RESUME_VERSION', `resume data version ${version} is not supported`);

  const infoHash = bytes(root, 'info-hash');
  if (infoHash.length !== 20 && infoHash.length !== 32) throw bad('info-hash has a bad length');
  if (expect.infoHash && !infoHash.equals(expect.infoHash))
    throw new NbtError('RESUME_MISMATCH', 'resume data is for another torrent');

  const pieceCount = int(root, 'piece-count', 0, 1 << 26);
  if (expect.pieceCount !== undefined && pieceCount !== expect.pieceCount)
    throw new NbtError(
      'RESUME_MISMATCH',
      `resume data has ${pieceCount} pieces, torrent has ${expect.pieceCount}`,
    );
  const have = bitfield(bytes(root, 'pieces'), pieceCount, 'pieces');

  const filesV = dictGet(root, 'files');
  if (!Array.isArray(filesV)) throw bad('files is not a list');
  if (filesV.length > 1_000_000) throw bad('too many files');
  if (expect.fileCount !== undefined && filesV.length !== expect.fileCount)
    throw new NbtError(
      'RESUME_MISMATCH',
      `resume data has ${filesV.length} files, torrent has ${expect.fileCount}`,
    );
  const files = filesV.map((f, i): FileStat | undefined => {
    if (!Array.isArray(f) || (f.length !== 0 && f.length !== 2)) throw bad(`files[${i}] is malformed`);
    if (f.length === 0) return undefined;
    const [size, mtime] = f;
    if (!isSafeInt(size) || size < 0 || !isSafeInt(mtime)) throw bad(`files[${i}] has bad numbers`);
    return { size: Number(size), mtimeMs: Number(mtime) };
  });

  const unfinishedV = dictGet(root, 'unfinished') ?? [];
  if (!Array.isArray(unfinishedV) || unfinishedV.length > pieceCount) throw bad('unfinished is malformed');
  const seen = new Set<number>();
  const unfinished = unfinishedV.map((u, k): UnfinishedPiece => {
    if (!isDict(u)) throw bad(`unfinished[${k}] is not a dictionary`);
    const piece = int(u, 'piece', 0, pieceCount - 1);
    if (seen.has(piece) || have.has(piece))
      throw bad(`unfinished piece ${piece} is repeated or already complete`);
    seen.add(piece);
    const count = int(u, 'blocks', 1, 1 << 16);
    if (expect.blockCount && expect.blockCount(piece) !== count)
      throw new NbtError(
        'RESUME_MISMATCH',
        `unfinished piece ${piece} has ${count} blocks, expected ${expect.blockCount(piece)}`,
      );
    return { piece, blocks: bitfield(bytes(u, 'bitmap'), count, `unfinished[${k}].bitmap`) };
  });

  const peers: PeerAddress[] = [];
  for (const [key, dec] of [
    ['peers', decodeCompactPeers],
    ['peers6', decodeCompactPeers6],
  ] as const) {
    const v = dictGet(root, key);
    if (v === undefined) continue;
    if (!isBytes(v) || v.length > MAX_PEERS * 18) throw bad(`${key} is malformed`);
    try {
      peers.push(...dec(v));
    } catch (e) {
      throw new NbtError(
        'RESUME_CORRUPT',
        `resume data: ${key}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  const savePathV = dictGet(root, 'save-path');
  if (!isBytes(savePathV) || savePathV.length > 4096) throw bad('save-path is malformed');
  const renamed = decodeRenamed(dictGet(root, 'renamed'), filesV.length);
  return {
    version,
    infoHash: Buffer.from(infoHash),
    have,
    files,
    unfinished,
    peers,
    uploaded: int(root, 'uploaded', 0, Number.MAX_SAFE_INTEGER),
    downloaded: int(root, 'downloaded', 0, Number.MAX_SAFE_INTEGER),
    savePath: savePathV.toString('utf8'),
    ...(renamed.length ? { renamed } : {}),
  };
}

function decodeRenamed(v: BValue | undefined, fileCount: number): [number, string[]][] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > fileCount) throw bad('renamed is malformed');
  const seen = new Set<number>();
  return v.map((e, k): [number, string[]] => {
    if (!Array.isArray(e) || e.length !== 2 || !isSafeInt(e[0]) || !Array.isArray(e[1]))
      throw bad(`renamed[${k}] is malformed`);
    const i = Number(e[0]);
    if (i < 0 || i >= fileCount || seen.has(i)) throw bad(`renamed[${k}] names a bad file index`);
    seen.add(i);
    const parts = e[1].map((c) => {
      if (!isBytes(c)) throw bad(`renamed[${k}] has a bad path`);
      return c.toString('utf8');
    });
    try {
      return [i, checkedComponents(parts)];
    } catch {
      throw bad(`renamed[${k}] has an unsafe path`);
    }
  });
}

export interface TrustDecision {
  /** Pieces from the resume data that can be taken as verified. */
  have: Bitfield;
  /** Pieces that touch a file changed since the save and that exist on disk: hash-check these. */
  recheck: Bitfield;
  /** Unfinished pieces whose files are unchanged. */
  unfinished: UnfinishedPiece[];
  /** Indices of files whose size or mtime differ from the resume data (or that are missing now). */
  changedFiles: number[];
  /**
   * False when the resume data disagrees with the files in a way a correct save cannot: a
   * trusted piece lies past the end of an unchanged file. Then trust none of it.
   */
  consistent: boolean;
}

/**
 * A piece is trusted when every (non-padding) file it touches has the size and mtime it had when
 * the resume data was saved. Pieces touching a changed file are rechecked, unless a file they
 * need is missing now (then they are simply missing).
 */
export function trustResume(
  layout: StorageLayout,
  r: ResumeData,
  current: readonly (FileStat | undefined)[],
): TrustDecision {
  const n = layout.pieceCount;
  if (r.have.size !== n)
    throw new NbtError('RESUME_MISMATCH', 'resume data piece count differs from the torrent');
  if (r.files.length !== layout.files.length || current.length !== layout.files.length)
    throw new NbtError('RESUME_MISMATCH', 'resume data file count differs from the torrent');
  const changed = new Uint8Array(n);
  const missing = new Uint8Array(n);
  const changedFiles: number[] = [];
  let consistent = true;
  layout.files.forEach((f, i) => {
    if (f.pad || f.length === 0) return;
    const was = r.files[i];
    const now = current[i];
    const same =
      was !== undefined && now !== undefined && was.size === now.size && was.mtimeMs === now.mtimeMs;
    if (same) {
      // Pieces claimed in a file too short to hold them: the claim is false.
      if (now.size < f.length) {
        const from = Math.floor((f.offset + now.size) / layout.pieceLength);
        const to = Math.floor((f.offset + f.length - 1) / layout.pieceLength);
        for (let p = from; p <= to && consistent; p++) if (r.have.has(p)) consistent = false;
      }
      return;
    }
    changedFiles.push(i);
    const first = Math.floor(f.offset / layout.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / layout.pieceLength);
    const mark = now === undefined ? missing : changed;
    for (let p = first; p <= last; p++) mark[p] = 1;
  });
  const have = new Bitfield(n);
  const recheck = new Bitfield(n);
  for (let p = 0; p < n; p++) {
    if (missing[p]) continue;
    if (changed[p]) recheck.set(p);
    else if (r.have.has(p)) have.set(p);
  }
  const unfinished = r.unfinished.filter((u) => !changed[u.piece] && !missing[u.piece]);
  return { have, recheck, unfinished, changedFiles, consistent };
}

function bad(msg: string): NbtError {
  return new NbtError('RESUME_CORRUPT', `resume data: ${msg}`);
}

function isSafeInt(v: BValue | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function int(d: BDict, key: string, min: number, max: number): number {
  const v = dictGet(d, key);
  if (!isInt(v) || typeof v !== 'number' || v < min || v > max)
    throw bad(`${key} is missing or out of range`);
  return v;
}

function bytes(d: BDict, key: string): Buffer {
  const v = dictGet(d, key);
  if (!isBytes(v)) throw bad(`${key} is missing or not a byte string`);
  return v;
}

function bitfield(b: Buffer, size: number, what: string): Bitfield {
  try {
    return new Bitfield(size, b);
  } catch (e) {
    throw new NbtError(
      'RESUME_CORRUPT',
      `resume data: ${what}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
