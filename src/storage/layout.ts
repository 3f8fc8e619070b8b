/**
 * How a torrent's byte stream lies on its files. Storage needs only this shape, so it does not
 * depend on the metainfo module's internals (a `Metainfo` satisfies it structurally).
 */
import { NbtError } from '../util/errors.js';

export interface StorageFile {
  /** Path components relative to the save path (for multi-file torrents including the torrent's folder). */
  readonly path: readonly string[];
  readonly length: number;
  /** Offset of the file's first byte in the torrent's byte stream. */
  readonly offset: number;
  /** BEP 47 padding file: all zeros, never read from nor written to disk. */
  readonly pad?: boolean;
}

export interface StorageLayout {
  readonly pieceLength: number;
  readonly pieceCount: number;
  readonly lastPieceLength: number;
  /** Total bytes (sum of file lengths, padding included). */
  readonly length: number;
  readonly files: readonly StorageFile[];
}

/** One contiguous run of torrent bytes inside one file. */
export interface FileSpan {
  fileIndex: number;
  /** Position inside the file. */
  fileOffset: number;
  length: number;
  /** Offset of the span's first byte in the torrent's byte stream. */
  torrentOffset: number;
}

export function pieceSize(layout: StorageLayout, piece: number): number {
  return piece === layout.pieceCount - 1 ? layout.lastPieceLength : layout.pieceLength;
}

/** The torrent offset of a byte inside a piece, after checking that the range lies inside that piece. */
export function pieceRangeOffset(
  layout: StorageLayout,
  piece: number,
  offset: number,
  length: number,
): number {
  if (!Number.isInteger(piece) || piece < 0 || piece >= layout.pieceCount)
    throw new NbtError('STORAGE_BAD_RANGE', `piece ${piece} out of range 0..${layout.pieceCount - 1}`);
  const size = pieceSize(layout, piece);
  if (
    !Number.isInteger(offset) ||
    !Number.isInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  )
    throw new NbtError(
      'STORAGE_BAD_RANGE',
      `range ${offset}+${length} outside piece ${piece} (${size} bytes)`,
    );
  return piece * layout.pieceLength + offset;
}

/**
 * The file spans covering torrent bytes [offset, offset + length), in order. Zero-length files
 * are skipped. Binary search for the first file, so this is O(log files + spans).
 */
export function mapRange(layout: StorageLayout, offset: number, length: number): FileSpan[] {
  if (offset < 0 || length < 0 || offset + length > layout.length)
    throw new NbtError(
      'STORAGE_BAD_RANGE',
      `range ${offset}+${length} outside torrent (${layout.length} bytes)`,
    );
  const files = layout.files;
  const out: FileSpan[] = [];
  if (length === 0) return out;
  let lo = 0;
  let hi = files.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (files[mid]!.offset <= offset) lo = mid;
    else hi = mid - 1;
  }
  let pos = offset;
  const end = offset + length;
  for (let i = lo; i < files.length && pos < end; i++) {
    const f = files[i]!;
    const fileEnd = f.offset + f.length;
    if (fileEnd <= pos) continue;
    const take = Math.min(end, fileEnd) - pos;
    out.push({ fileIndex: i, fileOffset: pos - f.offset, length: take, torrentOffset: pos });
    pos += take;
  }
  return out;
}

/** The pieces a file's bytes fall in: [first, last], or undefined for an empty file. */
export function filePieces(
  layout: StorageLayout,
  fileIndex: number,
): { first: number; last: number } | undefined {
  const f = layout.files[fileIndex];
  if (!f || f.length === 0) return undefined;
  return {
    first: Math.floor(f.offset / layout.pieceLength),
    last: Math.floor((f.offset + f.length - 1) / layout.pieceLength),
  };
}

/** Checks that a layout is self-consistent (files contiguous, piece counts agree). */
export function validateLayout(layout: StorageLayout): void {
  const bad = (msg: string): never => {
    throw new NbtError('STORAGE_BAD_LAYOUT', `storage layout: ${msg}`);
  };
  if (!(layout.pieceLength > 0) || !Number.isSafeInteger(layout.pieceLength)) bad('bad piece length');
  let pos = 0;
  for (const [i, f] of layout.files.entries()) {
    if (f.offset !== pos) bad(`file ${i} starts at ${f.offset}, expected ${pos}`);
    if (!Number.isSafeInteger(f.length) || f.length < 0) bad(`file ${i} has bad length ${f.length}`);
    if (f.path.length === 0) bad(`file ${i} has an empty path`);
    pos += f.length;
  }
  if (pos !== layout.length) bad(`files add up to ${pos} bytes, layout says ${layout.length}`);
  const count = Math.ceil(layout.length / layout.pieceLength);
  if (count !== layout.pieceCount) bad(`piece count ${layout.pieceCount}, expected ${count}`);
  const last = layout.length - (count - 1) * layout.pieceLength;
  if (count > 0 && last !== layout.lastPieceLength)
    bad(`last piece length ${layout.lastPieceLength}, expected ${last}`);
}

/** A single-file or multi-file layout from plain lengths (tests, benches, torrent creation). */
export function makeLayout(
  pieceLength: number,
  files: readonly { path: readonly string[]; length: number; pad?: boolean }[],
): StorageLayout {
  let offset = 0;
  const out: StorageFile[] = files.map((f) => {
    const sf: StorageFile = { path: f.path, length: f.length, offset, pad: f.pad ?? false };
    offset += f.length;
    return sf;
  });
  const pieceCount = Math.ceil(offset / pieceLength);
  const lastPieceLength = pieceCount === 0 ? 0 : offset - (pieceCount - 1) * pieceLength;
  return { pieceLength, pieceCount, lastPieceLength, length: offset, files: out };
}
