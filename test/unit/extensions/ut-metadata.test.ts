import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  metadataSizeFromHandshake,
  MetadataServer,
  METADATA_PIECE_SIZE,
} from '../../../src/extensions/index.js';
import { isNbtError } from '../../../src/util/errors.js';
import { prng, seededBytes } from '../../helpers/tmp.js';

test('BEP 9 example bytes and round trips', () => {
  assert.equal(encodeMetadataMessage({ type: 'request', piece: 0 }).toString(), 'd8:msg_typei0e5:piecei0ee');
  assert.equal(encodeMetadataMessage({ type: 'reject', piece: 3 }).toString(), 'd8:msg_typei2e5:piecei3ee');
  const data = seededBytes(100, 3);
  const wire = encodeMetadataMessage({ type: 'data', piece: 1, totalSize: 16484, data });
  assert.ok(wire.toString('latin1').startsWith('d8:msg_typei1e5:piecei1e10:total_sizei16484ee'));
  const back = decodeMetadataMessage(wire);
  assert.ok(back.type === 'data' && back.piece === 1 && back.totalSize === 16484 && back.data.equals(data));
  assert.deepEqual(decodeMetadataMessage(Buffer.from('d8:msg_typei7e5:piecei0ee')), {
    type: 'unknown',
    msgType: 7,
  });
});

test('malformed messages throw typed errors; fuzz throws only NbtError', () => {
  const bad: [string | Buffer, string][] = [
    ['i1e', 'METADATA_NOT_DICT'],
    ['d5:piecei0ee', 'METADATA_BAD_FIELD'],
    ['d8:msg_typei0e5:piecei-1ee', 'METADATA_BAD_FIELD'],
    ['d8:msg_typei1e5:piecei0ee', 'METADATA_BAD_FIELD'],
    [
      Buffer.concat([
        Buffer.from('d8:msg_typei1e5:piecei0e10:total_sizei99999ee'),
        Buffer.alloc(METADATA_PIECE_SIZE + 1),
      ]),
      'METADATA_PIECE_TOO_LARGE',
    ],
  ];
  for (const [input, code] of bad)
    assert.throws(
      () => decodeMetadataMessage(Buffer.from(input)),
      (e) => isNbtError(e, code),
      code,
    );
  const rand = prng(11);
  const seed = encodeMetadataMessage({ type: 'data', piece: 2, totalSize: 40000, data: seededBytes(64, 1) });
  for (let i = 0; i < 20_000; i++) {
    const b = Buffer.from(seed.subarray(0, Math.floor(rand() * seed.length) + 1));
    b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    try {
      decodeMetadataMessage(b);
    } catch (e) {
      assert.ok(isNbtError(e), String(e));
    }
  }
});

test('metadata_size from the extension handshake is bounded', () => {
  assert.equal(metadataSizeFromHandshake({ metadata_size: 31235 }), 31235);
  assert.equal(metadataSizeFromHandshake({ metadata_size: 0 }), undefined);
  assert.equal(metadataSizeFromHandshake({ metadata_size: 10 ** 9 }), undefined);
  assert.equal(metadataSizeFromHandshake({ metadata_size: Buffer.from('5') }), undefined);
  assert.equal(metadataSizeFromHandshake({}), undefined);
});

test('MetadataServer serves pieces, rejects out of range and floods', () => {
  const info = seededBytes(2 * METADATA_PIECE_SIZE + 10, 4);
  const server = new MetadataServer(info, { floodFactor: 2 });
  assert.equal(server.pieceCount, 3);
  const last = decodeMetadataMessage(server.respond('p', { type: 'request', piece: 2 })!);
  assert.ok(
    last.type === 'data' &&
      last.data.equals(info.subarray(2 * METADATA_PIECE_SIZE)) &&
      last.totalSize === info.length,
  );
  assert.deepEqual(decodeMetadataMessage(server.respond('p', { type: 'request', piece: 3 })!), {
    type: 'reject',
    piece: 3,
  });
  assert.equal(server.respond('p', { type: 'reject', piece: 0 }), undefined);
  for (let i = 0; i < 5; i++)
    assert.equal(decodeMetadataMessage(server.respond('p', { type: 'request', piece: 0 })!).type, 'data');
  assert.equal(
    decodeMetadataMessage(server.respond('p', { type: 'request', piece: 0 })!).type,
    'reject',
    'flood guard',
  );
  server.forget('p');
  assert.equal(decodeMetadataMessage(server.respond('p', { type: 'request', piece: 0 })!).type, 'data');
});
