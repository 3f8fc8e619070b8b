import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeHandshake,
  parseHandshake,
  checkHandshakeStart,
  makeReserved,
  reservedFlags,
  supportsExtended,
  supportsFast,
  supportsDht,
} from '../../../src/wire/index.js';
import { isNbtError } from '../../../src/util/errors.js';

const infoHash = Buffer.alloc(20, 0xaa);
const peerId = Buffer.from('-NB0010-abcdefghijkl');

test('handshake bytes and round trip', () => {
  const reserved = makeReserved({ extended: true, fast: true, dht: true });
  assert.equal(reserved.toString('hex'), '0000000000100005');
  const b = encodeHandshake({ reserved, infoHash, peerId });
  assert.equal(b.length, 68);
  assert.equal(b[0], 19);
  assert.equal(b.subarray(1, 20).toString(), 'BitTorrent protocol');
  assert.equal(b.subarray(20, 28).toString('hex'), '0000000000100005');
  assert.deepEqual(b.subarray(28, 48), infoHash);
  assert.deepEqual(b.subarray(48), peerId);
  const h = parseHandshake(b);
  assert.deepEqual(h, { reserved, infoHash, peerId });
  assert.deepEqual(reservedFlags(h.reserved), { extended: true, fast: true, dht: true, v2: false });
  assert.equal(supportsExtended(Buffer.alloc(8)), false);
  assert.equal(supportsFast(makeReserved({ fast: true })), true);
  assert.equal(supportsDht(makeReserved({ fast: true })), false);
});

test('bad handshakes fail early with typed errors', () => {
  const good = encodeHandshake({ reserved: Buffer.alloc(8), infoHash, peerId });
  assert.throws(
    () => checkHandshakeStart(Buffer.from([0x14])),
    (e) => isNbtError(e, 'WIRE_BAD_HANDSHAKE') && e.offset === 0,
  );
  const bad = Buffer.from(good);
  bad[5] = 0x41;
  assert.throws(
    () => checkHandshakeStart(bad.subarray(0, 6)),
    (e) => isNbtError(e, 'WIRE_BAD_HANDSHAKE') && e.offset === 5,
  );
  checkHandshakeStart(good.subarray(0, 10));
  checkHandshakeStart(Buffer.alloc(0));
  assert.throws(
    () => parseHandshake(good.subarray(0, 67)),
    (e) => isNbtError(e, 'WIRE_HANDSHAKE_TRUNCATED'),
  );
  assert.throws(
    () => encodeHandshake({ reserved: Buffer.alloc(7), infoHash, peerId }),
    (e) => isNbtError(e, 'WIRE_BAD_ARGUMENT'),
  );
});

test('the BEP 52 v2 bit is reserved byte 7, 0x10', () => {
  const r = makeReserved({ extended: true, fast: true, v2: true });
  assert.equal(r[7], 0x14);
  assert.equal(reservedFlags(r).v2, true);
  assert.equal(reservedFlags(makeReserved({ fast: true })).v2, false);
});
