/**
 * Notices a file changed behind our back (truncated, overwritten in place) before we serve its
 * bytes as verified data. The size and mtime of every file are recorded when the torrent's check
 * ends; a read for upload compares the piece's files with that baseline, stat-ing each file at
 * most once per interval (injected clock), so the cost while seeding is a clock comparison per
 * read. Our own writes are not changes: a file written by us is re-baselined at its next stat.
 */
import type { Clock } from '../util/clock.js';
import type { FileStat, Storage } from '../storage/storage.js';
import { filePieces, mapRange, pieceRangeOffset, pieceSize, type StorageLayout } from '../storage/layout.js';
import { Bitfield } from '../util/bitfield.js';
import { NbtError } from '../util/errors.js';
import { digestHere, type PieceVerification } from './verification.js';

/** Default: a file is stat-ed at most this often while its pieces are being served (ms). */
export const DISK_WATCH_INTERVAL_MS = 5000;

const NO_FILES: ReadonlySet<number> = new Set();

interface DiskWatchMaps {
  /** Files that differ from the baseline (sticky until the next check re-baselines). */
  readonly changedFiles: Set<number>;
  readonly stats: Map<number, Promise<void>>;
}

export class DiskWatch {
  // Made on the first change or stat: most torrents never upload a piece (~0.4 KB empty).
  private maps: DiskWatchMaps | undefined;
  private get m(): DiskWatchMaps {
    return (this.maps ??= {
      changedFiles: new Set(),
      stats: new Map(),
    });
  }
  private baseline: (FileStat | undefined)[] = [];
  // Plain arrays, not typed ones: a typed array costs ~0.4 KB before its first element (its
  // ArrayBuffer and backing store), and most torrents have one file.
  private readonly statAt: number[];
  /** Writes of ours in flight per file, and files written since their last stat. */
  private readonly writing: number[];
  private readonly ours: number[];
  /** Set by a re-baseline: stats that were in flight then are ignored. */
  private generation = 0;

  constructor(
    private readonly layout: StorageLayout,
    /** Where the files are (an object rather than a callback: one fewer closure per torrent). */
    private readonly source: StorageSource,
    private readonly clock: Clock,
    private readonly intervalMs = DISK_WATCH_INTERVAL_MS,
  ) {
    const n = layout.files.length;
    this.statAt = new Array<number>(n).fill(-Infinity);
    this.writing = new Array<number>(n).fill(0);
    this.ours = new Array<number>(n).fill(0);
  }

  /**
   * The files as they are now are the verified state (after a check); `known` are stats just
   * taken elsewhere (the resume decision's), so the files are not stat-ed again.
   */
  async rebaseline(known?: (FileStat | undefined)[]): Promise<void> {
    const gen = ++this.generation;
    const stats = known ?? (await this.source.storage().fileStats());
    if (gen !== this.generation) return;
    this.baseline = stats;
    this.maps?.changedFiles.clear();
    // The first read of each file after the check stats it: a change right after the check
    // (or during it) is seen at once; later ones within the interval.
    this.statAt.fill(-Infinity);
    this.ours.fill(0);
  }

  /** Indices of the non-empty files a piece touches. */
  filesOf(piece: number): number[] {
    const start = pieceRangeOffset(this.layout, piece, 0, 0);
    return mapRange(this.layout, start, pieceSize(this.layout, piece)).map((s) => s.fileIndex);
  }

  /** Files found changed since the baseline. */
  get changed(): ReadonlySet<number> {
    return this.maps?.changedFiles ?? NO_FILES;
  }

  /** A write of ours to the piece starts / ended (its files' new size and mtime are ours). */
  writeStarted(piece: number): void {
    for (const f of this.filesOf(piece)) this.writing[f]!++;
  }

  writeEnded(piece: number): void {
    for (const f of this.filesOf(piece)) {
      if (this.writing[f]! > 0) this.writing[f]!--;
      this.ours[f] = 1;
    }
  }

