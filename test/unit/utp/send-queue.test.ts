/** The uTP send queue: payloads as views where possible, push() boundaries, many small chunks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendQueue } from '../../../src/utp/send-queue.js';

test('take() returns a view of one chunk and copies across chunks, in order', () => {
  const q = new SendQueue();
  const big = Buffer.alloc(3000, 7);
  q.write(big);
  q.write(Buffer.from([1, 2, 3]));
  const first = q.take(1000);
  assert.equal(first.buffer, big.buffer, 'a view, not a copy');
  assert.equal(q.take(1999).length, 1999);
  assert.deepEqual([...q.take(4)], [7, 1, 2, 3]);
  assert.equal(q.length, 0);
});

test('push() boundaries: each pending one ends the next packet, in order, and is forgotten once passed', () => {
  const q = new SendQueue();
  q.push(); // nothing queued: no boundary
  assert.equal(q.pushedBytes, 0);
  q.write(Buffer.alloc(68));
  q.push();
  q.push(); // the same place twice: one boundary
  q.write(Buffer.alloc(129));
  q.push();
  q.write(Buffer.alloc(10));
  assert.equal(q.pushedBytes, 68);
  q.take(50);
  assert.equal(q.pushedBytes, 18);
  q.take(18);
  assert.equal(q.pushedBytes, 129);
  q.take(139); // past the last boundary
  assert.equal(q.pushedBytes, 0);
  assert.equal(q.length, 0);
});

test('200,000 1-byte writes drain in linear time with the bytes intact', () => {
  const q = new SendQueue();
  const n = 200_000;
  for (let i = 0; i < n; i++) q.write(Uint8Array.of(i & 0xff));
  const t0 = process.hrtime.bigint();
  let off = 0;
  let wrong = 0;
  while (q.length > 0) {
    const p = q.take(Math.min(1400, q.length));
    for (let i = 0; i < p.length; i++) if (p[i] !== ((off + i) & 0xff)) wrong++;
    off += p.length;
  }
  assert.equal(off, n);
  assert.equal(wrong, 0);
  // shift() per chunk would be quadratic (minutes); compaction keeps this well under a second.
  assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 5000);
});
