/** The uTP socket over the in-memory UDP network: dial/accept, RESETs, SYN floods, timeouts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryUdpNetwork } from '../../../src/net/udp-memory.js';
import { UtpSocket } from '../../../src/utp/socket.js';
import { FakeClock, systemClock, type Clock } from '../../../src/util/clock.js';
import type { Transport } from '../../../src/net/transport.js';
import type { UdpEndpoint } from '../../../src/net/udp.js';
import { decodePacket, encodePacket, ST_FIN, ST_RESET, ST_STATE, ST_SYN } from '../../../src/utp/packet.js';

function pair(clock: Clock = systemClock, accept = true) {
  const net = new MemoryUdpNetwork();
  const ea = net.endpoint();
  const eb = net.endpoint();
  const accepted: Transport[] = [];
  const a = new UtpSocket({ clock, endpoint: (f) => (f === 4 ? ea : undefined) });
  const b = new UtpSocket({
    clock,
    endpoint: (f) => (f === 4 ? eb : undefined),
    ...(accept ? { onConnection: (t: Transport) => accepted.push(t) } : {}),
  });
  return { net, ea, eb, a, b, accepted };
}

function collect(t: Transport): Buffer[] {
  const chunks: Buffer[] = [];
  t.on('data', (c) => chunks.push(c));
  return chunks;
}

function once(t: Transport, event: 'connect' | 'close' | 'error'): Promise<unknown[]> {
  return new Promise((resolve) =>
    event === 'error' ? t.on('error', (e) => resolve([e])) : t.once(event, () => resolve([])),
  );
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('dial and accept over the shared endpoint: bytes both ways, then a clean close', async () => {
  const { a, b, eb, accepted } = pair();
  const t = a.connect('127.0.0.1', eb.localPort);
  assert.equal(t.kind, 'utp');
  await once(t, 'connect');
  const data = randomBytes(500_000);
  t.write(data);
  while (accepted.length === 0) await tick();
  const s = accepted[0]!;
  assert.equal(s.remotePort, a['o'].endpoint(4)!.localPort);
  const got = collect(s);
  const back = collect(t);
  while (Buffer.concat(got).length < data.length) await tick();
  assert.ok(Buffer.concat(got).equals(data));
  s.write(Buffer.from('pong'));
  while (Buffer.concat(back).length < 4) await tick();
  assert.equal(Buffer.concat(back).toString(), 'pong');
  const closed = Promise.all([once(t, 'close'), once(s, 'close')]);
  t.end();
  await closed;
  // b's side closed for its user when a's FIN came; the ack of b's FIN follows on the wire.
  for (let i = 0; i < 20 && a.stats.connections + b.stats.connections > 0; i++) await tick();
  assert.equal(a.stats.connections, 0);
  assert.equal(b.stats.connections, 0);
});

test('a dial with onRead gets its bytes in one reused buffer, in order, and no data events', async () => {
  const { a, eb, accepted } = pair();
  const chunks: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const t = a.connect('127.0.0.1', eb.localPort, {
    onRead: (c) => {
      buffers.add(c.buffer);
      chunks.push(Buffer.from(c)); // valid only during the call
    },
  });
  t.on('data', () => assert.fail('onRead connections emit no data events'));
  await once(t, 'connect');
  t.write(Buffer.from('hi'));
  while (accepted.length === 0) await tick();
  // More than the 64 KiB buffer holds at once: a batch is handed on in several calls.
  const data = randomBytes(300_000);
  accepted[0]!.write(data);
  while (Buffer.concat(chunks).length < data.length) await tick();
  assert.ok(Buffer.concat(chunks).equals(data));
  assert.equal(buffers.size, 1);
  assert.ok(chunks.every((c) => c.length <= 64 * 1024));
  const closed = Promise.all([once(t, 'close'), once(accepted[0]!, 'close')]);
  t.end();
  await closed;
});

test('a socket that does not accept answers SYN with RESET: the dial fails at once', async () => {
  const { a, eb } = pair(systemClock, false);
  const t = a.connect('127.0.0.1', eb.localPort);
  const [err] = (await once(t, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'UTP_RESET');
  await once(t, 'close');
});

test('an unanswered dial times out after three SYNs (3 s) with UTP_CONNECT_TIMEOUT', async () => {
  const clock = new FakeClock();
  const net = new MemoryUdpNetwork();
  const ea = net.endpoint();
  const a = new UtpSocket({ clock, endpoint: () => ea });
  const t = a.connect('127.0.0.1', 9);
  const errors: NodeJS.ErrnoException[] = [];
  t.on('error', (e) => errors.push(e));
  await tick();
  clock.advance(2999);
  await tick();
  assert.equal(errors.length, 0);
  clock.advance(1);
  await tick();
  assert.equal(errors[0]?.code, 'UTP_CONNECT_TIMEOUT');
  assert.equal(net.undeliverable, 3);
});

test('a SYN flood costs a bounded half-open table; excess SYNs are dropped', async () => {
  const net = new MemoryUdpNetwork();
  const eb = net.endpoint();
  const raw = net.endpoint();
  let accepted = 0;
  const b = new UtpSocket({
    clock: systemClock,
    endpoint: () => eb,
    onConnection: () => accepted++,
    maxHalfOpen: 16,
  });
  for (let id = 0; id < 1000; id++)
    raw.send(
      encodePacket({
        type: ST_SYN,
        connectionId: id * 2,
        timestamp: 0,
        timestampDiff: 0,
        window: 65536,
        seq: 1,
        ack: 0,
        payload: new Uint8Array(0),
      }),
      eb.localPort,
      '127.0.0.1',
    );
  await tick();
  assert.equal(accepted, 16);
  assert.equal(b.stats.halfOpen, 16);
  assert.equal(b.stats.connections, 16);
  assert.equal(b.stats.synsDropped, 984);
});

test('wrong connection ids get a RESET; a RESET for another connection is ignored', async () => {
  const { a, eb, accepted } = pair();
  const t = a.connect('127.0.0.1', eb.localPort);
  await once(t, 'connect');
  t.write(Buffer.from('hello'));
  while (accepted.length === 0) await tick();
  const replies: number[] = [];
  const spoofer: UdpEndpoint = a['o'].endpoint(4)!;
  const off = spoofer.onPacket((p) => void replies.push(decodePacket(p).type));
  const hdr = { timestamp: 0, timestampDiff: 0, window: 65536, seq: 1, ack: 0, payload: new Uint8Array(0) };
  // From a's address (the endpoint itself), but a connection id b does not know.
  spoofer.send(encodePacket({ ...hdr, type: ST_STATE, connectionId: 4242 }), eb.localPort, '127.0.0.1');
  spoofer.send(encodePacket({ ...hdr, type: ST_RESET, connectionId: 4343 }), eb.localPort, '127.0.0.1');
  await tick();
  off();
  assert.ok(replies.includes(ST_RESET));
  assert.equal(accepted[0]!.destroyed, false);
  assert.equal(t.destroyed, false);
  // Our destroy() resets the other side: it hears UTP_RESET.
  const reset = once(accepted[0]!, 'error');
  t.destroy();
  const [err] = (await reset) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'UTP_RESET');
});

/** Makes `endpoint` drop what it sends while `drop(packet type)` says so. */
function lossy(endpoint: UdpEndpoint, drop: (type: number) => boolean): void {
  const send = endpoint.send.bind(endpoint);
  endpoint.send = (packet, port, host, done) =>
    drop(decodePacket(Buffer.from(packet)).type) ? done?.(undefined) : send(packet, port, host, done);
}

