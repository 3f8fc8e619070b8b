import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckBuffers } from '../../../src/storage/check-buffers.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('check buffers: bounded, handed on to waiters, replaced when too small, dropped when idle', async () => {
  const pool = new CheckBuffers({ maxBuffers: 2 });
  const a = await pool.acquire(1000);
  const b = await pool.acquire(500);
  assert.equal(pool.size, 2);
  assert.ok(a.byteLength >= 1000 && a.buffer.byteLength === a.byteLength, 'spans its ArrayBuffer');
  let third: Buffer | undefined;
  const waiting = pool.acquire(800).then((x) => (third = x));
  await turn();
  assert.equal(third, undefined, 'a third waits: never more than maxBuffers');
  pool.release(a);
  await waiting;
  assert.equal(third!.buffer, a.buffer, 'the released buffer is handed on, not a new one');
  // Full, and nothing free is big enough: a free one is replaced, the count stays bounded.
  pool.release(third!);
  const big = await pool.acquire(4000);
  assert.ok(big.byteLength >= 4000);
  assert.equal(pool.size, 2);
  pool.release(big);
  pool.release(b);
  assert.equal(pool.size, 2, 'kept while a check may take one again this turn');
  await turn();
  assert.equal(pool.size, 0, 'nothing is kept once no check holds a buffer');
  // A lent buffer lost at a worker frees its slot.
  await pool.acquire(10);
  pool.forget();
  assert.equal(pool.size, 0);
});
