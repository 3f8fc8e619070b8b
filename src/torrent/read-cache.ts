/**
 * Whole verified pieces read from storage, kept least-recently-used up to a byte budget. A peer
 * asks for a piece block by block; reading the piece once and serving its blocks from memory
 * turns many small reads into one. Concurrent misses share one read.
 */
import type { Storage } from '../storage/storage.js';

export class ReadCache {
  private readonly entries = new Map<number, Promise<Buffer>>();
  private readonly sizes = new Map<number, number>();
  private bytes = 0;

  constructor(
    private readonly storage: () => Storage,
    private readonly pieceSize: (piece: number) => number,
    private readonly budget: number,
    /** Runs on every piece read before it is served; a throw (data no longer valid) fails the read. */
    private readonly check?: (piece: number, data: Buffer) => Promise<void>,
  ) {}

  /** The whole piece (a shared buffer: do not modify). */
  get(piece: number): Promise<Buffer> {
    const hit = this.entries.get(piece);
    if (hit) {
      // Re-insert: Map order is the LRU order.
      this.entries.delete(piece);
      this.entries.set(piece, hit);
      return hit;
    }
    const size = this.pieceSize(piece);
    const read = this.storage().read(piece, 0, size);
    const check = this.check;
    const p = check ? read.then(async (data) => (await check(piece, data), data)) : read;
    this.entries.set(piece, p);
    this.sizes.set(piece, size);
    this.bytes += size;
    p.catch(() => this.drop(piece));
    this.evict();
    return p;
  }

  drop(piece: number): void {
    if (!this.entries.delete(piece)) return;
    this.bytes -= this.sizes.get(piece) ?? 0;
    this.sizes.delete(piece);
  }

  clear(): void {
    this.entries.clear();
    this.sizes.clear();
    this.bytes = 0;
  }

  private evict(): void {
    for (const piece of this.entries.keys()) {
      if (this.bytes <= this.budget || this.entries.size <= 1) break;
      this.drop(piece);
    }
  }
}
