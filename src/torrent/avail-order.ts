/**
 * Pieces kept sorted by availability in buckets, so a change of one piece's availability by ±1
 * is an O(1) swap and "rarest first" is a scan from the front. `bucketEnd[a]` is one past the
 * last position holding a piece of availability <= a.
 */
export class AvailabilityOrder {
  readonly items: number[] = [];
  private readonly bucketEnd: number[] = [0];

  constructor(
    /** Shared position table (piece -> index in `items`), -1 when the piece is not here. */
    private readonly pos: Int32Array,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** [start, end) of the bucket holding availability `a`. */
  bucket(a: number): [number, number] {
    const end = a < this.bucketEnd.length ? this.bucketEnd[a]! : this.items.length;
    const start = a === 0 ? 0 : a - 1 < this.bucketEnd.length ? this.bucketEnd[a - 1]! : this.items.length;
    return [start, end];
  }

  /** Highest availability that has a bucket boundary (buckets above it are empty or the tail). */
  get maxBucket(): number {
    return this.bucketEnd.length - 1;
  }

  insert(piece: number, avail: number): void {
    this.ensure(avail);
    this.items.push(piece);
    this.pos[piece] = this.items.length - 1;
    // Walk it down from the tail bucket to bucket `avail`: one swap per bucket boundary.
    for (let b = this.bucketEnd.length - 1; b >= avail; b--) {
      const start = this.bucketEnd[b]!;
      this.swap(this.pos[piece]!, start);
      this.bucketEnd[b] = start + 1;
    }
  }

  remove(piece: number, avail: number): void {
    this.ensure(avail);
    // Walk it up to the tail, then pop.
    for (let b = avail; b < this.bucketEnd.length; b++) {
      const last = this.bucketEnd[b]! - 1;
      this.swap(this.pos[piece]!, last);
      this.bucketEnd[b] = last;
    }
    this.swap(this.pos[piece]!, this.items.length - 1);
    this.items.pop();
    this.pos[piece] = -1;
  }

  /** Availability of `piece` went from `a` to a + 1. */
  increment(piece: number, a: number): void {
    this.ensure(a + 1);
    const last = this.bucketEnd[a]! - 1;
    this.swap(this.pos[piece]!, last);
    this.bucketEnd[a] = last;
  }

  /** Availability of `piece` went from `a` to a - 1. */
  decrement(piece: number, a: number): void {
    this.ensure(a);
    const start = this.bucketEnd[a - 1]!;
    this.swap(this.pos[piece]!, start);
    this.bucketEnd[a - 1] = start + 1;
  }

  private ensure(a: number): void {
    while (this.bucketEnd.length <= a) this.bucketEnd.push(this.items.length);
  }

  private swap(i: number, j: number): void {
    if (i === j) return;
    const items = this.items;
    const a = items[i]!;
    const b = items[j]!;
    items[i] = b;
    items[j] = a;
    this.pos[a] = j;
    this.pos[b] = i;
  }
}

/**
 * The first acceptable piece, highest priority level first (`levels[p]` holds priority p; 0 is
 * never searched): in random order when `randomPhase`, else rarest first with a random start
 * inside each availability bucket, so equally rare pieces are chosen at random. -1 if none.
 */
export function findPiece(
  levels: readonly AvailabilityOrder[],
  randomPhase: boolean,
  random: () => number,
  accept: (piece: number) => boolean,
): number {
  for (let p = levels.length - 1; p > 0; p--) {
    const level = levels[p]!;
    if (level.size === 0) continue;
    if (randomPhase) {
      const found = scan(level.items, 0, level.size, random, accept);
      if (found >= 0) return found;
      continue;
    }
    const top = level.maxBucket;
    for (let a = 0; a <= top; a++) {
      const [start, end] = level.bucket(a);
      if (end <= start) continue;
      const found = scan(level.items, start, end, random, accept);
      if (found >= 0) return found;
    }
  }
  return -1;
}

/** An acceptable piece in items[start, end), scanning cyclically from a random position. */
function scan(
  items: readonly number[],
  start: number,
  end: number,
  random: () => number,
  accept: (piece: number) => boolean,
): number {
  const n = end - start;
  const from = Math.floor(random() * n);
  for (let k = 0; k < n; k++) {
    const piece = items[start + ((from + k) % n)]!;
    if (accept(piece)) return piece;
  }
  return -1;
}
