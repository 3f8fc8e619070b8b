/**
 * The unconsumed bytes of a handshake. A chunk is used in place while it is being parsed and
 * only the (bounded) unparsed tail is copied when `receive` returns, so a large chunk costs no
 * copy and the caller may reuse its buffer.
 */
const EMPTY = Buffer.alloc(0);

export class HandshakeInput {
  private buf: Buffer = EMPTY;
  private owned = true;

  push(chunk: Uint8Array): void {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.buf.length === 0) {
      this.buf = b;
      this.owned = false;
    } else {
      this.buf = Buffer.concat([this.buf, b]);
      this.owned = true;
    }
  }

  get length(): number {
    return this.buf.length;
  }

  /** A view of the first `n` (or all) bytes, not consumed. */
  peek(n = this.buf.length): Buffer {
    return this.buf.subarray(0, n);
  }

  skip(n: number): void {
    this.buf = this.buf.subarray(n);
  }

  /** Consumes `n` bytes and returns them as a copy (safe to decrypt in place). */
  take(n: number): Buffer {
    const out = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Consumes everything left. */
  takeAll(): Buffer {
    return this.take(this.buf.length);
  }

  /** Called before returning to the caller: keep our own copy of the (bounded) unparsed tail. */
  detach(): void {
    if (!this.owned && this.buf.length > 0) this.buf = Buffer.from(this.buf);
    this.owned = true;
  }
}
