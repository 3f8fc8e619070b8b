/**
 * What a Downloader is given: the owner's side of the contract (DownloaderHost) and the tuning
 * of request pipelines, timeouts, buffering and hashing (DownloaderTuning).
 */
import type { Clock } from '../util/clock.js';
import type { Storage } from '../storage/storage.js';
import type { Metainfo } from '../metainfo/types.js';
import type { HashPool } from '../hash/pool.js';
import type { PeerSession } from './session.js';
import type { PeerLink } from './peer-link.js';
import type { PieceVerification } from './verification.js';

export interface DownloaderHost {
  readonly clock: Clock;
  readonly metainfo: Metainfo;
  readonly hashPool: HashPool;
  /** How a piece's bytes are checked (SHA-1 pieces; SHA-256 Merkle blocks for v2). */
  readonly verification: PieceVerification;
  storage(): Storage;
  session(peer: PeerLink): PeerSession | undefined;
  sessions(): Iterable<PeerSession>;
  /** Requests may be sent (downloading, not paused). */
  canDownload(): boolean;
  /** A verified piece is on disk. */
  pieceDone(piece: number): void;
  pieceFailed(piece: number, senders: string[]): void;
  /** Sent corrupt data: disconnect and ban. */
  ban(host: string): void;
  /**
   * BEP 52: the SHA-256 leaf of each 16 KiB block of a failed piece's data (as its file's tree
   * would have it), so the leaves can later be compared with proven ones; undefined (v1, or
   * no tree) skips it. The host then fetches the proven leaves and calls `leavesKnown`.
   */
  failedLeaves?(piece: number, data: Buffer): Buffer[] | undefined;
  writeFailed(piece: number, e: unknown): void;
  /** A hybrid's piece matched one of its halves only: the torrent itself is wrong (stop it). */
  inconsistentHashes?(piece: number): void;
}

export interface DownloaderTuning {
  /** Seconds of transfer the request queue should cover (bandwidth × delay). */
  queueSeconds: number;
  /** Highest pipeline depth whatever the peer's reqq says. */
  maxPipeline: number;
  /** Pipeline depth a new peer starts with (slow start grows it by one per block). */
  initialPipeline: number;
  /** No block for this long while requests are outstanding: snubbed (ms). */
  snubTimeoutMs: number;
  /**
   * A single request older than this (and than 8 round trips) while later ones are answered is
   * taken as lost: cancelled and its block freed (ms).
   */
  requestTimeoutMs: number;
  /** Bytes of pieces held in memory (assembling or waiting for the disk) before requesting pauses. */
  maxBufferedBytes: number;
  /** Unrequested blocks tolerated before disconnecting (UNREQUESTED_PIECE). */
  maxUnrequested: number;
  /**
   * Unused: bans follow evidence only (BlameLedger), never a count of shared failures, which
   * let liars frame an honest seed. Kept so existing settings still load.
   */
  strikeLimit: number;
  /**
   * Pieces at least this long may be hashed by the worker pool; smaller ones always on the main
   * thread.
   */
  workerHashMinPiece: number;
  /**
   * Main-thread busy share (event-loop utilisation over the last second) above which new pieces
   * are hashed by the worker pool instead of incrementally here. Default 1 = never: measured on
   * 2 cores against libtorrent, hashing here (data hot in cache, no thread hand-off) was faster
   * and cheaper in CPU and memory, plaintext and RC4 alike. Lower it on machines with spare
   * cores and a saturated main thread; 0 = always the pool.
   */
  offloadAboveUtilization: number;
  /**
   * Hybrid torrents, pieces hashed here (not offloaded) and big enough for the pool: SHA-1 here as
   * blocks arrive and the Merkle root by a hash worker on the finished piece, instead of both here.
   * A hybrid download is bound by the main thread, which hashes both halves where libtorrent
   * hashes on its disk threads: split, 1 GiB from libtorrent took 0.90–1.00 of libtorrent's
   * time against 1.00–1.06 (docs/engine.md), for ~15 MB of RSS (the worker).
   */
  splitHybridHashing: boolean;
}

export const defaultDownloaderTuning: DownloaderTuning = {
  queueSeconds: 3,
  maxPipeline: 2000,
  initialPipeline: 4,
  snubTimeoutMs: 30_000,
  requestTimeoutMs: 20_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxUnrequested: 64,
  strikeLimit: 3,
  workerHashMinPiece: 256 * 1024,
  offloadAboveUtilization: 1,
  splitHybridHashing: true,
};
