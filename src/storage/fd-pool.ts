/**
 * A bounded LRU pool of open file handles. Handles in use are never closed under a caller:
 * eviction skips them (the pool may briefly exceed its bound) and a handle replaced by a
 * writable one is closed once its last user releases it. Pools may share an OpenFileBudget: a
 * session-wide bound, as libtorrent's file_pool_size, so 1,000 seeding torrents hold a few dozen
 * descriptors (each open FileHandle also costs ~3 KB of native memory), not one or more each.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';

export interface Lease {
  readonly handle: FileHandle;
  release(): void;
}

/** One path's handle in a pool (exported for OpenFileBudget's signatures only). */
export interface FilePoolEntry {
  readonly path: string;
  opening: Promise<FileHandle>;
  handle: FileHandle | undefined;
  writable: boolean;
  users: number;
  retired: boolean;
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const WRITE_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * Open handles across every pool that shares it, least recently used first: once there are more
 * than `max`, idle ones are closed wherever they are.
 */
export class OpenFileBudget {
  private readonly lru = new Map<FilePoolEntry, FilePool>();

  constructor(private max: number) {}

  get openCount(): number {
    return this.lru.size;
  }

  /** A new bound (a lower one closes idle handles now). */
  setMax(max: number): void {
    this.max = Math.max(1, max);
    this.evict();
  }

  /** @internal */
  touch(e: FilePoolEntry, pool: FilePool): void {
    this.lru.delete(e);
    this.lru.set(e, pool);
  }

  /** @internal */
  drop(e: FilePoolEntry): void {
    this.lru.delete(e);
  }

  /** @internal */
  evict(): void {
    if (this.lru.size <= this.max) return;
    for (const [e, pool] of this.lru) {
      if (this.lru.size <= this.max) break;
      if (e.users === 0 && e.handle) pool.evictEntry(e);
    }
  }
}

const NO_ENTRIES: ReadonlyMap<string, FilePoolEntry> = new Map();

export class FilePool {
  /**
   * Open files by path, least recently used first. Made by the first open and dropped when the
   * last file closes: after a check most storages of a large session hold no file (~0.2 KB).
   */
  private byPath: Map<string, FilePoolEntry> | undefined;
  private closed = false;

  private get entries(): ReadonlyMap<string, FilePoolEntry> {
    return this.byPath ?? NO_ENTRIES;
  }

  private put(path: string, e: FilePoolEntry): void {
    (this.byPath ??= new Map()).set(path, e);
  }

  private remove(path: string): void {
    if (this.byPath?.delete(path) && this.byPath.size === 0) this.byPath = undefined;
  }

  constructor(
    readonly maxOpen = 64,
    private readonly budget?: OpenFileBudget,
  ) {}

  get openCount(): number {
    return this.entries.size;
  }

  /**
   * A handle for `path`, opened read-only (fails with ENOENT if missing) or read-write (created
   * when missing; the caller makes the directory). Symlinks are refused (ELOOP).
   */
  async acquire(path: string, writable: boolean): Promise<Lease> {
    if (this.closed) throw new Error('file pool closed');
    let entry = this.entries.get(path);
    if (entry && writable && !entry.writable) {
      this.retire(path, entry);
      entry = undefined;
    }
    if (!entry) {
      const e: FilePoolEntry = {
        path,
        opening: open(path, writable ? WRITE_FLAGS : READ_FLAGS, 0o644),
        handle: undefined,
        writable,
        users: 0,
        retired: false,
      };
      entry = e;
      this.put(path, e);
      e.opening.then(
        (h) => (e.handle = h),
        () => {
          this.budget?.drop(e);
          if (this.entries.get(path) === e) this.remove(path);
        },
      );
    } else {
      // Most recently used goes to the end of the Map's order.
      this.byPath!.delete(path);
      this.byPath!.set(path, entry);
    }
    this.budget?.touch(entry, this);
    entry.users++;
    let handle: FileHandle;
    try {
      handle = await entry.opening;
    } catch (err) {
      entry.users--;
      throw err;
    }
    const e = entry;
    this.evict();
    let released = false;
    return {
      handle,
      release: () => {
        if (released) return;
        released = true;
        e.users--;
        if (e.users === 0 && e.retired) void handle.close().catch(() => undefined);
        else this.evict();
      },
    };
  }

  /** Closes the handle of `path` when idle (e.g. before deleting or renaming the file). */
  forget(path: string): void {
    const e = this.entries.get(path);
    if (e) this.retire(path, e);
  }

  /**
   * Paths whose open handle no longer is the file at that path (deleted or replaced behind our
   * back). Those handles are dropped, so the next access opens the path afresh.
   */
  async stale(): Promise<string[]> {
    const out: string[] = [];
    await Promise.all(
      [...this.entries].map(async ([path, e]) => {
        const h = e.handle;
        if (!h) return;
        const [fromHandle, fromPath] = await Promise.all([
          h.stat().catch(() => undefined),
          stat(path).catch(() => undefined),
        ]);
        if (fromHandle && fromPath && fromHandle.ino === fromPath.ino && fromHandle.dev === fromPath.dev)
          return;
        out.push(path);
        if (this.entries.get(path) === e) this.retire(path, e);
      }),
    );
    return out.sort();
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.byPath = undefined;
    for (const e of all) this.budget?.drop(e);
    await Promise.all(
      all.map(async (e) => {
        const h = await e.opening.catch(() => undefined);
        await h?.close().catch(() => undefined);
      }),
    );
  }

  /** The budget closes this idle handle (@internal). */
  evictEntry(e: FilePoolEntry): void {
    if (this.entries.get(e.path) === e) this.retire(e.path, e);
    else this.budget?.drop(e);
  }

  private retire(path: string, e: FilePoolEntry): void {
    this.remove(path);
    this.budget?.drop(e);
    e.retired = true;
    if (e.users === 0) void e.opening.then((h) => h.close()).catch(() => undefined);
  }

  private evict(): void {
    if (this.entries.size > this.maxOpen)
      for (const [path, e] of this.entries) {
        if (this.entries.size <= this.maxOpen) break;
        if (e.users === 0 && e.handle) this.retire(path, e);
      }
    this.budget?.evict();
  }
}
