/**
 * Single-peer re-downloads (who lied?): a piece that failed its hash check with several senders
 * is fetched again from one peer alone, chosen by the BlameLedger, so the next verdict names the
 * liar. The Downloader holds one and tells it when a solo peer gives up.
 */
import type { PieceAssembly } from './assembly.js';
import type { BlameLedger } from './blame.js';
import type { PiecePicker } from './picker.js';
import type { PeerSession } from './session.js';
import { addCancelled, trimCancelled } from './request-cancels.js';

/** What the rounds need of their Downloader. */
export interface SoloHost {
  readonly picker: PiecePicker;
  readonly blame: BlameLedger;
  sessions(): Iterable<PeerSession>;
  /** The piece's assembly in progress, if any. */
  assembly(piece: number): PieceAssembly | undefined;
  /** Drops an assembly in progress: its bytes are wasted, its buffer goes back to the pool. */
  discard(a: PieceAssembly): void;
  updateInterest(s: PeerSession): void;
  fill(s: PeerSession): void;
}

export class SoloRounds {
  constructor(private readonly d: SoloHost) {}

  /**
   * Gives a piece that failed with several senders to one peer alone: one that has it, would
   * serve it now (unchoked, or allowed-fast), fastest first, chosen by the BlameLedger. Nobody
   * suitable: the piece waits (tick retries).
   */
  assign(piece: number): void {
    const eligible: PeerSession[] = [];
    for (const s of this.d.sessions()) {
      const p = s.peer;
      if (p.closed || s.snubbed || !(s.seed || p.bitfield.has(piece))) continue;
      if (p.peerChoking && !p.allowedFastSet.has(piece)) continue;
      eligible.push(s);
    }
    eligible.sort((x, y) => y.peer.downloadRate - x.peer.downloadRate);
    const host = this.d.blame.chooseSolo(
      piece,
      eligible.map((s) => s.peer.host),
    );
    const chosen = host === undefined ? undefined : eligible.find((s) => s.peer.host === host);
    this.d.picker.setSolo(piece, chosen?.peer);
    if (chosen) {
      this.d.updateInterest(chosen);
      this.d.fill(chosen);
    }
  }

  /**
   * The peer holding `piece` (or every piece it holds alone) gave up: refused a block, choked
   * us, was snubbed or left. What it sent is kept as evidence, the partial piece is dropped and
   * another peer gets it.
   */
  abandon(s: PeerSession, only?: number): void {
    if (only !== undefined && !this.d.picker.isSolo(only)) return;
    const pieces: number[] = [];
    for (const [piece, owner] of this.d.picker.soloPieces())
      if (owner === s.peer && (only === undefined || piece === only)) pieces.push(piece);
    for (const piece of pieces) {
      const a = this.d.assembly(piece);
      // Complete and being hashed: its verdict decides (a failure reassigns it).
      if (!a && this.d.picker.awaitingHash(piece)) continue;
      if (a) {
        this.d.blame.abandoned(piece, a.evidence());
        this.d.discard(a);
      }
      for (const [id, req] of s.inflight) {
        if (req.ref.piece !== piece) continue;
        s.inflight.delete(id);
        addCancelled(s.cancelled, id);
        if (!s.peer.closed) s.peer.cancel(req.ref.piece, req.ref.offset, req.ref.length);
      }
      trimCancelled(s.cancelled);
      this.d.picker.abandonPiece(piece);
      this.d.picker.setSolo(piece, undefined);
      this.assign(piece);
    }
  }

  /** Reserved pieces nobody could take yet: try again (peers unchoke, join, announce pieces). */
  assignPending(): void {
    const pending: number[] = [];
    for (const [piece, owner] of this.d.picker.soloPieces()) if (owner === undefined) pending.push(piece);
    for (const piece of pending) this.assign(piece);
  }
}
