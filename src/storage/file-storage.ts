/**
 * Pieces on real files: positioned reads and vectored writes through a bounded pool of open
 * handles. Files are created sparse on first write (never preallocated with zeros), their
 * directories as needed; padding files (BEP 47) never touch the disk. Every path is joined under
 * the save path, re-checked, and its directories are made one component at a time, each checked to
 * stay inside the save path's real path, so symlinks cannot redirect writes or make us create
 * anything outside; handles are opened with O_NOFOLLOW.
 *
 * Skipped files (priority 0): storage writes whatever block it is given. Blocks of a skipped file
 * that share a wanted piece are written into that file, which is then created sparse holding only
 * those bytes (no partfile).
 */
import { lstat, mkdir, realpath, rename } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { NbtError } from '../util/errors.js';
import { storageError } from './errors.js';
import { quickIo } from './quick-io.js';
import { FilePool, type OpenFileBudget } from './fd-pool.js';
import { mapRange, pieceRangeOffset, validateLayout, type StorageLayout } from './layout.js';
import { assertNotReserved, ensureDirInside, safeJoin } from './paths.js';
import { checkedComponents, planRename } from './renames.js';
import { moveAcross } from './move.js';
import { mapLimit } from '../util/map-limit.js';
import { BufferCursor, writeSpan } from './span-writer.js';
import { SyncPolicy, type DiskWriteMode } from './sync-policy.js';
import type { ByteRange, FileStat, ReadIntoOptions, Storage } from './storage.js';

/** Stats in flight at once while every file is looked at. */
const STAT_CONCURRENCY = 64;

/**
 * Files one read works on at once. A check reads 8 MiB at a time, which in a torrent of tiny
 * files spans hundreds of thousands of them: opened all at once they exhausted the descriptor
 * limit (EMFILE) and pinned gigabytes in pending promises.
 */
const READ_SPANS_IN_FLIGHT = 16;

export interface FileStorageOptions {
  /** Most file handles kept open (default 64). */
  maxOpenFiles?: number;
  /** A bound shared with other storages (the session's file_pool_size). */
  openFiles?: OpenFileBudget;
  /** fsync written files on flush() and close() (default true). */
  fsync?: boolean;
  /**
   * Paths no file may be at or below: the engine's own state (resume folder, DHT state file),
   * which a hostile torrent would otherwise overwrite (STORAGE_RESERVED_PATH).
   */
  reserved?: readonly string[];
  /**
   * Where writes run (default 'auto': synchronously while they stay quick, on the thread pool
   * once one blocks; see span-writer.ts).
   */
  writeMode?: DiskWriteMode;
}

/** Paths kept joined (see `recentPaths`): more than the open-file pool, a few KiB. */
const RECENT_PATHS = 1024;

export class FileStorage implements Storage {
  readonly layout: StorageLayout;
  private saveRoot: string;
  /**
   * Absolute paths of recently used files. Not one per file: at 400,000 files those strings were
   * 32 MB; a path is joined again (~2 µs) when it is needed and not here.
   */
  private recentPaths: Map<number, string> | undefined;
  /** The last path used, before the Map: a single-file torrent never makes one (~0.2 KB). */
  private lastPathIndex = -1;
  private lastPath = '';
  /** Each file's path components now (the layout's, or where a rename moved it). */
  private readonly components: (readonly string[])[];
  /** Set while a rename moves files: I/O started meanwhile waits for it. */
  private barrier: Promise<void> | undefined;
  private readonly pool: FilePool;
  private readonly fsync: boolean;
  /** Whether spans are written synchronously or on the thread pool (see span-writer.ts). */
  private readonly writes: SyncPolicy;
  /** Directories found inside the save path: the first one alone, more in the Set. */
  private firstDirChecked: string | undefined;
  private dirChecked: Set<string> | undefined;
  // Made by the first write / the first I/O: an idle seed's storage holds neither (~0.4 KB).
  private dirty: Set<number> | undefined;
  private inFlight: Set<Promise<unknown>> | undefined;
  private emptyFilesMade = false;
  private rootReal: string | undefined;
  private readonly reserved: readonly string[];
  private reservedReal: string[] | undefined;
  private closed = false;

  constructor(layout: StorageLayout, savePath: string, o: FileStorageOptions = {}) {
    validateLayout(layout);
    this.layout = layout;
    this.saveRoot = savePath;
    this.components = layout.files.map((f) => f.path);
    // A copy: resolved reserved roots are cached per list (paths.ts), so it must not change.
    this.reserved = [...(o.reserved ?? [])];
    layout.files.forEach((f) => {
      const p = safeJoin(savePath, f.path);
      if (!f.pad) assertNotReserved(p, this.reserved);
    });
    this.pool = new FilePool(Math.max(1, o.maxOpenFiles ?? 64), o.openFiles);
    this.fsync = o.fsync ?? true;
    this.writes = new SyncPolicy(o.writeMode ?? 'auto');
  }

