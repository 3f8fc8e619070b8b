import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireDecoder, WireEncoder, encodeMessage, type Message } from '../../../src/wire/index.js';
import { isNbtError } from '../../../src/util/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Every message with its exact wire bytes. */
const cases: [Message, string][] = [
  [{ type: 'keepAlive' }, '00000000'],
  [{ type: 'choke' }, '00000001 00'],
  [{ type: 'unchoke' }, '00000001 01'],
  [{ type: 'interested' }, '00000001 02'],
  [{ type: 'notInterested' }, '00000001 03'],
  [{ type: 'have', index: 0x01020304 }, '00000005 04 01020304'],
  [{ type: 'bitfield', bits: hex('ff80') }, '00000003 05 ff80'],
  [{ type: 'request', index: 1, begin: 0x4000, length: 0x4000 }, '0000000d 06 00000001 00004000 00004000'],
  [{ type: 'piece', index: 2, begin: 0x8000, block: hex('aabbcc') }, '0000000c 07 00000002 00008000 aabbcc'],
  [{ type: 'cancel', index: 1, begin: 0, length: 0x4000 }, '0000000d 08 00000001 00000000 00004000'],
  [{ type: 'port', port: 6881 }, '00000003 09 1ae1'],
  [{ type: 'suggest', index: 7 }, '00000005 0d 00000007'],
  [{ type: 'haveAll' }, '00000001 0e'],
  [{ type: 'haveNone' }, '00000001 0f'],
  [{ type: 'reject', index: 3, begin: 0x4000, length: 0x2000 }, '0000000d 10 00000003 00004000 00002000'],
  [{ type: 'allowedFast', index: 9 }, '00000005 11 00000009'],
  [{ type: 'extended', id: 0, payload: Buffer.from('de') }, '00000004 14 00 6465'],
  [{ type: 'extended', id: 3, payload: Buffer.alloc(0) }, '00000002 14 03'],
];

function norm(m: Message): unknown {
  // Buffers compare by content with deepEqual, but views vs copies differ in prototype-less ways; normalise.
  const o: Record<string, unknown> = { ...m };
  for (const k of ['bits', 'block', 'payload'])
    if (Buffer.isBuffer(o[k])) o[k] = (o[k] as Buffer).toString('hex');
  return o;
}

test('every message encodes to its exact bytes and decodes back', () => {
  for (const [msg, bytes] of cases) {
    assert.equal(encodeMessage(msg).toString('hex'), hex(bytes).toString('hex'), msg.type);
    const d = new WireDecoder({ maxRequestLength: 0x4000 });
    assert.deepEqual(d.push(hex(bytes)).map(norm), [norm(msg)], msg.type);
    assert.equal(d.bufferedBytes, 0);
  }
});

const stream = Buffer.concat(cases.map(([, b]) => hex(b)));
const expected = cases.map(([m]) => norm(m));

test('a stream of all messages parses identically at every split point', () => {
  for (let i = 0; i <= stream.length; i++) {
    const d = new WireDecoder();
    const got = [...d.push(stream.subarray(0, i)), ...d.push(stream.subarray(i))];
    assert.deepEqual(got.map(norm), expected, `split at ${i}`);
  }
  for (let i = 0; i < stream.length; i += 7)
    for (let j = i; j <= stream.length; j += 5) {
      const d = new WireDecoder();
      const got = [
        ...d.push(stream.subarray(0, i)),
        ...d.push(stream.subarray(i, j)),
        ...d.push(stream.subarray(j)),
      ];
      assert.deepEqual(got.map(norm), expected, `split at ${i}/${j}`);
    }
});

test('one byte at a time', () => {
  const d = new WireDecoder();
  const got: Message[] = [];
  for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1), (m) => got.push(m));
  assert.deepEqual(got.map(norm), expected);
});

test('a piece block inside one chunk is a view, not a copy', () => {
  const block = Buffer.alloc(16384, 7);
  const bytes = encodeMessage({ type: 'piece', index: 0, begin: 0, block });
  const d = new WireDecoder();
  const [m] = d.push(bytes);
  assert.ok(m && m.type === 'piece');
  assert.equal(m.block.buffer, bytes.buffer);
  assert.equal(m.block.byteOffset, bytes.byteOffset + 13);
  // split across chunks: still correct content
  const d2 = new WireDecoder();
  assert.deepEqual(d2.push(bytes.subarray(0, 100)), []);
  const [m2] = d2.push(bytes.subarray(100));
  assert.ok(m2 && m2.type === 'piece' && m2.block.equals(block));
});

