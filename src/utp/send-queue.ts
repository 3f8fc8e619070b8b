/**
 * The bytes a uTP connection was given and has not cut into packets yet, and where the writer
 * asked a packet to end (`push`). Packets are taken from the front as views of the written
 * chunks when one chunk holds them, so a large write is never copied.
 */
export class SendQueue {
  private readonly chunks: Uint8Array[] = [];
  /** Index of the first chunk still holding bytes (the array is compacted now and then). */
  private first = 0;
  /** Bytes of chunks[first] already taken. */
  private offset = 0;
  private bytes = 0;
  /** Bytes ever written / taken: positions in the stream. */
  private written = 0;
  private taken = 0;
  /** Stream positions where push() asked a packet to end, oldest first (not yet reached). */
  private readonly boundaries: number[] = [];

  /** Bytes queued. */
  get length(): number {
    return this.bytes;
  }

  /**
   * Queued bytes before the next push() boundary: the next packet ends there and goes even if
   * short (0 when no boundary is pending).
   */
  get pushedBytes(): number {
    const b = this.boundaries[0];
    return b === undefined ? 0 : b - this.taken;
  }

  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.bytes += bytes.length;
    this.written += bytes.length;
  }

  /** The bytes queued so far end a packet: later writes never share it. */
  push(): void {
    if (this.bytes > 0 && this.boundaries.at(-1) !== this.written) this.boundaries.push(this.written);
  }

  /** Takes `n` (≤ length) bytes from the front as one payload. */
  take(n: number): Uint8Array {
    const head = this.chunks[this.first]!;
    let out: Uint8Array;
    if (head.length - this.offset >= n) {
      out = head.subarray(this.offset, this.offset + n);
      this.advance(n);
    } else {
      out = new Uint8Array(n);
      for (let off = 0; off < n;) {
        const c = this.chunks[this.first]!;
        const k = Math.min(n - off, c.length - this.offset);
        out.set(c.subarray(this.offset, this.offset + k), off);
        off += k;
        this.advance(k);
      }
    }
    this.bytes -= n;
    this.taken += n;
    while (this.boundaries.length > 0 && this.boundaries[0]! <= this.taken) this.boundaries.shift();
    return out;
  }

  /** Moves past `k` bytes of the head chunk (k ≤ what it still holds). */
  private advance(k: number): void {
    this.offset += k;
    if (this.offset < this.chunks[this.first]!.length) return;
    this.chunks[this.first++] = EMPTY;
    this.offset = 0;
    // Compact once the consumed prefix dominates: amortised O(1) per chunk, no shift().
    if (this.first === this.chunks.length) {
      this.chunks.length = 0;
      this.first = 0;
    } else if (this.first >= 64 && this.first * 2 >= this.chunks.length) {
      this.chunks.splice(0, this.first);
      this.first = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
