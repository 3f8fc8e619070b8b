import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, decode } from '../../../src/bencode/index.js';
import { isNbtError } from '../../../src/util/errors.js';

const s = (v: Parameters<typeof encode>[0]): string => encode(v).toString('latin1');

test('scalars', () => {
  assert.equal(s(0), 'i0e');
  assert.equal(s(-0), 'i0e');
  assert.equal(s(-12), 'i-12e');
  assert.equal(s(2n ** 64n), 'i18446744073709551616e');
  assert.equal(s('spam'), '4:spam');
  assert.equal(s(''), '0:');
  assert.equal(s('é'), '2:\u00c3\u00a9'); // text is UTF-8
  assert.equal(s(new Uint8Array([0, 255])), '2:\u0000\u00ff');
  assert.equal(s(Buffer.from('ab').subarray(1)), '1:b');
});

test('dictionaries are sorted by key bytes; undefined members are skipped', () => {
  assert.equal(s({ b: 1, a: 2, ab: 3, B: 4 }), 'd1:Bi4e1:ai2e2:abi3e1:bi1ee');
  assert.equal(s({ a: undefined, b: 1 }), 'd1:bi1ee');
  assert.equal(
    s(
      new Map<string, string | number>([
        ['z', 1],
        ['y', 'x'],
      ]),
    ),
    'd1:y1:x1:zi1ee',
  );
  // Binary-string keys sort by byte: 0xff after 'z'.
  assert.equal(s({ '\u00ff': 1, z: 2 }), 'd1:zi2e1:\u00ffi1ee');
  assert.equal(s([1, [], {}, 'x']), 'li1elede1:xe');
});

test('encode errors are typed', () => {
  const code = (v: unknown, c: string): void =>
    assert.throws(
      () => encode(v as Parameters<typeof encode>[0]),
      (e: unknown) => isNbtError(e, c),
    );
  code(1.5, 'BENCODE_NOT_INTEGER');
  code(NaN, 'BENCODE_NOT_INTEGER');
  code(2 ** 60, 'BENCODE_NOT_INTEGER');
  code(true, 'BENCODE_UNENCODABLE');
  code(null, 'BENCODE_UNENCODABLE');
  code(() => 1, 'BENCODE_UNENCODABLE');
  code({ '\u0100': 1 }, 'BENCODE_BAD_KEY');
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  code(cyclic, 'BENCODE_TOO_DEEP');
});

test('decode(encode(x)) preserves structure', () => {
  const v = {
    announce: 'http://t/a',
    info: { length: 5, name: 'n', 'piece length': 16384, pieces: Buffer.alloc(20, 1) },
    list: [1, -2, 2n ** 60n],
  };
  const back = decode(encode(v));
  assert.deepEqual(encode(back), encode(v));
});
