/**
 * Writing one contiguous span of one file: how big each write syscall is, and whether the
 * writes run right here (synchronously, on the caller's thread) or on libuv's thread pool.
 *
 * A buffered write lands in the page cache, so it is a memory copy unless the kernel throttles
 * the writer (too many dirty pages for the disk to keep up) or the file is on slow or network
 * storage. Each thread-pool job costs two thread wake-ups and a promise on top of the copy:
 * at 32 writes per 1 MiB piece that was ~0.5 s of CPU per GiB downloaded, more than the copies
 * themselves (~0.33 s). Transmission and rtorrent write on their one thread for this reason.
 * `SyncPolicy` writes synchronously while that stays quick and falls back to the pool, with
 * a growing back-off, as soon as a write blocks.
 */
import { writevSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { SyncPolicy } from './sync-policy.js';

/**
 * Bytes per synchronous write syscall. Linux (6.x, ext4) gives a buffered write a page-cache folio
 * sized to the write; larger folios come from the buddy allocator's high-order blocks, and on a VM
 * whose balloon reclaims free high-order blocks each such page is a host fault on first touch.
 * Measured on ours, writing 1 GiB: 16 KiB writes 0.31–0.36 s of CPU in every run, 32 KiB writes
 * 0.27–1.44 s, 1 MiB writes 0.30–2.6 s. libtorrent writes 16 KiB blocks too.
 */
export const SYNC_CHUNK = 16 * 1024;
/** Bytes per thread-pool write: twice as large, as each job's hand-off costs more than the copy. */
export const ASYNC_CHUNK = 32 * 1024;

/**
 * Writes `vec` (one file's bytes) at `position`: synchronously in SYNC_CHUNK writes while the
 * policy allows, the rest as ASYNC_CHUNK pool writes issued together. Every write has settled
 * when the promise does, so none outlives the caller's handle.
 */
export async function writeSpan(
  handle: FileHandle,
  vec: readonly Buffer[],
  position: number,
  policy: SyncPolicy,
  now: () => number = () => performance.now(),
): Promise<void> {
  const length = byteLength(vec);
  const cursor = new BufferCursor(vec);
  let at = 0;
  const start = now();
  if (policy.sync(start)) {
    let quick = true;
    while (at < length && quick) {
      const part = cursor.take(SYNC_CHUNK);
      writeAllAtSync(handle.fd, part, position + at);
      at += byteLength(part);
      quick = policy.keepSync(start, now());
    }
    if (at >= length) return;
  }
  if (length - at <= ASYNC_CHUNK) return writeAllAt(handle, cursor.take(ASYNC_CHUNK), position + at);
  const jobs: Promise<void>[] = [];
  for (; at < length; at += ASYNC_CHUNK)
    jobs.push(writeAllAt(handle, cursor.take(ASYNC_CHUNK), position + at));
  const failed = (await Promise.allSettled(jobs)).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

function byteLength(vec: readonly Buffer[]): number {
  let n = 0;
  for (const b of vec) n += b.length;
  return n;
}

/** Writes all of `vec` at `position` (writev may write less than asked). */
async function writeAllAt(handle: FileHandle, vec: Buffer[], position: number): Promise<void> {
  let pos = position;
  let rest = vec;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, pos);
    pos += bytesWritten;
    rest = dropBytes(rest, bytesWritten);
  }
}

function writeAllAtSync(fd: number, vec: Buffer[], position: number): void {
  let pos = position;
  let rest = vec;
  while (rest.length > 0) {
    const n = writevSync(fd, rest, pos);
    pos += n;
    rest = dropBytes(rest, n);
  }
}

/** Cuts a list of buffers into consecutive runs of bytes, as views (no copies), in one pass. */
export class BufferCursor {
  private index = 0;
  private offset = 0;

  constructor(private readonly parts: readonly Buffer[]) {}

  /** The next `n` bytes (fewer if the buffers end first). */
  take(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (n > 0 && this.index < this.parts.length) {
      const p = this.parts[this.index]!;
      const k = Math.min(n, p.length - this.offset);
      out.push(p.subarray(this.offset, this.offset + k));
      n -= k;
      this.offset += k;
      if (this.offset === p.length) {
        this.index++;
        this.offset = 0;
      }
    }
    return out;
  }
}

function dropBytes(vec: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < vec.length && n >= vec[i]!.length) n -= vec[i++]!.length;
  if (i >= vec.length) return [];
  const rest = vec.slice(i);
  rest[0] = rest[0]!.subarray(n);
  return rest;
}
