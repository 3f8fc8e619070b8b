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

test('--no-lsd turns local service discovery off; without it the Client default (on) stays', async () => {
  assert.equal(parseSessionOptions({ 'no-lsd': true }).client.lsd, false);
  assert.equal(parseSessionOptions({}).client.lsd, undefined);
  const { Client } = await import('../../../src/client/index.js');
  const off = new Client({
    ...parseSessionOptions({ 'no-lsd': true, 'no-dht': true }).client,
    host: '127.0.0.1',
  });
  const on = new Client({ ...parseSessionOptions({ 'no-dht': true }).client, host: '127.0.0.1' });
  try {
    assert.equal(off.settings().enable_lsd, false);
    assert.equal(off.lsd, undefined);
    assert.equal(on.settings().enable_lsd, true);
    assert.ok(on.lsd);
  } finally {
    await Promise.all([off.close(), on.close()]);
  }
});

test('--no-upnp / --no-natpmp turn one port mapping protocol off, both: port mapping off', async () => {
  assert.equal(parseSessionOptions({}).client.portMapping, undefined);
  assert.deepEqual(parseSessionOptions({ 'no-upnp': true }).client.portMapping, {
    upnp: false,
    natpmp: true,
  });
  assert.deepEqual(parseSessionOptions({ 'no-natpmp': true }).client.portMapping, {
    upnp: true,
    natpmp: false,
  });
  const both = parseSessionOptions({ 'no-upnp': true, 'no-natpmp': true, 'no-dht': true }).client;
  assert.equal(both.portMapping, false);
  const { Client } = await import('../../../src/client/index.js');
  const off = new Client({ ...both, host: '127.0.0.1' });
  const half = new Client({
    ...parseSessionOptions({ 'no-upnp': true, 'no-dht': true }).client,
    host: '127.0.0.1',
  });
  try {
    assert.equal(off.portMapping, undefined);
    assert.deepEqual([off.settings().enable_upnp, off.settings().enable_natpmp], [false, false]);
    assert.ok(half.portMapping);
    assert.deepEqual([half.settings().enable_upnp, half.settings().enable_natpmp], [false, true]);
  } finally {
    await Promise.all([off.close(), half.close()]);
  }
});
