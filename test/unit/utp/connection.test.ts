/** The uTP state machine in virtual time: two connections over a seeded lossy link. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { UtpLink } from '../../helpers/utp-link.js';
import { UtpConnection } from '../../../src/utp/connection.js';
import { decodePacket, encodePacket, ST_DATA, ST_RESET, ST_STATE } from '../../../src/utp/packet.js';

function transfer(link: UtpLink, size: number, until = 600_000): Buffer {
  const data = randomBytes(size);
  link.run(5000, () => link.acceptor?.state === 'connected' || link.a.state === 'connected');
  assert.equal(link.a.state, 'connected');
  for (let off = 0; off < size; off += 16384) link.a.write(data.subarray(off, off + 16384));
  link.run(until, () => link.bytes(1).length >= size);
  assert.equal(link.bytes(1).length, size, `got ${link.bytes(1).length} of ${size}`);
  assert.ok(link.bytes(1).equals(data), 'bytes differ');
  return data;
}

test('handshake, a transfer both ways, and a FIN close on both sides', () => {
  const link = new UtpLink({ delay: 20 });
  transfer(link, 200_000);
  const back = randomBytes(5000);
  link.acceptor!.write(back);
  link.run(link.now + 5000, () => link.bytes(0).length >= back.length);
  assert.ok(link.bytes(0).equals(back));
  link.a.end();
  link.run(link.now + 5000, () => link.events[1].includes('end'));
  assert.deepEqual(link.events[1], ['end']);
  link.acceptor!.end();
  link.run(link.now + 5000, () => link.a.state === 'closed' && link.acceptor!.state === 'closed');
  assert.deepEqual(link.events[0], ['connected', 'end', 'closed']);
  assert.deepEqual(link.events[1], ['end', 'closed']);
});

test('sequence numbers wrap around 65535 without losing or reordering bytes', () => {
  const link = new UtpLink({ delay: 5, loss: 0.02, seed: 7 }, { seq: 65500 });
  transfer(link, 600_000); // ~450 packets: the counters wrap
  assert.ok(link.a.stats.sent > 300);
});

for (const [name, o] of [
  ['1 % loss', { loss: 0.01, delay: 25 }],
  ['5 % loss', { loss: 0.05, delay: 25 }],
  ['reordering', { jitter: 30, delay: 20 }],
  ['duplication', { duplicate: 0.1, delay: 15 }],
  ['300 ms RTT with loss and reordering', { loss: 0.02, jitter: 20, delay: 150 }],
] as const) {
  test(`transfer survives ${name}, byte for byte`, () => {
    const link = new UtpLink({ seed: 42, ...o });
    transfer(link, 1_000_000);
    if ('loss' in o) assert.ok(link.a.stats.resent > 0, 'expected retransmissions');
  });
}

test('loss is repaired by fast retransmit (SACK / duplicate acks), not only by timeouts', () => {
  const link = new UtpLink({ seed: 3, loss: 0.01, delay: 25 });
  transfer(link, 2_000_000);
  assert.ok(link.a.stats.fastRetransmits > 0);
  assert.ok(link.a.stats.fastRetransmits >= link.a.stats.timeouts, JSON.stringify(link.a.stats));
});

test('no 1-byte packets: small writes are coalesced while data is in flight', () => {
  const link = new UtpLink({ delay: 50 });
  link.run(5000, () => link.a.state === 'connected');
  const sentBefore = link.a.stats.sent;
  for (let i = 0; i < 2000; i++) link.a.write(Buffer.from([i & 0xff]));
  link.run(link.now + 10_000, () => link.bytes(1).length >= 2000);
  assert.equal(link.bytes(1).length, 2000);
  assert.ok(link.a.stats.sent - sentBefore <= 3, `${link.a.stats.sent - sentBefore} packets for 2000 bytes`);
});

test('the MTU is probed up from the safe start to the ceiling', () => {
  const link = new UtpLink({ delay: 10 }, { mtu: 576, mtuCeiling: 1472 });
  transfer(link, 300_000);
  assert.ok(link.a.packetSize >= 1450, `mtu ${link.a.packetSize}`);
});

test('a lost SYN is resent; an unanswered one gives up with UTP_CONNECT_TIMEOUT', () => {
  const dead = new UtpConnection({ recvId: 1, sendId: 2, seq: 1, now: 0 });
  let now = 0;
  let syns = 0;
  while (dead.state !== 'closed' && now < 100_000) {
    while (dead.pollTransmit(now)) syns++;
    now = dead.pollTimeout() ?? now + 1000;
    dead.handleTimeout(now);
  }
  assert.equal(syns, 3);
  const e = dead.pollEvent();
  assert.equal(e?.type, 'closed');
  assert.equal(e?.type === 'closed' ? e.error?.code : undefined, 'UTP_CONNECT_TIMEOUT');
  assert.equal(now, 3000); // a SYN a second, three in all
});

test('a peer that stops acking times the connection out with back-off', () => {
  const link = new UtpLink({ delay: 10 });
  link.run(5000, () => link.a.state === 'connected');
  link.o.loss = 1;
  link.a.write(randomBytes(10_000));
  link.run(600_000, () => link.a.state === 'closed');
  assert.deepEqual(link.events[0], ['connected', 'closed:UTP_TIMEOUT']);
  assert.ok(link.now > 30_000, `gave up after ${link.now} ms`);
});

test('bad input: acks of unsent data, absurd windows and RESETs are handled', () => {
  const link = new UtpLink({ delay: 10 });
  link.run(5000, () => link.a.state === 'connected');
  const a = link.a;
  const stats = { ...a.stats };
  const header = { connectionId: 100, timestamp: 0, timestampDiff: 0, seq: 1234, payload: new Uint8Array(0) };
  // Ack far ahead of anything sent: dropped.
  a.handle(decodePacket(encodePacket({ ...header, type: ST_STATE, window: 1000, ack: 30000 })), link.now);
  // Absurd window: dropped.
  a.handle(
    decodePacket(
      encodePacket({ ...header, type: ST_DATA, window: 0xffffffff, ack: 65531, payload: Buffer.from('x') }),
    ),
    link.now,
  );
  assert.equal(a.stats.received, stats.received);
  assert.equal(a.read(), undefined);
  a.handle(decodePacket(encodePacket({ ...header, type: ST_RESET, window: 0, ack: 0 })), link.now);
  assert.equal(a.state, 'closed');
  const e = a.pollEvent();
  assert.equal(e?.type === 'closed' ? e.error?.code : undefined, 'UTP_RESET');
});

test('fuzz: random packets into a live connection never throw and keep it bounded', () => {
  const link = new UtpLink({ delay: 10, seed: 9 });
  link.run(5000, () => link.a.state === 'connected');
  let seed = 1;
  const rnd = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const b = link.acceptor!;
  for (let i = 0; i < 20000; i++) {
    const type = Math.floor(rnd() * 5) as 0 | 1 | 2 | 3;
    if (type === ST_RESET) continue;
    const payload = new Uint8Array(Math.floor(rnd() * 50));
    const sack =
      rnd() < 0.3 ? new Uint8Array(4 * (1 + Math.floor(rnd() * 4))).map(() => rnd() * 256) : undefined;
    const p = {
      type,
      connectionId: 101,
      timestamp: rnd() * 2 ** 32,
      timestampDiff: rnd() * 2 ** 32,
      window: Math.floor(rnd() * 2 ** 21),
      seq: Math.floor(rnd() * 65536),
      ack: Math.floor(rnd() * 65536),
      payload,
      ...(sack ? { sack } : {}),
    };
    b.handle(decodePacket(encodePacket(p)), link.now + i);
    while (b.pollTransmit(link.now + i));
    b.read();
    if (b.state === 'closed') break;
  }
  assert.ok(b.bytesInFlight >= 0);
});

test('LEDBAT fills an idle 1 Mbit/s link and keeps its queue near the 100 ms target', () => {
  // 125 000 B/s, 50 ms RTT, a queue deep enough (1 s) that only delay can stop the sender.
  const link = new UtpLink({ delay: 25, rate: 125_000, queueBytes: 125_000 });
  link.run(5000, () => link.a.state === 'connected');
  const start = link.now;
  link.a.write(randomBytes(3_000_000));
  link.run(start + 20_000);
  const got = link.bytes(1).length;
  const utilisation = got / (125_000 * 20);
  assert.ok(utilisation >= 0.8, `utilisation ${utilisation.toFixed(2)}`);
  assert.equal(link.forward!.dropped, 0, 'delay-based control must not fill the queue to dropping');
  assert.ok(link.a.ledbat.lastQueuingUs < 200_000, `queuing ${link.a.ledbat.lastQueuingUs} µs`);
});

test('LEDBAT yields: a standing queue from another flow shrinks the window to the minimum', () => {
  const link = new UtpLink({ delay: 25, rate: 125_000, queueBytes: 200_000 });
  link.run(5000, () => link.a.state === 'connected');
  link.a.write(randomBytes(2_000_000));
  link.run(link.now + 5000);
  const before = link.a.congestionWindow;
  // A competing loss-based flow keeps ~150 KB (1.2 s) queued at the bottleneck.
  const end = link.now + 10_000;
  while (link.now < end) {
    while (link.forward!.admit(link.now, 1500) !== undefined);
    link.run(link.now + 20);
  }
  assert.ok(link.a.congestionWindow < before / 2, `cwnd ${link.a.congestionWindow} vs ${before}`);
  assert.ok(link.a.congestionWindow <= 2 * link.a.packetSize);
});

test('regression: a libtorrent-sized SACK (not a multiple of 4 bytes) is honoured', () => {
  const link = new UtpLink({ delay: 10 });
  link.run(5000, () => link.a.state === 'connected');
  const a = link.a;
  a.ledbat.cwnd = 100_000;
  a.write(randomBytes(1200 * 6));
  const sent: Uint8Array[] = [];
  for (let p = a.pollTransmit(link.now); p; p = a.pollTransmit(link.now)) sent.push(p);
  assert.ok(sent.length >= 5);
  const first = decodePacket(sent[0]!).seq;
  const before = a.stats.received;
  // The peer got packets 2..5 but not 1: ack = first - 1, SACK bits 0..3 (seqs first+1..first+4), 1 byte.
  const ack = encodePacket({
    type: ST_STATE,
    connectionId: 100,
    timestamp: 0,
    timestampDiff: 0,
    window: 1 << 20,
    seq: 1234,
    ack: (first - 1) & 0xffff,
    payload: new Uint8Array(0),
  });
  const withSack = new Uint8Array([...ack.subarray(0, 20), 0, 1, 0x0f]);
  withSack[1] = 1;
  a.handle(decodePacket(withSack), link.now + 1);
  assert.equal(a.stats.received, before + 1);
  assert.equal(a.stats.fastRetransmits, 1, 'the hole before 4 SACKed packets is resent');
  const resent = decodePacket(a.pollTransmit(link.now + 1)!);
  assert.equal(resent.seq, first);
});

test('random 1 % loss on an uncongested 10 Mbit/s link (50 ms RTT) still fills ≥ 80 % of it', () => {
  const rate = 1_250_000;
  const link = new UtpLink({ seed: 5, delay: 25, loss: 0.01, rate, queueBytes: rate / 2 });
  link.run(5000, () => link.a.state === 'connected');
  const start = link.now;
  const chunk = Buffer.alloc(1 << 20);
  while (link.now < start + 15_000) {
    while (link.a.writableLength < 4 << 20) link.a.write(chunk);
    link.run(link.now + 500);
  }
  const utilisation = link.bytes(1).length / (rate * 15);
  assert.ok(utilisation >= 0.8, `utilisation ${utilisation.toFixed(2)}`);
});

test('a peer ignoring our closed window cannot grow the receive buffer without bound', () => {
  const link = new UtpLink({ delay: 10 }, { receiveBuffer: 64 * 1024 });
  link.run(5000, () => link.a.state === 'connected');
  const b = link.acceptor!;
  // Nobody reads b (a paused transport): push 1 MB of in-order packets straight at it.
  let seq = 65530; // the SYN took 65530: data starts at 65531
  const payload = new Uint8Array(1400);
  for (let i = 0; i < 750; i++) {
    seq = (seq + 1) & 0xffff;
    b.handle(
      decodePacket(
        encodePacket({
          type: ST_DATA,
          connectionId: 101,
          timestamp: 0,
          timestampDiff: 0,
          window: 1 << 20,
          seq,
          ack: 1233,
          payload,
        }),
      ),
      link.now,
    );
  }
  const held = b.read()?.length ?? 0;
  assert.ok(held <= 64 * 1024 + 64 * 1024, `held ${held} bytes`);
  assert.ok(held >= 64 * 1024);
});

test('push(): the bytes written so far end a packet, even with data in flight (Transmission 3 interop)', () => {
  const link = new UtpLink({ delay: 50 });
  link.run(5000, () => link.a.state === 'connected');
  link.flush();
  const payloads: number[] = [];
  const send = (): void => {
    for (let d = link.a.pollTransmit(link.now); d; d = link.a.pollTransmit(link.now)) {
      const p = decodePacket(d);
      if (p.type === ST_DATA) payloads.push(p.payload.length);
    }
  };
  // A handshake-sized write pushed, then more: two packets at once, the first ending at the push.
  link.a.write(Buffer.alloc(68, 1));
  link.a.push();
  link.a.write(Buffer.alloc(129, 2));
  link.a.push();
  link.a.write(Buffer.alloc(10, 3));
  send();
  assert.deepEqual(payloads, [68, 129]);
  // Without a push the short rest waits for the acks (no small packets while data is in flight).
  link.a.write(Buffer.alloc(10, 4));
  send();
  assert.deepEqual(payloads, [68, 129]);
});
