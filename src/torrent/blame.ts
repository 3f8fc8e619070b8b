/**
 * Who lied in a piece that failed its hash check (sans-I/O, hosts as strings). A shared failure
 * proves nothing about any one sender, so nobody is banned for it: the piece's blocks are
 * remembered (a SHA-1 per block per sender, libtorrent's "smart ban") and the piece is fetched
 * again from a single peer. A piece one peer sent alone that fails names that peer; a piece that
 * passes names every earlier sender whose block differs from the verified data. A peer that only
 * took part in failures is never banned for them. For v2 (BEP 52) pieces, the SHA-256 leaf of
 * each block is kept too: once the proven leaves of the piece arrive, whoever sent a block that
 * differs is named at once, per 16 KiB block, without a single-peer round.
 */

/** One block of a failed (or abandoned) attempt: who sent it and the SHA-1 of what it sent. */
export interface BlockEvidence {
  sender: string;
  digest: Buffer;
}

/** Attempts remembered per piece (memory stays bounded for a piece that keeps failing). */
const MAX_ATTEMPTS = 8;

interface PieceRecord {
  /** Per attempt, per block (undefined: that block did not arrive in that attempt). */
  attempts: (BlockEvidence | undefined)[][];
  /** Hosts that sent blocks in any remembered attempt. */
  contributors: Set<string>;
  /** Hosts given the piece alone in the current round. */
  tried: Set<string>;
}

/** Failed v2 pieces whose block leaves are kept while proven leaves are fetched. */
const MAX_LEAF_PIECES = 256;

const NO_PIECES: ReadonlyMap<number, PieceRecord> = new Map();

interface BlameLedgerMaps {
  readonly pieces: Map<number, PieceRecord>;
  readonly leafAttempts: Map<number, (BlockEvidence | undefined)[][]>;
}

export class BlameLedger {
  // Made on the first failed piece (~0.4 KB empty).
  private maps: BlameLedgerMaps | undefined;
  private get m(): BlameLedgerMaps {
    return (this.maps ??= {
      pieces: new Map(),
      leafAttempts: new Map(),
    });
  }

  /**
   * A complete piece failed. Returns the hosts proven guilty: the sender of every block, when
   * there was only one. With several senders the attempt is remembered and the piece needs a
   * single-peer download (`needsSolo`).
   */
  failed(piece: number, blocks: readonly (BlockEvidence | undefined)[]): string[] {
    const senders = new Set<string>();
    for (const b of blocks) if (b) senders.add(b.sender);
    if (senders.size === 1) {
      const [only] = senders;
      // The previous attempts (if any) still wait for a verified copy to be compared with.
      return [only!];
    }
    this.remember(piece, blocks);
    return [];
  }

  /** A single-peer attempt gave up before the piece was complete: keep what it sent as evidence. */
  abandoned(piece: number, blocks: readonly (BlockEvidence | undefined)[]): void {
    if (blocks.some((b) => b !== undefined)) this.remember(piece, blocks);
  }

  /** The piece passed: the senders of remembered blocks that differ from the good ones are guilty. */
  passed(piece: number, good: readonly Buffer[]): string[] {
    const rec = this.maps?.pieces.get(piece);
    if (!rec) return [];
    this.maps?.pieces.delete(piece);
    const guilty = new Set<string>();
    for (const attempt of rec.attempts)
      attempt.forEach((blk, i) => {
        if (blk && good[i] && !blk.digest.equals(good[i])) guilty.add(blk.sender);
      });
    return [...guilty];
  }

  /** The piece failed with several senders and has not passed since: fetch it from one peer. */
  needsSolo(piece: number): boolean {
    return this.maps?.pieces.has(piece) ?? false;
  }

  /** Pieces waiting for a single-peer download. */
  get soloPieces(): IterableIterator<number> {
    return (this.maps?.pieces ?? NO_PIECES).keys();
  }

  /**
   * Which of `candidates` (hosts that have the piece and would serve it, best first) gets the
   * piece alone: a host that sent none of its failed blocks first, then the contributors one at
   * a time; when every candidate had its turn, a new round starts. Undefined if none.
   */
  chooseSolo(piece: number, candidates: readonly string[]): string | undefined {
    const rec = this.maps?.pieces.get(piece);
    if (!rec || candidates.length === 0) return undefined;
    let pick = candidates.find((h) => !rec.tried.has(h) && !rec.contributors.has(h));
    pick ??= candidates.find((h) => !rec.tried.has(h));
    if (pick === undefined) {
      rec.tried.clear();
      pick = candidates.find((h) => !rec.contributors.has(h)) ?? candidates[0]!;
    }
    rec.tried.add(pick);
    return pick;
  }

  /**
   * BEP 52: the SHA-256 leaves of a failed attempt's blocks (index = block), kept until the
   * proven leaves arrive (`leavesKnown`). Bounded like the attempts.
   */
  rememberLeaves(piece: number, blocks: readonly (BlockEvidence | undefined)[]): void {
    let list = this.maps?.leafAttempts.get(piece);
    if (!list) {
      if (this.m.leafAttempts.size >= MAX_LEAF_PIECES) return;
      this.m.leafAttempts.set(piece, (list = []));
    }
    list.push([...blocks]);
    if (list.length > MAX_ATTEMPTS) list.shift();
  }

  /**
   * The proven leaves of a piece: every remembered sender of a block that differs is guilty
   * (exact, per 16 KiB block). When someone is named, the piece's single-peer round is over.
   */
  leavesKnown(piece: number, leaves: readonly Buffer[]): string[] {
    const list = this.maps?.leafAttempts.get(piece);
    if (!list) return [];
    this.maps?.leafAttempts.delete(piece);
    const guilty = new Set<string>();
    for (const attempt of list)
      attempt.forEach((blk, i) => {
        if (blk && leaves[i] && !blk.digest.equals(leaves[i])) guilty.add(blk.sender);
      });
    if (guilty.size > 0) this.maps?.pieces.delete(piece);
    return [...guilty];
  }

  /** Forget every record (the torrent re-checks from scratch). */
  clear(): void {
    this.maps?.pieces.clear();
    this.maps?.leafAttempts.clear();
  }

  private remember(piece: number, blocks: readonly (BlockEvidence | undefined)[]): void {
    let rec = this.maps?.pieces.get(piece);
    if (!rec) {
      rec = { attempts: [], contributors: new Set(), tried: new Set() };
      this.m.pieces.set(piece, rec);
    }
    rec.attempts.push([...blocks]);
    if (rec.attempts.length > MAX_ATTEMPTS) rec.attempts.shift();
    for (const b of blocks) if (b) rec.contributors.add(b.sender);
  }
}