  /**
   * Whether any file of the piece changed since the baseline (then its bytes must be hashed
   * before they are served). Stats a file only when its interval has passed.
   */
  async pieceChanged(piece: number): Promise<boolean> {
    const files = this.filesOf(piece);
    const now = this.clock.now();
    const due: Promise<void>[] = [];
    for (const f of files) {
      if (this.maps?.changedFiles.has(f)) return true;
      if (now - this.statAt[f]! >= this.intervalMs) due.push(this.restat(f, now));
    }
    if (due.length > 0) await Promise.all(due);
    return files.some((f) => this.maps?.changedFiles.has(f));
  }

  /**
   * Run on a piece read for upload: if its files changed since the check, its bytes are hashed
   * and, when they no longer match, the read fails (STORAGE_DATA_CHANGED): they are never sent.
   */
  async verifyForUpload(piece: number, data: Buffer, v: PieceVerification): Promise<void> {
    if (!(await this.pieceChanged(piece))) return;
    if (!v.matches(piece, digestHere(v, piece, data)))
      throw new NbtError(
        'STORAGE_DATA_CHANGED',
        `piece ${piece} no longer matches its hash: a file changed on disk since it was checked`,
      );
  }

  /** The piece and every piece of its files and of the files found changed: to check again. */
  piecesToRecheck(piece: number): Bitfield {
    const out = new Bitfield(this.layout.pieceCount);
    out.set(piece);
    for (const f of new Set([...this.filesOf(piece), ...this.m.changedFiles])) {
      const span = filePieces(this.layout, f);
      for (let p = span?.first ?? 0; span && p <= span.last; p++) out.set(p);
    }
    return out;
  }

  private restat(f: number, now: number): Promise<void> {
    const running = this.maps?.stats.get(f);
    if (running) return running;
    this.statAt[f] = now;
    const gen = this.generation;
    const p = this.statFile(f)
      .then((st) => {
        if (gen !== this.generation) return;
        if (this.ours[f] || this.writing[f]! > 0) {
          // Our own write moved size/mtime: that is the new baseline.
          if (this.writing[f] === 0) this.ours[f] = 0;
          this.baseline[f] = st;
          return;
        }
        const was = this.baseline[f];
        if (!sameStat(was, st)) this.m.changedFiles.add(f);
      })
      .catch(() => {
        // Cannot stat: the read itself will tell (missing or short file).
      })
      .finally(() => this.maps?.stats.delete(f));
    this.m.stats.set(f, p);
    return p;
  }

  private async statFile(f: number): Promise<FileStat | undefined> {
    const s = this.source.storage();
    if (s.fileStat) return s.fileStat(f);
    return (await s.fileStats())[f];
  }
}

/** Gives the storage in use now (it is opened lazily and reopened after a stop). */
export interface StorageSource {
  storage(): Storage;
}

function sameStat(a: FileStat | undefined, b: FileStat | undefined): boolean {
  if (!a || !b) return a === b;
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** A Storage whose writes tell the DiskWatch (so our own writes are never taken for changes). */
export class WatchedStorage implements Storage {
  constructor(
    private readonly inner: Storage,
    private readonly watch: DiskWatch,
  ) {}

  get layout(): StorageLayout {
    return this.inner.layout;
  }

  read(piece: number, offset: number, length: number): Promise<Buffer> {
    return this.inner.read(piece, offset, length);
  }

  async write(piece: number, offset: number, data: Buffer | readonly Buffer[]): Promise<void> {
    this.watch.writeStarted(piece);
    try {
      await this.inner.write(piece, offset, data);
    } finally {
      this.watch.writeEnded(piece);
    }
  }

  readInto(...args: Parameters<Storage['readInto']>): ReturnType<Storage['readInto']> {
    return this.inner.readInto(...args);
  }

  fileStats(): Promise<(FileStat | undefined)[]> {
    return this.inner.fileStats();
  }

  fileStat(file: number): Promise<FileStat | undefined> {
    return this.inner.fileStat ? this.inner.fileStat(file) : this.inner.fileStats().then((s) => s[file]);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
