/** The session flags users tune: connection limits, unchoke slots, rate limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSessionOptions } from '../../../src/cli/swarm/options.js';
import { UsageError } from '../../../src/cli/args.js';

test('connection limits, unchoke slots and rate limits become Client options', () => {
  const s = parseSessionOptions({
    'max-connections': '500',
    'max-peers': '120',
    'max-per-host': '3',
    'unchoke-slots': '8',
    'download-limit': '2M',
    'upload-limit': '500K',
  });
  assert.deepEqual(s.client.limits, {
    maxConnections: 500,
    maxPeersPerTorrent: 120,
    maxPerHost: 3,
    unchokeSlots: 8,
  });
  assert.equal(s.client.downloadRateLimit, 2 * 1024 * 1024);
  assert.equal(s.client.uploadRateLimit, 500 * 1024);
  assert.equal(parseSessionOptions({ 'unchoke-slots': 'auto' }).client.limits?.unchokeSlots, 'auto');
  // Absent flags leave the Client's defaults alone.
  const none = parseSessionOptions({});
  assert.equal(none.client.limits, undefined);
  assert.equal(none.client.uploadRateLimit, undefined);
});

test('bad values are usage errors naming the flag', () => {
  for (const [flag, value] of [
    ['max-connections', '0'],
    ['max-peers', 'many'],
    ['max-per-host', '-1'],
    ['unchoke-slots', 'lots'],
    ['download-limit', 'fast'],
    ['upload-limit', '1Q'],
  ] as const) {
    assert.throws(
      () => parseSessionOptions({ [flag]: value }),
      (e: unknown) => e instanceof UsageError && e.message.includes(`--${flag}`),
      `${flag} ${value}`,
    );
  }
});

test('--no-utp / --no-tcp choose the transports; both at once is a usage error', () => {
  assert.equal(parseSessionOptions({ 'no-utp': true }).client.utp, false);
  assert.deepEqual(parseSessionOptions({ 'no-tcp': true }).client.tcp, { incoming: false, outgoing: false });
  const none = parseSessionOptions({});
  assert.equal(none.client.utp, undefined);
  assert.equal(none.client.tcp, undefined);
  assert.throws(() => parseSessionOptions({ 'no-utp': true, 'no-tcp': true }), UsageError);
});
