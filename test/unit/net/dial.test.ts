/** The dial plan: which attempts a policy makes, and which attempt follows which failure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { dialPlan, type Connector, type Transport } from '../../../src/net/index.js';
import { Dial, nextAttempt } from '../../../src/net/dial.js';
import { FakeClock } from '../../../src/util/clock.js';

const fake = (kind: string): Connector => ({
  kind,
  connect: () => {
    throw new Error('not dialed in this test');
  },
});
const utp = fake('utp');
const tcp = fake('tcp');
const show = (plan: ReturnType<typeof dialPlan>): string[] =>
  plan.map((a) => `${a.connector.kind}${a.mse ? '+mse' : ''}`);

test('dialPlan: MSE then plaintext per connector, as the policy allows', () => {
  assert.deepEqual(show(dialPlan([tcp], 'enabled')), ['tcp+mse', 'tcp']);
  assert.deepEqual(show(dialPlan([tcp], 'required')), ['tcp+mse']);
  assert.deepEqual(show(dialPlan([tcp], 'disabled')), ['tcp']);
  assert.deepEqual(show(dialPlan([utp, tcp], 'enabled')), ['utp+mse', 'utp', 'tcp+mse', 'tcp']);
});

test('nextAttempt: a connect failure skips the connector, an MSE failure goes to plaintext', () => {
  const plan = dialPlan([utp, tcp], 'enabled');
  assert.equal(nextAttempt(plan, 0, 'connect'), 2); // uTP unreachable: TCP with MSE
  assert.equal(nextAttempt(plan, 0, 'encryption'), 1); // uTP fine, MSE refused: uTP plaintext
  assert.equal(nextAttempt(plan, 1, 'connect'), 2);
  assert.equal(nextAttempt(plan, 2, 'encryption'), 3);
  assert.equal(nextAttempt(plan, 3, 'connect'), -1);
  const strict = dialPlan([utp, tcp], 'required');
  assert.equal(nextAttempt(strict, 0, 'encryption'), -1); // never plaintext, never MSE again elsewhere
  assert.equal(nextAttempt(strict, 0, 'connect'), 1);
  assert.equal(nextAttempt(dialPlan([tcp], 'enabled'), 0, 'connect'), -1);
});

/** A transport that connects, fails or stays silent when the test says so. */
class FakeTransport extends EventEmitter {
  destroyed = false;
  readonly remoteAddress = '10.0.0.1';
  readonly remotePort = 6881;
  readonly writableLength = 0;
  constructor(readonly kind: string) {
    super();
  }
  write(): boolean {
    return true;
  }
  cork(): void {}
  uncork(): void {}
  end(): void {}
  pause(): void {}
  resume(): void {}
  destroy(): void {
    this.destroyed = true;
  }
}

function scripted(kind: string, opened: FakeTransport[]): Connector {
  return {
    kind,
    connect: () => {
      const t = new FakeTransport(kind);
      opened.push(t);
      return t as unknown as Transport;
    },
  };
}

function dialRig(raceAfterMs: number | undefined) {
  const clock = new FakeClock(0);
  const utps: FakeTransport[] = [];
  const tcps: FakeTransport[] = [];
  const log: string[] = [];
  const dial = new Dial(
    {
      host: '10.0.0.1',
      port: 6881,
      plan: dialPlan([scripted('utp', utps), scripted('tcp', tcps)], 'disabled'),
      clock,
      connectTimeout: 3000,
      ...(raceAfterMs !== undefined ? { raceAfterMs } : {}),
    },
    {
      connected: (t, a) => log.push(`connected ${t.kind} ${a.connector.kind} at ${clock.now()}`),
      read: () => {},
      failed: (timedOut) => log.push(`failed${timedOut ? ' (timeout)' : ''} at ${clock.now()}`),
    },
  );
  dial.start();
  return { clock, utps, tcps, log, dial };
}

test('Dial races TCP against a silent uTP attempt: the first to connect wins, the other is destroyed', () => {
  // A peer without uTP stays silent: TCP starts at 500 ms and connects; uTP is dropped.
  const a = dialRig(500);
  a.clock.advance(499);
  assert.equal(a.tcps.length, 0, 'no TCP before the race delay');
  a.clock.advance(1);
  assert.equal(a.tcps.length, 1, 'TCP races from 500 ms');
  a.clock.advance(20);
  a.tcps[0]!.emit('connect');
  assert.deepEqual(a.log, ['connected tcp tcp at 520']);
  assert.equal(a.utps[0]!.destroyed, true, 'the losing uTP attempt is destroyed');
  a.clock.advance(10_000);
  assert.deepEqual(a.log, ['connected tcp tcp at 520'], 'no late timeout or failure');

  // uTP answers after the race began: uTP wins and TCP is dropped before any byte.
  const b = dialRig(500);
  b.clock.advance(600);
  b.utps[0]!.emit('connect');
  assert.deepEqual(b.log, ['connected utp utp at 600']);
  assert.equal(b.tcps[0]!.destroyed, true);
  assert.equal(b.dial.attempt.connector.kind, 'utp');

  // TCP refused while uTP still tries: uTP goes on, and when it times out too the dial fails.
  const c = dialRig(500);
  c.clock.advance(500);
  c.tcps[0]!.emit('close');
  assert.deepEqual(c.log, []);
  c.clock.advance(2500);
  assert.deepEqual(c.log, ['failed (timeout) at 3000']);

  // uTP refused at once: TCP at once (no waiting for the race), as without racing.
  const d = dialRig(500);
  d.utps[0]!.emit('close');
  assert.equal(d.tcps.length, 1);
  d.tcps[0]!.emit('connect');
  assert.deepEqual(d.log, ['connected tcp tcp at 0']);

  // Without a race delay: strictly in turn (TCP only after uTP's 3 s timeout).
  const e = dialRig(undefined);
  e.clock.advance(2999);
  assert.equal(e.tcps.length, 0);
  e.clock.advance(1);
  assert.equal(e.tcps.length, 1);
  assert.equal(e.utps[0]!.destroyed, true);
});
