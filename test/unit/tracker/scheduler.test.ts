import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnnounceScheduler, backoffDelay, type Decision } from '../../../src/tracker/announce-scheduler.js';
import type { AnnounceResponse } from '../../../src/tracker/types.js';
import { prng } from '../../helpers/tmp.js';

const ok = (interval = 1800, extra: Partial<AnnounceResponse> = {}): AnnounceResponse => ({
  interval,
  peers: [],
  ...extra,
});

function announce(d: Decision): { url: string; event: string } {
  assert.equal(d.kind, 'announce', JSON.stringify(d));
  if (d.kind !== 'announce') throw new Error('unreachable');
  return { url: d.url, event: d.event };
}

test('each tier is shuffled once, with the injected randomness', () => {
  const tiers = [
    ['a', 'b', 'c', 'd', 'e'],
    ['f', 'g'],
  ];
  const s1 = new AnnounceScheduler(tiers, { random: prng(1) });
  const s2 = new AnnounceScheduler(tiers, { random: prng(1) });
  const order = (s: AnnounceScheduler): string[][] => s.tiers.map((t) => t.map((x) => x.url));
  assert.deepEqual(order(s1), order(s2));
  assert.deepEqual(
    order(s1).map((t) => [...t].sort()),
    tiers,
  );
  const orders = new Set<string>();
  for (let seed = 1; seed < 30; seed++)
    orders.add(order(new AnnounceScheduler(tiers, { random: prng(seed) }))[0]!.join());
  assert.ok(orders.size > 5, 'shuffle actually permutes');
  // Duplicates and empty tiers are dropped.
  assert.deepEqual(order(new AnnounceScheduler([['x'], [], ['x', 'y']], { random: () => 0 })), [
    ['x'],
    ['y'],
  ]);
});

test('failures fall through the tier, then the next tier; a responder moves to the front of its tier', () => {
  const s = new AnnounceScheduler([['a', 'b', 'c'], ['d']], { random: () => 0.999 }); // identity shuffle
  assert.deepEqual(
    s.tiers.map((t) => t.map((x) => x.url)),
    [['a', 'b', 'c'], ['d']],
  );
  assert.deepEqual(s.next(0), { kind: 'idle' });
  s.start(0);
  assert.deepEqual(announce(s.next(0)), { url: 'a', event: 'started' });
  assert.deepEqual(s.next(0), { kind: 'busy' });
  s.onFailure('a', 0, 'refused');
  assert.deepEqual(announce(s.next(0)), { url: 'b', event: 'started' });
  s.onFailure('b', 0, 'refused');
  assert.deepEqual(announce(s.next(0)), { url: 'c', event: 'started' });
  assert.equal(s.onSuccess('c', 0, ok(100)), 'started');
  assert.deepEqual(
    s.tiers[0]!.map((x) => x.url),
    ['c', 'a', 'b'],
  );
  assert.deepEqual(s.next(1), { kind: 'wait', at: 100_000 });
  // Periodic announce starts at the front again: c.
  assert.deepEqual(announce(s.next(100_000)), { url: 'c', event: 'periodic' });
  s.onFailure('c', 100_000, 'timeout');
  // a and b backed off long ago (15 s, 30 s): they are tried again before tier 2.
  assert.deepEqual(announce(s.next(100_000)), { url: 'a', event: 'periodic' });
  s.onFailure('a', 100_000, 'x');
  assert.deepEqual(announce(s.next(100_000)), { url: 'b', event: 'periodic' });
  s.onFailure('b', 100_000, 'x');
  assert.deepEqual(announce(s.next(100_000)), { url: 'd', event: 'periodic' });
  s.onSuccess('d', 100_000, ok(60));
  assert.equal(s.current?.url, 'd');
});

