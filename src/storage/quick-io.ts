/**
 * Small metadata file I/O — resume files, .torrent files, stats of a torrent's files — on the
 * engine's thread while it is quick, as span writes are (sync-policy.ts). A restart of 1,000
 * torrents reads 2,000 small files and stats 1,000 more: as thread-pool jobs that was ~9,000
 * hand-offs (open, fstat, read, close each), which cost the main thread more than the syscalls
 * (a page-cache read of a 220-byte resume file takes microseconds). A call that blocks past the
 * policy's bound sends the following ones to the pool for its back-off, so a cold or slow disk
 * stalls the event loop about that long once, not once per file. Files larger than
 * QUICK_READ_BYTES are always read on the pool.
 */
import {
  close,
  closeSync,
  fstat,
  fstatSync,
  open,
  openSync,
  read,
  readSync,
  stat,
  statSync,
  type Stats,
} from 'node:fs';
import { promisify } from 'node:util';
import { SyncPolicy } from './sync-policy.js';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const readAsync = promisify(read);
const closeAsync = promisify(close);

function statAsync(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => stat(path, (e, s) => (e ? reject(e) : resolve(s))));
}

/** Files up to this size may be read synchronously (a copy from the page cache of ~0.1 ms). */
export const QUICK_READ_BYTES = 1 << 20;

/** The error for a file larger than the caller allows. */
export type TooLarge = (size: number, maxBytes: number) => Error;

const tooLargeDefault: TooLarge = (size, maxBytes) =>
  new Error(`file is ${size} bytes, larger than ${maxBytes}`);

export class QuickIo {
  constructor(
    readonly policy: SyncPolicy = new SyncPolicy('auto'),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A file's bytes; fs errors (ENOENT among them) as thrown, a file over `maxBytes` as `tooLarge`. */
  async readFile(path: string, maxBytes: number, tooLarge: TooLarge = tooLargeDefault): Promise<Buffer> {
    const start = this.now();
    let here = this.policy.sync(start);
    const fd = here ? openSync(path, 'r') : await openAsync(path, 'r');
    try {
      // The size from the open descriptor: a stat before the read would cost another call.
      const { size } = here ? fstatSync(fd) : await fstatAsync(fd);
      if (size > maxBytes) throw tooLarge(size, maxBytes);
      if (here && size <= QUICK_READ_BYTES) return readHere(fd, size);
      if (here) {
        // A larger file: its open and stat were here, its bytes come from the pool.
        this.policy.keepSync(start, this.now());
        here = false;
      }
      return await readOnPool(fd, size);
    } finally {
      if (here) {
        closeSync(fd);
        this.policy.keepSync(start, this.now());
      } else await closeAsync(fd).catch(() => undefined);
    }
  }

  /** As readFile, but undefined when the file does not exist. */
  async readFileIfExists(path: string, maxBytes: number, tooLarge?: TooLarge): Promise<Buffer | undefined> {
    try {
      return await this.readFile(path, maxBytes, tooLarge);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** A path's stats (fs errors, ENOENT among them, as thrown). */
  async stat(path: string): Promise<Stats> {
    const start = this.now();
    if (this.policy.sync(start)) {
      try {
        return statSync(path);
      } finally {
        this.policy.keepSync(start, this.now());
      }
    }
    return statAsync(path);
  }
}

/** One for the process: the reads it makes go to the same disks, whichever session asks. */
export const quickIo = new QuickIo();

/** `size` bytes from an open descriptor, here (fewer if the file shrank meanwhile). */
function readHere(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const n = readSync(fd, buf, at, size - at, at);
    if (n === 0) break;
    at += n;
  }
  return at === size ? buf : buf.subarray(0, at);
}

/** The same on the thread pool. */
async function readOnPool(fd: number, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await readAsync(fd, buf, at, size - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at === size ? buf : buf.subarray(0, at);
}
