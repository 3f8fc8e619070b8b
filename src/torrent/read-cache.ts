/**
 * Whole verified pieces read from storage, kept least-recently-used up to a byte budget. A peer
 * asks for a piece block by block; reading the piece once and serving its blocks from memory
 * turns many small reads into one. Concurrent misses share one read.
 *
 * Evicted piece buffers are reused for later reads once nothing refers to them any more. A fresh
 * 1 MiB buffer per piece read made V8 run a full mark-compact for every ~16 MiB served (70 per
 * GiB, each a 3–6 ms pause of the main thread, and ~1 s of marking on its helper threads); a
 * libtorrent leech then took 3.0–3.1 s for 1 GiB from us against 2.4 s with the buffers reused.
 * Blocks go out as views of the piece buffer, so the uploader lends the buffer to each peer
 * (`lend`) up to that peer's stream position, and a buffer is reused only when every borrower's
 * transport has released the bytes before it; a borrower that cannot tell (uTP keeps sent bytes
 * until they are acknowledged) keeps the buffer from ever being reused, as before.
 */
import type { Storage } from '../storage/storage.js';

/** Where a ReadCache reads from (TorrentDisk): an object, not three callbacks per torrent. */
export interface ReadCacheSource {
  storage(): Storage;
  pieceSize(piece: number): number;
  /** Byte offset of the piece in the torrent (for Storage.readInto). */
  pieceOffset(piece: number): number;
  /** Runs on every piece read before it is served; a throw (data no longer valid) fails the read. */
  checkRead(piece: number, data: Buffer): Promise<void>;
}

/** Who sends views of a cached buffer: a wire peer's send path, as stream positions. */
export interface BufferBorrower {
  /** Position just past every byte queued to send so far. */
  readonly queuedEnd?: number;
  /** No byte before this position is referenced by the send path any more; undefined: cannot tell. */
  readonly releasedEnd?: number | undefined;
}

interface Entry {
  readonly buffer: Buffer;
  readonly promise: Promise<Buffer>;
  /** The read and its check have finished. */
  ready: boolean;
  /** Never reuse: a borrower cannot say when it is done with it, or the read failed. */
  escaped: boolean;
  /** Borrower → the stream position its last view of this buffer ends at. */
  loans: Map<BufferBorrower, number> | undefined;
}

interface ReadCacheMaps {
  readonly entries: Map<number, Entry>;
  /** Every buffer that may still be reused: cached, retiring or cooled. */
  readonly owned: Map<Buffer, Entry>;
  /** Evicted this turn: code that got the buffer from a resolved read may still be using it. */
  retiring: Entry[];
  /** Evicted in an earlier turn: reusable once every loan is released. */
  readonly cooled: Entry[];
  readonly spare: Buffer[];
}

/** Released buffers kept for the next reads. */
const MAX_SPARE = 4;

export class ReadCache {
  // Made on the first read: an idle seed's cache holds nothing.
  private maps: ReadCacheMaps | undefined;
  private get m(): ReadCacheMaps {
    return (this.maps ??= {
      entries: new Map(),
      owned: new Map(),
      retiring: [],
      cooled: [],
      spare: [],
    });
  }
  private bytes = 0;
  /**
   * Bytes of evicted buffers still held (retiring, cooled, spare): at most half the budget (or
   * two pieces), the oldest beyond that are left to the GC.
   */
  private parked = 0;
  private turnScheduled = false;
  /** Reads that reused a buffer (stats and tests). */
  reused = 0;

  constructor(
    private readonly source: ReadCacheSource,
    private readonly budget: number,
  ) {}

