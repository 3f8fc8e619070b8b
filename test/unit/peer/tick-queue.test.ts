import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/util/clock.js';
import { TICK, tickQueue, type Ticking } from '../../../src/peer/tick-queue.js';

function member(clock: FakeClock, log: [string, number][], name: string, onTick?: () => void): Ticking {
  return {
    [TICK]() {
      log.push([name, clock.now()]);
      onTick?.();
    },
  };
}

test('each member ticks one period after it joined and every period after, on one timer', () => {
  const clock = new FakeClock();
  const log: [string, number][] = [];
  const q = tickQueue(clock, 5000);
  q.add(member(clock, log, 'a', undefined));
  clock.advance(1200);
  q.add(member(clock, log, 'b', undefined));
  assert.equal(clock.pending, 1);
  clock.advance(10_000);
  assert.deepEqual(log, [
    ['a', 5000],
    ['b', 6200],
    ['a', 10_000],
    ['b', 11_200],
  ]);
  assert.equal(clock.pending, 1);
});

test('a removed member stops ticking; the last one leaving cancels the timer', () => {
  const clock = new FakeClock();
  const log: [string, number][] = [];
  const q = tickQueue(clock, 1000);
  const a = member(clock, log, 'a');
  const b = member(clock, log, 'b');
  q.add(a);
  q.add(b);
  clock.advance(1000);
  q.remove(a);
  clock.advance(2000);
  assert.deepEqual(log, [
    ['a', 1000],
    ['b', 1000],
    ['b', 2000],
    ['b', 3000],
  ]);
  q.remove(b);
  assert.equal(clock.pending, 0);
  assert.equal(q.armed, false);
});

test('a member that leaves during its own tick is not ticked again; others keep going', () => {
  const clock = new FakeClock();
  const log: [string, number][] = [];
  const q = tickQueue(clock, 1000);
  const a: Ticking = member(clock, log, 'a', () => q.remove(a));
  q.add(a);
  q.add(member(clock, log, 'b'));
  clock.advance(3000);
  assert.deepEqual(log, [
    ['a', 1000],
    ['b', 1000],
    ['b', 2000],
    ['b', 3000],
  ]);
});

test('queues are per clock and period', () => {
  const c1 = new FakeClock();
  const c2 = new FakeClock();
  assert.equal(tickQueue(c1, 1000), tickQueue(c1, 1000));
  assert.notEqual(tickQueue(c1, 1000), tickQueue(c1, 2000));
  assert.notEqual(tickQueue(c1, 1000), tickQueue(c2, 1000));
});
