import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedFastSet } from '../../../src/wire/index.js';

const infoHash = Buffer.alloc(20, 0xaa);

test('BEP 6 test vectors', () => {
  assert.deepEqual(allowedFastSet('80.4.4.200', infoHash, 1313, 7), [1059, 431, 808, 1217, 287, 376, 1188]);
  assert.deepEqual(
    allowedFastSet('80.4.4.200', infoHash, 1313, 9),
    [1059, 431, 808, 1217, 287, 376, 1188, 353, 508],
  );
});

test('only the top three octets matter; bytes and mapped addresses work', () => {
  const a = allowedFastSet('80.4.4.1', infoHash, 1313, 9);
  assert.deepEqual(a, allowedFastSet('80.4.4.200', infoHash, 1313, 9));
  assert.deepEqual(a, allowedFastSet(Buffer.from([80, 4, 4, 7]), infoHash, 1313, 9));
  assert.deepEqual(a, allowedFastSet('::ffff:80.4.4.9', infoHash, 1313, 9));
  assert.notDeepEqual(a, allowedFastSet('80.4.5.200', infoHash, 1313, 9));
});

test('k is capped by the piece count and IPv6 works', () => {
  assert.deepEqual(allowedFastSet('10.0.0.1', infoHash, 3, 10).sort(), [0, 1, 2]);
  assert.deepEqual(allowedFastSet('10.0.0.1', infoHash, 0, 10), []);
  const v6 = allowedFastSet('2001:db8::1', infoHash, 1000, 10);
  assert.equal(new Set(v6).size, 10);
  assert.deepEqual(v6, allowedFastSet('2001:db8::ffff', infoHash, 1000, 10));
  assert.throws(() => allowedFastSet('nonsense', infoHash, 10, 1));
});