test('transient chunks: a reused read buffer never corrupts what the decoder keeps or hands out', () => {
  // Like a socket reading into one shared buffer: every push reuses the same memory, scribbled
  // over as soon as push returns. Only piece blocks may be views, and only during the sink call.
  const shared = Buffer.alloc(64);
  for (const step of [1, 3, 7, 13, 64]) {
    const d = new WireDecoder();
    const got: unknown[] = [];
    for (let i = 0; i < stream.length; i += step) {
      const part = stream.subarray(i, Math.min(stream.length, i + step));
      part.copy(shared);
      d.push(shared.subarray(0, part.length), (m) => got.push(norm(m)), true);
      shared.fill(0xee);
    }
    assert.deepEqual(got, expected, `step ${step}`);
  }
  // Kept messages (bitfield, extended) are copies, not views of the transient chunk.
  const d = new WireDecoder();
  const bytes = Buffer.concat([hex('00000003 05 ff80'), hex('00000004 14 00 6465')]);
  const kept = d.push(bytes, undefined, true);
  bytes.fill(0);
  assert.deepEqual(kept.map(norm), [
    { type: 'bitfield', bits: 'ff80' },
    { type: 'extended', id: 0, payload: '6465' },
  ]);
});

test('encoder batches small messages and keeps piece blocks as separate chunks', () => {
  const e = new WireEncoder();
  const block = Buffer.alloc(16384, 1);
  e.queue({ type: 'unchoke' });
  e.queue({ type: 'have', index: 5 });
  e.queue({ type: 'piece', index: 5, begin: 0, block });
  e.queue({ type: 'piece', index: 5, begin: 16384, block });
  e.queue({ type: 'interested' });
  assert.equal(e.pendingBytes, 5 + 9 + 2 * (13 + 16384) + 5);
  const chunks = e.flush();
  assert.equal(chunks.length, 5);
  assert.equal(chunks[1], block);
  assert.equal(chunks[3], block);
  assert.equal(chunks[0]!.length, 5 + 9 + 13);
  assert.equal(chunks[2]!.length, 13);
  assert.equal(e.pendingBytes, 0);
  const d = new WireDecoder();
  const got = chunks.flatMap((c) => d.push(c)).map((m) => m.type);
  assert.deepEqual(got, ['unchoke', 'have', 'piece', 'piece', 'interested']);
  // chunks handed out earlier are not overwritten by later messages
  const first = Buffer.from(chunks[0]!);
  for (let i = 0; i < 2000; i++) e.queue({ type: 'have', index: i });
  const more = e.flush();
  assert.ok(chunks[0]!.equals(first));
  assert.equal(
    more.reduce((n, c) => n + c.length, 0),
    2000 * 9,
  );
});

test('encoders sharing the slab: interleaved messages stay in order per encoder, handed-out bytes never change', () => {
  const encoders = Array.from({ length: 7 }, () => new WireEncoder());
  const handed: { bytes: Buffer; copy: Buffer }[] = [];
  const streams = encoders.map(() => [] as Buffer[]);
  // Enough rounds to fill several 16 KiB slabs, with flushes at different moments per encoder.
  for (let round = 0; round < 3000; round++) {
    encoders.forEach((e, k) => {
      e.queue({ type: 'have', index: round * 10 + k });
      if (round % 3 === k % 3) e.queue({ type: 'request', index: k, begin: round, length: 16384 });
      if ((round + k) % 5 === 0) e.queue({ type: 'keepAlive' });
      if ((round + k) % 4 === 0)
        for (const c of e.flush()) {
          streams[k]!.push(c);
          handed.push({ bytes: c, copy: Buffer.from(c) });
        }
    });
  }
  encoders.forEach((e, k) => streams[k]!.push(...e.flush()));
  for (const h of handed) assert.ok(h.bytes.equals(h.copy), 'a handed-out chunk was overwritten');
  encoders.forEach((_, k) => {
    const msgs = new WireDecoder().push(Buffer.concat(streams[k]!));
    const haves = msgs.filter((m) => m.type === 'have').map((m) => (m as { index: number }).index);
    assert.deepEqual(
      haves,
      Array.from({ length: 3000 }, (_, r) => r * 10 + k),
    );
    const requests = msgs.filter((m) => m.type === 'request').length;
    assert.equal(requests, 1000);
    assert.equal(msgs.filter((m) => m.type === 'keepAlive').length, 600);
  });
});

test('encoder rejects out-of-range arguments without corrupting its queue', () => {
  const e = new WireEncoder();
  e.queue({ type: 'choke' });
  assert.throws(
    () => e.queue({ type: 'have', index: -1 }),
    (err) => isNbtError(err, 'WIRE_BAD_ARGUMENT'),
  );
  assert.throws(
    () => e.queue({ type: 'port', port: 70000 }),
    (err) => isNbtError(err, 'WIRE_BAD_ARGUMENT'),
  );
  assert.throws(
    () => e.queue({ type: 'extended', id: 256, payload: Buffer.alloc(0) }),
    (err) => isNbtError(err, 'WIRE_BAD_ARGUMENT'),
  );
  assert.deepEqual(Buffer.concat(e.flush()).toString('hex'), '0000000100');
});
