/**
 * Which blocks to request from which peer (sans-I/O). Availability is kept incrementally in
 * per-priority buckets (see AvailabilityOrder), so a pick never rescans every piece. Policy, in
 * order: sequential window (streaming mode), the peer's own started pieces (whole-piece
 * affinity), orphaned partial pieces, a new piece (random for the first few, then rarest first
 * with a random choice among equals, higher priority first), blocks free in pieces others
 * started, and finally endgame duplicates. Outside endgame no block is ever handed out twice.
 * Before all of these come time-critical pieces (streaming readers, see deadlines.ts): earliest
 * deadline first, block by block, duplicated to a second peer once overdue.
 */
import { Bitfield } from '../util/bitfield.js';
import { NbtError } from '../util/errors.js';
import { AvailabilityOrder, findPiece } from './avail-order.js';
import { PartialPiece } from './partial-piece.js';
import type { CriticalPieces } from './deadlines.js';
import {
  DEFAULT_PRIORITY,
  MAX_PRIORITY,
  BLOCK_SIZE,
  type BlockRef,
  type PeerKey,
  type PickerOptions,
  type PickOptions,
  type ReceivedResult,
} from './picker-types.js';

export * from './picker-types.js';

interface PeerState {
  bits: Bitfield | undefined;
  all: boolean;
  /** Global block ids this peer has outstanding. */
  requests: Set<number>;
  /** Pieces it started (affinity). */
  pieces: Set<number>;
  /** How many of its pieces we still want (bitfield peers only). */
  interesting: number;
  /** The last new piece it started (contiguous picking continues after it); -1: none. */
  last: number;
}

export class PiecePicker {
  readonly pieceCount: number;
  readonly pieceLength: number;
  readonly blockSize: number;
  /** Blocks in a full-size piece. */
  readonly blocksPerPiece: number;
  /** Pick pieces in index order (streaming). */
  sequential = false;
  /** Time-critical pieces (stream readers' windows), served before anything else. */
  critical: CriticalPieces | undefined;

  private readonly random: () => number;
  private readonly randomFirst: number;
  private readonly endgamePeers: number;
  private readonly seqWindow: number;
  private readonly have: Bitfield;
  private readonly prio: Uint8Array;
  private readonly avail: Uint32Array;
  private readonly pos: Int32Array;
  private readonly levels: AvailabilityOrder[] = [];
  private readonly partials = new Map<number, PartialPiece>();
  private readonly withFree = new Set<number>();
  /**
   * Pieces only one peer may download (re-downloads after a shared hash failure, to learn who
   * lied); undefined owner: nobody for now. Usually empty: one size check on the hot path.
   */
  private readonly solo = new Map<number, PeerKey | undefined>();
  private readonly peers = new Map<PeerKey, PeerState>();
  private seeds = 0;
  private wantedRemaining = 0;
  private unstartedWanted = 0;
  private freeWanted = 0;
  private seqCursor = 0;
  private readonly sizes: ((piece: number) => number) | undefined;

