/**
 * The download side of a torrent: interest, request pipelines sized to each peer's rate × delay,
 * request timeouts and snubbing, endgame cancels, block assembly and SHA-1 verification, and
 * writing verified pieces. The torrent owns the peers; this class owns requests and pieces.
 * Pipeline sizing is request-pipeline.ts, cancel bookkeeping request-cancels.ts, resume of
 * unfinished pieces unfinished-pieces.ts; the host contract and tuning downloader-host.ts.
 */
import { DisconnectReason } from '../peer/disconnect.js';
import type { Message } from '../wire/index.js';
import { PiecePicker, type BlockRef } from './picker.js';
import { PieceAssembly, PieceBufferPool } from './assembly.js';
import { BlameLedger } from './blame.js';
import { SoloRounds } from './solo-rounds.js';
import { HashPlacement, digestLentInPool } from './hash-placement.js';
import type { PeerSession } from './session.js';
import type { PeerLink } from './peer-link.js';
import { digestHere, type SplitVerification } from './verification.js';
import { defaultDownloaderTuning, type DownloaderHost, type DownloaderTuning } from './downloader-host.js';
import {
  addCancelled,
  expireRequests,
  takeCancelled,
  trimCancelled,
  withdrawAll,
  withdrawOrdinary,
} from './request-cancels.js';
import {
  CRITICAL_EXTRA_PIECES,
  CRITICAL_RATE_SHARE,
  pipelineCap,
  resizePipeline,
} from './request-pipeline.js';
import {
  persistUnfinished,
  readUnfinished,
  RESUME_SENDER,
  type UnfinishedPiece,
} from './unfinished-pieces.js';

export { defaultDownloaderTuning, type DownloaderHost, type DownloaderTuning } from './downloader-host.js';

const NO_ASSEMBLIES: ReadonlyMap<number, PieceAssembly> = new Map();

interface DownloaderMaps {
  readonly assemblies: Map<number, PieceAssembly>;
  /** Unfinished-piece writes per piece (resume saves), which verified writes wait for. */
  readonly persisting: Map<number, Promise<void>>;
  readonly writes: Set<Promise<void>>;
}

export class Downloader {
  // Made on the first block or write: a seed never assembles a piece (three empty Maps, ~0.6 KB).
  private maps: DownloaderMaps | undefined;
  private get m(): DownloaderMaps {
    return (this.maps ??= {
      assemblies: new Map(),
      persisting: new Map(),
      writes: new Set(),
    });
  }
  readonly picker: PiecePicker;
  /** Evidence from failed pieces: who lied, and which pieces must be fetched from one peer. */
  readonly blame = new BlameLedger();
  private readonly bpp: number;
  private readonly blockSize: number;
  private bufferedBytes = 0;
  private readonly buffers: PieceBufferPool;
  /** Incremental hashing here, or whole pieces in the worker pool. */
  private readonly hashing: HashPlacement;
  /** Set by reset(): hashes and writes still in flight are then ignored. */
  private generation = 0;
  /** A split piece's other half is being hashed in the pool (one at a time). */
  private splitInPool = false;
  private writingBytes = 0;
  /** Bytes thrown away: duplicates, unrequested blocks, failed pieces. */
  wasted = 0;
  hashFailures = 0;
  /** Payload bytes accepted this session. */
  received = 0;
  /** Peers slower than this (a share of the fastest, set each tick) get no time-critical pieces. */
  private criticalMinRate = 0;
  /** Single-peer re-downloads of pieces that failed with several senders. */
  private readonly solo: SoloRounds;

