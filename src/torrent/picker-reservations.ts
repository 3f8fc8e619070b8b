/**
 * Block reservations: which peer holds a request for which block, pieces in progress
 * (PartialPiece), what a received, cancelled or rejected block frees, hash verdicts, resume
 * data's partial pieces, and pieces reserved for one peer (solo re-downloads).
 */
import type { Bitfield } from '../util/bitfield.js';
import { NbtError } from '../util/errors.js';
import { PartialPiece } from './partial-piece.js';
import { PickerAvailability, type PeerState } from './picker-availability.js';
import type { BlockRef, PeerKey, ReceivedResult } from './picker-types.js';

export class PickerReservations extends PickerAvailability {
  /** Blocks the peer has outstanding. */
  requestsOf(peer: PeerKey): BlockRef[] {
    const ps = this.peers.get(peer);
    return ps ? [...ps.requests].map((id) => this.refOf(id)) : [];
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

  protected start(piece: number, peer: PeerKey | undefined, ps: PeerState | undefined): PartialPiece {
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

  protected adopt(part: PartialPiece, peer: PeerKey, ps: PeerState): void {
    part.owner = peer;
    ps.pieces.add(part.piece);
  }

  protected take(part: PartialPiece, peer: PeerKey, ps: PeerState, want: number, out: BlockRef[]): void {
    const base = part.piece * this.blocksPerPiece;
    const taken = part.takeFree(peer, want);
    for (const b of taken) {
      ps.requests.add(base + b);
      out.push(this.blockRef(part.piece, b));
    }
    this.freeGone(part, taken.length);
  }

  /** `n` free blocks of `part` were requested or arrived. */
  protected freeGone(part: PartialPiece, n: number): void {
    if (this.wanted(part.piece)) this.freeWanted -= n;
    if (part.free === 0) this.withFree.delete(part.piece);
  }

  /** `peer` no longer holds a request for block `id`. */
  protected release(peer: PeerKey, id: number): void {
    this.peers.get(peer)?.requests.delete(id);
    const piece = Math.floor(id / this.blocksPerPiece);
    const b = id - piece * this.blocksPerPiece;
    const part = this.partials.get(piece);
    if (!part?.release(b, peer)) return;
    if (this.wanted(piece)) this.freeWanted++;
    this.withFree.add(piece);
  }

  /** Forgets a partial piece, releasing any requests still outstanding in it. */
  protected dropPartial(part: PartialPiece): void {
    const base = part.piece * this.blocksPerPiece;
    for (const [b, h] of part.requests()) this.peers.get(h)?.requests.delete(base + b);
    for (const ps of this.peers.values()) ps.pieces.delete(part.piece);
    if (this.wanted(part.piece)) this.freeWanted -= part.free;
    this.partials.delete(part.piece);
    this.withFree.delete(part.piece);
  }

  protected blockIndex(block: BlockRef): number {
    this.checkPiece(block.piece);
    const b = block.offset / this.blockSize;
    if (!Number.isInteger(b) || b < 0 || b >= this.blockCount(block.piece))
      throw new NbtError('PICKER_BAD_BLOCK', `no block at offset ${block.offset} of piece ${block.piece}`);
    return b;
  }

  protected refOf(id: number): BlockRef {
    const piece = Math.floor(id / this.blocksPerPiece);
    return this.blockRef(piece, id - piece * this.blocksPerPiece);
  }
}
