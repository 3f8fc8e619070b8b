import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WireDecoder,
  encodeMessage,
  uncleCount,
  type HashRef,
  type Message,
} from '../../../src/wire/index.js';
import { isNbtError } from '../../../src/util/errors.js';

const root = Buffer.alloc(32, 0xab);
const ref: HashRef = { piecesRoot: root, baseLayer: 2, index: 512, length: 512, proofLayers: 12 };

function decodeAll(bytes: Buffer, step = bytes.length): Message[] {
  const d = new WireDecoder({ pieceCount: 4 });
  const out: Message[] = [];
  for (let at = 0; at < bytes.length; at += step) out.push(...d.push(bytes.subarray(at, at + step)));
  return out;
}

/** A raw BEP 52 message: id, root, then the four integers, then `tail`. */
function raw(id: number, ints: number[], tail = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(1 + 32 + 16);
  body[0] = id;
  root.copy(body, 1);
  ints.forEach((v, i) => body.writeUInt32BE(v >>> 0, 33 + 4 * i));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length + tail.length);
  return Buffer.concat([len, body, tail]);
}

test('hash request, hashes and hash reject round-trip with BEP 52 ids and layout', () => {
  const uncles = uncleCount(ref);
  assert.equal(uncles, 12 - 9 + 1); // log2(512) - 1 proof layers are covered by the base hashes
  const hashes = Buffer.alloc(32 * (512 + uncles), 5);
  const msgs: Message[] = [
    { type: 'hashRequest', ...ref },
    { type: 'hashes', ...ref, hashes },
    { type: 'hashReject', ...ref },
  ];
  const bytes = Buffer.concat(msgs.map(encodeMessage));
  // the request is 4 + 1 + 32 + 16 bytes: id 21 after the prefix, the root, then uint32s
  const req = encodeMessage(msgs[0]!);
  assert.equal(req.length, 53);
  assert.equal(req.readUInt32BE(0), 49);
  assert.equal(req[4], 21);
  assert.deepEqual(req.subarray(5, 37), root);
  assert.deepEqual(
    [37, 41, 45, 49].map((o) => req.readUInt32BE(o)),
    [2, 512, 512, 12],
  );
  assert.equal(encodeMessage(msgs[1]!)[4], 22);
  assert.equal(encodeMessage(msgs[2]!)[4], 23);
  for (const step of [bytes.length, 7, 1]) assert.deepEqual(decodeAll(bytes, step), msgs);
});

test('a decoded root and hash list are copies, safe from a reused read buffer', () => {
  const d = new WireDecoder();
  const chunk = encodeMessage({
    type: 'hashes',
    ...ref,
    length: 2,
    proofLayers: 0,
    hashes: Buffer.alloc(64, 1),
  });
  const [m] = d.push(chunk, undefined, true);
  chunk.fill(0);
  assert.ok(m?.type === 'hashes');
  assert.deepEqual(m.piecesRoot, root);
  assert.deepEqual(m.hashes, Buffer.alloc(64, 1));
});

test('malformed hash messages fail with typed errors', () => {
  const fails = (bytes: Buffer, code: string): void =>
    assert.throws(
      () => new WireDecoder().push(bytes),
      (e) => isNbtError(e, code),
      `${bytes.toString('hex').slice(0, 40)} should fail with ${code}`,
    );
  // wrong fixed length
  fails(Buffer.concat([raw(21, [0, 0, 2, 0]).subarray(0, 52)]).fill(0x30, 3, 4), 'WIRE_MALFORMED');
  // length not a power of two, zero, above 8192; index not a multiple; layers beyond any tree
  fails(raw(21, [0, 0, 3, 0]), 'WIRE_BAD_HASH_REQUEST');
  fails(raw(23, [0, 0, 0, 0]), 'WIRE_BAD_HASH_REQUEST');
  fails(raw(21, [0, 0, 16384, 0]), 'WIRE_BAD_HASH_REQUEST');
  fails(raw(21, [0, 2, 4, 0]), 'WIRE_BAD_HASH_REQUEST');
  fails(raw(21, [64, 0, 2, 0]), 'WIRE_BAD_HASH_REQUEST');
  fails(raw(21, [0, 0, 2, 0xffffffff]), 'WIRE_BAD_HASH_REQUEST');
  // hashes: no hashes, a partial hash, the wrong count for the proof asked
  fails(raw(22, [0, 0, 2, 0]), 'WIRE_BAD_HASHES');
  fails(raw(22, [0, 0, 2, 0], Buffer.alloc(65)), 'WIRE_BAD_HASHES');
  fails(raw(22, [0, 0, 2, 0], Buffer.alloc(96)), 'WIRE_BAD_HASHES');
  fails(raw(22, [0, 0, 2, 3], Buffer.alloc(64)), 'WIRE_BAD_HASHES');
  assert.equal(new WireDecoder().push(raw(22, [0, 0, 2, 3], Buffer.alloc(32 * 5))).length, 1);
});

test('an oversized hashes message fails on its header, before the body is buffered', () => {
  const d = new WireDecoder();
  const header = Buffer.alloc(5);
  header.writeUInt32BE(1 + 48 + 32 * (8192 + 64));
  header[4] = 22;
  assert.throws(
    () => d.push(header),
    (e) => isNbtError(e, 'WIRE_MESSAGE_TOO_LARGE'),
  );
  assert.ok(d.bufferedBytes <= 5);
});