  constructor(
    private readonly host: DownloaderHost,
    have: ReturnType<PiecePicker['haveBitfield']>,
    readonly tuning: DownloaderTuning = defaultDownloaderTuning,
  ) {
    const m = host.metainfo;
    this.picker = new PiecePicker({
      pieceCount: m.pieceCount,
      pieceLength: m.pieceLength,
      pieceSize: (p) => m.pieceSize(p),
      have,
    });
    this.bpp = this.picker.blocksPerPiece;
    this.blockSize = this.picker.blockSize;
    this.solo = new SoloRounds({
      picker: this.picker,
      blame: this.blame,
      sessions: () => this.host.sessions(),
      assembly: (piece) => this.maps?.assemblies.get(piece),
      discard: (a) => {
        this.wasted += a.receivedBytes;
        this.maps?.assemblies.delete(a.piece);
        this.release(a);
      },
      updateInterest: (s) => this.updateInterest(s),
      fill: (s) => this.fill(s),
    });
    this.hashing = new HashPlacement(
      m.pieceLength,
      tuning.workerHashMinPiece,
      tuning.offloadAboveUtilization,
    );
    // Keep as many idle buffers as a full pipeline spans (plus a few being hashed or written),
    // so steady state allocates nothing; bounded by the buffered-bytes cap.
    const spanned = Math.ceil((tuning.maxPipeline * this.blockSize) / m.pieceLength) + 8;
    const cap = Math.max(4, Math.floor(tuning.maxBufferedBytes / m.pieceLength));
    this.buffers = new PieceBufferPool(m.pieceLength, Math.min(cap, Math.max(16, spanned)));
  }

  /** Pieces being assembled with their received blocks (for resume data). */
  get assembling(): ReadonlyMap<number, PieceAssembly> {
    return this.maps?.assemblies ?? NO_ASSEMBLIES;
  }

  get pendingWriteBytes(): number {
    return this.writingBytes;
  }

  /** Resolves when every started piece write has finished (failed writes included). */
  async settle(): Promise<void> {
    while (this.maps && this.maps.writes.size > 0) await Promise.allSettled([...this.maps.writes]);
  }

  // ---- peer lifecycle -------------------------------------------------------------------------

  peerAdded(s: PeerSession): void {
    s.target = this.tuning.initialPipeline;
  }

  peerRemoved(s: PeerSession): void {
    this.solo.abandon(s);
    s.inflight.clear();
    this.picker.peerGone(s.peer);
    // Its requests are free again: others may take them.
    this.fillAll();
  }

  // ---- messages -------------------------------------------------------------------------------

  onMessage(s: PeerSession, m: Message): void {
    const peer = s.peer;
    switch (m.type) {
      case 'bitfield':
        this.picker.peerHasBitfield(peer, peer.bitfield);
        this.availabilityChanged(s);
        break;
      case 'haveAll':
        this.picker.peerHasAll(peer);
        this.availabilityChanged(s);
        break;
      case 'haveNone':
        this.picker.peerHasNone(peer);
        this.availabilityChanged(s);
        break;
      case 'have':
        if (m.index < this.host.metainfo.pieceCount) {
          this.picker.peerHasPiece(peer, m.index);
          this.availabilityChanged(s);
        }
        break;
      case 'choke':
        // Without the Fast extension a choke silently drops every request we made.
        if (!peer.fastExtension) this.dropRequests(s, false);
        break;
      case 'unchoke':
        this.fill(s);
        break;
      case 'allowedFast':
        if (peer.peerChoking) this.fill(s);
        break;
      case 'reject':
        this.onReject(s, m);
        break;
      case 'piece':
        this.onPiece(s, m.index, m.begin, m.block);
        break;
      default:
        break;
    }
  }

  private availabilityChanged(s: PeerSession): void {
    s.seed = s.peer.bitfield.size > 0 && s.peer.bitfield.complete;
    this.updateInterest(s);
    this.fill(s);
  }

  /** Tells the peer whether we want something it has. */
  updateInterest(s: PeerSession): void {
    const want =
      (!this.picker.finished && this.picker.isInterestingPeer(s.peer)) || this.picker.hasCriticalFor(s.peer);
    if (want && !s.peer.amInterested) s.peer.interested();
    else if (!want && s.peer.amInterested) s.peer.notInterested();
  }

