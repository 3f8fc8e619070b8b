/**
 * Input mutation for the fuzzer, AFL's "havoc" stage in small: a stack of random edits (bit
 * flips, interesting integers, inserts, deletes, duplicated and copied ranges, dictionary
 * tokens, splices with another corpus entry, edits of ASCII numbers — bencode lengths and
 * integers live there). Deterministic for a seed.
 */

/** xorshift32: fast, seeded, good enough to choose mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.s = x >>> 0);
  }
  /** 0 … n-1 */
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
}

const INTERESTING8 = [
  0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x64, 0x30, 0x39, 0x3a, 0x65, 0x69, 0x6c, 0x64,
];
const INTERESTING32 = [
  0, 1, 0xff, 0x100, 0x3fff, 0x4000, 0x4001, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
  0xffffffff,
];
const NUMBERS = [
  '0',
  '1',
  '-1',
  '255',
  '256',
  '16384',
  '65535',
  '65536',
  '2147483647',
  '4294967296',
  '9007199254740993',
  '99999999999999999999',
];

export interface MutateContext {
  rng: Rng;
  maxLength: number;
  dictionary: readonly Buffer[];
  /** Another corpus entry, for splicing. */
  other: () => Buffer;
}

export function mutate(input: Buffer, c: MutateContext): Buffer {
  let b: Buffer = Buffer.from(input);
  const ops = 1 << (1 + c.rng.below(4));
  for (let k = 0; k < ops; k++) b = edit(b, c);
  return b.length > c.maxLength ? b.subarray(0, c.maxLength) : b;
}

function edit(b: Buffer, c: MutateContext): Buffer {
  const r = c.rng;
  const at = r.below(b.length + 1);
  switch (r.below(13)) {
    case 0:
      if (b.length) b[r.below(b.length)]! ^= 1 << r.below(8);
      return b;
    case 1:
      if (b.length) b[r.below(b.length)] = INTERESTING8[r.below(INTERESTING8.length)]!;
      return b;
    case 2:
      if (b.length >= 4) {
        const v = INTERESTING32[r.below(INTERESTING32.length)]!;
        const p = r.below(b.length - 3);
        if (r.below(2)) b.writeUInt32BE(v >>> 0, p);
        else b.writeUInt32LE(v >>> 0, p);
      }
      return b;
    case 3:
      if (b.length) b[r.below(b.length)] = (b[r.below(b.length)]! + 1 + r.below(35) - 17) & 0xff;
      return b;
    case 4: {
      if (!b.length) return b;
      const n = 1 + r.below(Math.min(b.length, r.below(2) ? 4 : 64));
      const p = r.below(b.length - n + 1);
      return Buffer.concat([b.subarray(0, p), b.subarray(p + n)]);
    }
    case 5: {
      const n = 1 + r.below(r.below(2) ? 4 : 32);
      const junk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) junk[i] = r.below(256);
      return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
    }
    case 6: {
      if (!b.length) return b;
      const n = 1 + r.below(Math.min(b.length, 128));
      const p = r.below(b.length - n + 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(p, p + n), b.subarray(at)]);
    }
    case 7: {
      if (b.length < 2) return b;
      const n = 1 + r.below(Math.min(b.length, 64));
      const from = r.below(b.length - n + 1);
      const to = r.below(b.length - n + 1);
      b.copy(b, to, from, from + n);
      return b;
    }
    case 8:
    case 9: {
      if (!c.dictionary.length) return edit(b, c);
      const t = c.dictionary[r.below(c.dictionary.length)]!;
      if (r.below(2) && b.length >= t.length) {
        t.copy(b, r.below(b.length - t.length + 1));
        return b;
      }
      return Buffer.concat([b.subarray(0, at), t, b.subarray(at)]);
    }
    case 10: {
      const o = c.other();
      if (!o.length) return b;
      const p = r.below(o.length);
      return Buffer.concat([b.subarray(0, at), o.subarray(p, p + 1 + r.below(o.length - p))]);
    }
    case 11: {
      // An ASCII number inside the input becomes another one.
      const digits: number[] = [];
      for (let i = 0; i < b.length; i++)
        if (b[i]! >= 0x30 && b[i]! <= 0x39 && (i === 0 || b[i - 1]! < 0x30 || b[i - 1]! > 0x39))
          digits.push(i);
      if (!digits.length) return edit(b, c);
      const start = digits[r.below(digits.length)]!;
      let end = start;
      while (end < b.length && b[end]! >= 0x30 && b[end]! <= 0x39) end++;
      const n = r.below(3)
        ? String(Math.max(0, Number(b.toString('latin1', start, end)) + r.below(5) - 2))
        : NUMBERS[r.below(NUMBERS.length)]!;
      return Buffer.concat([b.subarray(0, start), Buffer.from(n), b.subarray(end)]);
    }
    default:
      return b.subarray(0, at);
  }
}