  constructor(o: PickerOptions) {
    const { pieceCount, pieceLength } = o;
    if (!Number.isSafeInteger(pieceCount) || pieceCount < 0)
      throw new RangeError(`bad piece count ${pieceCount}`);
    if (!(pieceLength > 0)) throw new RangeError(`bad piece length ${pieceLength}`);
    this.sizes = o.pieceSize;
    for (let i = 0; this.sizes && i < pieceCount; i++) {
      const size = this.sizes(i);
      if (!(size > 0 && size <= pieceLength)) throw new RangeError(`bad size ${size} of piece ${i}`);
    }
    this.pieceCount = pieceCount;
    this.pieceLength = pieceLength;
    this.blockSize = o.blockSize ?? BLOCK_SIZE;
    this.blocksPerPiece = Math.ceil(pieceLength / this.blockSize);
    this.random = o.random ?? Math.random;
    this.randomFirst = o.randomFirstPieces ?? 4;
    this.endgamePeers = Math.max(1, o.endgamePeersPerBlock ?? 2);
    this.seqWindow = Math.max(1, o.sequentialWindow ?? 16);
    if (o.have && o.have.size !== pieceCount) throw new RangeError('have bitfield size mismatch');
    this.have = o.have ? o.have.clone() : new Bitfield(pieceCount);
    this.prio = new Uint8Array(pieceCount).fill(DEFAULT_PRIORITY);
    this.avail = new Uint32Array(pieceCount);
    this.pos = new Int32Array(pieceCount).fill(-1);
    for (let p = 0; p <= MAX_PRIORITY; p++) this.levels.push(new AvailabilityOrder(this.pos));
    const level = this.levels[DEFAULT_PRIORITY]!;
    for (let i = 0; i < pieceCount; i++) if (!this.have.has(i)) level.insert(i, 0);
    this.wantedRemaining = this.unstartedWanted = pieceCount - this.have.count;
  }

  // ---- sizes ---------------------------------------------------------------------------------

  pieceSize(piece: number): number {
    return this.sizes ? this.sizes(piece) : this.pieceLength;
  }

  blockCount(piece: number): number {
    return Math.ceil(this.pieceSize(piece) / this.blockSize);
  }

  blockRef(piece: number, block: number): BlockRef {
    const offset = block * this.blockSize;
    return { piece, offset, length: Math.min(this.blockSize, this.pieceSize(piece) - offset) };
  }

  // ---- state queries -------------------------------------------------------------------------

  /** Verified pieces (a copy). */
  haveBitfield(): Bitfield {
    return this.have.clone();
  }

  hasPiece(piece: number): boolean {
    return this.have.has(piece);
  }

  get haveCount(): number {
    return this.have.count;
  }

  /** Wanted (priority > 0) pieces not yet verified. */
  get remaining(): number {
    return this.wantedRemaining;
  }

  /** Every wanted piece is verified. */
  get finished(): boolean {
    return this.wantedRemaining === 0;
  }

  /** Every remaining wanted block is requested or received: duplicates are allowed. */
  get inEndgame(): boolean {
    return this.wantedRemaining > 0 && this.unstartedWanted === 0 && this.freeWanted === 0;
  }

  /** How many connected peers have the piece. */
  availability(piece: number): number {
    return this.avail[piece]! + this.seeds;
  }

  priority(piece: number): number {
    return this.prio[piece]!;
  }

  /** The peer has a piece we want. */
  isInterestingPeer(peer: PeerKey): boolean {
    const ps = this.peers.get(peer);
    if (!ps) return false;
    return ps.all ? this.wantedRemaining > 0 : ps.interesting > 0;
  }

  /** A bitfield holds a piece we want (O(pieces); prefer isInterestingPeer for known peers). */
  isInteresting(peerHas: Bitfield): boolean {
    for (const i of peerHas.indices()) if (this.wanted(i)) return true;
    return false;
  }

  /** Blocks the peer has outstanding. */
  requestsOf(peer: PeerKey): BlockRef[] {
    const ps = this.peers.get(peer);
    return ps ? [...ps.requests].map((id) => this.refOf(id)) : [];
  }

  /** Pieces in progress with a bitmap of received blocks (for resume data). */
  partialPieces(): { piece: number; blocks: Bitfield }[] {
    const out: { piece: number; blocks: Bitfield }[] = [];
    for (const part of this.partials.values()) {
      if (part.received > 0) out.push({ piece: part.piece, blocks: part.receivedBitmap() });
    }
    return out;
  }

  // ---- availability --------------------------------------------------------------------------

