/**
 * RC4 in TypeScript: Node's OpenSSL 3 only offers RC4 through the legacy provider, which is
 * not loaded by default, so MSE carries its own.
 *
 * Speed matters (every payload byte of an encrypted connection goes through here), so the hot
 * loop keeps i, j and the state in locals, and XORs four keystream bytes at a time through a
 * 32-bit view of the aligned middle of the data. Measured alternatives (bench/rc4.bench.ts):
 * a plain byte loop runs at ~75 % of this speed; an Int32Array state and 8-byte unrolling were
 * both slower.
 */

/** The word path assembles keystream bytes low byte first, which matches memory order only on little-endian hosts. */
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Below this many bytes the 32-bit view is not worth creating. */
const WORD_PATH_MIN = 32;

export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256)
      throw new RangeError(`RC4 key must be 1..256 bytes, got ${key.length}`);
    const s = this.s;
    for (let n = 0; n < 256; n++) s[n] = n;
    let j = 0;
    const kl = key.length;
    for (let n = 0; n < 256; n++) {
      const sn = s[n]!;
      j = (j + sn + key[n % kl]!) & 255;
      s[n] = s[j]!;
      s[j] = sn;
    }
  }

  /** XORs the keystream into `data` in place (encryption and decryption are the same operation). */
  process(data: Uint8Array): void {
    const s = this.s;
    let i = this.i;
    let j = this.j;
    const n = data.length;
    let k = 0;
    if (littleEndian && n >= WORD_PATH_MIN) {
      const head = (4 - (data.byteOffset & 3)) & 3;
      for (; k < head; k++) {
        i = (i + 1) & 255;
        const si = s[i]!;
        j = (j + si) & 255;
        const sj = s[j]!;
        s[i] = sj;
        s[j] = si;
        data[k] = data[k]! ^ s[(si + sj) & 255]!;
      }
      const words = (n - k) >>> 2;
      const w = new Int32Array(data.buffer, data.byteOffset + k, words);
      for (let q = 0; q < words; q++) {
        i = (i + 1) & 255;
        let si = s[i]!;
        j = (j + si) & 255;
        let sj = s[j]!;
        s[i] = sj;
        s[j] = si;
        let ks = s[(si + sj) & 255]!;
        i = (i + 1) & 255;
        si = s[i]!;
        j = (j + si) & 255;
        sj = s[j]!;
        s[i] = sj;
        s[j] = si;
        ks |= s[(si + sj) & 255]! << 8;
        i = (i + 1) & 255;
        si = s[i]!;
        j = (j + si) & 255;
        sj = s[j]!;
        s[i] = sj;
        s[j] = si;
        ks |= s[(si + sj) & 255]! << 16;
        i = (i + 1) & 255;
        si = s[i]!;
        j = (j + si) & 255;
        sj = s[j]!;
        s[i] = sj;
        s[j] = si;
        ks |= s[(si + sj) & 255]! << 24;
        w[q] = w[q]! ^ ks;
      }
      k += words * 4;
    }
    for (; k < n; k++) {
      i = (i + 1) & 255;
      const si = s[i]!;
      j = (j + si) & 255;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      data[k] = data[k]! ^ s[(si + sj) & 255]!;
    }
    this.i = i;
    this.j = j;
  }

  /** Advances the keystream by `n` bytes without using them (MSE drops the first 1024). */
  discard(n: number): void {
    const s = this.s;
    let i = this.i;
    let j = this.j;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 255;
      const si = s[i]!;
      j = (j + si) & 255;
      s[i] = s[j]!;
      s[j] = si;
    }
    this.i = i;
    this.j = j;
  }
}
