/**
 * A pool of worker_threads that compute piece digests off the main thread (SHA-1 pieces, BEP 52
 * Merkle roots), for torrent creation, downloads and hash checks. Workers start lazily, are unref'd while idle (an idle pool never
 * keeps the process alive) and are replaced if one dies.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { NbtError } from '../util/errors.js';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import type {
  FileHashJob,
  FileMerkleJob,
  FileSegment,
  HashJob,
  HashReply,
  MerkleHashJob,
  MerklePiece,
  PlacedSegment,
} from './worker.js';

export type { FileSegment, MerklePiece, PlacedSegment } from './worker.js';

export interface HashPoolOptions {
  /** Number of worker threads (default os.availableParallelism()). */
  threads?: number;
  /**
   * Workers idle this long are stopped, giving their memory back (a worker costs ~10 MB);
   * the next job starts them again. Default 10 s; 0 keeps them.
   */
  idleTimeoutMs?: number;
  /** Time source for the idle timeout (default the system clock). */
  clock?: Clock;
}

export interface HashPiecesOptions {
  /**
   * Hand the input's ArrayBuffer to a worker instead of copying it. Only honoured when `data`
   * spans its whole (non-shared) ArrayBuffer; the input is then detached (length 0) once
   * `hashPieces` returns. Default false: the input is copied and stays usable.
   */
  transfer?: boolean;
}

/** Inputs below this size go to one worker; larger ones are split across the pool. */
const SPLIT_MIN = 1 << 21;

interface Task {
  id: number;
  job: HashJob | FileHashJob | FileMerkleJob | MerkleHashJob;
  transfer: ArrayBuffer[];
  resolve: (reply: { digests: Uint8Array; data?: Uint8Array }) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
}

export class HashPool {
  readonly threads: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly idleTimeoutMs: number;
  private readonly clock: Clock;
  private idleTimer: TimerHandle | undefined;

  constructor(o: HashPoolOptions = {}) {
    const n = o.threads ?? availableParallelism();
    if (!Number.isSafeInteger(n) || n < 1 || n > 1024)
      throw new NbtError('HASH_BAD_THREADS', `hash pool: thread count must be 1..1024, got ${n}`);
    this.threads = n;
    this.idleTimeoutMs = o.idleTimeoutMs ?? 10_000;
    this.clock = o.clock ?? systemClock;
  }

  /** Worker threads running now (0 once idle workers were stopped). */
  get workerCount(): number {
    return this.slots.length;
  }

  /** Whether close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The concatenated 20-byte SHA-1 digests of each `pieceLength` slice of `data` (the last
   * slice may be shorter). The input is never modified; it is detached only with
   * `{ transfer: true }` (see HashPiecesOptions). A Buffer over a SharedArrayBuffer is shared
   * with the workers without any copy.
   */
  async hashPieces(data: Uint8Array, pieceLength: number, opts: HashPiecesOptions = {}): Promise<Buffer> {
    if (!Number.isSafeInteger(pieceLength) || pieceLength < 1)
      throw new NbtError(
        'HASH_BAD_PIECE_LENGTH',
        `hash pool: piece length must be a positive integer, got ${pieceLength}`,
      );
    if (this.closed) throw new NbtError('HASH_POOL_CLOSED', 'hash pool is closed');
    const length = data.byteLength;
    if (length === 0) return Buffer.alloc(0);

    const shared = data.buffer instanceof SharedArrayBuffer;
    const ownsBuffer = !shared && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (opts.transfer && ownsBuffer) {
      const { digests } = await this.submit({ data, offset: 0, length, pieceLength }, [
        data.buffer as ArrayBuffer,
      ]);
      return toBuffer(digests);
    }

    const pieces = Math.ceil(length / pieceLength);
    const parts = length < SPLIT_MIN || this.threads === 1 ? 1 : Math.min(this.threads, pieces);
    const perPart = Math.ceil(pieces / parts) * pieceLength;
    const jobs: Promise<{ digests: Uint8Array }>[] = [];
    for (let offset = 0; offset < length; offset += perPart) {
      const partLength = Math.min(perPart, length - offset);
      if (shared) {
        jobs.push(this.submit({ data, offset, length: partLength, pieceLength }, []));
      } else {
        // A structured clone of a view copies its whole ArrayBuffer, so copy just this part.
        const copy = new Uint8Array(data.subarray(offset, offset + partLength));
        jobs.push(this.submit({ data: copy, offset: 0, length: partLength, pieceLength }, [copy.buffer]));
      }
    }
    const results = (await Promise.all(jobs)).map((r) => r.digests);
    return results.length === 1 ? toBuffer(results[0]!) : Buffer.concat(results);
  }