  private onReject(s: PeerSession, ref: { index: number; begin: number; length: number }): void {
    const id = this.blockId(ref.index, ref.begin);
    if (id < 0) return;
    // BEP 6 answers a cancel with a reject: one for a block we cancelled (and may have asked for
    // again since) is that answer, not a refusal of the new request. Taking it for one killed
    // the re-request of every block a streaming seek withdrew; their copies then arrived
    // unmatched: 240 MB thrown away in a 1 GiB stream.
    if (takeCancelled(s.cancelled, id)) return;
    const req = s.inflight.get(id);
    if (!req) return;
    s.inflight.delete(id);
    this.picker.rejected(s.peer, req.ref);
    // A peer given a piece alone that refuses part of it: another peer gets it.
    if (this.picker.soloOwner(ref.index) === s.peer) this.solo.abandon(s, ref.index);
    // Let the peer's queue refill on the next tick rather than spin on immediate re-rejects.
    if (!s.peer.peerChoking) this.fillOthers(s);
  }

  private onPiece(s: PeerSession, index: number, begin: number, block: Buffer): void {
    const id = this.blockId(index, begin);
    const req = id < 0 ? undefined : s.inflight.get(id);
    if (!req || req.ref.length !== block.length) {
      this.wasted += block.length;
      if (id >= 0 && takeCancelled(s.cancelled, id)) return;
      if (++s.unrequested > this.tuning.maxUnrequested) s.peer.close(DisconnectReason.UNREQUESTED_PIECE);
      return;
    }
    const now = this.host.clock.now();
    s.inflight.delete(id);
    const sample = now - req.sentAt;
    s.rttMs = s.rttMs === 0 ? sample : s.rttMs * 0.875 + sample * 0.125;
    s.lastBlockAt = now;
    s.snubbed = false;
    if (s.slowStart) s.target = Math.min(s.target + 1, pipelineCap(s, this.tuning.maxPipeline));

    const r = this.picker.received(s.peer, req.ref);
    for (const holder of r.duplicateHolders) {
      const other = this.host.session(holder as PeerLink);
      if (!other || !other.inflight.delete(id)) continue;
      addCancelled(other.cancelled, id);
      trimCancelled(other.cancelled);
      other.peer.cancel(index, begin, block.length);
    }
    if (r.duplicate) {
      this.wasted += block.length;
      this.fill(s);
      return;
    }
    this.received += block.length;
    let a = this.maps?.assemblies.get(index);
    if (!a) {
      a = this.newAssembly(index);
      this.m.assemblies.set(index, a);
      this.bufferedBytes += a.capacity;
    }
    a.add(begin, block, s.peer.host);
    if (a.complete) {
      this.maps?.assemblies.delete(index);
      if (!a.incremental) void this.hashInPool(a);
      else if (a.split) this.finishSplit(a, a.split);
      else this.finishPiece(a, a.digest());
    }
    this.fill(s);
  }

  /**
   * Where the new piece is hashed: all in the pool once the main thread is busy, else here as
   * blocks arrive — or, with split_hybrid_hashing (the default), a hybrid's big pieces get their
   * SHA-1 here and their Merkle root in the pool: both here made the main thread the bottleneck,
   * both in the pool cost the most CPU.
   */
  private newAssembly(piece: number): PieceAssembly {
    const size = this.host.metainfo.pieceSize(piece);
    const v = this.host.verification;
    const split =
      !this.hashing.offload && this.hashing.poolEligible && this.tuning.splitHybridHashing
        ? v.split
        : undefined;
    const hasher = this.hashing.offload ? undefined : (split ?? v).hasher(piece);
    return new PieceAssembly(piece, size, this.blockSize, this.buffers.take(), hasher, split);
  }

