/**
 * A stream's send buffer in sequence space: the bytes from the oldest unacknowledged one to
 * the last written. Slices for (re)transmission are views when they fall inside one chunk.
 *
 * Like a net.Socket, a write's buffer is held, not copied, when it is large (the writer must
 * not change it afterwards — Node's Writable holds it the same way); small writes are copied
 * back to back into 64 KiB arenas, so that segments rarely span chunks.
 */
const ARENA = 64 * 1024;
/** Writes at least this long are kept by reference. */
const KEEP = 2048;

export class ByteQueue {
  /** Chunk i holds sequence numbers [starts[i], starts[i + 1] ?? end). */
  private chunks: Buffer[] = [];
  private starts: number[] = [];
  /** Sequence number of the first byte still held. */
  private head = 0;
  private first = 0;
  /** Sequence number after the last byte written. */
  end = 0;
  /** The arena small writes go to (the last chunk), and how much of it is used. */
  private tail: Buffer | undefined;
  private tailUsed = 0;

  append(data: Uint8Array): void {
    if (data.length === 0) return;
    if (data.length >= KEEP) {
      this.tail = undefined;
      this.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return;
    }
    let at = 0;
    while (at < data.length) {
      if (!this.tail || this.tailUsed === ARENA) {
        this.tail = Buffer.allocUnsafe(ARENA);
        this.tailUsed = 0;
        this.push(this.tail);
      }
      const n = Math.min(data.length - at, ARENA - this.tailUsed);
      this.tail.set(at === 0 && n === data.length ? data : data.subarray(at, at + n), this.tailUsed);
      this.tailUsed += n;
      this.end += n;
      at += n;
    }
  }

  /** `length` bytes from sequence number `from` (which must be held). */
  slice(from: number, length: number): Buffer {
    let i = this.find(from);
    const off = from - this.starts[i]!;
    if (from + length <= this.chunkEnd(i)) return this.chunks[i]!.subarray(off, off + length);
    const out = Buffer.allocUnsafe(length);
    let n = this.chunks[i]!.copy(out, 0, off, this.chunkEnd(i) - this.starts[i]!);
    while (n < length) {
      i++;
      const size = this.chunkEnd(i) - this.starts[i]!;
      n += this.chunks[i]!.copy(out, n, 0, Math.min(size, length - n));
    }
    return out;
  }

  /** Forgets the bytes before `seq` (they were acknowledged). */
  dropBefore(seq: number): void {
    if (seq <= this.head) return;
    this.head = Math.min(seq, this.end);
    while (this.first < this.chunks.length && this.chunkEnd(this.first) <= this.head) {
      // An acknowledged arena takes no more writes: they would land in a dropped chunk.
      if (this.chunks[this.first] === this.tail) this.tail = undefined;
      this.first++;
    }
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.starts = this.starts.slice(this.first);
      this.first = 0;
    }
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.starts.push(this.end);
    if (chunk !== this.tail) this.end += chunk.length;
  }

  private chunkEnd(i: number): number {
    return i + 1 < this.starts.length ? this.starts[i + 1]! : this.end;
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
