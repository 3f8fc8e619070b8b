/** Session-wide CLI flags as Client options: --no-utp / --no-tcp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSessionOptions } from '../../../src/cli/swarm/options.js';
import { UsageError } from '../../../src/cli/args.js';

test('--no-utp and --no-tcp turn a transport off; both at once is a usage error', () => {
  assert.equal(parseSessionOptions({}).client.utp, undefined);
  assert.equal(parseSessionOptions({ 'no-utp': true }).client.utp, false);
  assert.deepEqual(parseSessionOptions({ 'no-tcp': true }).client.tcp, { incoming: false, outgoing: false });
  assert.throws(() => parseSessionOptions({ 'no-utp': true, 'no-tcp': true }), UsageError);
});