  /** The peer's full bitfield (replaces anything known about it). */
  peerHasBitfield(peer: PeerKey, bits: Bitfield): void {
    if (bits.size !== this.pieceCount)
      throw new NbtError('PICKER_BITFIELD_SIZE', 'bitfield size does not match');
    const ps = this.peerState(peer);
    this.dropAvailability(ps);
    if (bits.complete && this.pieceCount > 0) {
      ps.all = true;
      this.seeds++;
      return;
    }
    ps.bits = bits.clone();
    for (const i of bits.indices()) this.addAvailability(ps, i);
  }

  peerHasPiece(peer: PeerKey, piece: number): void {
    if (!Number.isInteger(piece) || piece < 0 || piece >= this.pieceCount)
      throw new NbtError('PICKER_BAD_PIECE', `piece ${piece} out of range`);
    const ps = this.peerState(peer);
    if (ps.all) return;
    ps.bits ??= new Bitfield(this.pieceCount);
    if (!ps.bits.set(piece)) return;
    this.addAvailability(ps, piece);
    if (ps.bits.complete) {
      this.dropAvailability(ps);
      ps.all = true;
      this.seeds++;
    }
  }

  peerHasAll(peer: PeerKey): void {
    this.peerHasBitfield(peer, Bitfield.full(this.pieceCount));
  }

  peerHasNone(peer: PeerKey): void {
    this.dropAvailability(this.peerState(peer));
  }

  /** The peer left: its availability goes, its requests return to the pool. */
  peerGone(peer: PeerKey): void {
    const ps = this.peers.get(peer);
    if (!ps) return;
    this.dropAvailability(ps);
    for (const id of [...ps.requests]) this.release(peer, id);
    for (const piece of ps.pieces) {
      const part = this.partials.get(piece);
      if (part && part.owner === peer) part.owner = undefined;
    }
    this.peers.delete(peer);
  }

  // ---- priorities ----------------------------------------------------------------------------

  /** 0 = skip, 1..7 = low..high (default 4). */
  setPiecePriority(piece: number, priority: number): void {
    this.applyPriority(piece, priority);
  }

  setPiecePriorities(priorities: ArrayLike<number>): void {
    if (priorities.length !== this.pieceCount)
      throw new RangeError('priority count does not match piece count');
    for (let i = 0; i < this.pieceCount; i++) this.applyPriority(i, priorities[i]!);
  }

  // ---- picking -------------------------------------------------------------------------------

  /** Up to `count` blocks to request from `peer`, marked as requested by it. */
  pick(peer: PeerKey, count: number, opts: PickOptions = {}): BlockRef[] {
    const out: BlockRef[] = [];
    const ps = this.peers.get(peer);
    if (!ps || count <= 0) return out;
    const fast = opts.fast;
    const crit = this.critical !== undefined && this.critical.size > 0 ? this.critical : undefined;
    if (crit && opts.critical !== false) this.pickCritical(crit, peer, ps, count, fast, out);
    if (opts.criticalOnly || this.wantedRemaining === 0 || out.length >= count) return out;
    if (!ps.all && ps.interesting === 0) return out;
    // Critical pieces are handed out by pickCritical alone (to the peers allowed them).
    const ok = (piece: number): boolean =>
      (fast === undefined || fast.has(piece)) &&
      this.wanted(piece) &&
      (ps.all || ps.bits!.has(piece)) &&
      !crit?.has(piece) &&
      !this.barred(piece, peer);

    if (this.solo.size > 0) this.pickSolo(peer, ps, count, ok, out);
    if (this.sequential) this.pickSequential(peer, ps, count, ok, out);
    for (const piece of ps.pieces) {
      if (out.length >= count) return out;
      const part = this.partials.get(piece);
      if (part && part.free > 0 && ok(piece)) this.take(part, peer, ps, count - out.length, out);
    }
    for (const piece of this.withFree) {
      if (out.length >= count) return out;
      const part = this.partials.get(piece)!;
      if (part.owner !== undefined || !ok(piece)) continue;
      this.adopt(part, peer, ps);
      this.take(part, peer, ps, count - out.length, out);
    }
    while (out.length < count) {
      const piece = fast
        ? this.newFastPiece(ok, fast)
        : ((opts.contiguous ? this.nextInRun(ps, ok) : undefined) ?? this.newPiece(peer, ps, crit));
      if (piece < 0) break;
      ps.last = piece;
      this.take(this.start(piece, peer, ps), peer, ps, count - out.length, out);
    }
    for (const piece of this.withFree) {
      if (out.length >= count) return out;
      if (ok(piece)) this.take(this.partials.get(piece)!, peer, ps, count - out.length, out);
    }
    if (out.length < count && this.inEndgame) this.pickEndgame(peer, ps, count, ok, out);
    return out;
  }

