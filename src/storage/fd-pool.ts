/**
 * A bounded LRU pool of open file handles. Handles in use are never closed under a caller:
 * eviction skips them (the pool may briefly exceed its bound) and a handle replaced by a
 * writable one is closed once its last user releases it.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';

export interface Lease {
  readonly handle: FileHandle;
  release(): void;
}

interface Entry {
  opening: Promise<FileHandle>;
  handle: FileHandle | undefined;
  writable: boolean;
  users: number;
  retired: boolean;
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const WRITE_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW;

export class FilePool {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(readonly maxOpen = 64) {}

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
      const e: Entry = {
        opening: open(path, writable ? WRITE_FLAGS : READ_FLAGS, 0o644),
        handle: undefined,
        writable,
        users: 0,
        retired: false,
      };
      entry = e;
      this.entries.set(path, e);
      e.opening.then(
        (h) => (e.handle = h),
        () => this.entries.get(path) === e && this.entries.delete(path),
      );
    } else {
      // Most recently used goes to the end of the Map's order.
      this.entries.delete(path);
      this.entries.set(path, entry);
    }
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
    this.entries.clear();
    await Promise.all(
      all.map(async (e) => {
        const h = await e.opening.catch(() => undefined);
        await h?.close().catch(() => undefined);
      }),
    );
  }

  private retire(path: string, e: Entry): void {
    this.entries.delete(path);
    e.retired = true;
    if (e.users === 0) void e.opening.then((h) => h.close()).catch(() => undefined);
  }

  private evict(): void {
    if (this.entries.size <= this.maxOpen) return;
    for (const [path, e] of this.entries) {
      if (this.entries.size <= this.maxOpen) break;
      if (e.users === 0 && e.handle) this.retire(path, e);
    }
  }
}
