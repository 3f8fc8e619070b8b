/** The uTP codec: round trips, the extension chain, the limits, and a seeded fuzz run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodePacket,
  encodePacket,
  seqAdd,
  seqDiff,
  seqLess,
  ST_DATA,
  ST_STATE,
  ST_SYN,
  type UtpPacket,
} from '../../../src/utp/packet.js';
import { isNbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/prng.js';

const base: UtpPacket = {
  type: ST_DATA,
  connectionId: 0xbeef,
  timestamp: 0xfffffff0,
  timestampDiff: 12345,
  window: 1 << 20,
  seq: 65535,
  ack: 7,
  payload: new Uint8Array([1, 2, 3]),
};

/** Field values only: a decoded payload is a view of whatever buffer the datagram came in. */
function norm(p: UtpPacket): UtpPacket {
  return { ...p, payload: new Uint8Array(p.payload), ...(p.sack ? { sack: new Uint8Array(p.sack) } : {}) };
}

test('encode/decode round trip, with and without a selective ack', () => {
  const bytes = encodePacket(base);
  assert.equal(bytes.length, 23);
  assert.equal(bytes[0], 0x01);
  assert.deepEqual(norm(decodePacket(bytes)), base);
  const withSack = {
    ...base,
    type: ST_STATE,
    payload: new Uint8Array(0),
    sack: new Uint8Array([1, 0, 0, 0x80]),
  } as const;
  const b2 = encodePacket(withSack);
  assert.equal(b2.length, 26);
  assert.equal(b2[1], 1);
  assert.deepEqual(norm(decodePacket(b2)), withSack);
});

test('unknown extensions are skipped; a bad chain is refused with a code', () => {
  const b = encodePacket({ ...base, payload: new Uint8Array([9, 9]) });
  // Splice an unknown extension (type 7, 3 bytes) in front of the payload.
  const withExt = new Uint8Array([...b.subarray(0, 20), 0, 3, 0xaa, 0xbb, 0xcc, 9, 9]);
  withExt[1] = 7;
  assert.deepEqual(new Uint8Array(decodePacket(withExt).payload), new Uint8Array([9, 9]));
  const code = (buf: Uint8Array): string | undefined => {
    try {
      decodePacket(buf);
      return undefined;
    } catch (e) {
      assert.ok(isNbtError(e));
      return e.code;
    }
  };
  assert.equal(code(b.subarray(0, 19)), 'UTP_TRUNCATED');
  assert.equal(code(new Uint8Array([0x02, ...b.subarray(1)])), 'UTP_BAD_VERSION');
  assert.equal(code(new Uint8Array([0x51, ...b.subarray(1)])), 'UTP_BAD_TYPE');
  const truncated = new Uint8Array([...b.subarray(0, 20), 0, 30, 1]);
  truncated[1] = 7;
  assert.equal(code(truncated), 'UTP_TRUNCATED');
  // libtorrent's SACKs are (span + 7) / 8 bytes, not always a multiple of 4: accepted.
  const oddSack = new Uint8Array([...b.subarray(0, 20), 0, 3, 1, 2, 3]);
  oddSack[1] = 1;
  assert.deepEqual(new Uint8Array(decodePacket(oddSack).sack!), new Uint8Array([1, 2, 3]));
  const emptySack = new Uint8Array([...b.subarray(0, 20), 0, 0]);
  emptySack[1] = 1;
  assert.equal(code(emptySack), 'UTP_BAD_EXTENSION');
  // A chain of 9 empty extensions: more than any client sends.
  const long = new Uint8Array([
    ...b.subarray(0, 20),
    ...Array.from({ length: 9 }, (_, i) => [i < 8 ? 7 : 0, 0]).flat(),
  ]);
  long[1] = 7;
  assert.equal(code(long), 'UTP_BAD_EXTENSION');
  assert.throws(() => encodePacket({ ...base, sack: new Uint8Array(3) }), { code: 'UTP_BAD_EXTENSION' });
});

test('sequence numbers compare across the 16-bit wrap', () => {
  assert.equal(seqAdd(65535, 1), 0);
  assert.equal(seqDiff(2, 65534), 4);
  assert.equal(seqDiff(65534, 2), -4);
  assert.ok(seqLess(65530, 3));
  assert.ok(!seqLess(3, 65530));
});

test('fuzz: random and mutated datagrams decode or throw NbtError, never anything else', () => {
  const rnd = prng(29);
  const seeds = [encodePacket(base), encodePacket({ ...base, type: ST_SYN, sack: new Uint8Array(8) })];
  let decoded = 0;
  for (let i = 0; i < 20000; i++) {
    let buf: Uint8Array;
    if (i % 2 === 0) {
      buf = new Uint8Array(Math.floor(rnd() * 64));
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rnd() * 256);
      if (buf.length > 0 && rnd() < 0.7) buf[0] = (Math.floor(rnd() * 5) << 4) | 1;
    } else {
      buf = new Uint8Array(seeds[(i >> 1) % seeds.length]!); // a copy (Buffer#slice would be a view)
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      if (rnd() < 0.3) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
    }
    try {
      const p = decodePacket(buf);
      decoded++;
      assert.ok(p.payload.length <= buf.length - 20);
      if (p.sack) assert.ok(p.sack.length > 0);
      // What decodes re-encodes (ours are BEP-sized) to a packet that decodes the same.
      if (!p.sack || (p.sack.length % 4 === 0 && p.sack.length <= 32))
        assert.deepEqual(norm(decodePacket(encodePacket(p))), norm(p));
    } catch (e) {
      assert.ok(isNbtError(e), `non-NbtError thrown: ${String(e)}`);
      assert.match(e.code, /^UTP_/);
    }
  }
  assert.ok(decoded > 1000, `only ${decoded} decoded`);
});
