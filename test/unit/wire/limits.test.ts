import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireDecoder, encodeMessage, type DecoderOptions } from '../../../src/wire/index.js';
import { isNbtError } from '../../../src/util/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function fails(bytes: Buffer, code: string, opts: DecoderOptions = {}, offset?: number): void {
  const d = new WireDecoder(opts);
  assert.throws(
    () => d.push(bytes),
    (e) => isNbtError(e, code) && (offset === undefined || e.offset === offset),
    `${bytes.toString('hex')} should fail with ${code}`,
  );
  // a failed decoder stays failed
  assert.throws(
    () => d.push(Buffer.alloc(0)),
    (e) => isNbtError(e, code),
  );
}

test('fixed-length messages with the wrong length are WIRE_MALFORMED', () => {
  fails(hex('00000002 00 00'), 'WIRE_MALFORMED');
  fails(hex('00000004 04 000000'), 'WIRE_MALFORMED');
  fails(hex('0000000c 06 00000000 00000000 000040'), 'WIRE_MALFORMED');
  fails(hex('00000005 09 00001ae1'), 'WIRE_MALFORMED'); // the Perl bug: PORT with a 4-byte body
  fails(hex('00000008 07 0000000000'), 'WIRE_MALFORMED');
  fails(hex('00000001 14'), 'WIRE_MALFORMED');
  fails(hex('00000002 0e 00'), 'WIRE_MALFORMED');
  // the offset is the stream position of the bad message
  fails(Buffer.concat([hex('00000001 00'), hex('00000002 01 00')]), 'WIRE_MALFORMED', {}, 5);
});

test('unknown ids are WIRE_UNKNOWN_MESSAGE; huge unknown ones WIRE_MESSAGE_TOO_LARGE', () => {
  fails(hex('00000001 0a'), 'WIRE_UNKNOWN_MESSAGE');
  fails(hex('00000001 ff'), 'WIRE_UNKNOWN_MESSAGE');
  fails(hex('7fffffff 15'), 'WIRE_MESSAGE_TOO_LARGE');
});

test('oversized messages fail from their 5-byte header, before the body arrives', () => {
  const d = new WireDecoder();
  assert.throws(
    () => d.push(hex('00004010 07')),
    (e) => isNbtError(e, 'WIRE_MESSAGE_TOO_LARGE'),
  );
  // exactly the largest legal piece is fine
  const ok = new WireDecoder();
  const [m] = ok.push(encodeMessage({ type: 'piece', index: 0, begin: 0, block: Buffer.alloc(16384) }));
  assert.equal(m?.type, 'piece');
  // configurable
  const big = new WireDecoder({ maxRequestLength: 32768 });
  assert.equal(
    big.push(encodeMessage({ type: 'piece', index: 0, begin: 0, block: Buffer.alloc(32768) })).length,
    1,
  );
  fails(hex('00040003 14 01'), 'WIRE_MESSAGE_TOO_LARGE');
  fails(hex('ffffffff 05'), 'WIRE_MESSAGE_TOO_LARGE');
});

test('a length prefix longer than any message fails on its 4 bytes, before the id byte', () => {
  fails(hex('80000000'), 'WIRE_MESSAGE_TOO_LARGE', {}, 0);
  // after a keep-alive: the offset is the prefix's stream position
  fails(hex('00000000 00040003'), 'WIRE_MESSAGE_TOO_LARGE', { pieceCount: 8 }, 4);
  // split across pushes: the error comes with the fourth byte
  const e = new WireDecoder();
  assert.deepEqual(e.push(hex('7fff')), []);
  assert.throws(
    () => e.push(hex('ffff')),
    (err) => isNbtError(err, 'WIRE_MESSAGE_TOO_LARGE') && err.offset === 0,
  );
  // the largest legal length still waits for its id and body
  const ok = new WireDecoder();
  const max = ok.maxMessageLength;
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(max);
  assert.deepEqual(ok.push(prefix), []);
  assert.equal(ok.bufferedBytes, 4);
});

test('request/cancel/reject lengths are bounded', () => {
  fails(hex('0000000d 06 00000000 00000000 00000000'), 'WIRE_BAD_REQUEST');
  fails(hex('0000000d 06 00000000 00000000 00004001'), 'WIRE_BAD_REQUEST');
  fails(hex('0000000d 08 00000000 00000000 00010000'), 'WIRE_BAD_REQUEST');
  fails(hex('0000000d 10 00000000 00000000 00010000'), 'WIRE_BAD_REQUEST');
  const d = new WireDecoder({ maxRequestLength: 0x10000 });
  assert.equal(d.push(hex('0000000d 06 00000000 00000000 00010000')).length, 1);
});

test('bitfield must match a known piece count exactly, with zero spare bits', () => {
  const d = new WireDecoder({ pieceCount: 12 });
  assert.deepEqual(d.push(hex('00000003 05 fff0'))[0], { type: 'bitfield', bits: hex('fff0') });
  fails(hex('00000003 05 fff8'), 'WIRE_BAD_BITFIELD', { pieceCount: 12 });
  fails(hex('00000002 05 ff'), 'WIRE_BAD_BITFIELD', { pieceCount: 12 });
  fails(hex('00000004 05 ffff00'), 'WIRE_BAD_BITFIELD', { pieceCount: 12 });
  // unknown piece count: bounded only
  const magnet = new WireDecoder({ maxBitfieldBytes: 4 });
  assert.equal(magnet.push(hex('00000005 05 ffffffff')).length, 1);
  fails(hex('00000006 05 ffffffffff'), 'WIRE_MESSAGE_TOO_LARGE', { maxBitfieldBytes: 4 });
  // the count can be set later
  magnet.setPieceCount(3);
  assert.throws(
    () => magnet.push(hex('00000002 05 f0')),
    (e) => isNbtError(e, 'WIRE_BAD_BITFIELD'),
  );
});

test('piece indices beyond a known piece count are WIRE_BAD_INDEX', () => {
  fails(hex('00000005 04 0000000c'), 'WIRE_BAD_INDEX', { pieceCount: 12 });
  fails(hex('0000000d 06 0000000c 00000000 00004000'), 'WIRE_BAD_INDEX', { pieceCount: 12 });
  fails(hex('0000000a 07 0000000c 00000000 00'), 'WIRE_BAD_INDEX', { pieceCount: 12 });
  fails(hex('00000005 11 0000000c'), 'WIRE_BAD_INDEX', { pieceCount: 12 });
  const d = new WireDecoder({ pieceCount: 12 });
  assert.equal(d.push(hex('00000005 04 0000000b')).length, 1);
});