  /**
   * The piece's buffer goes to a hash worker and comes back with the digest (moved both ways:
   * sharing it instead made every block's copy in ~10× slower).
   */
  private async hashInPool(
    a: PieceAssembly,
    half?: { split: SplitVerification; main: Buffer },
  ): Promise<void> {
    const gen = this.generation;
    const r = await digestLentInPool(
      half?.split.rest ?? this.host.verification,
      this.host.hashPool,
      a.piece,
      a.buffer,
      a.size,
    );
    if (half) this.splitInPool = false;
    if (!r) {
      // Lost with a worker that died holding it: nobody's fault, the piece is fetched again.
      this.bufferedBytes -= a.capacity;
      if (gen !== this.generation) return;
      this.picker.pieceFailed(a.piece);
      this.fillAll();
      return;
    }
    a.returned(r.buffer);
    // Reset meanwhile (stop, recheck): the piece is forgotten, its buffer kept for reuse.
    if (gen !== this.generation) return this.release(a);
    this.finishPiece(a, half ? half.split.combine(half.main, r.digest) : r.digest);
  }

  /**
   * A split piece's main-thread half is done; the other comes from the pool, one piece at a
   * time, or from here while one is already there. One worker keeps up (a 1 MiB root takes it
   * ~0.8 ms; pieces arrive every ~3 ms at 330 MB/s) and each worker in use costs ~15 MB of RSS;
   * without a bound, pieces queued for workers busy on shared cores held buffers up to
   * max_buffered_piece_bytes (+75 MB).
   */
  private finishSplit(a: PieceAssembly, split: SplitVerification): void {
    const main = a.digest();
    if (this.splitInPool) {
      this.finishPiece(a, split.combine(main, digestHere(split.rest, a.piece, a.data)));
      return;
    }
    this.splitInPool = true;
    void this.hashInPool(a, { split, main });
  }

  private release(a: PieceAssembly): void {
    this.bufferedBytes -= a.capacity;
    this.buffers.give(a.buffer);
  }

  private finishPiece(a: PieceAssembly, digest: Buffer): void {
    const ok = this.host.verification.matches(a.piece, digest);
    if (!ok && this.host.verification.inconsistent?.(a.piece, digest)) {
      // Not the senders' fault: their bytes match one half of the torrent.
      this.release(a);
      this.picker.pieceFailed(a.piece);
      this.host.inconsistentHashes?.(a.piece);
      return;
    }
    if (!ok) {
      const evidence = a.evidence();
      const senders = [...new Set(a.senders.filter((x): x is string => x !== undefined))];
      // v2 and several senders: proven leaves will name exactly whose 16 KiB block was wrong.
      const leaves =
        senders.length > 1 && this.blockSize === 16 * 1024
          ? this.host.failedLeaves?.(a.piece, a.data)
          : undefined;
      this.release(a);
      this.hashFailures++;
      this.wasted += a.size;
      this.picker.pieceFailed(a.piece);
      const guilty = this.blame.failed(a.piece, evidence);
      if (leaves)
        this.blame.rememberLeaves(
          a.piece,
          leaves.map((digest, b) =>
            a.senders[b] === undefined ? undefined : { sender: a.senders[b]!, digest },
          ),
        );
      this.host.pieceFailed(a.piece, senders);
      // Reserved for nobody while bans close peers (their own solo pieces are reassigned then).
      if (this.blame.needsSolo(a.piece)) this.picker.setSolo(a.piece, undefined);
      else this.picker.clearSolo(a.piece);
      this.banAll(guilty);
      if (this.blame.needsSolo(a.piece) && this.picker.soloOwner(a.piece) === undefined)
        this.solo.assign(a.piece);
      this.fillAll();
      return;
    }
    this.picker.pieceVerified(a.piece);
    const good = this.blame.needsSolo(a.piece) ? a.blockDigests() : undefined;
    if (good) this.banAll(this.blame.passed(a.piece, good));
    this.writePiece(a);
  }

  /**
   * BEP 52: a failed piece's proven leaves arrived: the senders of blocks that differ are banned,
   * and when that names someone, the piece needs no single-peer round to find the liar.
   */
  leavesKnown(piece: number, leaves: readonly Buffer[]): string[] {
    const guilty = this.blame.leavesKnown(piece, leaves);
    this.banAll(guilty);
    if (guilty.length > 0 && !this.blame.needsSolo(piece)) this.picker.clearSolo(piece);
    return guilty;
  }

