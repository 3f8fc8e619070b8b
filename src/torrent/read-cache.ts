/**
 * Whole verified pieces read from storage, kept least-recently-used up to a byte budget. A peer
 * asks for a piece block by block; reading the piece once and serving its blocks from memory
 * turns many small reads into one. Concurrent misses share one read.
 */
import type { Storage } from '../storage/storage.js';

interface ReadCacheMaps {
  readonly entries: Map<number, Promise<Buffer>>;
  readonly sizes: Map<number, number>;
}

/** Where a ReadCache reads from (TorrentDisk): an object, not three callbacks per torrent. */
export interface ReadCacheSource {
  storage(): Storage;
  pieceSize(piece: number): number;
  /** Runs on every piece read before it is served; a throw (data no longer valid) fails the read. */
  checkRead(piece: number, data: Buffer): Promise<void>;
}

export class ReadCache {
  // Made on the first read: an idle seed's cache holds nothing (two empty Maps, ~0.4 KB).
  private maps: ReadCacheMaps | undefined;
  private get m(): ReadCacheMaps {
    return (this.maps ??= {
      entries: new Map(),
      sizes: new Map(),
    });
  }
  private bytes = 0;

  constructor(
    private readonly source: ReadCacheSource,
    private readonly budget: number,
  ) {}

  /** The whole piece (a shared buffer: do not modify). */
  get(piece: number): Promise<Buffer> {
    const hit = this.maps?.entries.get(piece);
    if (hit) {
      // Re-insert: Map order is the LRU order.
      this.maps?.entries.delete(piece);
      this.m.entries.set(piece, hit);
      return hit;
    }
    const source = this.source;
    const size = source.pieceSize(piece);
    const read = source.storage().read(piece, 0, size);
    const p = read.then(async (data) => (await source.checkRead(piece, data), data));
    this.m.entries.set(piece, p);
    this.m.sizes.set(piece, size);
    this.bytes += size;
    p.catch(() => this.drop(piece));
    this.evict();
    return p;
  }

  drop(piece: number): void {
    if (!this.maps?.entries.delete(piece)) return;
    this.bytes -= this.maps?.sizes.get(piece) ?? 0;
    this.maps?.sizes.delete(piece);
  }

  clear(): void {
    this.maps?.entries.clear();
    this.maps?.sizes.clear();
    this.bytes = 0;
  }

  private evict(): void {
    for (const piece of this.m.entries.keys()) {
      if (this.bytes <= this.budget || this.m.entries.size <= 1) break;
      this.drop(piece);
    }
  }
}