  /** A block arrived from `peer`. */
  received(peer: PeerKey, block: BlockRef): ReceivedResult {
    const b = this.blockIndex(block);
    const id = block.piece * this.blocksPerPiece + b;
    this.peers.get(peer)?.requests.delete(id);
    const part = this.partials.get(block.piece);
    const got = part?.receive(b, peer);
    if (!part || !got) return { duplicateHolders: [], duplicate: true, pieceComplete: false };
    for (const h of got.others) this.peers.get(h)?.requests.delete(id);
    if (got.wasFree) this.freeGone(part, 1);
    return { duplicateHolders: got.others, duplicate: false, pieceComplete: part.complete };
  }

  /** We cancelled our request (timeout, snub, endgame): the block is free again unless others hold it. */
  cancelled(peer: PeerKey, block: BlockRef): void {
    this.release(peer, block.piece * this.blocksPerPiece + this.blockIndex(block));
  }

  /** The peer rejected our request (BEP 6) or dropped it by choking us. */
  rejected(peer: PeerKey, block: BlockRef): void {
    this.cancelled(peer, block);
  }

  /**
   * Reserves the piece for `peer` alone (undefined: for nobody until reassigned); other peers'
   * requests for it are not touched (call after pieceFailed / abandonPiece, when there are none).
   */
  setSolo(piece: number, peer: PeerKey | undefined): void {
    this.checkPiece(piece);
    if (!this.have.has(piece)) this.solo.set(piece, peer);
  }

  /** Any peer may download the piece again. */
  clearSolo(piece: number): void {
    this.solo.delete(piece);
  }

  /** The peer the piece is reserved for; undefined if none (see isSolo). */
  soloOwner(piece: number): PeerKey | undefined {
    return this.solo.get(piece);
  }

  /** Every block of the piece arrived and it has no verdict yet (being hashed). */
  awaitingHash(piece: number): boolean {
    return this.partials.get(piece)?.complete === true;
  }

  isSolo(piece: number): boolean {
    return this.solo.has(piece);
  }

  /** Reserved pieces and their owners (few). */
  soloPieces(): IterableIterator<[number, PeerKey | undefined]> {
    return this.solo.entries();
  }

  /** Drops the piece's progress (a single-peer attempt gave up): every block is free again. */
  abandonPiece(piece: number): void {
    this.pieceFailed(piece);
  }

  /** The piece passed its hash check. */
  pieceVerified(piece: number): void {
    this.checkPiece(piece);
    this.solo.delete(piece);
    if (this.have.has(piece)) return;
    const part = this.partials.get(piece);
    const wanted = this.prio[piece]! > 0;
    if (part) this.dropPartial(part);
    else if (wanted) this.unstartedWanted--;
    if (wanted) {
      this.levels[this.prio[piece]!]!.remove(piece, this.avail[piece]!);
      this.wantedRemaining--;
      for (const ps of this.peers.values()) if (ps.bits?.has(piece)) ps.interesting--;
    }
    this.have.set(piece);
  }

  /**
   * The piece failed its hash check: all its blocks become free again. Returns the peers that
   * sent blocks of it (to tally for banning).
   */
  pieceFailed(piece: number): PeerKey[] {
    this.checkPiece(piece);
    const part = this.partials.get(piece);
    if (!part) return [];
    const senders = part.senders();
    this.dropPartial(part);
    if (this.wanted(piece)) this.unstartedWanted++;
    return senders;
  }

