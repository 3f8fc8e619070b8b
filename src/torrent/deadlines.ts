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

export interface DeadlineListener {
  criticalChanged(): void;
}

export class PieceDeadlines implements CriticalPieces {
  // Both made when a stream sets its first window and dropped when the last one goes: a torrent
  // nobody streams (most of a 1,000-torrent session) holds no maps.
  private windows: Map<object, PieceDeadline[]> | undefined;
  /** Earliest deadline per piece over every window. */
  private earliest: Map<number, number> | undefined;
  private sorted: number[] | undefined = [];
  constructor(
    /** The injected clock (readers set their deadlines from it). */
    private readonly clock: { now(): number },
    /** Told after any window changed (the torrent then tops up request pipelines). */
    private readonly listener?: DeadlineListener,
  ) {}

  now(): number {
    return this.clock.now();
  }

  get size(): number {
    return this.earliest?.size ?? 0;
  }

  get owners(): number {
    return this.windows?.size ?? 0;
  }

  /** Replaces `owner`'s window (an empty list releases it). */
  set(owner: object, window: readonly PieceDeadline[]): void {
    if (window.length === 0) this.windows?.delete(owner);
    else
      (this.windows ??= new Map()).set(
        owner,
        window.map((w) => ({ piece: w.piece, deadline: w.deadline })),
      );
    this.rebuild();
  }

  /** Forgets `owner`'s window (its stream was destroyed). */
  release(owner: object): void {
    if (!this.windows?.delete(owner)) return;
    this.rebuild();
  }

  /** A piece is on disk: no window needs it any more. */
  pieceDone(piece: number): void {
    if (!this.windows || !this.earliest?.has(piece)) return;
    for (const [owner, w] of this.windows) {
      const rest = w.filter((d) => d.piece !== piece);
      if (rest.length === 0) this.windows.delete(owner);
      else if (rest.length !== w.length) this.windows.set(owner, rest);
    }
    this.earliest.delete(piece);
    this.sorted = undefined;
  }

  has(piece: number): boolean {
    return this.earliest?.has(piece) ?? false;
  }

  deadline(piece: number): number | undefined {
    return this.earliest?.get(piece);
  }

  ordered(): readonly number[] {
    const earliest = this.earliest;
    this.sorted ??= earliest
      ? [...earliest.keys()].sort((a, b) => earliest.get(a)! - earliest.get(b)! || a - b)
      : [];
    return this.sorted;
  }

  overdue(piece: number): boolean {
    const d = this.earliest?.get(piece);
    return d !== undefined && this.now() >= d;
  }

  private rebuild(): void {
    if (!this.windows || this.windows.size === 0) {
      this.windows = this.earliest = undefined;
    } else {
      const earliest = new Map<number, number>();
      for (const w of this.windows.values()) {
        for (const { piece, deadline } of w) {
          const d = earliest.get(piece);
          if (d === undefined || deadline < d) earliest.set(piece, deadline);
        }
      }
      this.earliest = earliest;
    }
    this.sorted = undefined;
    this.listener?.criticalChanged();
  }
}
