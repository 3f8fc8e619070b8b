import { NbtError } from './errors.js';

/**
 * A fixed-size set of piece indices, stored as BitTorrent sends it: big-endian bits,
 * piece 0 in the high bit of byte 0. Keeps a running count so `count` is O(1).
 */
export class Bitfield {
  readonly size: number;
  private readonly data: Uint8Array;
  private ones = 0;

  constructor(size: number, bytes?: Uint8Array) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`bad bitfield size ${size}`);
    this.size = size;
    this.data = new Uint8Array((size + 7) >>> 3);
    if (bytes) {
      if (bytes.length !== this.data.length)
        throw new NbtError(
          'BITFIELD_LENGTH',
          `bitfield has ${bytes.length} bytes, expected ${this.data.length}`,
        );
      const spare = this.data.length * 8 - size;
      if (spare > 0 && (bytes[bytes.length - 1]! & ((1 << spare) - 1)) !== 0)
        throw new NbtError('BITFIELD_SPARE_BITS', 'bitfield has spare bits set');
      this.data.set(bytes);
      for (const b of this.data) this.ones += popcount8(b);
    }
  }

  static full(size: number): Bitfield {
    const bf = new Bitfield(size);
    bf.setAll();
    return bf;
  }

  has(index: number): boolean {
    if (index < 0 || index >= this.size) return false;
    return (this.data[index >>> 3]! & (0x80 >>> (index & 7))) !== 0;
  }

  /** Sets a bit; returns true when it was not set before. */
  set(index: number): boolean {
    this.check(index);
    const mask = 0x80 >>> (index & 7);
    const i = index >>> 3;
    if (this.data[i]! & mask) return false;
    this.data[i]! |= mask;
    this.ones++;
    return true;
  }

  /** Clears a bit; returns true when it was set before. */
  clear(index: number): boolean {
    this.check(index);
    const mask = 0x80 >>> (index & 7);
    const i = index >>> 3;
    if (!(this.data[i]! & mask)) return false;
    this.data[i]! &= ~mask;
    this.ones--;
    return true;
  }

  setAll(): void {
    this.data.fill(0xff);
    const spare = this.data.length * 8 - this.size;
    if (spare > 0) this.data[this.data.length - 1] = (0xff << spare) & 0xff;
    this.ones = this.size;
  }

  clearAll(): void {
    this.data.fill(0);
    this.ones = 0;
  }

  get count(): number {
    return this.ones;
  }

  get complete(): boolean {
    return this.ones === this.size;
  }

  get empty(): boolean {
    return this.ones === 0;
  }

  /** A copy of the wire bytes. */
  get bytes(): Buffer {
    return Buffer.from(this.data);
  }

  clone(): Bitfield {
    return new Bitfield(this.size, this.data);
  }

  *indices(): IterableIterator<number> {
    for (let i = 0; i < this.data.length; i++) {
      const b = this.data[i]!;
      if (b === 0) continue;
      for (let j = 0; j < 8; j++) if (b & (0x80 >>> j)) yield i * 8 + j;
    }
  }

  /** A one-line map: '|' have, '.' missing, compressed to `width` columns. */
  map(width = 64): string {
    if (this.size === 0) return '';
    const cols = Math.min(width, this.size);
    let out = '';
    for (let c = 0; c < cols; c++) {
      const from = Math.floor((c * this.size) / cols);
      const to = Math.max(from + 1, Math.floor(((c + 1) * this.size) / cols));
      let have = 0;
      for (let i = from; i < to; i++) if (this.has(i)) have++;
      out += have === to - from ? '|' : have === 0 ? '.' : ':';
    }
    return out;
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size)
      throw new RangeError(`piece index ${index} out of range 0..${this.size - 1}`);
  }
}

function popcount8(b: number): number {
  b = b - ((b >>> 1) & 0x55);
  b = (b & 0x33) + ((b >>> 2) & 0x33);
  return (b + (b >>> 4)) & 0x0f;
}