  /** Restores the received blocks of an unfinished piece (from resume data). */
  restorePartial(piece: number, blocks: Bitfield): void {
    this.checkPiece(piece);
    if (this.have.has(piece) || this.partials.has(piece)) return;
    if (blocks.size !== this.blockCount(piece))
      throw new NbtError('PICKER_BLOCKS_SIZE', 'block bitmap size mismatch');
    const part = this.start(piece, undefined, undefined);
    for (const b of blocks.indices()) if (part.receive(b, undefined)?.wasFree) this.freeGone(part, 1);
  }

  // ---- internals -----------------------------------------------------------------------------

  private wanted(piece: number): boolean {
    return this.prio[piece]! > 0 && !this.have.has(piece);
  }

  private peerState(peer: PeerKey): PeerState {
    let ps = this.peers.get(peer);
    if (!ps) {
      ps = { bits: undefined, all: false, requests: new Set(), pieces: new Set(), interesting: 0, last: -1 };
      this.peers.set(peer, ps);
    }
    return ps;
  }

  private addAvailability(ps: PeerState, piece: number): void {
    const a = this.avail[piece]!;
    this.avail[piece] = a + 1;
    if (this.pos[piece]! >= 0) this.levels[this.prio[piece]!]!.increment(piece, a);
    if (this.wanted(piece)) ps.interesting++;
  }

  private dropAvailability(ps: PeerState): void {
    if (ps.all) {
      this.seeds--;
      ps.all = false;
    }
    if (ps.bits) {
      for (const i of ps.bits.indices()) {
        const a = this.avail[i]!;
        this.avail[i] = a - 1;
        if (this.pos[i]! >= 0) this.levels[this.prio[i]!]!.decrement(i, a);
      }
      ps.bits = undefined;
    }
    ps.interesting = 0;
  }

  private applyPriority(piece: number, priority: number): void {
    this.checkPiece(piece);
    const p = Math.max(0, Math.min(MAX_PRIORITY, Math.trunc(priority) || 0));
    const old = this.prio[piece]!;
    if (p === old) return;
    this.prio[piece] = p;
    if (this.have.has(piece)) return;
    if (old > 0) this.levels[old]!.remove(piece, this.avail[piece]!);
    if (p > 0) this.levels[p]!.insert(piece, this.avail[piece]!);
    if (old > 0 === p > 0) return;
    const sign = p > 0 ? 1 : -1;
    this.wantedRemaining += sign;
    const part = this.partials.get(piece);
    if (part) this.freeWanted += sign * part.free;
    else this.unstartedWanted += sign;
    if (p > 0 && piece < this.seqCursor) this.seqCursor = piece;
    for (const ps of this.peers.values()) if (ps.bits?.has(piece)) ps.interesting += sign;
  }

  private start(piece: number, peer: PeerKey | undefined, ps: PeerState | undefined): PartialPiece {
    const n = this.blockCount(piece);
    const part = new PartialPiece(piece, n, peer);
    this.partials.set(piece, part);
    this.withFree.add(piece);
    if (this.wanted(piece)) {
      this.unstartedWanted--;
      this.freeWanted += n;
    }
    if (ps) ps.pieces.add(piece);
    return part;
  }

  private adopt(part: PartialPiece, peer: PeerKey, ps: PeerState): void {
    part.owner = peer;
    ps.pieces.add(part.piece);
  }

  private take(part: PartialPiece, peer: PeerKey, ps: PeerState, want: number, out: BlockRef[]): void {
    const base = part.piece * this.blocksPerPiece;
    const taken = part.takeFree(peer, want);
    for (const b of taken) {
      ps.requests.add(base + b);
      out.push(this.blockRef(part.piece, b));
    }
    this.freeGone(part, taken.length);
  }

