/**
 * A piece being downloaded. Each block is copied into one piece-sized buffer as it arrives, so
 * the socket's read chunks die young (cheap for the GC) and the finished piece is one buffer:
 * hashed either incrementally on the main thread as blocks become contiguous (small pieces) or
 * in one go by the worker pool (large pieces, buffers over SharedArrayBuffer: no copy), then
 * written with one write. A finished piece is never read back, and only verified pieces are
 * written, so bad data never reaches the files.
 */
import { createHash } from 'node:crypto';
import type { PieceHasher, SplitVerification } from './verification.js';
import type { BlockEvidence } from './blame.js';

/**
 * Reusable piece buffers, each over its own ArrayBuffer, so one can be lent to a hash worker
 * whole (moved, not copied). Not SharedArrayBuffers: V8 copies blocks into shared memory with
 * relaxed atomics, ~10× slower.
 */
export class PieceBufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    readonly pieceLength: number,
    /** Most idle buffers kept for reuse. */
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.pieceLength);
  }

  give(buf: Buffer): void {
    if (this.free.length < this.keep && buf.length === this.pieceLength) this.free.push(buf);
  }
}

export class PieceAssembly {
  /** The piece's bytes (valid where blocks arrived). */
  data: Buffer;
  /** Bytes of the pool buffer the piece holds (the same while the buffer is lent out). */
  readonly capacity: number;
  /** Who sent each block (the peer's host), for BlameLedger. */
  readonly senders: (string | undefined)[];
  private readonly hasher: PieceHasher | undefined;
  /** Blocks [0, hashedBlocks) went into the incremental hasher. */
  private hashedBlocks = 0;
  private receivedBlocks = 0;
  private readonly got: Uint8Array;

  constructor(
    readonly piece: number,
    readonly size: number,
    readonly blockSize: number,
    /** At least `size` bytes; returned to the pool by the owner when done. */
    public buffer: Buffer,
    /** Hashes on the main thread as blocks become contiguous (else the caller hashes `data`). */
    hasher: PieceHasher | undefined,
    /** `hasher` computes one half of the digest; the owner has the pool hash `split.rest`. */
    readonly split?: SplitVerification,
  ) {
    const n = Math.ceil(size / blockSize);
    this.capacity = buffer.length;
    this.data = buffer.subarray(0, size);
    this.got = new Uint8Array(n);
    this.senders = new Array<string | undefined>(n);
    this.hasher = hasher;
  }

  get blockCount(): number {
    return this.got.length;
  }

  get complete(): boolean {
    return this.receivedBlocks === this.got.length;
  }

  /** Hashed here as blocks arrive (else the owner hashes `data` when complete). */
  get incremental(): boolean {
    return this.hasher !== undefined;
  }

  /** The buffer is back from a hash worker it was lent to (the old one is detached). */
  returned(buffer: Buffer): void {
    this.buffer = buffer;
    this.data = buffer.subarray(0, this.size);
  }

  /** Bytes of piece data received so far. */
  get receivedBytes(): number {
    return this.receivedBlocks * this.blockSize;
  }

  has(block: number): boolean {
    return this.got[block] === 1;
  }

  /** Copies a block in (the caller checked offset and length); false if it was already there. */
  add(offset: number, block: Uint8Array, sender: string): boolean {
    const b = offset / this.blockSize;
    if (this.got[b]) return false;
    this.data.set(block, offset);
    this.got[b] = 1;
    this.senders[b] = sender;
    this.receivedBlocks++;
    if (this.hasher) {
      const from = this.hashedBlocks;
      while (this.hashedBlocks < this.got.length && this.got[this.hashedBlocks]) this.hashedBlocks++;
      if (this.hashedBlocks > from)
        this.hasher.update(
          this.data.subarray(from * this.blockSize, Math.min(this.size, this.hashedBlocks * this.blockSize)),
        );
    }
    return true;
  }

  /** The incremental digest (complete pieces, incremental mode only). */
  digest(): Buffer {
    if (!this.hasher) throw new Error('piece assembly: not hashed incrementally');
    return this.hasher.digest();
  }

  /** Who sent each received block and its SHA-1 (undefined where none arrived), for BlameLedger. */
  evidence(): (BlockEvidence | undefined)[] {
    const out: (BlockEvidence | undefined)[] = [];
    for (let b = 0; b < this.got.length; b++) {
      const sender = this.senders[b];
      out.push(this.got[b] && sender !== undefined ? { sender, digest: this.blockDigest(b) } : undefined);
    }
    return out;
  }

  private blockDigest(b: number): Buffer {
    const start = b * this.blockSize;
    return createHash('sha1')
      .update(this.data.subarray(start, Math.min(this.size, start + this.blockSize)))
      .digest();
  }

  /** SHA-1 of each block, for comparing a failed attempt with the good data later. */
  blockDigests(): Buffer[] {
    const out: Buffer[] = [];
    for (let b = 0; b < this.got.length; b++) out.push(this.blockDigest(b));
    return out;
  }
}
