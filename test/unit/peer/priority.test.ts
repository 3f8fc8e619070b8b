import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerPriority } from '../../../src/peer/priority.js';
import { crc32c } from '../../../src/util/crc32c.js';

const hex = (n: number): string => n.toString(16).padStart(8, '0');

test('CRC32-C matches the standard check value', () => {
  assert.equal(hex(crc32c(Buffer.from('123456789'))), 'e3069283');
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});

test('BEP 40 test vectors: different /16 (mask FF.FF.55.55) and same /24 (whole address)', () => {
  const self = { host: '123.213.32.10', port: 6881 };
  assert.equal(hex(crc32c(Buffer.from('624C14007BD50000', 'hex'))), 'ec2d7224');
  assert.equal(hex(peerPriority(self, { host: '98.76.54.32', port: 1 })), 'ec2d7224');
  assert.equal(hex(peerPriority(self, { host: '123.213.32.234', port: 1 })), '99568189');
});

test('both ends compute the same priority (the pair is sorted)', () => {
  const a = { host: '123.213.32.10', port: 1 };
  const b = { host: '98.76.54.32', port: 2 };
  assert.equal(peerPriority(a, b), peerPriority(b, a));
  const v6a = { host: '2001:db8:1:2::1', port: 1 };
  const v6b = { host: '2a00:1450::5', port: 2 };
  assert.equal(peerPriority(v6a, v6b), peerPriority(v6b, v6a));
});

test('same /16 masks with FF.FF.FF.55: the bits cleared by 0x55 do not change the priority', () => {
  const self = { host: '10.1.2.3', port: 1 };
  // 10.1.5.x and 10.1.5.(x & 0x55) mask alike within the /16.
  assert.equal(
    peerPriority(self, { host: '10.1.5.255', port: 1 }),
    peerPriority(self, { host: '10.1.5.85', port: 1 }),
  );
  assert.notEqual(
    peerPriority(self, { host: '10.1.5.255', port: 1 }),
    peerPriority(self, { host: '10.1.4.255', port: 1 }),
  );
  // A different /16: the last two bytes masked with 0x55, so .2 vs .0 in byte 3 collide.
  assert.equal(
    peerPriority(self, { host: '10.9.2.1', port: 1 }),
    peerPriority(self, { host: '10.9.0.1', port: 1 }),
  );
  // The expected bytes, by hand: 0A01 0201 (self masked FF.FF.FF.55) vs 0A01 0501.
  assert.equal(
    peerPriority(self, { host: '10.1.5.1', port: 9 }),
    crc32c(Buffer.from('0a0102010a010501', 'hex')),
  );
});

test('the same IP ranks by the two ports, sorted, as 16-bit big-endian', () => {
  const p = peerPriority({ host: '127.0.0.1', port: 6881 }, { host: '127.0.0.1', port: 51413 });
  const buf = Buffer.alloc(4);
  buf.writeUInt16BE(6881, 0);
  buf.writeUInt16BE(51413, 2);
  assert.equal(p, crc32c(buf));
  assert.equal(p, peerPriority({ host: '127.0.0.1', port: 51413 }, { host: '127.0.0.1', port: 6881 }));
  assert.equal(p, peerPriority({ host: '::ffff:127.0.0.1', port: 51413 }, { host: '127.0.0.1', port: 6881 }));
});

test('IPv6 masks from /48: FFFF:FFFF:FFFF:5555:…, one more full byte per shared byte', () => {
  const self = { host: '2001:db8:1:2::1', port: 1 };
  const other = { host: '2a00:1450:4001:ffff:ffff::', port: 1 };
  const a = Buffer.from('20010db80001' + '00' + '00' + '0000000000000001', 'hex');
  const b = Buffer.from('2a0014504001' + '55' + '55' + '5555000000000000', 'hex');
  assert.equal(peerPriority(self, other), crc32c(Buffer.concat([a, b])));
  // Same /48: byte 6 is kept whole (FF55 in the fourth group).
  const near = { host: '2001:db8:1:ff02::1', port: 1 };
  const x = Buffer.from('20010db80001' + '00' + '00' + '0000000000000001', 'hex');
  const y = Buffer.from('20010db80001' + 'ff' + '00' + '0000000000000001', 'hex');
  assert.equal(peerPriority(self, near), crc32c(Buffer.concat([x, y])));
});

test('unparseable hosts rank 0 and never throw', () => {
  assert.equal(peerPriority({ host: 'example.org', port: 1 }, { host: '1.2.3.4', port: 1 }), 0);
  assert.equal(peerPriority({ host: '1.2.3.4', port: 1 }, { host: '', port: 1 }), 0);
});
