/**
 * The receiver's out-of-order segments: kept until the gap before them fills, and reported to
 * the sender as SACK ranges. Segments may overlap (a sender that went back after a timeout
 * cuts them at other places).
 */
export class Reassembly {
  private readonly segments = new Map<number, Buffer>();
  /** Held ranges [start, end), sorted and merged. */
  private held: [number, number][] = [];

  get size(): number {
    return this.segments.size;
  }

  add(seq: number, data: Buffer): void {
    if (this.segments.has(seq)) return;
    this.segments.set(seq, data);
    let s = seq;
    let e = seq + data.length;
    const r = this.held;
    let i = 0;
    while (i < r.length && r[i]![1] < s) i++;
    let j = i;
    while (j < r.length && r[j]![0] <= e) {
      s = Math.min(s, r[j]![0]);
      e = Math.max(e, r[j]![1]);
      j++;
    }
    r.splice(i, j - i, [s, e]);
  }

  /** The bytes that now follow `next` in order (trimmed of what was already received). */
  pull(next: number): Buffer[] {
    const out: Buffer[] = [];
    for (let again = true; again;) {
      again = false;
      for (const [s, d] of this.segments) {
        if (s + d.length <= next) this.segments.delete(s);
        else if (s <= next) {
          this.segments.delete(s);
          out.push(d.subarray(next - s));
          next = s + d.length;
          again = true;
        }
      }
    }
    while (this.held.length > 0 && this.held[0]![1] <= next) this.held.shift();
    return out;
  }

  /** A copy of the held ranges, for a segment's SACK field. */
  ranges(): [number, number][] {
    return this.held.map((r): [number, number] => [r[0], r[1]]);
  }
}
