/**
 * The UDP request queue NAT-PMP and PCP share, driven by a FakeClock with no socket: the
 * doubling retransmit schedule and its timeout, one request in flight at a time, answers that
 * don't match, failures, close; and the gateway-epoch watch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/util/clock.js';
import { NbtError } from '../../../src/util/errors.js';
import { GatewayEpoch, UdpRequestQueue } from '../../../src/portmap/udp-request.js';

function queue(clock: FakeClock, attempts?: number): UdpRequestQueue<number> {
  return new UdpRequestQueue<number>({
    clock,
    attempts,
    timeoutError: (n) => new NbtError('NATPMP_TIMEOUT', `${n} tries`),
    closedError: () => new NbtError('NATPMP_CLOSED', 'closed'),
  });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('retransmits after 250 ms, doubling, then fails with the timeout error', async () => {
  const clock = new FakeClock();
  const q = queue(clock);
  const sentAt: number[] = [];
  const p = q.request(async () => ({
    packet: Buffer.from([7]),
    matches: () => true,
    transmit: () => sentAt.push(clock.now()),
  }));
  const outcome = p.then(
    () => 'resolved',
    (e: NbtError) => `${e.code}: ${e.message}`,
  );
  await tick();
  assert.deepEqual(q.pending, Buffer.from([7]));
  clock.advance(250 + 500 + 1000 + 2000 - 1);
  assert.deepEqual(sentAt, [0, 250, 750, 1750]);
  await tick();
  assert.equal(q.pending?.length, 1, 'still waiting 1 ms before the last timeout');
  clock.advance(1);
  assert.equal(await outcome, 'NATPMP_TIMEOUT: 4 tries');
  assert.equal(q.pending, undefined);
});

test('one request in flight at a time; only a matching answer settles it', async () => {
  const clock = new FakeClock();
  const q = queue(clock);
  const order: string[] = [];
  const a = q.request(async () => {
    order.push('prepare a');
    return { packet: Buffer.from([1]), matches: (r) => r === 1, transmit: () => order.push('send a') };
  });
  const b = q.request(async () => {
    order.push('prepare b');
    return { packet: Buffer.from([2]), matches: (r) => r === 2, transmit: () => order.push('send b') };
  });
  await tick();
  assert.deepEqual(order, ['prepare a', 'send a']);
  q.answer(2); // b's answer while a waits: not a's
  await tick();
  assert.deepEqual(q.pending, Buffer.from([1]));
  q.answer(1);
  assert.equal(await a, 1);
  await tick();
  assert.deepEqual(order, ['prepare a', 'send a', 'prepare b', 'send b']);
  clock.advance(250); // the retransmit timer of a was cancelled: only b's fires
  assert.deepEqual(order.slice(4), ['send b']);
  q.answer(2);
  assert.equal(await b, 2);
});

test('fail rejects the request in flight and the next one still runs', async () => {
  const clock = new FakeClock();
  const q = queue(clock, 2);
  const req = async () => ({ packet: Buffer.from([1]), matches: () => true, transmit: () => {} });
  const a = q.request(req);
  const b = q.request(req);
  await tick();
  q.fail(new NbtError('NATPMP_SOCKET', 'gone'));
  await assert.rejects(a, { code: 'NATPMP_SOCKET' });
  await tick();
  clock.advance(250 + 500);
  await assert.rejects(b, { code: 'NATPMP_TIMEOUT', message: '2 tries' });
});

test('close fails the request in flight and every later one, without preparing them', async () => {
  const clock = new FakeClock();
  const q = queue(clock);
  let prepared = 0;
  const req = async () => {
    prepared++;
    return { packet: Buffer.from([1]), matches: () => true, transmit: () => {} };
  };
  const a = q.request(req);
  await tick();
  q.close();
  await assert.rejects(a, { code: 'NATPMP_CLOSED' });
  await assert.rejects(q.request(req), { code: 'NATPMP_CLOSED' });
  assert.equal(prepared, 1);
});

test('GatewayEpoch: an epoch that goes back or lags the clock is a reset; a steady one is not', () => {
  const clock = new FakeClock();
  const e = new GatewayEpoch(clock);
  let resets = 0;
  e.onReset(() => resets++);
  e.saw(100);
  clock.advance(60_000);
  e.saw(160);
  assert.equal(resets, 0);
  clock.advance(1000);
  e.saw(5); // rebooted
  assert.equal(resets, 1);
  clock.advance(100_000);
  e.saw(10); // 100 s passed for us, 5 s for it
  assert.equal(resets, 2);
});
