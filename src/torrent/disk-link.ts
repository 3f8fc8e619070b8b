/**
 * A Torrent's view of its data on disk for the piece machinery: how pieces are verified (SHA-1,
 * or v2 Merkle layers; follows a magnet's metadata), the whole-piece read cache uploads are
 * served from, the DiskWatch that notices files changed behind our back, and the storage the
 * downloader writes through (so our own writes are not taken for outside changes). The read
 * cache and the watch are made anew with each metainfo.
 */
import type { Metainfo } from '../metainfo/types.js';
import type { Storage } from '../storage/storage.js';
import { DiskWatch, WatchedStorage, type StorageSource } from './disk-watch.js';
import { ReadCache, type ReadCacheSource } from './read-cache.js';
import { verificationFor, type PieceVerification } from './verification.js';
import type { TorrentCore } from './core.js';

export type DiskHost = Pick<TorrentCore, 'clock' | 'metainfo' | 'storage'>;

/** Also the source its read cache and disk watch read through (no callbacks of their own). */
export class TorrentDisk implements ReadCacheSource, StorageSource {
  /** Files changed behind our back since the check (made with each read cache). */
  watch!: DiskWatch;
  private watched: { inner: Storage; wrapped: WatchedStorage } | undefined;
  private verifier: { meta: Metainfo; v: PieceVerification } | undefined;

  constructor(
    private readonly host: DiskHost,
    private readonly readCacheBytes: number,
  ) {}

  /** How pieces of the current metainfo are checked. */
  get verification(): PieceVerification {
    const m = this.host.metainfo;
    if (this.verifier?.meta !== m) this.verifier = { meta: m, v: verificationFor(m) };
    return this.verifier.v;
  }

  /** A new read cache (and disk watch) for the current metainfo. */
  newReadCache(): ReadCache {
    this.watch = new DiskWatch(this.host.metainfo, this, this.host.clock);
    this.watched = undefined;
    return new ReadCache(this, this.readCacheBytes);
  }

  storage(): Storage {
    return this.host.storage();
  }

  pieceSize(piece: number): number {
    return this.host.metainfo.pieceSize(piece);
  }

  pieceOffset(piece: number): number {
    return piece * this.host.metainfo.pieceLength;
  }

  /** A piece read for upload is still what was verified (its files did not change on disk). */
  checkRead(piece: number, data: Buffer): Promise<void> {
    return this.watch.verifyForUpload(piece, data, this.verification);
  }

  /** The storage the downloader writes through: our own writes are not taken for outside changes. */
  downloadStorage(): Storage {
    const inner = this.host.storage();
    if (this.watched?.inner !== inner)
      this.watched = { inner, wrapped: new WatchedStorage(inner, this.watch) };
    return this.watched.wrapped;
  }
}
