import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckSlots } from '../../../src/storage/check-slots.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('check slots: at most max run, the rest in order; a failed check frees its slot', async () => {
  const slots = new CheckSlots(2);
  const gates = [deferred(), deferred(), deferred(), deferred()];
  const started: number[] = [];
  const runs = gates.map((g, i) =>
    slots.run(async () => {
      started.push(i);
      await g.promise;
      if (i === 0) throw new Error('disk');
      return i;
    }),
  );
  await turn();
  assert.deepEqual(started, [0, 1]);
  assert.equal(slots.active, 2);
  assert.equal(slots.waiting, 2);
  gates[0]!.resolve();
  await assert.rejects(runs[0]!, /disk/);
  await turn();
  assert.deepEqual(started, [0, 1, 2], 'the first waiter takes the failed check’s slot');
  // Raised live: the last waiter starts at once.
  slots.setMax(3);
  await turn();
  assert.deepEqual(started, [0, 1, 2, 3]);
  for (const g of gates) g.resolve();
  assert.deepEqual(await Promise.all(runs.slice(1)), [1, 2, 3]);
  assert.equal(slots.active, 0);
  assert.equal(slots.waiting, 0);
});

test('check slots: a newcomer waits behind queued checks even when lowered max frees up', async () => {
  const slots = new CheckSlots(1);
  const a = deferred();
  const order: string[] = [];
  const first = slots.run(async () => {
    order.push('a');
    await a.promise;
  });
  const second = slots.run(async () => void order.push('b'));
  await turn();
  assert.deepEqual(order, ['a']);
  a.resolve();
  await Promise.all([first, second, slots.run(async () => void order.push('c'))]);
  assert.deepEqual(order, ['a', 'b', 'c']);
});
