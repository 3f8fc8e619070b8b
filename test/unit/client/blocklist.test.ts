/**
 * Blocklists as published (P2P, eMule DAT, CIDR, IPv6, junk lines, gzip) and the IP filter's
 * sorted lookup: the same verdicts as a plain scan over every range, for random lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { IpFilter } from '../../../src/client/ip-filter.js';
import { inflateBlocklist, parseBlocklist } from '../../../src/client/blocklist.js';
import { prng } from '../../helpers/tmp.js';

test('parseBlocklist reads P2P, DAT (levels above 127 allowed), CIDR, single addresses and IPv6; skips junk', () => {
  const p = parseBlocklist(
    [
      '# comment',
      'Some Corp, Inc:1.2.3.0-1.2.3.255',
      'Bad: peers:10.0.0.1-10.0.0.9',
      '001.002.004.000 - 001.002.004.255 , 000 , dat entry',
      '009.009.009.000 - 009.009.009.255 , 200 , allowed by level',
      '192.168.0.0/16',
      '8.8.8.8',
      '2001:db8::1 - 2001:db8::ff',
      'not an address at all',
      '1.2.3.4-::1',
      '300.1.1.1-300.1.1.2',
      '',
    ].join('\r\n'),
  );
  assert.deepEqual(p.ranges, [
    { from: '1.2.3.0', to: '1.2.3.255' },
    { from: '10.0.0.1', to: '10.0.0.9' },
    { from: '1.2.4.0', to: '1.2.4.255' },
    { from: '8.8.8.8', to: '8.8.8.8' },
    { from: '2001:db8::1', to: '2001:db8::ff' },
  ]);
  assert.deepEqual(p.cidrs, [{ base: '192.168.0.0', bits: 16 }]);
  assert.equal(p.skipped, 3);
  const f = new IpFilter();
  assert.equal(f.loadParsed(p), 6);
  for (const [ip, ok] of [
    ['1.2.3.77', false],
    ['1.2.4.1', false],
    ['9.9.9.9', true],
    ['192.168.44.1', false],
    ['::ffff:192.168.1.1', false],
    ['8.8.8.8', false],
    ['8.8.8.9', true],
    ['2001:db8::80', false],
    ['2001:db8::100', true],
  ] as const)
    assert.equal(f.allows(ip), ok, ip);
});

test('inflateBlocklist: gzip inflated, bounded (a bomb is BLOCKLIST_BAD); plain text passes', () => {
  const text = Buffer.from('a:1.2.3.4-1.2.3.5\n');
  assert.deepEqual(inflateBlocklist(gzipSync(text)), text);
  assert.deepEqual(inflateBlocklist(text), text);
  const bomb = gzipSync(Buffer.alloc(4 << 20));
  assert.throws(() => inflateBlocklist(bomb, 1 << 20), { code: 'BLOCKLIST_BAD' });
  assert.throws(() => inflateBlocklist(Buffer.from([0x1f, 0x8b, 1, 2, 3])), { code: 'BLOCKLIST_BAD' });
});

test('IpFilter: the sorted, merged lookup agrees with a scan over every range (random lists)', () => {
  const rnd = prng(7);
  const ip = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  for (let round = 0; round < 20; round++) {
    const f = new IpFilter();
    const ranges: [number, number][] = [];
    for (let i = 0; i < 200; i++) {
      const a = Math.floor(rnd() * 2 ** 24) * 256;
      const b = a + Math.floor(rnd() * 70_000);
      ranges.push([a, Math.min(b, 2 ** 32 - 1)]);
      f.block(ip(a), ip(Math.min(b, 2 ** 32 - 1)));
    }
    for (let k = 0; k < 2000; k++) {
      // Half the probes near a range edge, where off-by-one errors live.
      const [a, b] = ranges[Math.floor(rnd() * ranges.length)]!;
      const n =
        k % 2
          ? Math.floor(rnd() * 2 ** 32)
          : Math.max(0, Math.min(2 ** 32 - 1, (rnd() < 0.5 ? a : b) + Math.round(rnd() * 2 - 1)));
      const blocked = ranges.some(([x, y]) => n >= x && n <= y);
      assert.equal(f.allows(ip(n)), !blocked, `${ip(n)} round ${round}`);
    }
    // Changes after a lookup rebuild the index.
    f.block('0.0.0.1');
    assert.equal(f.allows('0.0.0.1'), false);
    f.clear();
    assert.equal(f.allows(ip(ranges[0]![0])), true);
  }
});
