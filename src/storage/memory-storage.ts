/**
 * Storage in memory, for tests and for torrents whose data should never touch the disk. Each
 * file grows as it is written, so missing and short files behave as they do on disk.
 */
import { NbtError } from '../util/errors.js';
import { mapRange, pieceRangeOffset, validateLayout, type StorageLayout } from './layout.js';
import type { ByteRange, FileStat, ReadIntoOptions, Storage } from './storage.js';
import { planRename } from './renames.js';

export class MemoryStorage implements Storage {
  readonly layout: StorageLayout;
  private readonly files: (Buffer | undefined)[];
  private readonly sizes: number[];
  private readonly mtimes: number[];
  private closed = false;
  private now: () => number;

  constructor(layout: StorageLayout, o: { now?: () => number } = {}) {
    validateLayout(layout);
    this.layout = layout;
    this.files = layout.files.map(() => undefined);
    this.sizes = layout.files.map(() => 0);
    this.mtimes = layout.files.map(() => 0);
    this.now = o.now ?? (() => 0);
  }

  async read(piece: number, offset: number, length: number): Promise<Buffer> {
    const at = pieceRangeOffset(this.layout, piece, offset, length);
    const buf = Buffer.alloc(length);
    await this.readInto(at, buf);
    return buf;
  }

  async readInto(offset: number, target: Uint8Array, opts: ReadIntoOptions = {}): Promise<ByteRange[]> {
    this.assertOpen();
    const missing: ByteRange[] = [];
    for (const s of mapRange(this.layout, offset, target.length)) {
      const dest = target.subarray(s.torrentOffset - offset, s.torrentOffset - offset + s.length);
      if (this.layout.files[s.fileIndex]!.pad) {
        dest.fill(0);
        continue;
      }
      const file = this.files[s.fileIndex];
      const have = file ? Math.max(0, Math.min(s.length, this.sizes[s.fileIndex]! - s.fileOffset)) : 0;
      if (have > 0) dest.set(file!.subarray(s.fileOffset, s.fileOffset + have));
      // Only what the file does not hold is zeroed (reads are hot in simulated swarms).
      if (have < s.length) dest.fill(0, have);
      if (have < s.length || !file) {
        const name = this.layout.files[s.fileIndex]!.path.join('/');
        if (!opts.allowMissing)
          throw new NbtError(
            file ? 'STORAGE_SHORT_READ' : 'STORAGE_FILE_MISSING',
            `storage: cannot read ${name}: ${file ? 'file too short' : 'file missing'}`,
          );
        missing.push({ start: s.torrentOffset + (file ? have : 0), end: s.torrentOffset + s.length });
      }
    }
    return missing;
  }

  /** Files are kept by index: a rename is only checked (the same plan as on disk). */
  async rename(from: readonly string[], to: readonly string[]): Promise<void> {
    this.assertOpen();
    const paths = (this.renamed ??= this.layout.files.map((f) => f.path));
    const pads = this.layout.files.map((f) => f.pad === true);
    for (const [i, p] of planRename(paths, pads, from, to)) paths[i] = p;
  }

  private renamed: (readonly string[])[] | undefined;

  async write(piece: number, offset: number, data: Buffer | readonly Buffer[]): Promise<void> {
    this.assertOpen();
    // The blocks are copied straight into the files: no concatenated copy first.
    const parts = Buffer.isBuffer(data) ? [data] : data;
    let length = 0;
    for (const p of parts) length += p.length;
    const at = pieceRangeOffset(this.layout, piece, offset, length);
    for (const s of mapRange(this.layout, at, length)) {
      const f = this.layout.files[s.fileIndex]!;
      if (f.pad) continue;
      const file = (this.files[s.fileIndex] ??= Buffer.alloc(f.length));
      copyParts(parts, s.torrentOffset - at, s.length, file, s.fileOffset);
      this.sizes[s.fileIndex] = Math.max(this.sizes[s.fileIndex]!, s.fileOffset + s.length);
      this.mtimes[s.fileIndex] = this.now();
    }
  }

  async fileStats(): Promise<(FileStat | undefined)[]> {
    return this.layout.files.map((f, i) =>
      f.pad || !this.files[i] ? undefined : { size: this.sizes[i]!, mtimeMs: this.mtimes[i]! },
    );
  }

  /** Drops a file, as if it were deleted from disk. */
  deleteFile(index: number): void {
    this.files[index] = undefined;
    this.sizes[index] = 0;
  }

  async flush(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new NbtError('STORAGE_CLOSED', 'storage is closed');
  }
}

/** Copies `length` bytes from offset `from` of the concatenation of `parts` into `target`. */
function copyParts(parts: readonly Buffer[], from: number, length: number, target: Buffer, at: number): void {
  for (const p of parts) {
    if (length === 0) return;
    if (from >= p.length) {
      from -= p.length;
      continue;
    }
    const n = p.copy(target, at, from, Math.min(p.length, from + length));
    at += n;
    length -= n;
    from = 0;
  }
}
