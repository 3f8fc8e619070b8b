import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapLimit } from '../../../src/util/map-limit.js';

test('mapLimit keeps at most `limit` calls in flight and returns results in input order', async () => {
  let inFlight = 0;
  let most = 0;
  const items = Array.from({ length: 1000 }, (_, i) => i);
  const out = await mapLimit(items, 7, async (x, i) => {
    assert.equal(x, i);
    inFlight++;
    most = Math.max(most, inFlight);
    // Finish out of order: later items often resolve first.
    for (let k = 0; k <= (x * 7919) % 5; k++) await Promise.resolve();
    inFlight--;
    return x * 2;
  });
  assert.equal(most, 7);
  assert.deepEqual(
    out,
    items.map((x) => x * 2),
  );
  assert.deepEqual(await mapLimit([], 4, async () => 1), []);
  assert.deepEqual(await mapLimit([1, 2], 0, async (x) => x), [1, 2], 'a limit below 1 still runs');
});

test('mapLimit rejects with the first failure', async () => {
  await assert.rejects(
    mapLimit([1, 2, 3], 2, async (x) => {
      if (x === 2) throw new Error('boom');
      return x;
    }),
    /boom/,
  );
});