  /** The directory the files are under. */
  get savePath(): string {
    return this.saveRoot;
  }

  /**
   * Moves every file to another save path (libtorrent's move_storage): each top-level entry the
   * files use is renamed there, or copied with its timestamps and deleted across file systems.
   * I/O waits meanwhile; STORAGE_MOVE before anything moves when something is already there.
   */
  async moveTo(savePath: string): Promise<void> {
    this.assertOpen();
    const to = resolve(savePath);
    if (to === resolve(this.saveRoot)) return;
    const pads = this.layout.files.map((f) => f.pad === true);
    const newPaths = this.components.map((c) => safeJoin(to, c));
    for (const [i, p] of newPaths.entries()) if (!pads[i]) assertNotReserved(p, this.reserved);
    const tops = [...new Set(this.components.filter((_, i) => !pads[i]).map((c) => c[0]!))];
    await this.exclusive(async () => {
      const present: string[] = [];
      for (const top of tops) {
        if (!(await occupied(safeJoin(this.saveRoot, [top])))) continue;
        if (await occupied(safeJoin(to, [top])))
          throw new NbtError('STORAGE_MOVE', `move: ${safeJoin(to, [top])} already exists`);
        present.push(top);
      }
      for (let i = 0; i < this.components.length; i++) this.pool.forget(this.path(i));
      await mkdir(to, { recursive: true });
      for (const top of present)
        await moveAcross(safeJoin(this.saveRoot, [top]), safeJoin(to, [top])).catch((e: unknown) => {
          throw storageError(e, 'move', safeJoin(this.saveRoot, [top]));
        });
      this.saveRoot = to;
      this.forgetPaths();
      this.rootReal = undefined;
    });
  }

  /** Absolute path of file `i`. */
  filePath(i: number): string {
    return this.path(i);
  }

  private path(i: number): string {
    if (i === this.lastPathIndex) return this.lastPath;
    let p = this.recentPaths?.get(i);
    if (p === undefined) {
      p = safeJoin(this.saveRoot, this.components[i]!);
      if (this.lastPathIndex >= 0) {
        const m = (this.recentPaths ??= new Map());
        if (m.size >= RECENT_PATHS) m.clear();
        m.set(this.lastPathIndex, this.lastPath);
      }
    }
    this.lastPathIndex = i;
    this.lastPath = p;
    return p;
  }

  /** After a move or rename: every path and checked directory is found again. */
  private forgetPaths(): void {
    this.recentPaths = undefined;
    this.lastPathIndex = -1;
    this.lastPath = '';
    this.firstDirChecked = undefined;
    this.dirChecked = undefined;
  }

  async read(piece: number, offset: number, length: number): Promise<Buffer> {
    const at = pieceRangeOffset(this.layout, piece, offset, length);
    const buf = Buffer.allocUnsafe(length);
    await this.track(this.gated(() => this.readRange(at, buf, false)));
    return buf;
  }

  async readInto(offset: number, target: Uint8Array, opts: ReadIntoOptions = {}): Promise<ByteRange[]> {
    if (offset < 0 || offset + target.length > this.layout.length)
      throw new NbtError('STORAGE_BAD_RANGE', `range ${offset}+${target.length} outside torrent`);
    return this.track(this.gated(() => this.readRange(offset, target, opts.allowMissing ?? false)));
  }

  async write(piece: number, offset: number, data: Buffer | readonly Buffer[]): Promise<void> {
    const parts = Buffer.isBuffer(data) ? [data] : data;
    let length = 0;
    for (const p of parts) length += p.length;
    const at = pieceRangeOffset(this.layout, piece, offset, length);
    return this.track(this.gated(() => this.writeRange(at, parts, length)));
  }

