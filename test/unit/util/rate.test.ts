import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/util/clock.js';
import { RateMeter } from '../../../src/util/rate.js';
import { FairLimiter, TokenBucket } from '../../../src/util/token-bucket.js';

test('rate meter: steady rate, window slide, decay to zero', () => {
  const clock = new FakeClock(1_000_000);
  const m = new RateMeter(clock);
  assert.equal(m.rate, 0);
  for (let i = 0; i < 100; i++) {
    clock.advance(100);
    m.add(1000); // 10 kB/s
  }
  assert.ok(Math.abs(m.rate - 10_000) < 1500, `rate ${m.rate}`);
  assert.equal(m.total, 100_000);
  clock.advance(2500);
  assert.ok(m.rate < 7000 && m.rate > 3000, `half a window later ${m.rate}`);
  clock.advance(6000);
  assert.equal(m.rate, 0);
  assert.equal(m.total, 100_000);
});

test('rate meter: a short burst at start is not inflated', () => {
  const clock = new FakeClock(0);
  const m = new RateMeter(clock);
  m.add(5000);
  clock.advance(10);
  assert.ok(m.rate <= 5000, `rate ${m.rate}`);
});

test('token bucket: burst, refill, partial grants, waitMs', () => {
  const clock = new FakeClock(0);
  const b = new TokenBucket(clock, 10_000, 20_000);
  assert.equal(b.take(15_000), 15_000);
  assert.equal(b.take(15_000), 5_000);
  assert.equal(b.take(1), 0);
  assert.equal(b.waitMs(5_000), 500);
  assert.equal(b.waitMs(1e9), 2000, 'capped at the burst, never infinite');
  clock.advance(500);
  assert.equal(b.tryTake(5_001), false);
  assert.equal(b.tryTake(5_000), true);
  clock.advance(10_000);
  assert.equal(b.available, 20_000, 'capped at burst');
  const free = new TokenBucket(clock, 0);
  assert.equal(free.take(1e9), 1e9);
  assert.equal(free.waitMs(1e9), 0);
});

test('fair limiter: shares a global limit, nobody starves, rate holds', () => {
  const clock = new FakeClock(0);
  const bucket = new TokenBucket(clock, 100_000, 16_384);
  const lim = new FairLimiter(clock, bucket, 16_384);
  const got = { big: 0, small: 0 };
  lim.request(10_000_000, (n) => (got.big += n));
  for (let i = 0; i < 20; i++) lim.request(16_384, (n) => (got.small += n));
  clock.advance(5_000);
  assert.equal(got.small, 20 * 16_384, 'small requests were served despite the big one queued first');
  const total = got.big + got.small;
  assert.ok(total <= 16_384 + 100_000 * 5 + 1, `granted ${total} in 5 s`);
  assert.ok(total >= 100_000 * 5 * 0.9, `granted only ${total} in 5 s`);
  lim.clear();
  assert.equal(lim.waiting, 0);
  clock.advance(10_000);
  assert.equal(clock.pending, 0);
});