  /**
   * Starts all workers now rather than on first use, so their start-up overlaps other work
   * (e.g. walking a directory). They stay unref'd until given a job.
   */
  warmUp(): void {
    while (!this.closed && this.slots.length < this.threads) this.spawn();
    this.armIdleTimer();
  }

  /**
   * Lends `data` to one worker without copying and gets it back: resolves with the digests
   * and `data`, the same memory as a new Buffer. `data` must span its whole non-shared
   * ArrayBuffer (e.g. `Buffer.allocUnsafeSlow(n)`); the original reference is detached from
   * the call on. Reusing a few such buffers is the fastest way to stream data through the
   * pool: no copies and no fresh memory per call. `length` hashes only the first bytes (a
   * buffer reused for a shorter last chunk).
   */
  async hashLent(
    data: Buffer,
    pieceLength: number,
    length = data.byteLength,
  ): Promise<{ digests: Buffer; data: Buffer }> {
    if (!Number.isSafeInteger(pieceLength) || pieceLength < 1)
      throw new NbtError(
        'HASH_BAD_PIECE_LENGTH',
        `hash pool: piece length must be a positive integer, got ${pieceLength}`,
      );
    if (this.closed) throw new NbtError('HASH_POOL_CLOSED', 'hash pool is closed');
    assertTransferable(data, 'hashLent');
    if (!Number.isSafeInteger(length) || length < 0 || length > data.byteLength)
      throw new RangeError(`hash pool: length ${length} outside 0..${data.byteLength}`);
    if (length === 0) return { digests: Buffer.alloc(0), data };
    const r = await this.submit({ data, offset: 0, length, pieceLength, returnData: true }, [
      data.buffer as ArrayBuffer,
    ]);
    return { digests: toBuffer(r.digests), data: toBuffer(r.data!) };
  }

  /**
   * Reads the file segments in a worker and hashes their concatenation in `pieceLength`
   * slices (the last may be shorter). No data crosses threads, so this is the cheapest way
   * to hash data on disk (creation, hash checks). Read problems reject with
   * HASH_READ_FAILED, or HASH_FILE_CHANGED when a file is shorter than its segment.
   * Keep each call to a few MiB: a worker holds that much while it works.
   */
  async hashFiles(segments: readonly FileSegment[], pieceLength: number): Promise<Buffer> {
    if (!Number.isSafeInteger(pieceLength) || pieceLength < 1)
      throw new NbtError(
        'HASH_BAD_PIECE_LENGTH',
        `hash pool: piece length must be a positive integer, got ${pieceLength}`,
      );
    if (this.closed) throw new NbtError('HASH_POOL_CLOSED', 'hash pool is closed');
    const total = segments.reduce((s, g) => s + g.length, 0);
    if (!Number.isSafeInteger(total) || total > 1 << 30)
      throw new NbtError('HASH_TOO_LARGE', 'hash pool: hashFiles takes at most 1 GiB per call');
    if (total === 0) return Buffer.alloc(0);
    const job: Omit<FileHashJob, 'id'> = {
      kind: 'files',
      segments: segments.map((g) => ({ ...g })),
      pieceLength,
    };
    const { digests } = await this.submitAny(job);
    return toBuffer(digests);
  }

  /**
   * hashMerkle over data on disk: one worker reads each segment to byte `at` of a `span`-byte
   * buffer (zeros where no segment lands: pad after a file) and hashes the pieces there, so no
   * data crosses threads (v2 and hybrid creation). Read problems reject as in hashFiles.
   * Keep each call to a few MiB: a worker holds `span` bytes while it works.
   */
  async hashFilesMerkle(
    segments: readonly PlacedSegment[],
    span: number,
    pieces: readonly MerklePiece[],
    sha1 = false,
  ): Promise<Buffer> {
    if (!Number.isSafeInteger(span) || span < 0 || span > 1 << 30)
      throw new NbtError('HASH_TOO_LARGE', 'hash pool: hashFilesMerkle takes at most 1 GiB per call');
    const inSpan = (at: number, length: number): boolean =>
      [at, length].every((n) => Number.isSafeInteger(n) && n >= 0) && at + length <= span;
    const bad = segments.find(
      (g) => !inSpan(g.at, g.length) || !Number.isSafeInteger(g.offset) || g.offset < 0,
    );
    if (bad)
      throw new NbtError(
        'HASH_BAD_SEGMENT',
        `hash pool: segment ${JSON.stringify(bad)} does not fit ${span} bytes`,
      );
    this.checkMerkle({ byteLength: span }, pieces);
    if (pieces.length === 0) return Buffer.alloc(0);
    const job: Omit<FileMerkleJob, 'id'> = {
      kind: 'file-merkle',
      segments: segments.map((g) => ({ ...g })),
      span,
      pieces: pieces.map((p) => ({ ...p })),
      sha1,
    };
    return toBuffer((await this.submitAny(job)).digests);
  }

