/**
 * The bodies of a Torrent's state transitions that touch every part: entering download or seed
 * after a check or a resume, pausing and resuming transfers, stopping (resume data saved while
 * pieces in progress are known, writes waited for, files closed), a piece becoming had (the
 * switch to seeding with it), and disk trouble putting the torrent in error. The state itself
 * and the public methods stay in the Torrent.
 */
import { DisconnectReason } from '../peer/disconnect.js';
import { NbtError, errorMessage } from '../util/errors.js';
import type { TorrentCore } from './core.js';
import type { FileErrorInfo } from './types.js';

export type LifecycleHost = Pick<
  TorrentCore,
  | 'peerSessions'
  | 'transfers'
  | 'choking'
  | 'checks'
  | 'completion'
  | 'deadlines'
  | 'downMeter'
  | 'seeds'
  | 'metainfo'
  | 'have'
  | 'state'
  | 'setState'
  | 'paused'
  | 'removed'
  | 'storage'
  | 'closeStorage'
  | 'connectSoon'
  | 'events'
  | 'error'
>;

export class TorrentLifecycle {
  constructor(private readonly host: LifecycleHost) {}

  /** After a check or a resume: paused, seeding or downloading. */
  enterTransferState(): void {
    const { host } = this;
    if (host.paused) host.setState('paused');
    else host.setState(host.have.complete ? 'seeding' : 'downloading');
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
    const wasChecking = host.state === 'checking';
    host.checks.stop();
    host.choking.stop();
    for (const s of [...host.peerSessions.values()]) s.peer.close(reason);
    host.seeds.closeAll(reason);
    await host.transfers.madeDownloader?.settle();
    // Resume data is saved while pieces in progress are still known.
    if (beforeClose && !wasChecking && host.state !== 'stopped') await beforeClose();
    // Pieces still being hashed are dropped; pieces being written are waited for.
    const d = host.transfers.madeDownloader;
    d?.reset();
    await d?.settle();
    host.transfers.cache.clear();
    if (host.state !== 'error') host.setState('stopped');
    await host.closeStorage();
  }

  /** A verified piece's write completed: only now does it count as had, everywhere. */
  pieceDone(piece: number): void {
    const { host } = this;
    const have = host.have;
    if (!have.set(piece)) return;
    host.deadlines.pieceDone(piece);
    host.completion.pieceAdded(piece);
    host.downMeter.add(host.metainfo.pieceSize(piece));
    for (const s of host.peerSessions.values()) {
      if (!s.seed) s.peer.have(piece);
      host.transfers.downloader.updateInterest(s);
    }
    host.events.emit('piece-hash-pass', piece);
    host.completion.report();
    if (have.complete && host.state === 'downloading') {
      host.setState('seeding');
      for (const s of [...host.peerSessions.values()]) if (s.seed) s.peer.close(DisconnectReason.SEED);
      void host
        .storage()
        .flush()
        .catch((e: unknown) => this.diskError(e, 'write'));
      host.events.emit('done');
    }
  }

  /** Disk trouble: enter the error state with a clear message; nothing crashes, nothing is lost. */
  diskError(e: unknown, operation: string, piece?: number): void {
    const { host } = this;
    const state = host.state;
    if (state === 'error' || state === 'stopped' || host.removed) return;
    const code = e instanceof NbtError ? e.code : ((e as { code?: string } | null)?.code ?? 'STORAGE_IO');
    const info: FileErrorInfo = { code, message: errorMessage(e), operation };
    if (piece !== undefined) info.piece = piece;
    host.events.emit('file-error', info);
    const err = e instanceof Error ? e : new NbtError('STORAGE_IO', errorMessage(e));
    host.error = err;
    host.checks.cancel();
    host.choking.stop();
    host.setState('error');
    for (const s of [...host.peerSessions.values()])
      s.peer.close(DisconnectReason.TORRENT_STOPPED, err.message);
    host.events.emit('error', err);
    void (host.transfers.madeDownloader?.settle() ?? Promise.resolve()).then(() => host.closeStorage());
  }
}
