/**
 * The download side of a torrent: interest, request pipelines sized to each peer's rate × delay,
 * request timeouts and snubbing, endgame cancels, block assembly and SHA-1 verification, and
 * writing verified pieces. The torrent owns the peers; this class owns requests and pieces.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { DisconnectReason } from '../peer/disconnect.js';
import type { Message } from '../wire/index.js';
import type { Clock } from '../util/clock.js';
import type { Storage } from '../storage/storage.js';
import type { Metainfo } from '../metainfo/types.js';
import { PiecePicker, type BlockRef } from './picker.js';
import { PieceAssembly, PieceBufferPool } from './assembly.js';
import { BlameLedger } from './blame.js';
import type { HashPool } from '../hash/pool.js';
import { Bitfield } from '../util/bitfield.js';
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
};

/** The sender recorded for blocks read back from disk (resume data). */
const RESUME_SENDER = 'resume';

/**
 * Cancelled requests remembered per peer, so a block already on its way when we cancelled is not
 * taken for one never requested. Forgetting them all at once (as this once did past 8,192) made
 * a streaming reader's cancels of a 2,000-request pipeline look like a flood of unrequested
 * blocks: the seed was disconnected (UNREQUESTED_PIECE) three times in a 384 MiB stream.
 */
const MAX_CANCELLED = 16_384;

function addCancelled(m: Map<number, number>, id: number): void {
  m.set(id, (m.get(id) ?? 0) + 1);
}

/** A copy of a cancelled block arrived: true (and one copy fewer expected) if one was due. */
function takeCancelled(m: Map<number, number>, id: number): boolean {
  const n = m.get(id);
  if (!n) return false;
  if (n === 1) m.delete(id);
  else m.set(id, n - 1);
  return true;
}

/** Drops the oldest remembered cancels once there are too many (a Map keeps insertion order). */
function trimCancelled(m: Map<number, number>): void {
  if (m.size <= MAX_CANCELLED) return;
  let drop = m.size - MAX_CANCELLED / 2;
  for (const id of m.keys()) {
    m.delete(id);
    if (--drop <= 0) break;
  }
}

/** Time-critical requests may exceed the pipeline target by this many pieces' blocks. */
const CRITICAL_EXTRA_PIECES = 2;
/** Peers below this share of the fastest peer's rate are too slow for deadlines (libtorrent-like). */
const CRITICAL_RATE_SHARE = 0.2;

