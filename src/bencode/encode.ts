import { NbtError } from '../util/errors.js';
import type { BEncodable } from './types.js';

/**
 * Canonical encoding: dictionary keys sorted by their bytes, integers without padding.
 * Strings are written as UTF-8 text, Uint8Arrays as raw bytes. Object keys are binary
 * strings (as the decoder returns them); `undefined` members are left out.
 */
export function encode(value: BEncodable): Buffer {
  const out: Buffer[] = [];
  let size = 0;
  const push = (b: Buffer): void => {
    out.push(b);
    size += b.length;
  };
  const ascii = (s: string): void => push(Buffer.from(s, 'latin1'));

  const write = (v: BEncodable, depth: number): void => {
    if (depth > 256) throw new NbtError('BENCODE_TOO_DEEP', 'bencode: value nests too deeply to encode');
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v))
        throw new NbtError('BENCODE_NOT_INTEGER', `bencode: ${v} is not a safe integer`);
      ascii(`i${v}e`);
    } else if (typeof v === 'bigint') {
      ascii(`i${v}e`);
    } else if (typeof v === 'string') {
      const b = Buffer.from(v, 'utf8');
      ascii(`${b.length}:`);
      push(b);
    } else if (v instanceof Uint8Array) {
      ascii(`${v.length}:`);
      push(Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    } else if (Array.isArray(v)) {
      ascii('l');
      for (const item of v as readonly BEncodable[]) write(item, depth + 1);
      ascii('e');
    } else if (v instanceof Map) {
      writeDict([...(v as ReadonlyMap<string, BEncodable>).entries()], depth);
    } else if (typeof v === 'object' && v !== null) {
      writeDict(Object.entries(v as { [k: string]: BEncodable | undefined }), depth);
    } else {
      throw new NbtError('BENCODE_UNENCODABLE', `bencode: cannot encode a ${typeof v}`);
    }
  };

  const writeDict = (entries: [string, BEncodable | undefined][], depth: number): void => {
    const present = entries.filter((e): e is [string, BEncodable] => e[1] !== undefined);
    for (const [k] of present)
      if (/[\u0100-\uffff]/.test(k))
        throw new NbtError(
          'BENCODE_BAD_KEY',
          `bencode: key "${k}" is not a binary string (chars above 0xFF)`,
        );
    // Binary strings compare by code unit, which is byte order.
    present.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    ascii('d');
    for (let i = 0; i < present.length; i++) {
      const [k, val] = present[i]!;
      if (i > 0 && present[i - 1]![0] === k)
        throw new NbtError('BENCODE_DUPLICATE_KEY', `bencode: duplicate key "${k}"`);
      ascii(`${k.length}:`);
      ascii(k);
      write(val, depth + 1);
    }
    ascii('e');
  };

  write(value, 0);
  return Buffer.concat(out, size);
}
