import { NbtError } from '../util/errors.js';
import type { BDict, BValue, Span } from './types.js';

export interface DecodeOptions {
  /** Deepest nesting of lists and dicts (default 64). */
  maxDepth?: number;
  /** Most values of any kind in one input (default 1,000,000). */
  maxTokens?: number;
  /** Accept dictionaries whose keys are not in ascending byte order (default false). Duplicates are always rejected. */
  allowUnsorted?: boolean;
  /**
   * Record the byte span of every list, dict and byte string; read it back with `spanOf`.
   * `'top'`: only the root and its direct children that are lists or dicts (enough for a
   * torrent's info dict, and far cheaper: spans live in a WeakMap that slows GC).
   */
  spans?: boolean | 'top';
  /**
   * Values to keep as their raw encoding (a Buffer view of the bytes, checked but not built):
   * called with each dictionary key and the dictionary's depth (the root is 1). A torrent's
   * `files` list is the use: 400,000 entries decoded at once were most of a parse's peak memory;
   * kept raw, they are decoded one at a time (`forEachListItem`) and become garbage at once.
   */
  raw?: (key: string, depth: number) => boolean;
}

const spans = new WeakMap<object, Span>();

/** The byte span a value had in its input, if it was decoded with `spans: true`. */
export function spanOf(value: BValue): Span | undefined {
  return typeof value === 'object' ? spans.get(value) : undefined;
}

/** Decodes exactly one value that must fill the whole input. */
export function decode(input: Uint8Array, options: DecodeOptions = {}): BValue {
  const { value, end } = decodePrefix(input, options);
  if (end !== input.length) fail('BENCODE_TRAILING', `${input.length - end} bytes of trailing data`, end);
  return value;
}

/** Decodes one value from the start of the input and says where it ended (for messages followed by raw data). */
export function decodePrefix(input: Uint8Array, options: DecodeOptions = {}): { value: BValue; end: number } {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const d = new Decoder(buf, options);
  try {
    const value = d.value(0);
    return { value, end: d.pos };
  } catch (e) {
    // A caller-raised maxDepth can still exhaust the stack; report it as bad input, not a crash.
    if (e instanceof RangeError) fail('BENCODE_TOO_DEEP', 'nesting too deep for the stack', d.pos);
    throw e;
  }
}

/**
 * Calls `each` with every item of a list kept raw (see `DecodeOptions.raw`), decoded one at a
 * time with `options`; throws BENCODE_NOT_A_LIST if the bytes are not a list.
 */
export function forEachListItem(
  raw: Buffer,
  options: DecodeOptions,
  each: (item: BValue, index: number) => void,
): void {
  if (raw[0] !== 0x6c) fail('BENCODE_NOT_A_LIST', 'value is not a list', 0);
  let pos = 1;
  for (let i = 0; raw[pos] !== 0x65; i++) {
    const { value, end } = decodePrefix(raw.subarray(pos), options);
    each(value, i);
    pos += end;
  }
}

function fail(code: string, message: string, offset: number): never {
  throw new NbtError(code, `bencode: ${message} at byte ${offset}`, { offset });
}

const D0 = 0x30;
const MAX_INTEGER_DIGITS = 64;
const D9 = 0x39;

class Decoder {
  pos = 0;
  private tokens = 0;
  private readonly maxDepth: number;
  private readonly maxTokens: number;
  private readonly allowUnsorted: boolean;
  private readonly spans: boolean;
  private readonly topSpans: boolean;
  private readonly raw: ((key: string, depth: number) => boolean) | undefined;

  constructor(
    private readonly buf: Buffer,
    o: DecodeOptions,
  ) {
    this.maxDepth = o.maxDepth ?? 64;
    this.maxTokens = o.maxTokens ?? 1_000_000;
    this.allowUnsorted = o.allowUnsorted ?? false;
    this.spans = o.spans === true;
    this.topSpans = o.spans === 'top';
    this.raw = o.raw;
  }

