/**
 * The bodies of a Torrent's state transitions that touch every part: entering download or seed
 * after a check or a resume, pausing and resuming transfers, stopping (resume data saved while
 * pieces in progress are known, writes waited for, files closed), a piece becoming had (the
 * switch to seeding with it), and disk trouble putting the torrent in error. The state itself
 * and the public methods stay in the Torrent.
 */
import type { Peer } from '../peer/index.js';
import { DisconnectReason } from '../peer/disconnect.js';
import type { Metainfo } from '../metainfo/types.js';
import type { Storage } from '../storage/storage.js';
import type { Bitfield } from '../util/bitfield.js';
import { NbtError, errorMessage } from '../util/errors.js';
import type { RateMeter } from '../util/rate.js';
import type { PeerSession } from './session.js';
import type { PeerLink } from './peer-link.js';
import type { TorrentTransfers } from './transfers-link.js';
import type { TorrentChoking } from './choke-link.js';
import type { TorrentCheck } from './check-link.js';
import type { TorrentCompletion } from './completion-link.js';
import type { PieceDeadlines } from './deadlines.js';
import type { WebSeedSet } from './web-seeds.js';
import type { FileErrorInfo, TorrentState } from './types.js';

type WireSession = PeerSession<Peer<unknown>>;

export interface LifecycleHost {
  readonly peerSessions: ReadonlyMap<PeerLink, WireSession>;
  readonly transfers: TorrentTransfers;
  readonly choking: TorrentChoking;
  readonly checks: TorrentCheck;
  readonly completion: TorrentCompletion;
  readonly deadlines: PieceDeadlines;
  readonly downMeter: RateMeter;
  readonly seeds: WebSeedSet;
  metainfo(): Metainfo;
  have(): Bitfield;
  state(): TorrentState;
  setState(next: TorrentState): void;
  paused(): boolean;
  removed(): boolean;
  storage(): Storage;
  closeStorage(): Promise<void>;
  connectSoon(): void;
  /** A piece is had (verified and written). */
  pieceVerified(piece: number): void;
  /** Every piece is had: the torrent seeds now. */
  done(): void;
  fileError(info: FileErrorInfo): void;
  /** Torrent.error is this now. */
  setError(err: Error): void;
  /** The 'error' event, once the torrent is in error and its peers are closed. */
  errored(err: Error): void;
}

export class TorrentLifecycle {
  constructor(private readonly host: LifecycleHost) {}

  /** After a check or a resume: paused, seeding or downloading. */
  enterTransferState(): void {
    const { host } = this;
    if (host.paused()) host.setState('paused');
    else host.setState(host.have().complete ? 'seeding' : 'downloading');
    host.completion.report();
  }

  /** No requests, every peer choked, uploads dropped (connections stay). */
  pauseTransfers(): void {
    const { host } = this;
    host.transfers.madeDownloader?.cancelAll();
    for (const s of host.peerSessions.values()) {
      if (!s.peer.amChoking) s.peer.choke();
      host.transfers.uploader.clear(s);
      if (s.peer.amInterested) s.peer.notInterested();
    }
    host.setState('paused');
  }

  resumeTransfers(): void {
    const { host } = this;
    this.enterTransferState();
    for (const s of host.peerSessions.values()) host.transfers.downloader.updateInterest(s);
    host.choking.run(true);
    host.transfers.downloader.fillAll();
    host.connectSoon();
  }

  async stop(reason: DisconnectReason, beforeClose: (() => Promise<void>) | undefined): Promise<void> {
    const { host } = this;
    const wasChecking = host.state() === 'checking';
    host.checks.stop();
    host.choking.stop();
    for (const s of [...host.peerSessions.values()]) s.peer.close(reason);
    host.seeds.closeAll(reason);
    await host.transfers.madeDownloader?.settle();
    // Resume data is saved while pieces in progress are still known.
    if (beforeClose && !wasChecking && host.state() !== 'stopped') await beforeClose();
    // Pieces still being hashed are dropped; pieces being written are waited for.
    const d = host.transfers.madeDownloader;
    d?.reset();
    await d?.settle();
    host.transfers.cache.clear();
    if (host.state() !== 'error') host.setState('stopped');
    await host.closeStorage();
  }

  /** A verified piece's write completed: only now does it count as had, everywhere. */
  pieceDone(piece: number): void {
    const { host } = this;
    const have = host.have();
    if (!have.set(piece)) return;
    host.deadlines.pieceDone(piece);
    host.completion.pieceAdded(piece);
    host.downMeter.add(host.metainfo().pieceSize(piece));
    for (const s of host.peerSessions.values()) {
      if (!s.seed) s.peer.have(piece);
      host.transfers.downloader.updateInterest(s);
    }
    host.pieceVerified(piece);
    host.completion.report();
    if (have.complete && host.state() === 'downloading') {
      host.setState('seeding');
      for (const s of [...host.peerSessions.values()]) if (s.seed) s.peer.close(DisconnectReason.SEED);
      void host
        .storage()
        .flush()
        .catch((e: unknown) => this.diskError(e, 'write'));
      host.done();
    }
  }

  /** Disk trouble: enter the error state with a clear message; nothing crashes, nothing is lost. */
  diskError(e: unknown, operation: string, piece?: number): void {
    const { host } = this;
    const state = host.state();
    if (state === 'error' || state === 'stopped' || host.removed()) return;
    const code = e instanceof NbtError ? e.code : ((e as { code?: string } | null)?.code ?? 'STORAGE_IO');
    const info: FileErrorInfo = { code, message: errorMessage(e), operation };
    if (piece !== undefined) info.piece = piece;
    host.fileError(info);
    const err = e instanceof Error ? e : new NbtError('STORAGE_IO', errorMessage(e));
    host.setError(err);
    host.checks.cancel();
    host.choking.stop();
    host.setState('error');
    for (const s of [...host.peerSessions.values()])
      s.peer.close(DisconnectReason.TORRENT_STOPPED, err.message);
    host.errored(err);
    void (host.transfers.madeDownloader?.settle() ?? Promise.resolve()).then(() => host.closeStorage());
  }
}
