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
import { findPiece } from './avail-order.js';
import type { CriticalPieces } from './deadlines.js';
import type { PeerState } from './picker-availability.js';
import { PickerReservations } from './picker-reservations.js';
import type { BlockRef, PeerKey, PickOptions } from './picker-types.js';

export * from './picker-types.js';

/**
 * The picking strategies over the state and reservations of its base classes
 * (picker-availability.ts, picker-reservations.ts).
 */
export class PiecePicker extends PickerReservations {
  /** Pick pieces in index order (streaming). */
  sequential = false;
  /** Time-critical pieces (stream readers' windows), served before anything else. */
  critical: CriticalPieces | undefined;

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
}