export class Downloader {
  readonly picker: PiecePicker;
  /** Evidence from failed pieces: who lied, and which pieces must be fetched from one peer. */
  readonly blame = new BlameLedger();
  private readonly assemblies = new Map<number, PieceAssembly>();
  private readonly bpp: number;
  private readonly blockSize: number;
  private bufferedBytes = 0;
  private readonly buffers: PieceBufferPool;
  /** Pieces are big enough for the pool. */
  private readonly poolEligible: boolean;
  /** New pieces go to the pool (decided once a second from the event-loop utilisation). */
  private offload: boolean;
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  /** Unfinished-piece writes per piece (resume saves), which verified writes wait for. */
  private readonly persisting = new Map<number, Promise<void>>();
  /** Set by reset(): hashes and writes still in flight are then ignored. */
  private generation = 0;
  private writingBytes = 0;
  private readonly writes = new Set<Promise<void>>();
  /** Bytes thrown away: duplicates, unrequested blocks, failed pieces. */
  wasted = 0;
  hashFailures = 0;
  /** Payload bytes accepted this session. */
  received = 0;
  /** Peers slower than this (a share of the fastest, set each tick) get no time-critical pieces. */
  private criticalMinRate = 0;

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
    this.poolEligible = m.pieceLength >= tuning.workerHashMinPiece;
    this.offload = this.poolEligible && tuning.offloadAboveUtilization <= 0;
    // Keep as many idle buffers as a full pipeline spans (plus a few being hashed or written),
    // so steady state allocates nothing; bounded by the buffered-bytes cap.
    const spanned = Math.ceil((tuning.maxPipeline * this.blockSize) / m.pieceLength) + 8;
    const cap = Math.max(4, Math.floor(tuning.maxBufferedBytes / m.pieceLength));
    const shared = this.poolEligible && tuning.offloadAboveUtilization < 1;
    this.buffers = new PieceBufferPool(m.pieceLength, Math.min(cap, Math.max(16, spanned)), shared);
  }

  /** Pieces being assembled with their received blocks (for resume data). */
  get assembling(): ReadonlyMap<number, PieceAssembly> {
    return this.assemblies;
  }

  get pendingWriteBytes(): number {
    return this.writingBytes;
  }

  /** Resolves when every started piece write has finished (failed writes included). */
  async settle(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  // ---- peer lifecycle -------------------------------------------------------------------------

  peerAdded(s: PeerSession): void {
    s.target = this.tuning.initialPipeline;
  }

  peerRemoved(s: PeerSession): void {
    this.abandonSolo(s);
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
    if (this.picker.soloOwner(ref.index) === s.peer) this.abandonSolo(s, ref.index);
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
    if (s.slowStart) s.target = Math.min(s.target + 1, this.pipelineCap(s));

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
    let a = this.assemblies.get(index);
    if (!a) {
      const size = this.host.metainfo.pieceSize(index);
      const hasher = this.offload ? undefined : this.host.verification.hasher(index);
      a = new PieceAssembly(index, size, this.blockSize, this.buffers.take(), hasher);
      this.assemblies.set(index, a);
      this.bufferedBytes += a.buffer.length;
    }
    a.add(begin, block, s.peer.host);
    if (a.complete) {
      this.assemblies.delete(index);
      if (!a.incremental) void this.hashInPool(a);
      else this.finishPiece(a, a.digest());
    }
    this.fill(s);
  }

  private async hashInPool(a: PieceAssembly): Promise<void> {
    const gen = this.generation;
    let digest: Buffer;
    try {
      digest = await this.host.verification.poolDigest(this.host.hashPool, a.piece, a.data);
    } catch {
      // The pool is closing or a worker died: hash here instead.
      const h = this.host.verification.hasher(a.piece);
      h.update(a.data);
      digest = h.digest();
    }
    if (gen !== this.generation) return;
    this.finishPiece(a, digest);
  }

  private release(a: PieceAssembly): void {
    this.bufferedBytes -= a.buffer.length;
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
        this.assignSolo(a.piece);
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

  // ---- single-peer re-downloads (who lied?) ---------------------------------------------------

  /**
   * Gives a piece that failed with several senders to one peer alone: one that has it, would
   * serve it now (unchoked, or allowed-fast), fastest first, chosen by the BlameLedger. Nobody
   * suitable: the piece waits (tick retries).
   */
  private assignSolo(piece: number): void {
    const eligible: PeerSession[] = [];
    for (const s of this.host.sessions()) {
      const p = s.peer;
      if (p.closed || s.snubbed || !(s.seed || p.bitfield.has(piece))) continue;
      if (p.peerChoking && !p.allowedFastSet.has(piece)) continue;
      eligible.push(s);
    }
    eligible.sort((x, y) => y.peer.downloadRate - x.peer.downloadRate);
    const host = this.blame.chooseSolo(
      piece,
      eligible.map((s) => s.peer.host),
    );
    const chosen = host === undefined ? undefined : eligible.find((s) => s.peer.host === host);
    this.picker.setSolo(piece, chosen?.peer);
    if (chosen) {
      this.updateInterest(chosen);
      this.fill(chosen);
    }
  }

  /**
   * The peer holding `piece` (or every piece it holds alone) gave up: refused a block, choked
   * us, was snubbed or left. What it sent is kept as evidence, the partial piece is dropped and
   * another peer gets it.
   */
  private abandonSolo(s: PeerSession, only?: number): void {
    if (only !== undefined && !this.picker.isSolo(only)) return;
    const pieces: number[] = [];
    for (const [piece, owner] of this.picker.soloPieces())
      if (owner === s.peer && (only === undefined || piece === only)) pieces.push(piece);
    for (const piece of pieces) {
      const a = this.assemblies.get(piece);
      // Complete and being hashed: its verdict decides (a failure reassigns it).
      if (!a && this.picker.awaitingHash(piece)) continue;
      if (a) {
        this.blame.abandoned(piece, a.evidence());
        this.wasted += a.receivedBytes;
        this.assemblies.delete(piece);
        this.release(a);
      }
      for (const [id, req] of s.inflight) {
        if (req.ref.piece !== piece) continue;
        s.inflight.delete(id);
        addCancelled(s.cancelled, id);
        if (!s.peer.closed) s.peer.cancel(req.ref.piece, req.ref.offset, req.ref.length);
      }
      trimCancelled(s.cancelled);
      this.picker.abandonPiece(piece);
      this.picker.setSolo(piece, undefined);
      this.assignSolo(piece);
    }
  }

  /** Reserved pieces nobody could take yet: try again (peers unchoke, join, announce pieces). */
  private assignPendingSolos(): void {
    const pending: number[] = [];
    for (const [piece, owner] of this.picker.soloPieces()) if (owner === undefined) pending.push(piece);
    for (const piece of pending) this.assignSolo(piece);
  }

  private writePiece(a: PieceAssembly): void {
    const size = a.size;
    this.writingBytes += size;
    const before = this.persisting.get(a.piece) ?? Promise.resolve();
    const p = before
      .then(() => this.host.storage().write(a.piece, 0, a.data))
      .then(
        () => this.host.pieceDone(a.piece),
        (e: unknown) => this.host.writeFailed(a.piece, e),
      )
      .finally(() => {
        this.writingBytes -= size;
        this.release(a);
        this.writes.delete(p);
        this.fillAll();
      });
    this.writes.add(p);
  }

  // ---- requesting -----------------------------------------------------------------------------

  /** The most requests the peer accepts at once (its reqq), within our own cap. */
  private pipelineCap(s: PeerSession): number {
    const reqq = s.peer.maxRequests;
    return Math.max(1, Math.min(this.tuning.maxPipeline, reqq && reqq > 0 ? reqq : 250));
  }

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
    const depth = s.snubbed ? 1 : Math.max(1, Math.min(s.target, this.pipelineCap(s) - reserve));
    const fast = choked ? peer.allowedFastSet : undefined;
    const urgent = !s.snubbed && s.peer.downloadRate >= this.criticalMinRate;
    if (urgent && this.picker.criticalPending) {
      // Time-critical blocks may go beyond the pipeline (up to the peer's reqq), at once.
      const room = Math.min(this.pipelineCap(s), depth + this.bpp * CRITICAL_EXTRA_PIECES) - s.inflight.size;
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
      if (preempt && !s.snubbed && s.peer.downloadRate >= this.criticalMinRate) this.withdrawOrdinary(s);
      this.fill(s);
    }
  }

  /**
   * A seek needs a piece nobody requested, but the peer's queue holds up to a pipeline of
   * ordinary requests (seconds at high rates) that it would serve first: cancel them so the
   * critical requests go to the front; the ordinary ones are requested again behind them.
   */
  private withdrawOrdinary(s: PeerSession): void {
    const crit = this.picker.critical;
    if (!crit || s.peer.closed) return;
    for (const [id, req] of s.inflight) {
      if (crit.has(req.ref.piece)) continue;
      s.inflight.delete(id);
      addCancelled(s.cancelled, id);
      this.picker.cancelled(s.peer, req.ref);
      s.peer.cancel(req.ref.piece, req.ref.offset, req.ref.length);
    }
    trimCancelled(s.cancelled);
  }

  private fillOthers(except: PeerSession): void {
    for (const s of this.host.sessions()) if (s !== except) this.fill(s);
  }

  /** Withdraws every request to the peer (cancel on the wire when `sendCancel`). */
  dropRequests(s: PeerSession, sendCancel: boolean): void {
    this.abandonSolo(s);
    if (!s.hasRequests) return; // (touching the maps would make them for every peer of a seed)
    for (const [id, req] of s.inflight) {
      this.picker.cancelled(s.peer, req.ref);
      addCancelled(s.cancelled, id);
      if (sendCancel && !s.peer.closed) s.peer.cancel(req.ref.piece, req.ref.offset, req.ref.length);
    }
    s.inflight.clear();
    trimCancelled(s.cancelled);
  }

  /** Once a second: hashing placement, pipeline sizing, slow start, snubbing. */
  tick(): void {
    const now = this.host.clock.now();
    if (this.poolEligible) {
      const busy = performance.eventLoopUtilization(this.elu).utilization;
      this.elu = performance.eventLoopUtilization();
      this.offload = busy > this.tuning.offloadAboveUtilization;
    }
    this.assignPendingSolos();
    let best = 0;
    for (const s of this.host.sessions()) best = Math.max(best, s.peer.downloadRate);
    this.criticalMinRate = best * CRITICAL_RATE_SHARE;
    for (const s of this.host.sessions()) {
      const rate = s.peer.downloadRate;
      const cap = this.pipelineCap(s);
      if (s.slowStart && now - s.lastRateAt >= 1000) {
        // Slow start ends when a second of growth no longer raises the rate by 10 %.
        if (s.lastRate > 0 && rate < s.lastRate * 1.1) s.slowStart = false;
        s.lastRate = rate;
        s.lastRateAt = now;
      }
      if (!s.slowStart) {
        const bdp = Math.ceil((rate * this.tuning.queueSeconds) / this.blockSize);
        s.target = Math.max(2, Math.min(cap, Math.max(bdp, s.target > bdp ? s.target - 1 : bdp)));
      }
      this.expireRequests(s, now);
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

  /** Requests are kept in send order, so the expired ones are at the front. */
  private expireRequests(s: PeerSession, now: number): void {
    const limit = Math.max(this.tuning.requestTimeoutMs, s.rttMs * 8);
    // A peer silent altogether is a snub case, handled as a whole.
    if (now - s.lastBlockAt > limit || !s.hasRequests) return;
    let expired = 0;
    for (const [id, req] of s.inflight) {
      if (now - req.sentAt <= limit) break;
      s.inflight.delete(id);
      addCancelled(s.cancelled, id);
      this.picker.cancelled(s.peer, req.ref);
      s.peer.cancel(req.ref.piece, req.ref.offset, req.ref.length);
      expired++;
    }
    trimCancelled(s.cancelled);
    if (expired > 0) this.fillOthers(s);
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
  async persistUnfinished(): Promise<{ piece: number; blocks: Bitfield }[]> {
    const out: { piece: number; blocks: Bitfield }[] = [];
    const runs: { piece: number; start: number; data: Buffer }[] = [];
    // Copy everything now: once we await, a piece may complete and its buffer be reused.
    for (const a of this.assemblies.values()) {
      if (a.complete) continue;
      const blocks = new Bitfield(a.blockCount);
      for (let b = 0; b < a.blockCount; b++) if (a.has(b)) blocks.set(b);
      if (blocks.empty) continue;
      for (let b = 0; b < a.blockCount;) {
        if (!blocks.has(b)) {
          b++;
          continue;
        }
        let e = b;
        while (e < a.blockCount && blocks.has(e)) e++;
        const start = b * this.blockSize;
        runs.push({
          piece: a.piece,
          start,
          data: Buffer.from(a.data.subarray(start, Math.min(a.size, e * this.blockSize))),
        });
        b = e;
      }
      out.push({ piece: a.piece, blocks });
    }
    const storage = this.host.storage();
    for (const r of runs) {
      // A verified write of the same piece waits for this one, so stale bytes never land last.
      const p = (this.persisting.get(r.piece) ?? Promise.resolve()).then(() =>
        storage.write(r.piece, r.start, r.data),
      );
      const settled = p.catch(() => undefined);
      this.persisting.set(r.piece, settled);
      void settled.then(() => {
        if (this.persisting.get(r.piece) === settled) this.persisting.delete(r.piece);
      });
      await p;
    }
    return out;
  }

  /** Reads back the blocks of unfinished pieces saved by persistUnfinished (call before any peer). */
  async restoreUnfinished(unfinished: readonly { piece: number; blocks: Bitfield }[]): Promise<number> {
    let restored = 0;
    const storage = this.host.storage();
    const m = this.host.metainfo;
    for (const u of unfinished) {
      if (this.picker.hasPiece(u.piece) || this.assemblies.has(u.piece)) continue;
      const size = m.pieceSize(u.piece);
      if (u.blocks.size !== Math.ceil(size / this.blockSize) || u.blocks.empty || u.blocks.complete) continue;
      const hasher = this.host.verification.hasher(u.piece);
      const a = new PieceAssembly(u.piece, size, this.blockSize, this.buffers.take(), hasher);
      for (const b of u.blocks.indices()) {
        const start = b * this.blockSize;
        const len = Math.min(this.blockSize, size - start);
        a.add(start, await storage.read(u.piece, start, len), RESUME_SENDER);
      }
      this.assemblies.set(u.piece, a);
      this.bufferedBytes += a.buffer.length;
      this.picker.restorePartial(u.piece, u.blocks);
      restored += u.blocks.count;
    }
    return restored;
  }

  /** Forgets everything in progress (stop / recheck). */
  reset(): void {
    this.generation++;
    for (const a of this.assemblies.values()) this.release(a);
    this.assemblies.clear();
  }
}

export type { BlockRef };
