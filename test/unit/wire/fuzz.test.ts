import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireDecoder, encodeMessage, parseExtendedHandshake, type Message } from '../../../src/wire/index.js';
import { NbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/tmp.js';

const samples: Message[] = [
  { type: 'keepAlive' },
  { type: 'choke' },
  { type: 'unchoke' },
  { type: 'interested' },
  { type: 'notInterested' },
  { type: 'have', index: 3 },
  { type: 'bitfield', bits: Buffer.from([0xff, 0xf0]) },
  { type: 'request', index: 1, begin: 0, length: 16384 },
  { type: 'piece', index: 1, begin: 0, block: Buffer.alloc(40, 1) },
  { type: 'cancel', index: 1, begin: 0, length: 16384 },
  { type: 'port', port: 6881 },
  { type: 'suggest', index: 2 },
  { type: 'haveAll' },
  { type: 'haveNone' },
  { type: 'reject', index: 1, begin: 0, length: 16384 },
  { type: 'allowedFast', index: 4 },
  { type: 'extended', id: 0, payload: Buffer.from('d1:md6:ut_pexi1eee') },
  { type: 'hashRequest', piecesRoot: Buffer.alloc(32, 7), baseLayer: 2, index: 4, length: 4, proofLayers: 3 },
  { type: 'hashReject', piecesRoot: Buffer.alloc(32, 8), baseLayer: 0, index: 0, length: 2, proofLayers: 0 },
  // 4 base hashes and 3 - 2 + 1 = 2 uncles.
  {
    type: 'hashes',
    piecesRoot: Buffer.alloc(32, 9),
    baseLayer: 1,
    index: 8,
    length: 4,
    proofLayers: 3,
    hashes: Buffer.alloc(6 * 32, 3),
  },
];

test('fuzz: 20k random and mutated streams only ever throw NbtError', () => {
  const rnd = prng(20261123);
  const int = (n: number): number => Math.floor(rnd() * n);
  let errors = 0;
  let messages = 0;
  for (let iter = 0; iter < 20_000; iter++) {
    let stream: Buffer;
    if (iter % 4 === 0) {
      stream = Buffer.alloc(int(64));
      for (let i = 0; i < stream.length; i++) stream[i] = int(256);
    } else {
      const parts: Buffer[] = [];
      for (let n = 1 + int(6); n > 0; n--) parts.push(encodeMessage(samples[int(samples.length)]!));
      stream = Buffer.concat(parts);
      for (let n = int(4); n > 0; n--) stream[int(stream.length)] = int(256);
      if (int(5) === 0) stream = stream.subarray(0, int(stream.length + 1));
    }
    const d = new WireDecoder(int(2) ? { pieceCount: 12 } : {});
    try {
      let at = 0;
      while (at < stream.length) {
        const n = 1 + int(9);
        for (const m of d.push(stream.subarray(at, at + n))) {
          messages++;
          if (m.type === 'extended' && m.id === 0) {
            try {
              parseExtendedHandshake(m.payload);
            } catch (e) {
              assert.ok(e instanceof NbtError, `non-NbtError from extension handshake: ${String(e)}`);
            }
          }
        }
        at += n;
      }
      assert.ok(d.bufferedBytes < stream.length + 1);
    } catch (e) {
      assert.ok(e instanceof NbtError, `non-NbtError: ${String(e)} for ${stream.toString('hex')}`);
      assert.match(e.code, /^WIRE_/);
      errors++;
    }
  }
  assert.ok(errors > 1000 && messages > 10_000, `errors ${errors}, messages ${messages}`);
});
