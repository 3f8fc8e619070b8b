import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, decodePrefix, encode, spanOf, isDict, type BValue } from '../../../src/bencode/index.js';
import { isNbtError } from '../../../src/util/errors.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function rejects(input: string | Buffer, code: string, opts = {}): void {
  assert.throws(
    () => decode(typeof input === 'string' ? b(input) : input, opts),
    (e: unknown) => isNbtError(e, code),
    `${JSON.stringify(input.toString())} should fail with ${code}`,
  );
}

test('integers: valid forms', () => {
  assert.equal(decode(b('i0e')), 0);
  assert.equal(decode(b('i42e')), 42);
  assert.equal(decode(b('i-42e')), -42);
  assert.equal(decode(b('i999999999999999e')), 999999999999999);
  assert.equal(decode(b('i9007199254740991e')), Number.MAX_SAFE_INTEGER);
  assert.equal(decode(b('i-9007199254740991e')), -Number.MAX_SAFE_INTEGER);
});

test('integers beyond 2^53 decode as bigint', () => {
  assert.equal(decode(b('i9007199254740992e')), 9007199254740992n);
  assert.equal(decode(b('i-9007199254740993e')), -9007199254740993n);
  assert.equal(decode(b('i123456789012345678901234567890e')), 123456789012345678901234567890n);
  assert.deepEqual(encode(decode(b('i18446744073709551616e'))), b('i18446744073709551616e'));
});

test('integer strictness', () => {
  rejects('i03e', 'BENCODE_LEADING_ZERO');
  rejects('i00e', 'BENCODE_LEADING_ZERO');
  rejects('i-03e', 'BENCODE_LEADING_ZERO');
  rejects('i-0e', 'BENCODE_NEGATIVE_ZERO');
  rejects('i-e', 'BENCODE_BAD_INTEGER');
  rejects('ie', 'BENCODE_BAD_INTEGER');
  rejects('i1.5e', 'BENCODE_BAD_INTEGER');
  rejects('i+1e', 'BENCODE_BAD_INTEGER');
  rejects('i 1e', 'BENCODE_BAD_INTEGER');
  rejects('i--1e', 'BENCODE_BAD_INTEGER');
  rejects('i12', 'BENCODE_TRUNCATED');
  rejects('i', 'BENCODE_TRUNCATED');
  rejects('i-', 'BENCODE_TRUNCATED');
  rejects(`i${'1'.repeat(65)}e`, 'BENCODE_BAD_INTEGER');
});

test('byte strings', () => {
  assert.deepEqual(decode(b('0:')), b(''));
  assert.deepEqual(decode(b('3:abc')), b('abc'));
  const bin = Buffer.from([0x32, 0x3a, 0x00, 0xff]);
  assert.deepEqual(decode(bin), Buffer.from([0x00, 0xff]));
  rejects('03:abc', 'BENCODE_LEADING_ZERO');
  rejects('00:', 'BENCODE_LEADING_ZERO');
  rejects('3a:abc', 'BENCODE_BAD_LENGTH');
  rejects('-3:abc', 'BENCODE_BAD_TOKEN');
  rejects('3:ab', 'BENCODE_TRUNCATED');
  rejects('3', 'BENCODE_TRUNCATED');
  rejects('9999999999999999:x', 'BENCODE_BAD_LENGTH');
  rejects('999999999:x', 'BENCODE_TRUNCATED');
});

test('byte strings are views of the input, not copies', () => {
  const input = b('l3:abce');
  const [s] = decode(input) as Buffer[];
  assert.equal(s!.buffer, input.buffer);
  assert.equal(s!.byteOffset, input.byteOffset + 3);
});

test('lists and dicts', () => {
  assert.deepEqual(decode(b('le')), []);
  assert.deepEqual(decode(b('li1e3:abclee')), [1, b('abc'), []]);
  const d = decode(b('d1:ai1e1:bl1:cee'));
  assert.ok(isDict(d));
  assert.deepEqual(Object.keys(d), ['a', 'b']);
  assert.equal(d.a, 1);
  assert.deepEqual(d.b, [b('c')]);
  // Keys are binary strings, one char per byte.
  const bin = decode(Buffer.concat([b('d2:'), Buffer.from([0xc3, 0xa9]), b('i1ee')]));
  assert.ok(isDict(bin));
  assert.deepEqual(Object.keys(bin), ['\u00c3\u00a9']);
  // No prototype pollution: "__proto__" is an ordinary key.
  const proto = decode(b('d9:__proto__d1:xi1eee'));
  assert.ok(isDict(proto));
  assert.equal(Object.getPrototypeOf(proto), null);
  assert.ok(isDict(proto.__proto__ as BValue));
  rejects('l', 'BENCODE_TRUNCATED');
  rejects('li1e', 'BENCODE_TRUNCATED');
  rejects('d', 'BENCODE_TRUNCATED');
  rejects('d1:a', 'BENCODE_TRUNCATED');
  rejects('d1:ai1e', 'BENCODE_TRUNCATED');
  rejects('di1ei2ee', 'BENCODE_KEY_NOT_STRING');
  rejects('dlei1ee', 'BENCODE_KEY_NOT_STRING');
  rejects('x', 'BENCODE_BAD_TOKEN');
  rejects('e', 'BENCODE_BAD_TOKEN');
  rejects('', 'BENCODE_TRUNCATED');
});

