import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteQueue } from '../../sim/byte-queue.js';
import { Prng } from '../../sim/index.js';

test('ByteQueue: mixed small and large writes slice back exactly, across chunks', () => {
  const rng = new Prng(1);
  const q = new ByteQueue();
  const all: Buffer[] = [];
  for (let i = 0; i < 400; i++) {
    const b = rng.bytes(rng.chance(0.3) ? 2048 + rng.int(20_000) : 1 + rng.int(300));
    all.push(b);
    q.append(b);
  }
  const whole = Buffer.concat(all);
  assert.equal(q.end, whole.length);
  for (let i = 0; i < 500; i++) {
    const from = rng.int(whole.length - 1);
    const len = 1 + rng.int(Math.min(20_000, whole.length - from));
    assert.ok(q.slice(from, len).equals(whole.subarray(from, from + len)), `slice ${from}+${len}`);
  }
  q.dropBefore(whole.length >> 1);
  const from = (whole.length >> 1) + 5;
  assert.ok(q.slice(from, 1000).equals(whole.subarray(from, from + 1000)));
});

test('ByteQueue: small writes after everything was acknowledged go to a fresh chunk', () => {
  const q = new ByteQueue();
  q.append(Buffer.from('hello'));
  q.dropBefore(5);
  q.append(Buffer.from('world'));
  assert.equal(q.slice(5, 5).toString(), 'world');
  q.append(Buffer.alloc(4096, 1));
  q.dropBefore(q.end);
  q.append(Buffer.from('again'));
  assert.equal(q.slice(q.end - 5, 5).toString(), 'again');
});