  /** The whole piece (a shared buffer: do not modify; pass views you send to `lend`). */
  get(piece: number): Promise<Buffer> {
    const hit = this.maps?.entries.get(piece);
    if (hit) {
      // Re-insert: Map order is the LRU order.
      this.m.entries.delete(piece);
      this.m.entries.set(piece, hit);
      return hit.promise;
    }
    const source = this.source;
    const size = source.pieceSize(piece);
    const buffer = this.takeSpare(size) ?? Buffer.allocUnsafe(size);
    const read = source
      .storage()
      .readInto(source.pieceOffset(piece), buffer)
      .then(async () => {
        await source.checkRead(piece, buffer);
        entry.ready = true;
        return buffer;
      });
    const entry: Entry = { buffer, promise: read, ready: false, escaped: false, loans: undefined };
    this.m.entries.set(piece, entry);
    this.m.owned.set(buffer, entry);
    this.bytes += size;
    read.catch(() => {
      entry.escaped = true;
      if (this.maps?.entries.get(piece) === entry) this.drop(piece);
    });
    this.evict();
    return read;
  }

  /** `borrower` has queued a view of `buffer` (a piece from get) to send. */
  lend(buffer: Buffer, borrower: BufferBorrower): void {
    const e = this.maps?.owned.get(buffer);
    if (!e || e.escaped) return;
    const until = borrower.queuedEnd;
    if (until === undefined || borrower.releasedEnd === undefined) {
      this.forget(e);
      return;
    }
    (e.loans ??= new Map()).set(borrower, until);
  }

  drop(piece: number): void {
    const e = this.maps?.entries.get(piece);
    if (!e) return;
    this.m.entries.delete(piece);
    this.bytes -= e.buffer.length;
    if (!e.ready || e.escaped) {
      // A read still running (or failed) may yet write into the buffer: never reuse it.
      this.forget(e);
      return;
    }
    this.m.retiring.push(e);
    this.parked += e.buffer.length;
    this.scheduleTurn();
  }

  clear(): void {
    // Everything is left to the GC: borrowers may still hold views of any of it.
    this.maps = undefined;
    this.bytes = 0;
    this.parked = 0;
  }

  private evict(): void {
    for (const piece of this.m.entries.keys()) {
      if (this.bytes <= this.budget || this.m.entries.size <= 1) break;
      this.drop(piece);
    }
  }

  private forget(e: Entry): void {
    e.escaped = true;
    this.maps?.owned.delete(e.buffer);
  }

  /**
   * A buffer of `size` bytes nobody refers to any more, if there is one. Buffers evicted in the
   * current turn are not candidates: a continuation of a resolved get() may be about to send
   * views of one, and it runs before the next turn.
   */
  private takeSpare(size: number): Buffer | undefined {
    const m = this.maps;
    if (!m) return undefined;
    for (let i = 0; i < m.cooled.length;) {
      const e = m.cooled[i]!;
      const state = this.loanState(e);
      if (state === 'lent') {
        i++;
        continue;
      }
      m.cooled.splice(i, 1);
      m.owned.delete(e.buffer);
      if (state === 'free' && m.spare.length < MAX_SPARE) m.spare.push(e.buffer);
      else this.parked -= e.buffer.length;
    }
    const at = m.spare.findIndex((b) => b.length === size);
    if (at < 0) return undefined;
    this.reused++;
    const b = m.spare.splice(at, 1)[0]!;
    this.parked -= b.length;
    return b;
  }

  private loanState(e: Entry): 'free' | 'lent' | 'escaped' {
    if (e.escaped) return 'escaped';
    if (!e.loans) return 'free';
    for (const [b, until] of e.loans) {
      const released = b.releasedEnd;
      if (released === undefined) return 'escaped';
      if (released < until) return 'lent';
    }
    return 'free';
  }

  /** Half the budget, but room for two pieces, so a budget of one or two pieces still reuses. */
  private parkLimit(e: Entry | undefined): number {
    return Math.max(this.budget / 2, 2 * (e?.buffer.length ?? 0));
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      const m = this.maps;
      if (!m) return;
      m.cooled.push(...m.retiring);
      m.retiring = [];
      while (this.parked > this.parkLimit(m.cooled[0]) && m.cooled.length > 0) {
        const e = m.cooled.shift()!;
        this.forget(e);
        this.parked -= e.buffer.length;
      }
    }).unref();
  }
}