  private banAll(hosts: readonly string[]): void {
    // Blocks read back from our own disk (resume) are nobody's fault.
    for (const h of hosts) if (h !== RESUME_SENDER) this.host.ban(h);
  }

  private writePiece(a: PieceAssembly): void {
    const size = a.size;
    this.writingBytes += size;
    const before = this.maps?.persisting.get(a.piece) ?? Promise.resolve();
    const p = before
      .then(() => this.host.storage().write(a.piece, 0, a.data))
      .then(
        () => this.host.pieceDone(a.piece),
        (e: unknown) => this.host.writeFailed(a.piece, e),
      )
      .finally(() => {
        this.writingBytes -= size;
        this.release(a);
        this.maps?.writes.delete(p);
        this.fillAll();
      });
    this.m.writes.add(p);
  }

  // ---- requesting -----------------------------------------------------------------------------

  /** Sends as many requests to the peer as its pipeline allows. */
  fill(s: PeerSession): void {
    const peer = s.peer;
    if (peer.closed || !peer.amInterested || !this.host.canDownload()) return;
    const choked = peer.peerChoking;
    if (choked && peer.allowedFastSet.size === 0) return;
    if (this.bufferedBytes > this.tuning.maxBufferedBytes) return;
    // While readers stream, ordinary requests leave room below the peer's reqq for the critical
    // ones: a window's new pieces are then asked for as they join it. Without the room the
    // pipeline was full (2,000 requests at 20 MB/s) and the reader, reaching a piece nobody had
    // requested, withdrew the whole pipeline again every few pieces (cancelled copies on the
    // wire, a refill bubble): a 1 GiB stream ran at 0.67 of the plain download rate.
    const reserve =
      this.picker.critical && this.picker.critical.size > 0 ? this.bpp * CRITICAL_EXTRA_PIECES : 0;
    const depth = s.snubbed
      ? 1
      : Math.max(1, Math.min(s.target, pipelineCap(s, this.tuning.maxPipeline) - reserve));
    const fast = choked ? peer.allowedFastSet : undefined;
    const urgent = !s.snubbed && s.peer.downloadRate >= this.criticalMinRate;
    if (urgent && this.picker.criticalPending) {
      // Time-critical blocks may go beyond the pipeline (up to the peer's reqq), at once.
      const room =
        Math.min(pipelineCap(s, this.tuning.maxPipeline), depth + this.bpp * CRITICAL_EXTRA_PIECES) -
        s.inflight.size;
      if (room > 0) this.send(s, this.picker.pick(peer, room, { fast, criticalOnly: true }));
    }
    const want = depth - s.inflight.size;
    // Top up in batches: one socket write per batch of requests instead of one per block.
    if (want <= 0 || (s.inflight.size > 0 && want < Math.min(32, depth >> 3))) return;
    this.send(s, this.picker.pick(peer, want, { fast, critical: urgent, contiguous: s.contiguous }));
  }

  private send(s: PeerSession, blocks: readonly BlockRef[]): void {
    if (blocks.length === 0) return;
    const peer = s.peer;
    const now = this.host.clock.now();
    if (s.inflight.size === 0) s.lastBlockAt = now;
    for (const b of blocks) {
      const id = b.piece * this.bpp + b.offset / this.blockSize;
      // A cancelled block asked for again stays remembered as cancelled: the copy already on its
      // way when we cancelled may still come, then the one for this request (a streaming seek
      // withdraws and re-requests whole pipelines; counting those copies as unrequested got the
      // seed disconnected).
      s.inflight.set(id, { ref: b, sentAt: now });
      peer.request(b.piece, b.offset, b.length);
    }
  }

  fillAll(): void {
    for (const s of this.host.sessions()) this.fill(s);
  }

