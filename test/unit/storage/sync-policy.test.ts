import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncPolicy } from '../../../src/storage/sync-policy.js';

test('write policy: auto stays synchronous while spans are quick', () => {
  const p = new SyncPolicy('auto', { slowMs: 8 });
  for (let t = 0; t < 10_000; t += 10) {
    assert.equal(p.sync(t), true);
    assert.equal(p.keepSync(t, t + 8), true, 'exactly the threshold is still quick');
  }
  assert.equal(p.fallbacks, 0);
});

test('write policy: a blocked span sends writes to the pool, with a back-off that doubles and starts over', () => {
  const p = new SyncPolicy('auto', { slowMs: 8, backoffMs: 1000, maxBackoffMs: 4000 });
  assert.equal(p.keepSync(0, 9), false);
  assert.equal(p.fallbacks, 1);
  assert.equal(p.sync(500), false);
  assert.equal(p.sync(1008), false);
  assert.equal(p.sync(1009), true, 'back after 1 s');
  // Blocking again soon after: 2 s, then 4 s, then capped at 4 s.
  assert.equal(p.keepSync(1009, 1020), false);
  assert.equal(p.sync(3019), false);
  assert.equal(p.sync(3020), true);
  assert.equal(p.keepSync(3020, 3030), false);
  assert.equal(p.sync(7029), false);
  assert.equal(p.sync(7030), true);
  assert.equal(p.keepSync(7030, 7040), false);
  assert.equal(p.sync(11_039), false);
  assert.equal(p.sync(11_040), true, 'capped at maxBackoffMs');
  // Quiet for longer than the longest back-off plus the current one: back to 1 s.
  assert.equal(p.keepSync(30_000, 30_010), false);
  assert.equal(p.sync(31_010), true);
  assert.equal(p.fallbacks, 5);
});

test("write policy: 'sync' and 'async' never change", () => {
  const s = new SyncPolicy('sync', { slowMs: 1 });
  const a = new SyncPolicy('async');
  for (const t of [0, 100, 1e6]) {
    assert.equal(s.keepSync(t, t + 1e6), true);
    assert.equal(s.sync(t), true);
    assert.equal(a.sync(t), false);
  }
  assert.equal(s.fallbacks, 0);
});