test('trailing garbage is rejected by decode, reported by decodePrefix', () => {
  rejects('i1ei2e', 'BENCODE_TRAILING');
  rejects('3:abcx', 'BENCODE_TRAILING');
  rejects('lee', 'BENCODE_TRAILING');
  assert.deepEqual(decodePrefix(b('d1:ai1eeRAW')), {
    value: Object.assign(Object.create(null) as object, { a: 1 }),
    end: 8,
  });
  try {
    decode(b('i1eXYZ'));
    assert.fail('should throw');
  } catch (e) {
    assert.ok(isNbtError(e, 'BENCODE_TRAILING'));
    assert.equal(e.offset, 3);
  }
});

test('unsorted and duplicate keys', () => {
  rejects('d1:bi1e1:ai2ee', 'BENCODE_UNSORTED_KEYS');
  rejects('d1:ai1e1:ai2ee', 'BENCODE_DUPLICATE_KEY');
  // Byte order, not length order: "ab" < "b".
  assert.ok(isDict(decode(b('d2:abi1e1:bi2ee'))));
  rejects('d1:bi1e2:abi2ee', 'BENCODE_UNSORTED_KEYS');
  const loose = { allowUnsorted: true };
  const d = decode(b('d1:bi1e1:ai2ee'), loose);
  assert.ok(isDict(d));
  assert.equal(d.a, 2);
  assert.equal(d.b, 1);
  // allowUnsorted still rejects duplicates, adjacent or not.
  rejects('d1:ai1e1:ai2ee', 'BENCODE_DUPLICATE_KEY', loose);
  rejects('d1:bi1e1:ai2e1:bi3ee', 'BENCODE_DUPLICATE_KEY', loose);
  rejects('d1:ai1e1:ci2e1:bi3e1:ci4ee', 'BENCODE_DUPLICATE_KEY', loose);
});

test('depth limit', () => {
  assert.doesNotThrow(() => decode(b('l'.repeat(64) + 'e'.repeat(64))));
  rejects('l'.repeat(65) + 'e'.repeat(65), 'BENCODE_TOO_DEEP');
  rejects('l'.repeat(5) + 'e'.repeat(5), 'BENCODE_TOO_DEEP', { maxDepth: 4 });
  rejects('d1:a'.repeat(5) + 'i1e' + 'e'.repeat(5), 'BENCODE_TOO_DEEP', { maxDepth: 4 });
  // Even a caller-raised limit cannot crash the process with a stack overflow.
  rejects('l'.repeat(1_000_000), 'BENCODE_TOO_DEEP', { maxDepth: 10_000_000 });
});

test('token limit', () => {
  const list = 'l' + 'i1e'.repeat(10) + 'e';
  assert.doesNotThrow(() => decode(b(list), { maxTokens: 11 }));
  rejects(list, 'BENCODE_TOO_MANY_TOKENS', { maxTokens: 10 });
  // Dict keys count as tokens.
  rejects('d1:ai1e1:bi1ee', 'BENCODE_TOO_MANY_TOKENS', { maxTokens: 4 });
  assert.doesNotThrow(() => decode(b('d1:ai1e1:bi1ee'), { maxTokens: 5 }));
});

test('spans give the original bytes, even for unsorted dicts', () => {
  const info = 'd1:zi1e1:a3:xyze'; // unsorted: re-encoding would change the bytes
  const input = b(`d4:info${info}4:somel1:xee`);
  const root = decode(input, { spans: true, allowUnsorted: true });
  assert.ok(isDict(root));
  const span = spanOf(root.info!)!;
  assert.equal(input.toString('latin1', span.start, span.end), info);
  assert.notEqual(encode(root.info!).toString('latin1'), info);
  assert.deepEqual(spanOf(root), { start: 0, end: input.length });
  const someAt = input.indexOf('l1:xe');
  assert.deepEqual(spanOf(root.some!), { start: someAt, end: someAt + 5 });
  const x = (root.some as Buffer[])[0]!;
  assert.equal(input.toString('latin1', spanOf(x)!.start, spanOf(x)!.end), '1:x');
  // Without spans: nothing recorded.
  const plain = decode(input, { allowUnsorted: true });
  assert.ok(isDict(plain));
  assert.equal(spanOf(plain.info!), undefined);
  assert.equal(spanOf(5), undefined);
});

test('round trips of canonical input are byte-identical', () => {
  for (const s of [
    'i0e',
    'i-7e',
    '0:',
    '4:spam',
    'le',
    'de',
    'l4:spam4:eggse',
    'd3:cow3:moo4:spam4:eggse',
    'd4:spaml1:a1:bee',
    'd1:ad1:bd1:cleeee',
  ]) {
    assert.equal(encode(decode(b(s))).toString('latin1'), s);
  }
});

test('accepts Uint8Array input', () => {
  const u = new Uint8Array(b('xx4:spam')).subarray(2);
  assert.deepEqual(decode(u), b('spam'));
});

test("spans: 'top' records the root and its direct list/dict children only", () => {
  const input = b('d4:infod1:al1:xee4:listl1:ye4:name3:abce');
  const root = decode(input, { spans: 'top' });
  assert.ok(isDict(root));
  assert.deepEqual(spanOf(root), { start: 0, end: input.length });
  assert.equal(input.toString('latin1', spanOf(root.info!)!.start, spanOf(root.info!)!.end), 'd1:al1:xee');
  assert.equal(input.toString('latin1', spanOf(root.list!)!.start, spanOf(root.list!)!.end), 'l1:ye');
  assert.equal(spanOf(root.name!), undefined);
  assert.equal(spanOf((root.info as { a: BValue }).a), undefined);
});
