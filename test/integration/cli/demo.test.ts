import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NbtChild } from '../../unit/cli/nbt-child.js';

test('nbt demo --size 16M --json: a tracker swarm on loopback, verified, exit 0', async (t) => {
  const child = new NbtChild(['demo', '--size', '16M', '--json', '--timeout', '18']);
  t.after(() => child.kill());
  assert.equal(await child.exit, 0, child.tail());
  const summary = child.events('summary');
  assert.equal(summary.length, 1, child.tail());
  assert.equal(summary[0]!['verified'], true);
  assert.equal(summary[0]!['status'], 'verified');
  assert.equal(summary[0]!['length'], 16 << 20);
  const leechers = child.events('leecher-summary');
  assert.equal(leechers.length, 2);
  for (const l of leechers) assert.equal(l['identical'], true);
  // The leechers found their peers through the tracker, not by being told.
  const dialed = child.events('peer-connect').filter((l) => l['source'] !== 'incoming');
  assert.ok(dialed.length > 0);
  for (const l of dialed) assert.equal(l['source'], 'tracker');
  // Our clients dial uTP first (TCP is the fallback) and accept both.
  const transports = child.events('peer-connect').map((l) => l['transport']);
  for (const tr of transports) assert.ok(tr === 'utp' || tr === 'tcp', `transport ${String(tr)}`);
  assert.ok(transports.includes('utp'), `transports: ${transports.join(' ')}`);
  assert.ok(child.events('progress').length >= 1);
  assert.equal(Number(summary[0]!['trackerDownloads']), 2);
});