  /**
   * Stream windows changed: interest first (a reader may need a skipped file's piece), then the
   * fastest peers get the critical pieces first.
   */
  criticalChanged(): void {
    const sessions = [...this.host.sessions()].sort((a, b) => b.peer.downloadRate - a.peer.downloadRate);
    for (const s of sessions) this.updateInterest(s);
    const preempt = this.picker.criticalUnstarted;
    for (const s of sessions) {
      if (preempt && !s.snubbed && s.peer.downloadRate >= this.criticalMinRate)
        withdrawOrdinary(s, this.picker);
      this.fill(s);
    }
  }

  private fillOthers(except: PeerSession): void {
    for (const s of this.host.sessions()) if (s !== except) this.fill(s);
  }

  /** Withdraws every request to the peer (cancel on the wire when `sendCancel`). */
  dropRequests(s: PeerSession, sendCancel: boolean): void {
    this.solo.abandon(s);
    withdrawAll(s, this.picker, sendCancel);
  }

  /** Once a second: hashing placement, pipeline sizing, slow start, snubbing. */
  tick(): void {
    const now = this.host.clock.now();
    this.hashing.update();
    this.solo.assignPending();
    let best = 0;
    for (const s of this.host.sessions()) best = Math.max(best, s.peer.downloadRate);
    this.criticalMinRate = best * CRITICAL_RATE_SHARE;
    for (const s of this.host.sessions()) {
      const cap = pipelineCap(s, this.tuning.maxPipeline);
      resizePipeline(s, now, cap, this.tuning.queueSeconds, this.blockSize);
      if (expireRequests(s, this.picker, now, this.tuning.requestTimeoutMs) > 0) this.fillOthers(s);
      if (s.hasRequests && now - s.lastBlockAt > this.tuning.snubTimeoutMs && !s.snubbed) {
        s.snubbed = true;
        s.slowStart = false;
        s.target = 1;
        this.dropRequests(s, true);
        this.fillOthers(s);
      }
      this.fill(s);
    }
  }

  /** Pause: withdraw every outstanding request. */
  cancelAll(): void {
    for (const s of this.host.sessions()) this.dropRequests(s, true);
  }

  private blockId(index: number, begin: number): number {
    const m = this.host.metainfo;
    if (!Number.isInteger(index) || index < 0 || index >= m.pieceCount) return -1;
    if (begin % this.blockSize !== 0 || begin < 0 || begin >= m.pieceSize(index)) return -1;
    return index * this.bpp + begin / this.blockSize;
  }

  // ---- unfinished pieces across restarts --------------------------------------------------------

  /**
   * Writes the received blocks of every piece still being assembled to storage (unverified data
   * is harmless there: the piece is not in `have`) and returns their block bitmaps for resume data.
   */
  async persistUnfinished(): Promise<UnfinishedPiece[]> {
    if (!this.maps) return [];
    return persistUnfinished(
      this.m.assemblies.values(),
      this.blockSize,
      this.host.storage(),
      this.m.persisting,
    );
  }

  /** Reads back the blocks of unfinished pieces saved by persistUnfinished (call before any peer). */
  async restoreUnfinished(unfinished: readonly UnfinishedPiece[]): Promise<number> {
    let restored = 0;
    const storage = this.host.storage();
    const m = this.host.metainfo;
    for (const u of unfinished) {
      if (this.picker.hasPiece(u.piece) || this.maps?.assemblies.has(u.piece)) continue;
      const size = m.pieceSize(u.piece);
      if (u.blocks.size !== Math.ceil(size / this.blockSize) || u.blocks.empty || u.blocks.complete) continue;
      const a = this.newAssembly(u.piece);
      await readUnfinished(a, u.blocks, storage);
      this.m.assemblies.set(u.piece, a);
      this.bufferedBytes += a.capacity;
      this.picker.restorePartial(u.piece, u.blocks);
      restored += u.blocks.count;
    }
    return restored;
  }

  /** Forgets everything in progress (stop / recheck). */
  reset(): void {
    this.generation++;
    if (this.maps) for (const a of this.maps.assemblies.values()) this.release(a);
    this.maps?.assemblies.clear();
  }
}

export type { BlockRef };