  /**
   * BEP 52 pieces of `data`, hashed in one worker: per piece its Merkle root (32 bytes), preceded
   * with `sha1` by the SHA-1 of its whole bytes (20; a hybrid checks both). A Buffer over a
   * SharedArrayBuffer is shared with the worker; any other input is copied (only the span the
   * pieces cover) and stays usable.
   */
  async hashMerkle(data: Uint8Array, pieces: readonly MerklePiece[], sha1 = false): Promise<Buffer> {
    this.checkMerkle(data, pieces);
    if (pieces.length === 0) return Buffer.alloc(0);
    if (data.buffer instanceof SharedArrayBuffer) {
      // Shared memory (the downloader's piece buffers when the pool may hash): no copy at all.
      const job = { kind: 'merkle' as const, data, pieces: pieces.map((p) => ({ ...p })), sha1 };
      return toBuffer((await this.submitAny(job)).digests);
    }
    const from = Math.min(...pieces.map((p) => p.at));
    const to = Math.max(...pieces.map((p) => p.at + p.size));
    const copy = new Uint8Array(data.subarray(from, to));
    const moved = pieces.map((p) => ({ ...p, at: p.at - from }));
    const { digests } = await this.submitAny({ kind: 'merkle', data: copy, pieces: moved, sha1 }, [
      copy.buffer,
    ]);
    return toBuffer(digests);
  }

  /**
   * hashMerkle on a lent buffer (as hashLent): `data` spans its whole non-shared ArrayBuffer,
   * is detached from the call on, and comes back with the digests.
   */
  async hashMerkleLent(
    data: Buffer,
    pieces: readonly MerklePiece[],
    sha1 = false,
  ): Promise<{ digests: Buffer; data: Buffer }> {
    this.checkMerkle(data, pieces);
    assertTransferable(data, 'hashMerkleLent');
    const r = await this.submitAny(
      { kind: 'merkle', data, pieces: pieces.map((p) => ({ ...p })), sha1, returnData: true },
      [data.buffer as ArrayBuffer],
    );
    return { digests: toBuffer(r.digests), data: toBuffer(r.data!) };
  }

  private checkMerkle(data: { byteLength: number }, pieces: readonly MerklePiece[]): void {
    if (this.closed) throw new NbtError('HASH_POOL_CLOSED', 'hash pool is closed');
    for (const p of pieces) {
      const ok =
        [p.at, p.size, p.dataLength, p.width].every((n) => Number.isSafeInteger(n) && n >= 0) &&
        p.at + p.size <= data.byteLength &&
        p.dataLength <= p.size &&
        p.width >= 1 &&
        (p.width & (p.width - 1)) === 0 &&
        Math.ceil(p.dataLength / (16 * 1024)) <= p.width;
      if (!ok)
        throw new NbtError(
          'HASH_BAD_PIECE_LENGTH',
          `hash pool: Merkle piece ${JSON.stringify(p)} does not fit ${data.byteLength} bytes`,
        );
    }
  }

