import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/util/clock.js';

test('FakeClock fires timers in time order, ties in scheduling order', () => {
  const clock = new FakeClock();
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b30'), 30);
  clock.setTimeout(() => fired.push('a10'), 10);
  clock.setTimeout(() => fired.push('c30'), 30);
  clock.setTimeout(() => {
    fired.push('d20');
    clock.setTimeout(() => fired.push('e25'), 5); // scheduled while advancing, still due
  }, 20);
  clock.advance(30);
  assert.deepEqual(fired, ['a10', 'd20', 'e25', 'b30', 'c30']);
  assert.equal(clock.now(), 30);
  assert.equal(clock.pending, 0);
});

test('FakeClock intervals repeat; cancel stops them and counts once', () => {
  const clock = new FakeClock();
  let n = 0;
  const h = clock.setInterval(() => n++, 10);
  clock.advance(35);
  assert.equal(n, 3);
  assert.equal(clock.pending, 1);
  h.cancel();
  h.cancel();
  assert.equal(clock.pending, 0);
  clock.advance(100);
  assert.equal(n, 3);
});

test('FakeClock.nextTimerAt skips cancelled timers; advanceTo lands exactly', () => {
  const clock = new FakeClock(0.1);
  const a = clock.setTimeout(() => {}, 0.2);
  clock.setTimeout(() => {}, 5);
  assert.ok(Math.abs(clock.nextTimerAt()! - 0.3) < 1e-12);
  a.cancel();
  assert.equal(clock.nextTimerAt(), 5.1);
  clock.advanceTo(0.30000000000000004);
  assert.equal(clock.now(), 0.30000000000000004);
  clock.advanceTo(0.1); // never backwards
  assert.equal(clock.now(), 0.30000000000000004);
});

test('FakeClock keeps working when most timers are cancelled (heap compaction)', () => {
  const clock = new FakeClock();
  let fired = 0;
  const keep: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const h = clock.setTimeout(() => fired++, 1000 + i);
    if (i % 100 === 0) keep.push(i);
    else h.cancel();
  }
  assert.equal(clock.pending, keep.length);
  clock.advance(10_000);
  assert.equal(fired, keep.length);
  assert.equal(clock.pending, 0);
});
