/**
 * A Torrent's transfer machinery: the Downloader, the Uploader and the read cache uploads are
 * served from, made anew with each metainfo (a magnet's metadata) and each data check; the
 * bytes a replaced downloader wasted; a failed read of a served piece, which sends the pieces
 * concerned to be checked again. The Torrent reads `downloader` and `uploader` directly, so
 * per-message dispatch takes no extra hop through here.
 */
import type { Metainfo } from '../metainfo/types.js';
import type { Storage } from '../storage/storage.js';
import type { Bitfield } from '../util/bitfield.js';
import { NbtError, errorMessage } from '../util/errors.js';
import { Downloader } from './downloader.js';
import type { DownloaderHost } from './downloader-host.js';
import { Uploader, type UploaderHost } from './uploader.js';
import type { ReadCache } from './read-cache.js';
import type { PeerSession } from './session.js';
import type { PeerLink } from './peer-link.js';
import type { PieceVerification } from './verification.js';
import type { TorrentCore, WireSession } from './core.js';

export type TransfersHost = Pick<
  TorrentCore,
  | 'clock'
  | 'hashPool'
  | 'tuning'
  | 'deadlines'
  | 'disk'
  | 'peerSessions'
  | 'metainfo'
  | 'have'
  | 'state'
  | 'transferring'
  | 'removed'
  | 'sequential'
  | 'pickerPriorities'
  | 'seeds'
  | 'hashes'
  | 'superSeed'
  | 'life'
  | 'peerSet'
  | 'checks'
  | 'pieceHashFailed'
  | 'events'
>;

export class TorrentTransfers {
  /**
   * Made on first use: a seed nobody connects to never builds its picker and downloader (~4 KB
   * and their construction per torrent at a restart). Replaced by renewDownload().
   */
  private made: Downloader | undefined;
  uploader!: Uploader;
  cache!: ReadCache;
  /** Payload bytes thrown away by downloaders since replaced. */
  private wastedBefore = 0;

  constructor(private readonly host: TransfersHost) {}

  get downloader(): Downloader {
    return (this.made ??= this.newDownloader());
  }

  /** The downloader if one is made; undefined: nothing to cancel, wait for or save. */
  get madeDownloader(): Downloader | undefined {
    return this.made;
  }

  /** Payload bytes received and thrown away this session (duplicates, unrequested, failed pieces). */
  get wasted(): number {
    return this.wastedBefore + (this.made?.wasted ?? 0);
  }

  /** A new read cache and uploader for the current metainfo and `have`. */
  renewUpload(): void {
    this.cache = this.host.disk.newReadCache();
    this.uploader = new Uploader(new UploadSide(this, this.host, this.cache));
  }

  /** A new downloader for the current metainfo and `have` (after the metadata, or a check), made when next used. */
  renewDownload(): void {
    // What a replaced downloader wasted still counts (wasted).
    if (this.made) this.wastedBefore += this.made.wasted;
    this.made = undefined;
  }

  /** Requests and uploads in flight and the read cache are dropped (before a check again). */
  dropTransfers(): void {
    for (const s of this.host.peerSessions.values()) {
      this.uploader.clear(s);
      this.made?.dropRequests(s, true);
    }
    this.cache.clear();
  }

  /**
   * A piece we serve is gone or different on disk (a file truncated, overwritten or deleted
   * behind our back): it is not sent; the pieces of the files concerned are checked again and
   * what no longer verifies is downloaded again. Other read errors put the torrent in error.
   */
  readFailed(piece: number, e: unknown): void {
    const { host } = this;
    const code = e instanceof NbtError ? e.code : undefined;
    if (code !== 'STORAGE_DATA_CHANGED' && code !== 'STORAGE_SHORT_READ' && code !== 'STORAGE_FILE_MISSING')
      return host.life.diskError(e, 'read', piece);
    if (!host.transferring || host.removed) return;
    host.events.emit('file-error', { code, message: errorMessage(e), operation: 'upload', piece });
    const recheck = host.disk.watch.piecesToRecheck(piece);
    const trusted = host.have.clone();
    for (const p of recheck.indices()) trusted.clear(p);
    this.dropTransfers();
    host.checks.again(trusted, recheck);
  }

  private newDownloader(): Downloader {
    const host = this.host;
    const d = new Downloader(new DownloadSide(host), host.have, host.tuning);
    d.picker.sequential = host.sequential;
    d.picker.critical = host.deadlines;
    const map = host.pickerPriorities();
    if (map) d.picker.setPiecePriorities(map);
    return d;
  }
}

/**
 * An Uploader's host: the metainfo, `have` and read cache it was made with, and the torrent
 * behind them. Methods on a prototype, not callbacks: one object per uploader.
 */
class UploadSide implements UploaderHost {
  readonly metainfo: Metainfo;
  readonly have: Bitfield;

  constructor(
    private readonly transfers: TorrentTransfers,
    private readonly host: TransfersHost,
    readonly cache: ReadCache,
  ) {
    this.metainfo = host.metainfo;
    this.have = host.have;
  }

  canUpload(): boolean {
    return this.host.transferring;
  }

  mayServe(s: PeerSession, piece: number): boolean {
    return this.host.superSeed.mayServe(s as WireSession, piece);
  }

  readFailed(piece: number, e: unknown): void {
    this.transfers.readFailed(piece, e);
  }
}

/** A Downloader's host: the metainfo and verification it was made with, and the torrent behind. */
class DownloadSide implements DownloaderHost {
  readonly clock: TransfersHost['clock'];
  readonly hashPool: TransfersHost['hashPool'];
  readonly metainfo: Metainfo;
  readonly verification: PieceVerification;

  constructor(private readonly host: TransfersHost) {
    this.clock = host.clock;
    this.hashPool = host.hashPool;
    this.metainfo = host.metainfo;
    this.verification = host.disk.verification;
  }

  storage(): Storage {
    return this.host.disk.downloadStorage();
  }

  session(peer: PeerLink): PeerSession | undefined {
    return this.host.peerSessions.get(peer) ?? this.host.seeds.session(peer);
  }

  sessions(): Iterable<PeerSession> {
    // Without web seeds (the usual case) the peers' own iterator, at no extra cost.
    return this.host.seeds.size === 0 ? this.host.peerSessions.values() : this.allSessions();
  }

  /** Wire peers' and web seeds' sessions, for the download machinery. */
  private *allSessions(): IterableIterator<PeerSession> {
    yield* this.host.peerSessions.values();
    yield* this.host.seeds.sessions();
  }

  canDownload(): boolean {
    return this.host.state === 'downloading';
  }

  pieceDone(piece: number): void {
    this.host.life.pieceDone(piece);
  }

  pieceFailed(piece: number, senders: string[]): void {
    this.host.pieceHashFailed(piece, senders);
  }

  ban(address: string): void {
    this.host.peerSet.ban(address);
  }

  failedLeaves(piece: number, data: Buffer): Buffer[] | undefined {
    return this.host.hashes.failedLeaves(piece, data);
  }

  writeFailed(piece: number, e: unknown): void {
    this.host.life.diskError(e, 'write', piece);
  }

  inconsistentHashes(piece: number): void {
    const message = `piece ${piece}: the torrent's v1 and v2 hashes describe different data`;
    this.host.life.diskError(new NbtError('TORRENT_INCONSISTENT_HASHES', message), 'verify', piece);
  }
}
