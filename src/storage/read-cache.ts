/**
 * A small LRU cache of whole pieces for serving uploads: peers request a piece block by block,
 * so the first request reads the whole piece once and the following ones are memory copies.
 * Concurrent misses on one piece share a single read. Pieces larger than a quarter of the
 * budget are not cached (their blocks are read directly).
 */
import { pieceRangeOffset, pieceSize } from './layout.js';
import type { Storage } from './storage.js';

export class PieceReadCache {
  private readonly pieces = new Map<number, Promise<Buffer>>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly storage: Storage,
    readonly maxBytes = 16 << 20,
  ) {}

  async read(piece: number, offset: number, length: number): Promise<Buffer> {
    const layout = this.storage.layout;
    pieceRangeOffset(layout, piece, offset, length);
    const size = pieceSize(layout, piece);
    if (size * 4 > this.maxBytes) return this.storage.read(piece, offset, length);
    let entry = this.pieces.get(piece);
    if (entry) {
      this.hits++;
      this.pieces.delete(piece);
      this.pieces.set(piece, entry);
    } else {
      this.misses++;
      entry = this.storage.read(piece, 0, size);
      this.pieces.set(piece, entry);
      this.bytes += size;
      entry.catch(() => this.invalidate(piece, entry));
      this.trim();
    }
    const data = await entry;
    return Buffer.from(data.subarray(offset, offset + length));
  }

  /** Forget a piece (it was rewritten, or failed its check). */
  invalidate(piece: number, only?: Promise<Buffer>): void {
    const e = this.pieces.get(piece);
    if (!e || (only && e !== only)) return;
    this.pieces.delete(piece);
    const layout = this.storage.layout;
    this.bytes -= pieceSize(layout, piece);
  }

  clear(): void {
    this.pieces.clear();
    this.bytes = 0;
  }

  get cachedBytes(): number {
    return this.bytes;
  }

  private trim(): void {
    for (const piece of this.pieces.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.invalidate(piece);
    }
  }
}
