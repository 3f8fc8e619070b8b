import { createCipheriv } from 'node:crypto';

/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so that a simulation is reproducible
 * from one number. Never Math.random: the same seed must give the same run, bit for bit.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** A generator of its own, derived from this one (one per host, link, client…). */
  fork(): Prng {
    return new Prng(this.nextUint32());
  }

  /**
   * `n` pseudo-random bytes (peer ids, torrent contents). Large runs come from AES-128-CTR
   * keyed by this generator: as deterministic, and fast enough for 100 MiB torrents.
   */
  bytes(n: number): Buffer {
    if (n > 4096) {
      const key = this.bytes(16);
      const iv = this.bytes(16);
      return createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(n));
    }
    const words = new Uint32Array(Math.ceil(n / 4));
    for (let i = 0; i < words.length; i++) words[i] = this.nextUint32();
    return Buffer.from(words.buffer, 0, n);
  }
}