  /** `n` free blocks of `part` were requested or arrived. */
  private freeGone(part: PartialPiece, n: number): void {
    if (this.wanted(part.piece)) this.freeWanted -= n;
    if (part.free === 0) this.withFree.delete(part.piece);
  }

  /** `peer` no longer holds a request for block `id`. */
  private release(peer: PeerKey, id: number): void {
    this.peers.get(peer)?.requests.delete(id);
    const piece = Math.floor(id / this.blocksPerPiece);
    const b = id - piece * this.blocksPerPiece;
    const part = this.partials.get(piece);
    if (!part?.release(b, peer)) return;
    if (this.wanted(piece)) this.freeWanted++;
    this.withFree.add(piece);
  }

  /** Forgets a partial piece, releasing any requests still outstanding in it. */
  private dropPartial(part: PartialPiece): void {
    const base = part.piece * this.blocksPerPiece;
    for (const [b, h] of part.requests()) this.peers.get(h)?.requests.delete(base + b);
    for (const ps of this.peers.values()) ps.pieces.delete(part.piece);
    if (this.wanted(part.piece)) this.freeWanted -= part.free;
    this.partials.delete(part.piece);
    this.withFree.delete(part.piece);
  }

  /**
   * The piece after the peer's last new one, if nobody started it and it is no more common
   * (so a run does not wander into what peers already supply); undefined otherwise.
   */
  private nextInRun(ps: PeerState, ok: (piece: number) => boolean): number | undefined {
    const next = ps.last + 1;
    if (ps.last < 0 || next >= this.pieceCount || this.partials.has(next) || !ok(next)) return undefined;
    return this.avail[next]! <= this.avail[ps.last]! ? next : undefined;
  }

  /** A piece nobody has started: random at first, then rarest first; -1 if none. */
  private newPiece(peer: PeerKey, ps: PeerState, crit: CriticalPieces | undefined): number {
    return findPiece(
      this.levels,
      this.have.count < this.randomFirst,
      this.random,
      (piece) =>
        !this.partials.has(piece) &&
        (ps.all || ps.bits!.has(piece)) &&
        !crit?.has(piece) &&
        !this.barred(piece, peer),
    );
  }

  /** The piece is reserved for another peer (or for nobody yet). */
  private barred(piece: number, peer: PeerKey): boolean {
    return this.solo.size > 0 && this.solo.has(piece) && this.solo.get(piece) !== peer;
  }

  /** The peer's reserved pieces come first: it alone can finish them. */
  private pickSolo(
    peer: PeerKey,
    ps: PeerState,
    count: number,
    ok: (piece: number) => boolean,
    out: BlockRef[],
  ): void {
    for (const [piece, owner] of this.solo) {
      if (out.length >= count) return;
      if (owner !== peer || !ok(piece)) continue;
      const part = this.partials.get(piece) ?? this.start(piece, peer, ps);
      if (part.free > 0) this.take(part, peer, ps, count - out.length, out);
    }
  }

  /**
   * Time-critical pieces the peer has, earliest deadline first: free blocks one by one (several
   * peers may share a piece), then, for an overdue piece, blocks only one other peer holds.
   * Pieces with priority 0 are fetched too: a reader asked for them.
   */
  private pickCritical(
    crit: CriticalPieces,
    peer: PeerKey,
    ps: PeerState,
    count: number,
    fast: ReadonlySet<number> | undefined,
    out: BlockRef[],
  ): void {
    for (const piece of crit.ordered()) {
      if (out.length >= count) return;
      if (this.have.has(piece) || (fast !== undefined && !fast.has(piece))) continue;
      if ((!ps.all && !ps.bits?.has(piece)) || this.barred(piece, peer)) continue;
      const part = this.partials.get(piece) ?? this.start(piece, peer, ps);
      if (part.free > 0) this.take(part, peer, ps, count - out.length, out);
      if (out.length >= count || part.free > 0 || !crit.overdue(piece)) continue;
      const base = piece * this.blocksPerPiece;
      for (const b of part.shareRequested(peer, 1, count - out.length)) {
        ps.requests.add(base + b);
        out.push(this.blockRef(piece, b));
      }
    }
  }

