import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { bindDatagramSocket, openUdpEndpoint } from '../../../src/net/udp-socket.js';
import { UdpMux } from '../../../src/net/udp-mux.js';
import type { UdpSource } from '../../../src/net/udp.js';
import { isNbtError } from '../../../src/util/errors.js';

async function client(type: 'udp4' | 'udp6', host: string): Promise<Socket> {
  const s = createSocket(type);
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  return s;
}

function next(s: Socket): Promise<{ msg: Buffer; address: string }> {
  return new Promise((resolve) => s.once('message', (msg, r) => resolve({ msg, address: r.address })));
}

test("a dual-stack socket ('::') shows IPv4 peers as plain IPv4 and answers them", async (t) => {
  const sock = await bindDatagramSocket(0, '::');
  const v4 = await client('udp4', '127.0.0.1');
  t.after(async () => (v4.close(), await sock.close()));
  assert.deepEqual(sock.families, [4, 6]);
  const seen: UdpSource[] = [];
  sock.receive((p, from) => {
    seen.push(from);
    sock.send(Buffer.from('pong'), from.port, from.host);
  });
  const reply = next(v4);
  v4.send('ping', sock.localPort, '127.0.0.1');
  const r = await reply;
  assert.equal(r.msg.toString(), 'pong');
  assert.deepEqual(seen, [{ host: '127.0.0.1', port: v4.address().port, family: 4 }]);

  let err: Error | undefined;
  sock.send(Buffer.from('x'), 0, '127.0.0.1', (e) => (err = e));
  assert.ok(err, 'a bad port is reported, not thrown');
});

test('an IPv6-only endpoint and an IPv4 socket keep to their family; a busy port is UDP_BIND_FAILED', async (t) => {
  const v4sock = await openUdpEndpoint(0, '127.0.0.1');
  t.after(() => v4sock.close());
  assert.equal(v4sock.family, 4);
  await assert.rejects(openUdpEndpoint(v4sock.localPort, '127.0.0.1'), (e: unknown) =>
    isNbtError(e, 'UDP_BIND_FAILED'),
  );
  const mux = await UdpMux.bind(0, '::');
  t.after(() => mux.close());
  assert.ok(mux.endpoint('dht', 4) && mux.endpoint('dht', 6), "'::' serves both families");
  const v6only = await UdpMux.bind(0, '::1').catch(() => undefined);
  if (v6only) {
    assert.equal(v6only.endpoint('dht', 4), undefined);
    await v6only.close();
  }
  const ep6 = await openUdpEndpoint(0, '::');
  t.after(() => ep6.close());
  assert.equal(ep6.family, 6);
  const got: UdpSource[] = [];
  ep6.onPacket((_p, from) => void got.push(from));
  const v4 = await client('udp4', '127.0.0.1');
  t.after(() => v4.close());
  v4.send('d1:xe', ep6.localPort, '127.0.0.1');
  const v6 = await client('udp6', '::1').catch(() => undefined);
  if (v6) v6.send('d1:xe', ep6.localPort, '::1');
  await new Promise((r) => setTimeout(r, 100));
  v6?.close();
  assert.deepEqual(
    got.map((g) => g.family),
    v6 ? [6] : [],
    'the IPv4 datagram does not reach an IPv6 endpoint',
  );
});

/** Sends `count` datagrams back to back (no receive in between) and counts what arrives. */
async function burst(receiveBufferSize: number | undefined, count: number): Promise<number> {
  const sock = await bindDatagramSocket(0, '127.0.0.1', receiveBufferSize ? { receiveBufferSize } : {});
  const sender = await client('udp4', '127.0.0.1');
  let got = 0;
  let quiet: () => void = () => undefined;
  sock.receive(() => {
    if (++got === count) quiet();
  });
  const payload = Buffer.alloc(1200, 7);
  // All sends run before the event loop polls for reads: the kernel buffer must hold the burst.
  for (let i = 0; i < count; i++) sender.send(payload, sock.localPort, '127.0.0.1');
  await new Promise<void>((resolve) => {
    quiet = resolve;
    setTimeout(resolve, 1000);
  });
  sender.close();
  await sock.close();
  return got;
}

test('receiveBufferSize: a burst that overflows the default UDP buffer arrives whole', async (t) => {
  const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  if (rmemMax < 2 * 1024 * 1024) return t.skip(`net.core.rmem_max is ${rmemMax}: the kernel caps SO_RCVBUF`);
  const count = 800;
  assert.ok((await burst(undefined, count)) < count, 'the default buffer drops part of the burst');
  assert.equal(await burst(4 * 1024 * 1024, count), count);
});