  /** Checks one value as `value` does (limits included) without building it; returns its bytes. */
  private skip(depth: number): Buffer {
    const start = this.pos;
    const buf = this.buf;
    // An explicit stack of open containers: true for a dict (its keys are checked as strings).
    const open: boolean[] = [];
    do {
      if (open.length && buf[this.pos] === 0x65) {
        open.pop();
        this.pos++;
        continue;
      }
      if (open.length && open[open.length - 1]) {
        const c = buf[this.pos];
        if (c === undefined) fail('BENCODE_TRUNCATED', 'unterminated dictionary', this.pos);
        if (c < D0 || c > D9) fail('BENCODE_KEY_NOT_STRING', 'dictionary key is not a byte string', this.pos);
        const keyLength = this.length(); // (not `pos += length()`: that reads pos first)
        this.pos += keyLength;
      }
      if (++this.tokens > this.maxTokens)
        fail('BENCODE_TOO_MANY_TOKENS', `more than ${this.maxTokens} values`, this.pos);
      if (this.pos >= buf.length) fail('BENCODE_TRUNCATED', 'unexpected end of input', this.pos);
      const c = buf[this.pos]!;
      if (c === 0x69 /* i */) this.integer();
      else if (c >= D0 && c <= D9) {
        const n = this.length();
        this.pos += n;
      } else if (c === 0x6c /* l */ || c === 0x64 /* d */) {
        if (depth + open.length >= this.maxDepth)
          fail('BENCODE_TOO_DEEP', `nesting deeper than ${this.maxDepth}`, this.pos);
        open.push(c === 0x64);
        this.pos++;
      } else fail('BENCODE_BAD_TOKEN', `unexpected byte 0x${c.toString(16).padStart(2, '0')}`, this.pos);
      if (open.length && this.pos >= buf.length) fail('BENCODE_TRUNCATED', 'unterminated list', start);
    } while (open.length);
    return buf.subarray(start, this.pos);
  }

  value(depth: number): BValue {
    if (++this.tokens > this.maxTokens)
      fail('BENCODE_TOO_MANY_TOKENS', `more than ${this.maxTokens} values`, this.pos);
    if (this.pos >= this.buf.length) fail('BENCODE_TRUNCATED', 'unexpected end of input', this.pos);
    const c = this.buf[this.pos]!;
    if (c === 0x69 /* i */) return this.integer();
    if (c >= D0 && c <= D9) return this.bytes();
    if (c === 0x6c /* l */ || c === 0x64 /* d */) {
      if (depth >= this.maxDepth) fail('BENCODE_TOO_DEEP', `nesting deeper than ${this.maxDepth}`, this.pos);
      return c === 0x6c ? this.list(depth + 1) : this.dict(depth + 1);
    }
    return fail('BENCODE_BAD_TOKEN', `unexpected byte 0x${c.toString(16).padStart(2, '0')}`, this.pos);
  }

  private integer(): number | bigint {
    const start = this.pos;
    let p = start + 1;
    const buf = this.buf;
    let negative = false;
    if (buf[p] === 0x2d /* - */) {
      negative = true;
      p++;
    }
    const digitsStart = p;
    while (p < buf.length && buf[p]! >= D0 && buf[p]! <= D9) p++;
    if (p >= buf.length) fail('BENCODE_TRUNCATED', 'unterminated integer', start);
    if (buf[p] !== 0x65 /* e */) fail('BENCODE_BAD_INTEGER', 'integer has a non-digit', p);
    const n = p - digitsStart;
    if (n === 0) fail('BENCODE_BAD_INTEGER', 'integer has no digits', start);
    // BigInt parsing is superlinear; nothing real needs more digits than this.
    if (n > MAX_INTEGER_DIGITS)
      fail('BENCODE_BAD_INTEGER', `integer has more than ${MAX_INTEGER_DIGITS} digits`, start);
    if (n > 1 && buf[digitsStart] === D0) fail('BENCODE_LEADING_ZERO', 'integer has a leading zero', start);
    if (negative && buf[digitsStart] === D0) fail('BENCODE_NEGATIVE_ZERO', 'integer is negative zero', start);
    this.pos = p + 1;
    if (n <= 15) {
      let v = 0;
      for (let i = digitsStart; i < p; i++) v = v * 10 + (buf[i]! - D0);
      return negative ? -v : v;
    }
    const big = BigInt(buf.toString('latin1', start + 1, p));
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }

  private length(): number {
    const start = this.pos;
    const buf = this.buf;
    let p = start;
    let len = 0;
    while (p < buf.length && buf[p]! >= D0 && buf[p]! <= D9) {
      len = len * 10 + (buf[p]! - D0);
      p++;
      if (p - start > 15) fail('BENCODE_BAD_LENGTH', 'string length too long', start);
    }
    if (p >= buf.length) fail('BENCODE_TRUNCATED', 'unterminated string length', start);
    if (buf[p] !== 0x3a /* : */) fail('BENCODE_BAD_LENGTH', 'string length has a non-digit', p);
    if (p - start > 1 && buf[start] === D0)
      fail('BENCODE_LEADING_ZERO', 'string length has a leading zero', start);
    this.pos = p + 1;
    if (len > buf.length - this.pos)
      fail('BENCODE_TRUNCATED', `string of ${len} bytes runs past the end`, start);
    return len;
  }

  private bytes(): Buffer {
    const start = this.pos;
    const len = this.length();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    if (this.spans) spans.set(out, { start, end: this.pos });
    return out;
  }

  private list(depth: number): BValue[] {
    const start = this.pos++;
    const out: BValue[] = [];
    for (;;) {
      if (this.pos >= this.buf.length) fail('BENCODE_TRUNCATED', 'unterminated list', start);
      if (this.buf[this.pos] === 0x65) break;
      out.push(this.value(depth));
    }
    this.pos++;
    if (this.spans || (this.topSpans && depth <= 2)) spans.set(out, { start, end: this.pos });
    return out;
  }

  private dict(depth: number): BDict {
    const start = this.pos++;
    const out: BDict = Object.create(null) as BDict;
    const buf = this.buf;
    let prevStart = -1;
    let prevEnd = -1;
    let sorted = true;
    for (;;) {
      if (this.pos >= buf.length) fail('BENCODE_TRUNCATED', 'unterminated dictionary', start);
      if (buf[this.pos] === 0x65) break;
      const c = buf[this.pos]!;
      if (c < D0 || c > D9) fail('BENCODE_KEY_NOT_STRING', 'dictionary key is not a byte string', this.pos);
      if (++this.tokens > this.maxTokens)
        fail('BENCODE_TOO_MANY_TOKENS', `more than ${this.maxTokens} values`, this.pos);
      const keyAt = this.pos;
      const len = this.length();
      const kStart = this.pos;
      const kEnd = kStart + len;
      this.pos = kEnd;
      const key = keyString(buf, kStart, kEnd);
      if (prevStart >= 0) {
        const cmp = buf.compare(buf, prevStart, prevEnd, kStart, kEnd);
        if (cmp === 0) fail('BENCODE_DUPLICATE_KEY', `duplicate dictionary key "${printable(key)}"`, keyAt);
        if (cmp < 0) {
          sorted = false;
          if (!this.allowUnsorted)
            fail('BENCODE_UNSORTED_KEYS', `dictionary key "${printable(key)}" is out of order`, keyAt);
        }
      }
      if (!sorted && key in out)
        fail('BENCODE_DUPLICATE_KEY', `duplicate dictionary key "${printable(key)}"`, keyAt);
      prevStart = kStart;
      prevEnd = kEnd;
      out[key] = this.raw?.(key, depth) ? this.skip(depth) : this.value(depth);
    }
    this.pos++;
    if (this.spans || (this.topSpans && depth <= 2)) spans.set(out, { start, end: this.pos });
    return out;
  }
}

/**
 * The keys every torrent repeats once per file ('length', 'path', …) as one shared string each:
 * a fresh string per key per file is 50–60 bytes a file and as much garbage to collect.
 */
const COMMON_KEYS = new Map<number, string[]>();
for (const k of [
  'length',
  'path',
  'path.utf-8',
  'attr',
  'md5sum',
  'sha1',
  'symlink path',
  'pieces root',
  'mtime',
])
  (COMMON_KEYS.get(k.length) ?? COMMON_KEYS.set(k.length, []).get(k.length)!).push(k);

function keyString(buf: Buffer, start: number, end: number): string {
  const candidates = COMMON_KEYS.get(end - start);
  if (candidates)
    for (const k of candidates) {
      let i = 0;
      while (i < k.length && buf[start + i] === k.charCodeAt(i)) i++;
      if (i === k.length) return k;
    }
  return buf.toString('latin1', start, end);
}

function printable(key: string): string {
  const s = key.length > 40 ? key.slice(0, 40) + '…' : key;
  return s.replace(/[^\x20-\x7e]/g, '?');
}