  /** The peer has a critical piece we lack (we must be interested even if nothing else is wanted). */
  hasCriticalFor(peer: PeerKey): boolean {
    const ps = this.peers.get(peer);
    if (!ps || !this.critical || this.critical.size === 0) return false;
    for (const piece of this.critical.ordered())
      if (!this.have.has(piece) && (ps.all || ps.bits?.has(piece))) return true;
    return false;
  }

  /**
   * The most urgent critical piece we lack has no block requested or received yet: a new demand
   * (a seek), which justifies withdrawing queued ordinary requests ahead of it.
   */
  get criticalUnstarted(): boolean {
    if (!this.critical) return false;
    for (const piece of this.critical.ordered()) {
      if (this.have.has(piece)) continue;
      const part = this.partials.get(piece);
      return !part || part.free === this.blockCount(piece);
    }
    return false;
  }

  /** Some critical piece still has blocks nobody requested (or is overdue). */
  get criticalPending(): boolean {
    if (!this.critical || this.critical.size === 0) return false;
    for (const piece of this.critical.ordered()) {
      if (this.have.has(piece)) continue;
      const part = this.partials.get(piece);
      if (!part || part.free > 0 || this.critical.overdue(piece)) return true;
    }
    return false;
  }

  private newFastPiece(ok: (piece: number) => boolean, fast: ReadonlySet<number>): number {
    for (const piece of fast) if (ok(piece) && !this.partials.has(piece)) return piece;
    return -1;
  }

  private pickSequential(
    peer: PeerKey,
    ps: PeerState,
    count: number,
    ok: (piece: number) => boolean,
    out: BlockRef[],
  ): void {
    while (this.seqCursor < this.pieceCount && !this.wanted(this.seqCursor)) this.seqCursor++;
    const end = Math.min(this.pieceCount, this.seqCursor + this.seqWindow);
    for (let piece = this.seqCursor; piece < end && out.length < count; piece++) {
      if (!ok(piece)) continue;
      const part = this.partials.get(piece) ?? this.start(piece, peer, ps);
      if (part.free > 0) this.take(part, peer, ps, count - out.length, out);
    }
  }

  private pickEndgame(
    peer: PeerKey,
    ps: PeerState,
    count: number,
    ok: (piece: number) => boolean,
    out: BlockRef[],
  ): void {
    // Blocks with the fewest holders first, so one slow peer does not hold up the last pieces.
    for (let h = 1; h < this.endgamePeers && out.length < count; h++) {
      for (const part of this.partials.values()) {
        if (out.length >= count) return;
        if (!ok(part.piece)) continue;
        const base = part.piece * this.blocksPerPiece;
        for (const b of part.shareRequested(peer, h, count - out.length)) {
          ps.requests.add(base + b);
          out.push(this.blockRef(part.piece, b));
        }
      }
    }
  }

  private blockIndex(block: BlockRef): number {
    this.checkPiece(block.piece);
    const b = block.offset / this.blockSize;
    if (!Number.isInteger(b) || b < 0 || b >= this.blockCount(block.piece))
      throw new NbtError('PICKER_BAD_BLOCK', `no block at offset ${block.offset} of piece ${block.piece}`);
    return b;
  }

  private refOf(id: number): BlockRef {
    const piece = Math.floor(id / this.blocksPerPiece);
    return this.blockRef(piece, id - piece * this.blocksPerPiece);
  }

  private checkPiece(piece: number): void {
    if (!Number.isInteger(piece) || piece < 0 || piece >= this.pieceCount)
      throw new NbtError('PICKER_BAD_PIECE', `piece ${piece} out of range 0..${this.pieceCount - 1}`);
  }
}
