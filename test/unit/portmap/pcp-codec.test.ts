/**
 * The pure PCP codec (RFC 6887): the MAP request's exact bytes for IPv4 and IPv6 clients, MAP
 * and ANNOUNCE answers, result codes (with the epoch they carry), a NAT-PMP server's
 * "unsupported version", bounded options, the epoch-reset rule of section 8.5, and fuzz.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PcpResultError,
  decodePcpResponse,
  encodePcpMapRequest,
  epochReset,
  parseProcNetIpv6Route,
  readAddress,
} from '../../../src/portmap/index.js';
import { NbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/tmp.js';

const nonce = Buffer.from('0102030405060708090a0b0c', 'hex');

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof NbtError, `not an NbtError: ${String(e)}`);
    return e.code;
  }
  return 'no error';
}

/** A MAP answer as a server builds it (section 11.1 layout). */
function mapAnswer(o: {
  result?: number;
  lifetime?: number;
  epoch?: number;
  proto?: number;
  ext?: Buffer;
}): Buffer {
  const b = Buffer.alloc(60);
  b[0] = 2;
  b[1] = 0x81;
  b[3] = o.result ?? 0;
  b.writeUInt32BE(o.lifetime ?? 7200, 4);
  b.writeUInt32BE(o.epoch ?? 1000, 8);
  nonce.copy(b, 24);
  b[36] = o.proto ?? 6;
  b.writeUInt16BE(6881, 40);
  b.writeUInt16BE(40000, 42);
  (o.ext ?? Buffer.from('00000000000000000000ffff2d2d2d2d', 'hex')).copy(b, 44);
  return b;
}

test('MAP request: the RFC 6887 layout, IPv4-mapped client and all-zeros suggested address', () => {
  const b = encodePcpMapRequest({
    clientAddress: '192.168.1.10',
    nonce,
    protocol: 'tcp',
    internalPort: 6881,
    externalPort: 6881,
    lifetime: 3600,
  });
  assert.equal(
    b.toString('hex'),
    '0201' +
      '0000' +
      '00000e10' +
      '00000000000000000000ffffc0a8010a' + // header
      '0102030405060708090a0b0c' +
      '06' +
      '000000' +
      '1ae1' +
      '1ae1' +
      '00000000000000000000ffff00000000',
  );
  const v6 = encodePcpMapRequest({
    clientAddress: '2001:db8::5',
    nonce,
    protocol: 'udp',
    internalPort: 1,
    externalPort: 0,
    lifetime: 0,
  });
  assert.equal(v6.subarray(8, 24).toString('hex'), '20010db8000000000000000000000005');
  assert.equal(v6[36], 17);
  assert.equal(v6.subarray(44, 60).toString('hex'), '0'.repeat(32));
  assert.equal(v6.readUInt32BE(4), 0);
  const bad = {
    clientAddress: '10.0.0.2',
    nonce,
    protocol: 'tcp' as const,
    internalPort: 1,
    externalPort: 1,
    lifetime: 1,
  };
  assert.equal(
    code(() => encodePcpMapRequest({ ...bad, internalPort: 0 })),
    'PCP_BAD_REQUEST',
  );
  assert.equal(
    code(() => encodePcpMapRequest({ ...bad, externalPort: 65536 })),
    'PCP_BAD_REQUEST',
  );
  assert.equal(
    code(() => encodePcpMapRequest({ ...bad, lifetime: -1 })),
    'PCP_BAD_REQUEST',
  );
  assert.equal(
    code(() => encodePcpMapRequest({ ...bad, nonce: Buffer.alloc(4) })),
    'PCP_BAD_REQUEST',
  );
  assert.equal(
    code(() => encodePcpMapRequest({ ...bad, clientAddress: 'gateway' })),
    'PCP_BAD_REQUEST',
  );
});

test('answers: MAP (IPv4 and IPv6 external), ANNOUNCE, options skipped, result codes, NAT-PMP', () => {
  const r = decodePcpResponse(mapAnswer({}));
  assert.deepEqual(r, {
    kind: 'map',
    lifetime: 7200,
    epoch: 1000,
    nonce,
    protocol: 'tcp',
    internalPort: 6881,
    externalPort: 40000,
    externalAddress: '45.45.45.45',
  });
  const v6 = decodePcpResponse(
    mapAnswer({ proto: 17, ext: Buffer.from('20010db8000000000000000000000005', 'hex') }),
  );
  assert.equal(v6.kind === 'map' && v6.externalAddress, '2001:db8::5');
  assert.equal(v6.kind === 'map' && v6.protocol, 'udp');
  // An option after the MAP body (code 0x12, 2 bytes padded to 4) is skipped.
  const withOption = Buffer.concat([mapAnswer({}), Buffer.from('12000002abcd0000', 'hex')]);
  assert.equal(decodePcpResponse(withOption).kind, 'map');
  assert.equal(
    code(() => decodePcpResponse(Buffer.concat([mapAnswer({}), Buffer.from('12000008abcd0000', 'hex')]))),
    'PCP_MALFORMED',
  );
  const announce = Buffer.alloc(24);
  announce[0] = 2;
  announce[1] = 0x80;
  announce.writeUInt32BE(5, 8);
  assert.deepEqual(decodePcpResponse(announce), { kind: 'announce', epoch: 5 });
  // A result code: its epoch and opcode come with it.
  let e: unknown;
  try {
    decodePcpResponse(mapAnswer({ result: 2, epoch: 77 }));
  } catch (x) {
    e = x;
  }
  assert.ok(e instanceof PcpResultError);
  assert.equal(e.code, 'PCP_RESULT_2');
  assert.match(e.message, /not authorized/);
  assert.equal(e.epoch, 77);
  assert.equal(e.opcode, 1);
  assert.equal(e.natPmpServer, false);
  // A NAT-PMP server's "unsupported version" (RFC 6886 3.5): the fallback signal.
  try {
    decodePcpResponse(Buffer.from('0081000100000042', 'hex'));
  } catch (x) {
    e = x;
  }
  assert.ok(e instanceof PcpResultError && e.natPmpServer && e.result === 1 && e.code === 'PCP_RESULT_1');
  // A PCP server of another version answering with result 1 is the same signal.
  assert.equal(
    code(() => decodePcpResponse(mapAnswer({ result: 1 }))),
    'PCP_RESULT_1',
  );
  // Malformed: a successful NAT-PMP answer, a request, short, odd length, unknown protocol, too long.
  assert.equal(
    code(() => decodePcpResponse(Buffer.from('0081000000000042', 'hex'))),
    'PCP_MALFORMED',
  );
  const req = mapAnswer({});
  req[1] = 1;
  assert.equal(
    code(() => decodePcpResponse(req)),
    'PCP_MALFORMED',
  );
  assert.equal(
    code(() => decodePcpResponse(mapAnswer({}).subarray(0, 40))),
    'PCP_MALFORMED',
  );
  assert.equal(
    code(() => decodePcpResponse(mapAnswer({}).subarray(0, 58))),
    'PCP_MALFORMED',
  );
  assert.equal(
    code(() => decodePcpResponse(mapAnswer({ proto: 1 }))),
    'PCP_MALFORMED',
  );
  assert.equal(
    code(() => decodePcpResponse(Buffer.alloc(1104, 2))),
    'PCP_MALFORMED',
  );
  const manyOptions = Buffer.concat([mapAnswer({}), Buffer.alloc(4 * 17)]);
  assert.equal(
    code(() => decodePcpResponse(manyOptions)),
    'PCP_MALFORMED',
  );
});

