/**
 * The picker's state and what feeds it: piece sizes, what we have, each peer's availability
 * (kept incrementally in per-priority AvailabilityOrder buckets, have-all peers as one counter)
 * and piece priorities. PickerReservations (block requests) and PiecePicker (the picking
 * strategies) build on it; engine code uses PiecePicker.
 */
import { Bitfield } from '../util/bitfield.js';
import { NbtError } from '../util/errors.js';
import { AvailabilityOrder } from './avail-order.js';
import type { PartialPiece } from './partial-piece.js';
import {
  DEFAULT_PRIORITY,
  MAX_PRIORITY,
  BLOCK_SIZE,
  type BlockRef,
  type PeerKey,
  type PickerOptions,
} from './picker-types.js';

/** What the picker knows of one peer. */
export interface PeerState {
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

export class PickerAvailability {
  readonly pieceCount: number;
  readonly pieceLength: number;
  readonly blockSize: number;
  /** Blocks in a full-size piece. */
  readonly blocksPerPiece: number;
  protected readonly random: () => number;
  protected readonly randomFirst: number;
  protected readonly endgamePeers: number;
  protected readonly seqWindow: number;
  protected readonly have: Bitfield;
  protected readonly prio: Uint8Array;
  protected readonly avail: Uint32Array;
  protected readonly pos: Int32Array;
  protected readonly levels: AvailabilityOrder[] = [];
  protected readonly partials = new Map<number, PartialPiece>();
  protected readonly withFree = new Set<number>();
  /**
   * Pieces only one peer may download (re-downloads after a shared hash failure, to learn who
   * lied); undefined owner: nobody for now. Usually empty: one size check on the hot path.
   */
  protected readonly solo = new Map<number, PeerKey | undefined>();
  protected readonly peers = new Map<PeerKey, PeerState>();
  protected seeds = 0;
  protected wantedRemaining = 0;
  protected unstartedWanted = 0;
  protected freeWanted = 0;
  protected seqCursor = 0;
  protected readonly sizes: ((piece: number) => number) | undefined;

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

  /** Pieces in progress with a bitmap of received blocks (for resume data). */
  partialPieces(): { piece: number; blocks: Bitfield }[] {
    const out: { piece: number; blocks: Bitfield }[] = [];
    for (const part of this.partials.values()) {
      if (part.received > 0) out.push({ piece: part.piece, blocks: part.receivedBitmap() });
    }
    return out;
  }

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

  /** 0 = skip, 1..7 = low..high (default 4). */
  setPiecePriority(piece: number, priority: number): void {
    this.applyPriority(piece, priority);
  }

  setPiecePriorities(priorities: ArrayLike<number>): void {
    if (priorities.length !== this.pieceCount)
      throw new RangeError('priority count does not match piece count');
    for (let i = 0; i < this.pieceCount; i++) this.applyPriority(i, priorities[i]!);
  }

  protected wanted(piece: number): boolean {
    return this.prio[piece]! > 0 && !this.have.has(piece);
  }

  protected peerState(peer: PeerKey): PeerState {
    let ps = this.peers.get(peer);
    if (!ps) {
      ps = { bits: undefined, all: false, requests: new Set(), pieces: new Set(), interesting: 0, last: -1 };
      this.peers.set(peer, ps);
    }
    return ps;
  }

  protected addAvailability(ps: PeerState, piece: number): void {
    const a = this.avail[piece]!;
    this.avail[piece] = a + 1;
    if (this.pos[piece]! >= 0) this.levels[this.prio[piece]!]!.increment(piece, a);
    if (this.wanted(piece)) ps.interesting++;
  }

  protected dropAvailability(ps: PeerState): void {
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

  protected applyPriority(piece: number, priority: number): void {
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

  protected checkPiece(piece: number): void {
    if (!Number.isInteger(piece) || piece < 0 || piece >= this.pieceCount)
      throw new NbtError('PICKER_BAD_PIECE', `piece ${piece} out of range 0..${this.pieceCount - 1}`);
  }
}