  /**
   * Moves a file, or a folder with every file below it, to `to` (component paths relative to the
   * save path, e.g. ['Top', 'old.mkv'] → ['Top', 'new.mkv']). Reads and writes wait meanwhile;
   * what exists on disk is renamed in one step (a folder as a whole), never over something that
   * is already there; files not written yet simply get the new path.
   */
  async rename(from: readonly string[], to: readonly string[]): Promise<void> {
    this.assertOpen();
    const plan = planRename(
      this.components,
      this.layout.files.map((f) => f.pad === true),
      from,
      to,
    );
    const src = safeJoin(this.savePath, checkedComponents(from));
    const dest = safeJoin(this.savePath, checkedComponents(to));
    const newPaths = new Map([...plan].map(([i, p]) => [i, safeJoin(this.savePath, p)]));
    for (const [i, p] of newPaths) if (!this.layout.files[i]!.pad) assertNotReserved(p, this.reserved);
    await this.exclusive(async () => {
      for (const i of plan.keys()) this.pool.forget(this.path(i));
      const there = await lstat(src).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw storageError(e, 'rename', src);
      });
      if (there) {
        if (await occupied(dest)) throw new NbtError('STORAGE_RENAME', `rename: ${dest} already exists`);
        await this.checkDir(dest);
        await this.checkDir(src, false);
        await rename(src, dest).catch((e: unknown) => {
          throw storageError(e, 'rename', src);
        });
      }
      for (const [i, p] of plan) this.components[i] = p;
      this.forgetPaths();
    });
  }

  /** Runs `op` with reads and writes held back and those in flight finished and synced. */
  private async exclusive(op: () => Promise<void>): Promise<void> {
    while (this.barrier) await this.barrier;
    let open!: () => void;
    this.barrier = new Promise<void>((r) => (open = r));
    try {
      await this.settled();
      await this.syncDirty();
      await op();
    } finally {
      this.barrier = undefined;
      open();
    }
  }

  /** Every file's size and mtime (see statFiles). */
  async fileStats(): Promise<(FileStat | undefined)[]> {
    this.assertOpen();
    return statFiles(this.layout, (i) => this.path(i));
  }

  async fileStat(i: number): Promise<FileStat | undefined> {
    this.assertOpen();
    const f = this.layout.files[i];
    if (!f || f.pad) return undefined;
    return statFile(this.path(i));
  }

  /**
   * Waits for pending writes, fsyncs, and checks that every open file is still the file at its
   * path: a file deleted or replaced while open throws STORAGE_FILE_MISSING (the data written to
   * it is gone), so the torrent can stop and recheck instead of losing data silently.
   */
  async flush(): Promise<void> {
    this.assertOpen();
    await this.settled();
    await this.syncDirty();
    const stale = await this.pool.stale();
    if (stale.length > 0)
      throw new NbtError(
        'STORAGE_FILE_MISSING',
        `storage: ${stale.join(', ')} ${stale.length === 1 ? 'was' : 'were'} deleted or replaced while in use`,
      );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settled();
    try {
      await this.syncDirty();
    } finally {
      await this.pool.closeAll();
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  private async readRange(offset: number, target: Uint8Array, allowMissing: boolean): Promise<ByteRange[]> {
    this.assertOpen();
    const missing: ByteRange[] = [];
    const spans = mapRange(this.layout, offset, target.length);
    await mapLimit(spans, READ_SPANS_IN_FLIGHT, async (s) => {
      const dest = target.subarray(s.torrentOffset - offset, s.torrentOffset - offset + s.length);
      if (this.layout.files[s.fileIndex]!.pad) return void dest.fill(0);
      const path = this.path(s.fileIndex);
      let got = 0;
      try {
        await this.checkDir(path, false);
        const lease = await this.pool.acquire(path, false);
        try {
          while (got < s.length) {
            const { bytesRead } = await lease.handle.read(dest, got, s.length - got, s.fileOffset + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
        } finally {
          lease.release();
        }
      } catch (e) {
        if (!(allowMissing && (e as { code?: string }).code === 'ENOENT'))
          throw storageError(e, 'read', path);
      }
      if (got < s.length) {
        if (!allowMissing)
          throw new NbtError(
            'STORAGE_SHORT_READ',
            `storage: cannot read ${path}: file ends before byte ${s.fileOffset + s.length}`,
          );
        dest.fill(0, got);
        missing.push({ start: s.torrentOffset + got, end: s.torrentOffset + s.length });
      }
    });
    return missing.sort((a, b) => a.start - b.start);
  }

  private async writeRange(offset: number, parts: readonly Buffer[], length: number): Promise<void> {
    this.assertOpen();
    if (!this.emptyFilesMade) await this.makeEmptyFiles();
    const cursor = new BufferCursor(parts);
    for (const s of mapRange(this.layout, offset, length)) {
      // The caller's buffers sliced to exactly this span, without copying.
      const vec = cursor.take(s.length);
      if (this.layout.files[s.fileIndex]!.pad) continue;
      await this.writeSpan(s.fileIndex, s.fileOffset, vec);
    }
  }

  private async writeSpan(fileIndex: number, position: number, vec: Buffer[]): Promise<void> {
    const path = this.path(fileIndex);
    try {
      await this.checkDir(path);
      const lease = await this.pool.acquire(path, true);
      (this.dirty ??= new Set()).add(fileIndex);
      try {
        await writeSpan(lease.handle, vec, position, this.writes);
      } finally {
        lease.release();
      }
    } catch (e) {
      throw storageError(e, 'write', path);
    }
  }

  /**
   * Makes sure the file's directory is inside the save path (a symlinked directory must not lead
   * reads or writes elsewhere), creating it first when `create` without creating anything
   * outside the save path (see ensureDirInside).
   */
  private async checkDir(path: string, create = true): Promise<void> {
    const dir = dirname(path);
    if (dir === this.firstDirChecked || this.dirChecked?.has(dir)) return;
    // The save path itself is the user's choice: made as a whole, symlinks and all.
    if (create && this.rootReal === undefined) await mkdir(this.savePath, { recursive: true });
    this.rootReal ??= await realpath(this.savePath);
    await ensureDirInside(resolve(this.savePath), this.rootReal, dir, create);
    if (this.reserved.length > 0) {
      // The same rule on real paths: no symlinked alias into the state folder either.
      this.reservedReal ??= await Promise.all(this.reserved.map((r) => realpath(r).catch(() => resolve(r))));
      assertNotReserved(await realpath(dir), this.reservedReal);
    }
    if (this.firstDirChecked === undefined) this.firstDirChecked = dir;
    else (this.dirChecked ??= new Set()).add(dir);
  }

  /** Zero-length files have no bytes to write, so they are created with the first write. */
  private async makeEmptyFiles(): Promise<void> {
    this.emptyFilesMade = true;
    for (const [i, f] of this.layout.files.entries()) {
      if (f.length !== 0 || f.pad) continue;
      try {
        await this.checkDir(this.path(i));
        (await this.pool.acquire(this.path(i), true)).release();
      } catch (e) {
        this.emptyFilesMade = false;
        throw storageError(e, 'create', this.path(i));
      }
    }
  }

  private async syncDirty(): Promise<void> {
    const files = this.dirty ? [...this.dirty] : [];
    this.dirty = undefined;
    if (!this.fsync) return;
    for (const i of files) {
      const path = this.path(i);
      try {
        const lease = await this.pool.acquire(path, true);
        try {
          await lease.handle.sync();
        } finally {
          lease.release();
        }
      } catch (e) {
        (this.dirty ??= new Set()).add(i);
        throw storageError(e, 'sync', path);
      }
    }
  }

  private gated<T>(op: () => Promise<T>): Promise<T> {
    return this.barrier ? this.barrier.then(op) : op();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    const inFlight = (this.inFlight ??= new Set());
    inFlight.add(p);
    const done = (): void => {
      if (inFlight.delete(p) && inFlight.size === 0 && this.inFlight === inFlight) this.inFlight = undefined;
    };
    p.then(done, done);
    return p;
  }

  /** Waits for the reads and writes in flight, failed or not. */
  private async settled(): Promise<void> {
    if (this.inFlight && this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private assertOpen(): void {
    if (this.closed) throw new NbtError('STORAGE_CLOSED', 'storage is closed');
  }
}

/** Something (a file, a folder, a dangling link) is at `path`. */
function occupied(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Every file's size and mtime (undefined: missing, or not a regular file), `pathOf(i)` being file
 * i's absolute path. A bounded number of stats at a time, and a file whose folder is missing is
 * not stat-ed at all: a 400,000-file torrent checked into an empty folder costs one failed stat
 * per folder, not 400,000 errors held at once. Needs no FileStorage: a restart checks resume
 * data against the files with it before the torrent's storage exists.
 */
export function statFiles(
  layout: StorageLayout,
  pathOf: (i: number) => string,
): Promise<(FileStat | undefined)[]> {
  const dirs = new Map<string, Promise<boolean>>();
  const dirExists = (dir: string): Promise<boolean> => {
    let known = dirs.get(dir);
    if (!known) {
      known = quickIo.stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      dirs.set(dir, known);
    }
    return known;
  };
  return mapLimit(layout.files, STAT_CONCURRENCY, async (f, i) => {
    if (f.pad) return undefined;
    const path = pathOf(i);
    if (f.path.length > 1 && !(await dirExists(dirname(path)))) return undefined;
    return statFile(path);
  });
}

async function statFile(path: string): Promise<FileStat | undefined> {
  try {
    const s = await quickIo.stat(path);
    return s.isFile() ? { size: s.size, mtimeMs: Math.trunc(s.mtimeMs) } : undefined;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw storageError(e, 'stat', path);
  }
}