  /** Stops every worker; pending and later calls reject with HASH_POOL_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.idleTimer?.cancel();
    const err = (): NbtError => new NbtError('HASH_POOL_CLOSED', 'hash pool is closed');
    for (const t of this.queue.splice(0)) t.reject(err());
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.task?.reject(err());
      // A reply already on its way finds no task and leaves the worker ref'd while it stops.
      s.task = undefined;
    }
    // Idle workers are unref'd; ref'd while they stop, or the event loop may end before their
    // exit and the caller's `await close()` never continues (seen in CI: a job's reply that
    // arrived after close() unref'd its worker mid-terminate).
    await Promise.all(
      slots.map((s) => {
        s.worker.ref();
        return s.worker.terminate();
      }),
    );
  }

  private submit(
    fields: Omit<HashJob, 'id'>,
    transfer: ArrayBuffer[],
  ): Promise<{ digests: Uint8Array; data?: Uint8Array }> {
    return this.submitAny(fields, transfer);
  }

  private submitAny(
    fields:
      Omit<HashJob, 'id'> | Omit<FileHashJob, 'id'> | Omit<FileMerkleJob, 'id'> | Omit<MerkleHashJob, 'id'>,
    transfer: ArrayBuffer[] = [],
  ): Promise<{ digests: Uint8Array; data?: Uint8Array }> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.queue.push({ id, job: { id, ...fields }, transfer, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.task === undefined);
      if (!slot) {
        if (this.slots.length >= this.threads) return;
        slot = this.spawn();
      }
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage(task.job, task.transfer);
    }
    this.armIdleTimer();
  }

  /** Once no worker has had a job for idleTimeoutMs, stop them all. */
  private armIdleTimer(): void {
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    if (this.closed || this.idleTimeoutMs <= 0 || this.slots.length === 0) return;
    if (this.queue.length > 0 || this.slots.some((s) => s.task !== undefined)) return;
    this.idleTimer = this.clock.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.queue.length > 0 || this.slots.some((s) => s.task !== undefined)) return;
      for (const s of this.slots.splice(0)) void s.worker.terminate();
    }, this.idleTimeoutMs);
  }

  private spawn(): Slot {
    const worker = startWorker(new URL('./worker.js', import.meta.url));
    const slot: Slot = { worker, task: undefined };
    this.slots.push(slot);
    worker.on('message', (reply: HashReply) => {
      const task = slot.task;
      if (!task || task.id !== reply.id) return;
      slot.task = undefined;
      worker.unref();
      if ('error' in reply) task.reject(new NbtError(reply.code, `hash: ${reply.error}`));
      else task.resolve(reply);
      this.dispatch();
    });
    const lost = (why: string): void => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      slot.task?.reject(new NbtError('HASH_WORKER_FAILED', `hash worker died: ${why}`));
      slot.task = undefined;
      this.dispatch();
    };
    worker.on('error', (e: Error) => lost(e.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    worker.unref();
    return slot;
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

let shared: HashPool | undefined;

/** A process-wide pool, created on first use (and again if someone closed it). */
export function sharedHashPool(): HashPool {
  if (!shared || shared.isClosed) shared = new HashPool();
  return shared;
}

/** The Node flags workers start with, settled by the first worker that started. */
let acceptedExecArgv: string[] | undefined;

/**
 * Starts a worker with the host's Node flags where Worker accepts them. Workers take neither
 * main-script flags (`-e`, `--input-type`) nor V8 or process-wide ones (`--expose-gc`,
 * `--max-old-space-size`, `--title`: Worker throws ERR_WORKER_INVALID_EXEC_ARGV), so try the
 * host's flags first, then only those that change how modules load, then none.
 */
function startWorker(url: URL): Worker {
  if (acceptedExecArgv) return new Worker(url, { execArgv: acceptedExecArgv });
  const inherited = withoutMainScriptFlags(process.execArgv);
  const tries = [inherited, loaderFlags(inherited), []];
  for (const [i, execArgv] of tries.entries()) {
    try {
      const w = new Worker(url, { execArgv });
      acceptedExecArgv = execArgv;
      return w;
    } catch (e) {
      const invalid = (e as { code?: string }).code === 'ERR_WORKER_INVALID_EXEC_ARGV';
      if (!invalid || i === tries.length - 1) throw e;
    }
  }
  throw new Error('unreachable');
}

/** Flags with a separate value (`--import x`): the value goes wherever its flag goes. */
const TAKES_VALUE =
  /^(--input-type|--eval|-e|--print|-p|--import|--require|-r|--loader|--experimental-loader|--conditions|-C|--disable-warning)$/;

/** `[flag, value?]` groups of an argv. */
function flagGroups(argv: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (TAKES_VALUE.test(a) && i + 1 < argv.length) out.push([a, argv[++i]!]);
    else out.push([a]);
  }
  return out;
}

/** Drops the flags that only make sense for a main script (`node --input-type module -e …`). */
function withoutMainScriptFlags(argv: readonly string[]): string[] {
  return flagGroups(argv)
    .filter(([f]) => !/^(--input-type|--eval|-e|--print|-p)(=|$)/.test(f!))
    .flat();
}

/** Only the flags that affect how a worker's modules load and report (loaders, conditions). */
function loaderFlags(argv: readonly string[]): string[] {
  const keep =
    /^(--import|--require|-r|--loader|--experimental-[a-z-]+|--conditions|-C|--no-warnings|--disable-warning|--enable-source-maps|--no-deprecation)(=|$)/;
  return flagGroups(argv)
    .filter(([f]) => keep.test(f!))
    .flat();
}

/** A lent buffer moves to the worker and back: it must own its whole (non-shared) ArrayBuffer. */
function assertTransferable(data: Uint8Array, method: string): void {
  if (
    data.buffer instanceof SharedArrayBuffer ||
    data.byteOffset !== 0 ||
    data.byteLength !== data.buffer.byteLength
  )
    throw new NbtError(
      'HASH_NOT_TRANSFERABLE',
      `hash pool: ${method} needs a buffer that spans its whole ArrayBuffer`,
    );
}
