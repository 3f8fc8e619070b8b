/**
 * The Storage contract the torrent engine writes blocks to and reads pieces from. Offsets are
 * piece-relative in `read`/`write` and torrent-relative in `readAt`/`readInto`.
 */
import type { StorageLayout } from './layout.js';

/** A run of torrent bytes, [start, end). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface FileStat {
  size: number;
  /** Modification time, integer milliseconds since the epoch. */
  mtimeMs: number;
}

export interface ReadIntoOptions {
  /**
   * Missing or short files yield zeros and are reported in the result instead of throwing
   * STORAGE_FILE_MISSING / STORAGE_SHORT_READ (used by the hash check).
   */
  allowMissing?: boolean;
}

export interface Storage {
  readonly layout: StorageLayout;
  /** Reads `length` bytes of `piece` starting at `offset` inside the piece. */
  read(piece: number, offset: number, length: number): Promise<Buffer>;
  /**
   * Writes `data` (one buffer, or several contiguous buffers written as one vectored write per
   * file) at `offset` inside `piece`. Pad-file bytes are dropped.
   */
  write(piece: number, offset: number, data: Buffer | readonly Buffer[]): Promise<void>;
  /**
   * Reads torrent bytes [offset, offset + target.length) into `target`; returns the ranges that
   * were missing on disk (zero-filled), which is always empty unless `allowMissing` is set.
   */
  readInto(offset: number, target: Uint8Array, opts?: ReadIntoOptions): Promise<ByteRange[]>;
  /** Size and mtime of each file as it is on disk now (undefined: missing; pad files: undefined). */
  fileStats(): Promise<(FileStat | undefined)[]>;
  /**
   * Moves a file, or a folder with the files below it, to a new path (components relative to the
   * save path; see src/storage/renames.ts). Storages without paths only check the plan.
   */
  rename?(from: readonly string[], to: readonly string[]): Promise<void>;
  /** Moves every file under another save path (storages without paths: absent). */
  moveTo?(savePath: string): Promise<void>;
  /** One file's size and mtime (optional: callers fall back to fileStats). */
  fileStat?(file: number): Promise<FileStat | undefined>;
  /** Makes written data durable (fsync of files written since the last flush). */
  flush(): Promise<void>;
  /** Flushes and closes every open file; later calls throw STORAGE_CLOSED. */
  close(): Promise<void>;
}
