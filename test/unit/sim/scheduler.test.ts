import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng, Simulation } from '../../sim/index.js';

test('network events and clock timers run in one time order', async () => {
  const sim = new Simulation();
  const log: string[] = [];
  sim.clock.setTimeout(() => log.push(`timer@${sim.now()}`), 10);
  sim.after(5, () => log.push(`event@${sim.now()}`));
  sim.after(10, () => log.push(`event@${sim.now()}`)); // same time as the timer: timers first
  sim.clock.setTimeout(() => log.push(`timer@${sim.now()}`), 20);
  await sim.run();
  assert.deepEqual(log, ['event@5', 'timer@10', 'event@10', 'timer@20']);
});

test('promise chains started by a timer settle before time moves on', async () => {
  const sim = new Simulation();
  const seen: number[] = [];
  const deep = async (n: number): Promise<void> => {
    if (n > 0) await deep(n - 1);
    else await Promise.resolve();
  };
  sim.clock.setTimeout(() => {
    void deep(200).then(() => sim.clock.setTimeout(() => seen.push(sim.now()), 5));
  }, 10);
  sim.after(12, () => seen.push(-sim.now()));
  sim.after(100, () => {});
  await sim.run();
  assert.deepEqual(seen, [-12, 15], 'the timer set at the end of the chain fired at 10 + 5');
});

test('run stops at until, at for, or when nothing is left; a run-away is cut off', async () => {
  const sim = new Simulation();
  let n = 0;
  sim.clock.setInterval(() => n++, 100);
  assert.equal(await sim.run({ until: () => n === 3 }), true);
  assert.equal(sim.now(), 300);
  assert.equal(await sim.run({ for: 1000 }), true);
  assert.equal(sim.now(), 1300);
  assert.equal(n, 13);
  await assert.rejects(sim.run({ maxSteps: 50 }), /more than 50 steps/);
});

test('the PRNG is seeded: same seed, same stream; forks are independent but reproducible', () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(
    Array.from({ length: 5 }, () => b.nextUint32()),
    xs,
  );
  assert.notDeepEqual(
    Array.from({ length: 5 }, () => new Prng(43).nextUint32()),
    xs,
  );
  assert.ok(new Prng(1).bytes(100_000).equals(new Prng(1).bytes(100_000)));
  assert.ok(!new Prng(1).bytes(64).equals(new Prng(2).bytes(64)));
  const mean = Array.from({ length: 10_000 }, () => a.next()).reduce((s, v) => s + v, 0) / 10_000;
  assert.ok(Math.abs(mean - 0.5) < 0.02);
});

test('installRandom makes Math.random the seeded generator until dispose', () => {
  const original = Math.random;
  const s1 = new Simulation({ seed: 3 });
  s1.installRandom();
  const r1 = [Math.random(), Math.random()];
  s1.dispose();
  assert.equal(Math.random, original);
  const s2 = new Simulation({ seed: 3 });
  s2.installRandom();
  const r2 = [Math.random(), Math.random()];
  s2.dispose();
  assert.deepEqual(r2, r1);
});
