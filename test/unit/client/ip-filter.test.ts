import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpFilter } from '../../../src/client/ip-filter.js';
import { isNbtError } from '../../../src/util/errors.js';

test('ranges, CIDR and single addresses block; others pass', () => {
  const f = new IpFilter();
  f.block('10.0.0.5', '10.0.0.9');
  f.blockCidr('192.168.0.0', 16);
  f.block('::1');
  assert.equal(f.allows('10.0.0.4'), true);
  assert.equal(f.allows('10.0.0.5'), false);
  assert.equal(f.allows('10.0.0.9'), false);
  assert.equal(f.allows('10.0.0.10'), true);
  assert.equal(f.allows('192.168.255.255'), false);
  assert.equal(f.allows('::ffff:192.168.1.1'), false, 'IPv4-mapped IPv6 is the IPv4 address');
  assert.equal(f.allows('::1'), false);
  assert.equal(f.allows('::2'), true);
  assert.equal(f.size, 3);
});

test('blocklist text in P2P and plain formats', () => {
  const f = new IpFilter();
  const n = f.loadBlocklist('# comment\n\nSome org:1.2.3.0-1.2.3.255\n5.6.7.8\n9.9.0.0/16\n');
  assert.equal(n, 3);
  assert.equal(f.allows('1.2.3.77'), false);
  assert.equal(f.allows('5.6.7.8'), false);
  assert.equal(f.allows('9.9.200.1'), false);
  assert.equal(f.allows('9.10.0.1'), true);
});

test('the hook has the last word; bad ranges throw typed errors', () => {
  const f = new IpFilter((a) => a !== '8.8.8.8');
  assert.equal(f.allows('8.8.8.8'), false);
  assert.equal(f.allows('8.8.4.4'), true);
  assert.throws(
    () => f.block('1.2.3.4', '::1'),
    (e) => isNbtError(e, 'IPFILTER_BAD_RANGE'),
  );
  assert.throws(
    () => f.blockCidr('1.2.3.4', 33),
    (e) => isNbtError(e, 'IPFILTER_BAD_RANGE'),
  );
  assert.throws(
    () => f.loadBlocklist('garbage'),
    (e) => isNbtError(e, 'IPFILTER_BAD_RANGE'),
  );
});