test("the peer's FIN ends the stream for the user at once; the unacked FIN of ours lingers in the socket only", async () => {
  const clock = new FakeClock();
  const { a, b, ea, eb, accepted } = pair(clock);
  const t = a.connect('127.0.0.1', eb.localPort);
  await once(t, 'connect');
  t.write(Buffer.from('hello'));
  while (accepted.length === 0) await tick();
  const s = accepted[0]!;
  const got = collect(s);
  while (got.length === 0) await tick();
  // a sends its FIN, then goes silent (its process exited): b's FIN is never acked.
  let finSent = false;
  lossy(ea, (type) => {
    if (finSent) return true;
    if (type === ST_FIN) finSent = true;
    return false;
  });
  let closed = false;
  s.once('close', () => (closed = true));
  t.end();
  for (let i = 0; i < 10 && !closed; i++) await tick();
  assert.ok(closed, "b's transport closes without waiting for its FIN to be acked (no clock advanced)");
  assert.equal(Buffer.concat(got).toString(), 'hello');
  assert.equal(b.stats.connections, 1, 'the socket still retransmits its FIN');
  for (let i = 0; i < 100 && b.stats.connections > 0; i++) {
    clock.advance(5_000);
    await tick();
  }
  assert.equal(b.stats.connections, 0, 'the lingering connection gives up in bounded time');
});

test('closing the socket right after the last FIN arrived still acks it (the peer does not retransmit)', async () => {
  const clock = new FakeClock();
  const net = new MemoryUdpNetwork();
  const ea = net.endpoint();
  const eb = net.endpoint();
  const deferred: (() => void)[] = [];
  const accepted: Transport[] = [];
  // a's end-of-batch work waits until the test runs it, as when a process closes at once.
  let hold = false;
  const a = new UtpSocket({
    clock,
    endpoint: () => ea,
    defer: (fn) => (hold ? deferred.push(fn) : void setImmediate(fn)),
  });
  const b = new UtpSocket({ clock, endpoint: () => eb, onConnection: (t) => accepted.push(t) });
  const t = a.connect('127.0.0.1', eb.localPort);
  await once(t, 'connect');
  t.write(Buffer.from('hello'));
  while (accepted.length === 0) await tick();
  const s = accepted[0]!;
  collect(s);
  let bFins = 0;
  lossy(eb, (type) => (type === ST_FIN && bFins++, false));
  hold = true;
  t.end();
  while (deferred.length === 0) await tick(); // b's FIN arrived at a; its ack waits in the batch
  assert.equal(bFins, 1);
  await a.close();
  for (let i = 0; i < 10 && b.stats.connections > 0; i++) await tick();
  assert.equal(b.stats.connections, 0, "a's final ack reached b: its connection is gone");
  clock.advance(10_000);
  await tick();
  assert.equal(bFins, 1, 'b never retransmitted its FIN');
});
