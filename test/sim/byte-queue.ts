/**
 * A stream's send buffer in sequence space: the bytes from the oldest unacknowledged one to
 * the last written, kept as the written chunks. Slices for (re)transmission are views when
 * they fall inside one chunk.
 */
const ARENA = 64 * 1024;

export class ByteQueue {
  private chunks: Buffer[] = [];
  private starts: number[] = [];
  /** Sequence number of the first byte still held. */
  private head = 0;
  private first = 0;
  /** Sequence number after the last byte written. */
  end = 0;

  /** Bytes of the last chunk in use (the rest is room for the next writes). */
  private tailUsed = 0;

  /**
   * Copies `data` in (the writer may reuse its buffer). Small writes share 64 KiB arena chunks,
   * so a segment rarely spans two chunks and needs a copy of its own.
   */
  append(data: Uint8Array): void {
    let at = 0;
    while (at < data.length) {
      let tail = this.chunks[this.chunks.length - 1];
      if (!tail || this.tailUsed === tail.length) {
        tail = Buffer.allocUnsafe(ARENA);
        this.chunks.push(tail);
        this.starts.push(this.end);
        this.tailUsed = 0;
      }
      const n = Math.min(data.length - at, tail.length - this.tailUsed);
      tail.set(at === 0 && n === data.length ? data : data.subarray(at, at + n), this.tailUsed);
      this.tailUsed += n;
      this.end += n;
      at += n;
    }
  }

  /** `length` bytes from sequence number `from` (which must be held). */
  slice(from: number, length: number): Buffer {
    let i = this.find(from);
    const off = from - this.starts[i]!;
    const c = this.chunks[i]!;
    if (off + length <= c.length) return c.subarray(off, off + length);
    const out = Buffer.allocUnsafe(length);
    let n = c.copy(out, 0, off);
    while (n < length) {
      const d = this.chunks[++i]!;
      n += d.copy(out, n, 0, Math.min(d.length, length - n));
    }
    return out;
  }

  /** Forgets the bytes before `seq` (they were acknowledged). */
  dropBefore(seq: number): void {
    if (seq <= this.head) return;
    this.head = Math.min(seq, this.end);
    while (
      this.first < this.chunks.length &&
      this.starts[this.first]! + this.chunks[this.first]!.length <= this.head
    )
      this.first++;
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.starts = this.starts.slice(this.first);
      this.first = 0;
    }
  }

  /** Index of the chunk holding `seq` (binary search over the held chunks). */
  private find(seq: number): number {
    let lo = this.first;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