test('addresses: IPv4-mapped as a dotted quad, IPv6 compressed', () => {
  const at = (hex: string): string => readAddress(Buffer.from(hex, 'hex'), 0);
  assert.equal(at('00000000000000000000ffff0a000001'), '10.0.0.1');
  assert.equal(at('fe800000000000000000000000000001'), 'fe80::1');
  assert.equal(at('20010db8000100000000000100000001'), '2001:db8:1::1:0:1');
  assert.equal(at('00000000000000000000000000000000'), '::');
  assert.equal(at('20010db8000100020003000400050006'), '2001:db8:1:2:3:4:5:6');
  const b = encodePcpMapRequest({
    clientAddress: '::ffff:10.1.2.3',
    nonce,
    protocol: 'tcp',
    internalPort: 1,
    externalPort: 1,
    lifetime: 1,
  });
  assert.equal(readAddress(b, 8), '10.1.2.3');
});

test('epoch: a reset when it goes back or drifts from our clock by more than 1/16 + 2 s', () => {
  const prev = { epoch: 1000, at: 50_000 };
  assert.equal(epochReset(undefined, prev), false);
  assert.equal(epochReset(prev, { epoch: 1100, at: 150_000 }), false);
  assert.equal(epochReset(prev, { epoch: 1094, at: 150_000 }), false); // within 100/16 + 2
  assert.equal(epochReset(prev, { epoch: 1090, at: 150_000 }), true); // the server lost 10 s: it restarted
  assert.equal(epochReset(prev, { epoch: 999, at: 50_500 }), true);
  assert.equal(epochReset(prev, { epoch: 5, at: 150_000 }), true);
  assert.equal(epochReset(prev, { epoch: 1200, at: 150_000 }), true); // running ahead is as bad
});

test('fuzz: random and mutated answers give a value or an NbtError, never another throw', () => {
  const rnd = prng(6887);
  const seeds = [mapAnswer({}), Buffer.concat([mapAnswer({}), Buffer.from('12000002abcd0000', 'hex')])];
  for (let i = 0; i < 5000; i++) {
    let b: Buffer;
    if (rnd() < 0.3)
      b = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
    else {
      b = Buffer.from(seeds[i % 2]!);
      for (let k = 0, n = 1 + Math.floor(rnd() * 4); k < n; k++)
        b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      if (rnd() < 0.2) b = b.subarray(0, Math.floor(rnd() * b.length));
    }
    try {
      decodePcpResponse(b);
    } catch (e) {
      assert.ok(e instanceof NbtError, `threw ${String(e)}`);
    }
  }
});

test('/proc/net/ipv6_route: the default route with RTF_GATEWAY; a link-local next hop gets its scope', () => {
  const z = '0'.repeat(32);
  const line = (dest: string, len: string, hop: string, flags: string, dev: string): string =>
    `${dest} ${len} ${z} 00 ${hop} 00000400 00000001 00000000 ${flags} ${dev}`;
  const text = [
    line('fd450000000000000000000000000000', '40', z, '00000001', 'eth0'),
    line(z, '00', z, '00200200', 'lo'), // the kernel's unreachable default on lo
    line(z, '00', 'fe800000000000000000000000000001', '00450003', 'wlan0'),
  ].join('\n');
  assert.deepEqual(parseProcNetIpv6Route(text), { gateway: 'fe80::1%wlan0', iface: 'wlan0' });
  assert.deepEqual(
    parseProcNetIpv6Route(line(z, '00', 'fd450000000000000000000000000001', '00000003', 'eth0')),
    {
      gateway: 'fd45::1',
      iface: 'eth0',
    },
  );
  assert.equal(parseProcNetIpv6Route(text.split('\n').slice(0, 2).join('\n')), undefined);
  assert.equal(parseProcNetIpv6Route('garbage\n'.repeat(10)), undefined);
});
