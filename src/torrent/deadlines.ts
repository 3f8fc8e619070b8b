/**
 * Time-critical pieces (libtorrent's piece deadlines, anacrolix's reader readahead), sans-I/O.
 * Each owner (an open stream reader) sets a window of pieces with deadlines; a piece wanted by
 * several owners takes the earliest. The picker serves these pieces before anything else, closest
 * deadline first, and lets a second peer duplicate a critical piece's requests once its deadline
 * has passed (the first peer is too slow). Time comes from the injected `now`.
 */

export interface PieceDeadline {
  piece: number;
  /** Clock time (ms) by which the piece is needed. */
  deadline: number;
}

/** What the picker asks of the deadline layer. */
export interface CriticalPieces {
  /** Critical pieces, earliest deadline first. */
  ordered(): readonly number[];
  /** The piece's deadline has passed: its blocks may be requested from a second peer. */
  overdue(piece: number): boolean;
  has(piece: number): boolean;
  readonly size: number;
}

export class PieceDeadlines implements CriticalPieces {
  private readonly windows = new Map<object, PieceDeadline[]>();
  /** Earliest deadline per piece over every window. */
  private readonly earliest = new Map<number, number>();
  private sorted: number[] | undefined = [];
  /** Called after any window changed (the torrent then tops up request pipelines). */
  onChange: (() => void) | undefined;

  /** The injected clock (readers set their deadlines from it). */
  constructor(readonly now: () => number) {}

  get size(): number {
    return this.earliest.size;
  }

  get owners(): number {
    return this.windows.size;
  }

  /** Replaces `owner`'s window (an empty list releases it). */
  set(owner: object, window: readonly PieceDeadline[]): void {
    if (window.length === 0) this.windows.delete(owner);
    else
      this.windows.set(
        owner,
        window.map((w) => ({ piece: w.piece, deadline: w.deadline })),
      );
    this.rebuild();
  }

  /** Forgets `owner`'s window (its stream was destroyed). */
  release(owner: object): void {
    if (!this.windows.delete(owner)) return;
    this.rebuild();
  }

  /** A piece is on disk: no window needs it any more. */
  pieceDone(piece: number): void {
    if (!this.earliest.has(piece)) return;
    for (const [owner, w] of this.windows) {
      const rest = w.filter((d) => d.piece !== piece);
      if (rest.length === 0) this.windows.delete(owner);
      else if (rest.length !== w.length) this.windows.set(owner, rest);
    }
    this.earliest.delete(piece);
    this.sorted = undefined;
  }

  has(piece: number): boolean {
    return this.earliest.has(piece);
  }

  deadline(piece: number): number | undefined {
    return this.earliest.get(piece);
  }

  ordered(): readonly number[] {
    this.sorted ??= [...this.earliest.keys()].sort(
      (a, b) => this.earliest.get(a)! - this.earliest.get(b)! || a - b,
    );
    return this.sorted;
  }

  overdue(piece: number): boolean {
    const d = this.earliest.get(piece);
    return d !== undefined && this.now() >= d;
  }

  private rebuild(): void {
    this.earliest.clear();
    for (const w of this.windows.values()) {
      for (const { piece, deadline } of w) {
        const d = this.earliest.get(piece);
        if (d === undefined || deadline < d) this.earliest.set(piece, deadline);
      }
    }
    this.sorted = undefined;
    this.onChange?.();
  }
}
