/**
 * The pure parts of src/proxy: proxy URLs, the SOCKS5 UDP header (RFC 1928 §7) and the HTTP
 * CONNECT exchange, with seeded fuzzing: any input gives a value or an NbtError, nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConnectResponseParser,
  MAX_HEAD_BYTES,
  decodeSocksUdp,
  describeProxy,
  encodeConnectRequest,
  encodeSocksUdp,
  parseProxyUrl,
} from '../../../src/proxy/index.js';
import { resolveBindAddress } from '../../../src/proxy/bind.js';
import { NbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/prng.js';

const code = (c: string) => (e: unknown) => e instanceof NbtError && e.code === c;

test('proxy URLs: socks5 with credentials, http, defaults, and what is refused', () => {
  assert.deepEqual(parseProxyUrl('socks5://al%40ice:p%3Ass@proxy.example:1081'), {
    type: 'socks5',
    host: 'proxy.example',
    port: 1081,
    username: 'al@ice',
    password: 'p:ss',
  });
  assert.deepEqual(parseProxyUrl('socks5h://10.0.0.1'), { type: 'socks5', host: '10.0.0.1', port: 1080 });
  assert.deepEqual(parseProxyUrl('http://[::1]:3128'), { type: 'http', host: '::1', port: 3128 });
  assert.equal(parseProxyUrl('http://h').port, 8080);
  assert.throws(() => parseProxyUrl('ftp://h:1'), code('PROXY_BAD_URL'));
  assert.throws(() => parseProxyUrl('not a url'), code('PROXY_BAD_URL'));
  assert.throws(() => parseProxyUrl('socks5://h:1/path'), code('PROXY_BAD_URL'));
  assert.throws(() => parseProxyUrl(`socks5://${'u'.repeat(256)}:p@h:1`), code('PROXY_BAD_CONFIG'));
  // The password never shows in logs.
  assert.equal(describeProxy(parseProxyUrl('socks5://u:secret@h:9')), 'socks5://u@h:9');
});

test('socks5 udp header: IPv4, IPv6 and domain destinations round-trip', () => {
  const payload = Buffer.from('d1:ad2:id20:xxxxxxxxxxxxxxxxxxxxe1:q4:ping1:t2:aa1:y1:qe');
  for (const [host, port] of [
    ['10.1.2.3', 6881],
    ['2001:db8::1', 443],
    ['::1', 1],
    ['1:2:3:4:5:6:7:8', 65535],
    ['tracker.example.org', 80],
  ] as const) {
    const b = encodeSocksUdp(host, port, payload);
    assert.deepEqual([b[0], b[1], b[2]], [0, 0, 0]);
    const d = decodeSocksUdp(b);
    assert.equal(d.host, host);
    assert.equal(d.port, port);
    assert.deepEqual(d.payload, payload);
  }
  // Bytes as RFC 1928 lays them out: RSV RSV FRAG ATYP=1 a.b.c.d port.
  assert.deepEqual(
    encodeSocksUdp('1.2.3.4', 0x1ae1, Buffer.of(0xff)),
    Buffer.of(0, 0, 0, 1, 1, 2, 3, 4, 0x1a, 0xe1, 0xff),
  );
  assert.throws(() => decodeSocksUdp(Buffer.of(0, 0, 1, 1, 1, 2, 3, 4, 0, 1)), code('PROXY_UDP_FRAGMENT'));
  assert.throws(() => decodeSocksUdp(Buffer.of(0, 0, 0, 1, 1, 2)), code('PROXY_BAD_DATAGRAM'));
  assert.throws(() => decodeSocksUdp(Buffer.of(0, 0, 0, 9, 1, 2, 3, 4, 0, 1)), code('PROXY_BAD_DATAGRAM'));
  assert.throws(() => encodeSocksUdp('x'.repeat(256), 1, Buffer.alloc(0)), code('PROXY_BAD_ADDRESS'));
});

test('socks5 udp header fuzz: random and mutated datagrams decode or fail with an NbtError', () => {
  const rnd = prng(0x50c5);
  const valid = encodeSocksUdp('192.168.7.9', 6881, Buffer.from('hello'));
  for (let i = 0; i < 20_000; i++) {
    let b: Buffer;
    if (i % 2 === 0) {
      b = Buffer.alloc(Math.floor(rnd() * 40));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (rnd() < 0.5 && b.length > 4) b.fill(0, 0, 3);
    } else {
      b = Buffer.from(valid.subarray(0, Math.floor(rnd() * (valid.length + 1))));
      if (b.length > 0) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    }
    try {
      const d = decodeSocksUdp(b);
      assert.ok(d.port >= 0 && d.port <= 65535 && d.payload.length <= b.length);
    } catch (e) {
      assert.ok(e instanceof NbtError, `${String(e)} for ${b.toString('hex')}`);
    }
  }
});

test('HTTP CONNECT: the request, a reply split anywhere, tunnel bytes kept, refusals named', () => {
  assert.equal(
    encodeConnectRequest('10.0.0.2', 6881, { username: 'u', password: 'p' }).toString(),
    'CONNECT 10.0.0.2:6881 HTTP/1.1\r\nHost: 10.0.0.2:6881\r\nProxy-Authorization: Basic dTpw\r\n\r\n',
  );
  assert.match(encodeConnectRequest('::1', 80).toString(), /^CONNECT \[::1\]:80 HTTP\/1\.1\r\n/);
  assert.throws(() => encodeConnectRequest('a b', 80), code('PROXY_BAD_ADDRESS'));
  const reply = Buffer.from('HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n\x13BitTorrent');
  for (let cut = 0; cut <= reply.length; cut++) {
    const p = new ConnectResponseParser();
    const first = p.push(reply.subarray(0, cut));
    const v = first.done ? first : p.push(reply.subarray(cut));
    assert.ok(v.done);
    // A split after the head leaves the rest for the second push's caller: only check the whole.
    if (!first.done) assert.equal(v.rest.toString('latin1'), '\x13BitTorrent');
  }
  assert.throws(
    () => new ConnectResponseParser().push(Buffer.from('HTTP/1.1 407 Auth\r\n\r\n')),
    code('PROXY_AUTH_FAILED'),
  );
  assert.throws(
    () => new ConnectResponseParser().push(Buffer.from('HTTP/1.0 403 No\r\n\r\n')),
    code('PROXY_REFUSED'),
  );
  assert.throws(
    () => new ConnectResponseParser().push(Buffer.from('HTTP/1.0 401 Unauthorized\r\n\r\n')),
    code('PROXY_AUTH_FAILED'),
  );
  assert.throws(
    () => new ConnectResponseParser().push(Buffer.from('SSH-2.0\r\n\r\n')),
    code('PROXY_BAD_RESPONSE'),
  );
  const p = new ConnectResponseParser();
  assert.throws(() => {
    for (let i = 0; i < 100; i++) p.push(Buffer.alloc(MAX_HEAD_BYTES / 50, 0x61));
  }, code('PROXY_BAD_RESPONSE'));
});

test('HTTP CONNECT reply fuzz: never anything but a verdict or an NbtError', () => {
  const rnd = prng(0xc0ec7);
  const alphabet = ['HTTP/1.1 ', '200', '407', ' OK', '\r\n', '\r', '\n', 'x', ':', '\0'];
  for (let i = 0; i < 5_000; i++) {
    const p = new ConnectResponseParser();
    try {
      for (let j = 0; j < 8; j++) {
        let s = '';
        for (let k = Math.floor(rnd() * 6); k > 0; k--) s += alphabet[Math.floor(rnd() * alphabet.length)];
        if (p.push(Buffer.from(s, 'latin1')).done) break;
      }
    } catch (e) {
      assert.ok(e instanceof NbtError, String(e));
    }
  }
});

test('outgoing interface: an address as is, an interface by its IPv4 address, unknown names refused', () => {
  const ifs = {
    eth9: [
      { address: 'fe80::1', family: 'IPv6', scopeid: 2, netmask: '', mac: '', internal: false, cidr: null },
      { address: '192.0.2.7', family: 'IPv4', netmask: '', mac: '', internal: false, cidr: null },
    ],
  } as unknown as Parameters<typeof resolveBindAddress>[1];
  assert.equal(resolveBindAddress('10.9.8.7', ifs), '10.9.8.7');
  assert.equal(resolveBindAddress('eth9', ifs), '192.0.2.7');
  assert.throws(() => resolveBindAddress('wlan7', ifs), code('BIND_NO_INTERFACE'));
  assert.equal(resolveBindAddress('lo'), '127.0.0.1');
});
