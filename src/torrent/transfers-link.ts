/**
 * A Torrent's transfer machinery: the Downloader, the Uploader and the read cache uploads are
 * served from, made anew with each metainfo (a magnet's metadata) and each data check; the
 * bytes a replaced downloader wasted; a failed read of a served piece, which sends the pieces
 * concerned to be checked again. The Torrent reads `downloader` and `uploader` directly, so
 * per-message dispatch takes no extra hop through here.
 */
import type { Peer } from '../peer/index.js';
import type { Metainfo } from '../metainfo/types.js';
import type { HashPool } from '../hash/pool.js';
import type { Bitfield } from '../util/bitfield.js';
import type { Clock } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import { Downloader, type DownloaderTuning } from './downloader.js';
import { Uploader } from './uploader.js';
import type { ReadCache } from './read-cache.js';
import type { PeerSession } from './session.js';
import type { PeerLink } from './peer-link.js';
import type { PieceDeadlines } from './deadlines.js';
import type { TorrentDisk } from './disk-link.js';
import type { TorrentHashes } from './hash-link.js';
import type { WebSeedSet } from './web-seeds.js';
import type { FileErrorInfo, TorrentState } from './types.js';

type WireSession = PeerSession<Peer<unknown>>;

export interface TransfersHost {
  readonly clock: Clock;
  readonly hashPool: HashPool;
  readonly tuning: DownloaderTuning;
  readonly deadlines: PieceDeadlines;
  readonly disk: TorrentDisk;
  /** Wire peers by link (the downloader finds a session from the PeerLink it holds). */
  readonly peerSessions: ReadonlyMap<PeerLink, WireSession>;
  metainfo(): Metainfo;
  have(): Bitfield;
  state(): TorrentState;
  transferring(): boolean;
  removed(): boolean;
  sequential(): boolean;
  /** The file priorities' piece priorities (undefined: all normal). */
  pickerPriorities(): Uint8Array | undefined;
  seeds(): WebSeedSet;
  hashes(): TorrentHashes;
  mayServe(s: WireSession, piece: number): boolean;
  pieceDone(piece: number): void;
  pieceFailed(piece: number, senders: string[]): void;
  ban(host: string): void;
  diskError(e: unknown, operation: string, piece?: number): void;
  fileError(info: FileErrorInfo): void;
  /** Check these pieces again, trusting the rest (a served piece changed on disk). */
  checkAgain(trusted: Bitfield, recheck: Bitfield): void;
}

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
    this.uploader = new Uploader({
      metainfo: this.host.metainfo(),
      have: this.host.have(),
      cache: this.cache,
      canUpload: () => this.host.transferring(),
      mayServe: (s, piece) => this.host.mayServe(s as WireSession, piece),
      readFailed: (piece, e) => this.readFailed(piece, e),
    });
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
  private readFailed(piece: number, e: unknown): void {
    const code = e instanceof NbtError ? e.code : undefined;
    if (code !== 'STORAGE_DATA_CHANGED' && code !== 'STORAGE_SHORT_READ' && code !== 'STORAGE_FILE_MISSING')
      return this.host.diskError(e, 'read', piece);
    if (!this.host.transferring() || this.host.removed()) return;
    this.host.fileError({ code, message: errorMessage(e), operation: 'upload', piece });
    const recheck = this.host.disk.watch.piecesToRecheck(piece);
    const trusted = this.host.have().clone();
    for (const p of recheck.indices()) trusted.clear(p);
    this.dropTransfers();
    this.host.checkAgain(trusted, recheck);
  }

  /** Wire peers' and web seeds' sessions, for the download machinery. */
  private *allSessions(): IterableIterator<PeerSession> {
    yield* this.host.peerSessions.values();
    yield* this.host.seeds().sessions();
  }

  private newDownloader(): Downloader {
    const host = this.host;
    const d = new Downloader(
      {
        clock: host.clock,
        metainfo: host.metainfo(),
        hashPool: host.hashPool,
        verification: host.disk.verification,
        storage: () => host.disk.downloadStorage(),
        session: (peer) => host.peerSessions.get(peer) ?? host.seeds().session(peer),
        // Without web seeds (the usual case) the peers' own iterator, at no extra cost.
        sessions: () => (host.seeds().size === 0 ? host.peerSessions.values() : this.allSessions()),
        canDownload: () => host.state() === 'downloading',
        pieceDone: (piece) => host.pieceDone(piece),
        pieceFailed: (piece, senders) => host.pieceFailed(piece, senders),
        ban: (h) => host.ban(h),
        failedLeaves: (piece, data) => host.hashes().failedLeaves(piece, data),
        writeFailed: (piece, e) => host.diskError(e, 'write', piece),
        inconsistentHashes: (piece) =>
          host.diskError(
            new NbtError(
              'TORRENT_INCONSISTENT_HASHES',
              `piece ${piece}: the torrent's v1 and v2 hashes describe different data`,
            ),
            'verify',
            piece,
          ),
      },
      host.have(),
      host.tuning,
    );
    d.picker.sequential = host.sequential();
    d.picker.critical = host.deadlines;
    const map = host.pickerPriorities();
    if (map) d.picker.setPiecePriorities(map);
    return d;
  }
}
