import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PieceAssembly, PieceBufferPool } from '../../../src/torrent/assembly.js';
import { prng, seededBytes } from '../../helpers/tmp.js';

const sha1 = (b: Uint8Array): Buffer => createHash('sha1').update(b).digest();

test('incremental hash over blocks arriving in any order equals the piece SHA-1', () => {
  const rnd = prng(3);
  for (const size of [1, 16384, 16385, 100_000, 262_144]) {
    const piece = seededBytes(size, size);
    const n = Math.ceil(size / 16384);
    const order = Array.from({ length: n }, (_, i) => i).sort(() => rnd() - 0.5);
    const a = new PieceAssembly(0, size, 16384, Buffer.alloc(size + 7), createHash('sha1'));
    for (const b of order) {
      assert.equal(a.complete, false);
      assert.ok(a.add(b * 16384, piece.subarray(b * 16384, Math.min(size, (b + 1) * 16384)), 'h'));
    }
    assert.equal(a.complete, true);
    assert.ok(a.digest().equals(sha1(piece)));
    assert.ok(a.data.equals(piece));
  }
});

test('a duplicate block is refused and does not disturb the data', () => {
  const a = new PieceAssembly(0, 32768, 16384, Buffer.alloc(32768), undefined);
  assert.ok(a.add(0, Buffer.alloc(16384, 1), 'x'));
  assert.equal(a.add(0, Buffer.alloc(16384, 2), 'y'), false);
  assert.equal(a.data[0], 1);
  assert.equal(a.senders[0], 'x');
  assert.equal(a.senders[1], undefined);
  assert.throws(() => a.digest());
});

test('buffer pool reuses buffers up to its limit', () => {
  const pool = new PieceBufferPool(1024, 1);
  const a = pool.take();
  const b = pool.take();
  // Lendable to a hash worker: a plain ArrayBuffer of its own.
  assert.ok(!(a.buffer instanceof SharedArrayBuffer));
  assert.equal(a.buffer.byteLength, 1024);
  pool.give(a);
  pool.give(b);
  assert.equal(pool.take(), a);
  assert.notEqual(pool.take(), b);
});

test('evidence: the sender and SHA-1 of each received block, nothing for missing ones', () => {
  const a = new PieceAssembly(5, 40000, 16384, Buffer.alloc(40000), undefined);
  const data = seededBytes(40000, 4);
  a.add(0, data.subarray(0, 16384), 'x');
  a.add(32768, data.subarray(32768), 'y');
  const e = a.evidence();
  assert.equal(e.length, 3);
  assert.deepEqual(e[0], { sender: 'x', digest: sha1(data.subarray(0, 16384)) });
  assert.equal(e[1], undefined);
  assert.deepEqual(e[2], { sender: 'y', digest: sha1(data.subarray(32768)) });
});
