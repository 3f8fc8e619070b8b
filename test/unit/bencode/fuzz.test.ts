import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, decodePrefix, encode, type BEncodable } from '../../../src/bencode/index.js';
import { NbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/tmp.js';

type Rand = () => number;

function randomValue(r: Rand, depth: number): BEncodable {
  const k = Math.floor(r() * (depth > 3 ? 3 : 5));
  if (k === 0)
    return r() < 0.1 ? BigInt(Math.floor(r() * 1e6)) * 10n ** 15n : Math.floor((r() - 0.5) * 2 ** (r() * 40));
  if (k === 1 || k === 2) {
    const n = Math.floor(r() * 12);
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
    return out;
  }
  const n = Math.floor(r() * 5);
  if (k === 3) return Array.from({ length: n }, () => randomValue(r, depth + 1));
  const d: Record<string, BEncodable> = {};
  for (let i = 0; i < n; i++)
    d[String.fromCharCode(97 + Math.floor(r() * 26)) + (r() < 0.5 ? 'x' : '')] = randomValue(r, depth + 1);
  return d;
}

function onlyNbtError(input: Buffer, opts = {}): void {
  try {
    decode(input, opts);
  } catch (e) {
    if (!(e instanceof NbtError))
      throw new Error(`non-NbtError on ${input.toString('hex').slice(0, 200)}: ${String(e)}`);
    assert.equal(typeof e.code, 'string');
  }
}

const ALPHABET = Buffer.from('ilde0123456789:-');

test('fuzz: 120k seeded random, mutated and truncated inputs throw only NbtError', () => {
  const r = prng(20261123);
  let cases = 0;
  // Random bytes drawn mostly from bencode's own alphabet, so parsing gets deep.
  for (let i = 0; i < 40_000; i++, cases++) {
    const n = Math.floor(r() * 64);
    const buf = Buffer.alloc(n);
    for (let j = 0; j < n; j++)
      buf[j] = r() < 0.85 ? ALPHABET[Math.floor(r() * ALPHABET.length)]! : Math.floor(r() * 256);
    onlyNbtError(buf);
    onlyNbtError(buf, { allowUnsorted: true, spans: true, maxDepth: 3, maxTokens: 10 });
  }
  // Valid encodings: round trip, then mutate and truncate.
  for (let i = 0; i < 20_000; i++) {
    const v = randomValue(r, 0);
    const enc = encode(v);
    assert.deepEqual(encode(decode(enc)), enc);
    cases++;
    for (let m = 0; m < 3; m++, cases++) {
      const mut = Buffer.from(enc);
      const edits = 1 + Math.floor(r() * 3);
      for (let e = 0; e < edits && mut.length > 0; e++) {
        const at = Math.floor(r() * mut.length);
        mut[at] = r() < 0.7 ? ALPHABET[Math.floor(r() * ALPHABET.length)]! : Math.floor(r() * 256);
      }
      onlyNbtError(mut, { allowUnsorted: r() < 0.5, spans: true });
    }
    if (enc.length > 1) {
      cases++;
      const cut = enc.subarray(0, Math.floor(r() * enc.length));
      assert.throws(
        () => decode(cut),
        (e: unknown) => e instanceof NbtError,
      );
    }
    try {
      decodePrefix(Buffer.concat([enc, Buffer.from('garbage')]));
    } catch (e) {
      assert.fail(`decodePrefix failed on valid prefix: ${String(e)}`);
    }
  }
  assert.ok(cases >= 100_000, `only ${cases} cases`);
});

/** CPU milliseconds spent in fn (CPU, not wall time, so a busy machine does not fail the test). */
function timeMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  try {
    fn();
  } catch (e) {
    if (!(e instanceof NbtError)) throw e;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

test('linear time: 1 MB pathological inputs decode or fail quickly', () => {
  const MB = 1 << 20;
  const inputs: [string, (n: number) => Buffer][] = [
    ['deep lists', (n) => Buffer.alloc(n, 'l')],
    ['long integer', (n) => Buffer.concat([Buffer.from('i'), Buffer.alloc(n - 2, '7'), Buffer.from('e')])],
    ['digits without end', (n) => Buffer.alloc(n, '9')],
    ['many empty strings', (n) => Buffer.from('l' + '0:'.repeat(Math.floor((n - 2) / 2)) + 'e')],
    ['many small ints', (n) => Buffer.from('l' + 'i1e'.repeat(Math.floor((n - 2) / 3)) + 'e')],
    [
      'sorted dict keys',
      (n) => {
        const parts = ['d'];
        let size = 1;
        for (let i = 0; size < n - 20; i++) {
          const k = i.toString(36).padStart(6, '0');
          parts.push(`6:${k}0:`);
          size += 10;
        }
        parts.push('e');
        return Buffer.from(parts.join(''));
      },
    ],
    [
      'unsorted dict keys',
      (n) => {
        const parts = ['d'];
        let size = 1;
        for (let i = 0; size < n - 20; i++) {
          const k = (999999 - i).toString(36).padStart(6, '0');
          parts.push(`6:${k}0:`);
          size += 10;
        }
        parts.push('e');
        return Buffer.from(parts.join(''));
      },
    ],
  ];
  for (const [name, make] of inputs) {
    const small = make(MB / 8);
    const big = make(MB);
    const opts = { allowUnsorted: true };
    timeMs(() => decode(small, opts)); // warm up
    const tSmall = Math.max(
      1,
      timeMs(() => decode(small, opts)),
    );
    const tBig = timeMs(() => decode(big, opts));
    // Half a million tiny values cost ~1 µs each to materialise on a slow machine.
    assert.ok(tBig < 4000, `${name}: 1 MB took ${tBig.toFixed(0)} ms`);
    // 8x the input must not cost much more than 8x the time (generous for GC noise).
    assert.ok(
      tBig < tSmall * 40 + 50,
      `${name}: ${tSmall.toFixed(1)} ms for 128 KiB but ${tBig.toFixed(1)} ms for 1 MiB`,
    );
  }
});