test('when every tracker fails, the next round waits for the earliest backoff, which grows and is capped', () => {
  const s = new AnnounceScheduler([['a']], { backoffBaseMs: 1000, backoffMaxMs: 8000 });
  s.start(0);
  const waits: number[] = [];
  let now = 0;
  for (let i = 0; i < 7; i++) {
    announce(s.next(now));
    s.onFailure('a', now, 'down');
    const d = s.next(now);
    assert.equal(d.kind, 'wait');
    if (d.kind === 'wait') {
      waits.push(d.at - now);
      now = d.at;
    }
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 8000, 8000, 8000]);
  assert.equal(s.all()[0]!.failures, 7);
  assert.deepEqual(
    [1, 2, 3, 7, 100].map((f) => backoffDelay(f, 15_000, 1_800_000)),
    [15_000, 30_000, 60_000, 960_000, 1_800_000],
  );
  // A tracker's "retry in" lengthens the wait.
  s.onFailure('zzz', now, 'ignored: not in flight');
  announce(s.next(now));
  s.onFailure('a', now, 'busy', 60_000);
  assert.deepEqual(s.next(now), { kind: 'wait', at: now + 60_000 });
});

test('completed is announced exactly once, after started, and stopped goes to the trackers that answered', () => {
  const s = new AnnounceScheduler([['a'], ['b']], { random: () => 0.999 });
  s.completed(0); // before start: remembered, never sent
  const fresh = new AnnounceScheduler([['a']]);
  fresh.start(0);
  announce(fresh.next(0));
  fresh.completed(5);
  fresh.completed(6);
  assert.equal(fresh.onSuccess('a', 10, ok()), 'started');
  assert.deepEqual(announce(fresh.next(10)), { url: 'a', event: 'completed' });
  // A failure keeps the event queued for the next try.
  fresh.onFailure('a', 10, 'x');
  const w = fresh.next(10);
  assert.equal(w.kind, 'wait');
  assert.deepEqual(announce(fresh.next(10 + 15_000)), { url: 'a', event: 'completed' });
  assert.equal(fresh.onSuccess('a', 20_000, ok()), 'completed');
  fresh.completed(20_001);
  assert.deepEqual(fresh.next(20_001), { kind: 'wait', at: 20_000 + 1_800_000 });
  assert.deepEqual(announce(fresh.next(20_000 + 1_800_000)).event, 'periodic');
  assert.deepEqual(
    fresh.stop().map((t) => t.url),
    ['a'],
  );
  assert.deepEqual(fresh.next(99e9), { kind: 'idle' });
  assert.deepEqual(fresh.stop(), [], 'stopped is sent once');
  // Restart after stop: started again, completed never again.
  fresh.start(1e10);
  assert.equal(announce(fresh.next(1e10)).event, 'started');

  s.start(0);
  announce(s.next(0));
  s.onFailure('a', 0, 'x');
  announce(s.next(0));
  s.onSuccess('b', 0, ok());
  assert.deepEqual(
    s.stop().map((t) => t.url),
    ['b'],
    'only trackers that answered hear stopped',
  );
});

test('interval and min interval are honoured and clamped', () => {
  const s = new AnnounceScheduler([['a']], { minIntervalFloorMs: 10_000, maxIntervalMs: 100_000 });
  s.start(0);
  announce(s.next(0));
  s.onSuccess('a', 0, ok(5, { minInterval: 20, trackerId: 'T', seeders: 3, leechers: 4 }));
  // interval 5 s is below the floor and below min interval: 20 s.
  assert.deepEqual(s.next(0), { kind: 'wait', at: 20_000 });
  const d = s.next(20_000);
  assert.equal(d.kind === 'announce' && d.trackerId, 'T');
  s.onSuccess('a', 20_000, ok(10_000, { minInterval: 15 }));
  assert.deepEqual(s.next(20_000), { kind: 'wait', at: 120_000 });
  // announceNow respects min interval since the last announce.
  s.announceNow(21_000);
  assert.deepEqual(s.next(21_000), { kind: 'wait', at: 35_000 });
  s.announceNow(50_000);
  assert.equal(s.next(50_000).kind, 'announce');
  const st = s.all()[0]!;
  assert.equal(st.seeders, 3);
  assert.equal(st.leechers, 4);
});
