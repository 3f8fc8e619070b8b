import { Bitfield } from '../util/bitfield.js';
import { NbtError } from '../util/errors.js';
import { checkSpareBits, type Message } from '../wire/index.js';

const MAX_PENDING_HAVES = 100_000;

/**
 * Which pieces the remote has, from bitfield / have / have-all / have-none. While the piece count
 * is unknown (magnet links) announcements are kept raw and applied by `setPieceCount`.
 */
export class RemotePieces {
  bitfield = new Bitfield(0);
  pieceCount: number | undefined;
  private pendingBits: Buffer | undefined;
  private pendingHaveAll = false;
  /** Made on the first early `have` (only magnet links see them). */
  private pendingHaves: Set<number> | undefined;

  /** Throws NbtError (WIRE_BAD_BITFIELD / WIRE_BAD_INDEX) when earlier announcements do not fit. */
  setPieceCount(pieceCount: number): void {
    if (this.pieceCount === pieceCount) return;
    if (this.pendingBits) checkSpareBits(this.pendingBits, pieceCount);
    for (const i of this.pendingHaves ?? [])
      if (i >= pieceCount) throw new NbtError('WIRE_BAD_INDEX', `have ${i} >= piece count ${pieceCount}`);
    this.pieceCount = pieceCount;
    this.bitfield = this.pendingBits ? new Bitfield(pieceCount, this.pendingBits) : new Bitfield(pieceCount);
    if (this.pendingHaveAll) this.bitfield.setAll();
    for (const i of this.pendingHaves ?? []) this.bitfield.set(i);
    this.pendingBits = undefined;
    this.pendingHaveAll = false;
    this.pendingHaves = undefined;
  }

  /** Applies a have / bitfield / haveAll / haveNone (the decoder already checked ranges). */
  apply(m: Message): void {
    const known = this.pieceCount !== undefined;
    switch (m.type) {
      case 'have':
        if (known) this.bitfield.set(m.index);
        else if ((this.pendingHaves ??= new Set()).size < MAX_PENDING_HAVES) this.pendingHaves.add(m.index);
        break;
      case 'bitfield':
        if (known) this.bitfield = new Bitfield(this.pieceCount!, m.bits);
        else {
          this.pendingBits = Buffer.from(m.bits);
          this.pendingHaveAll = false;
        }
        break;
      case 'haveAll':
        if (known) this.bitfield.setAll();
        else this.pendingHaveAll = true;
        break;
      case 'haveNone':
        this.bitfield.clearAll();
        this.pendingHaveAll = false;
        this.pendingBits = undefined;
        this.pendingHaves = undefined;
        break;
    }
  }
}
