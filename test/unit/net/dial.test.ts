/** The dial plan: which attempts a policy makes, and which attempt follows which failure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dialPlan, type Connector } from '../../../src/net/index.js';
import { nextAttempt } from '../../../src/net/dial.js';

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
