import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Transport } from '../../../src/net/transport.js';
import {
  Prng,
  Simulation,
  SimNetwork,
  mbit,
  type HostOptions,
  type NetworkOptions,
} from '../../sim/index.js';

function world(a: HostOptions = {}, b: HostOptions = {}, o: NetworkOptions & { seed?: number } = {}) {
  const sim = new Simulation({ seed: o.seed ?? 7 });
  const net = new SimNetwork(sim, o);
  return { sim, net, a: net.addHost('10.0.0.1', a), b: net.addHost('10.0.0.2', b) };
}

interface Sink {
  bytes: Buffer[];
  length: number;
  events: string[];
  error?: NodeJS.ErrnoException;
}

function sink(t: Transport): Sink {
  const s: Sink = { bytes: [], length: 0, events: [] };
  t.on('data', (c) => {
    s.bytes.push(Buffer.from(c));
    s.length += c.length;
  });
  t.on('error', (e) => {
    s.error = e;
    s.events.push(`error ${e.code}`);
  });
  t.on('close', () => s.events.push('close'));
  return s;
}

/** Writes `data` in 16 KiB pieces, respecting write() === false and 'drain'. */
function pump(t: Transport, data: Buffer, then?: () => void): { falses: number; written: number } {
  let at = 0;
  const st = { falses: 0, written: 0 };
  const more = (): void => {
    while (at < data.length) {
      const ok = t.write(data.subarray(at, at + 16384));
      at += 16384;
      st.written = Math.min(at, data.length);
      if (!ok) {
        st.falses++;
        t.once('drain', more);
        return;
      }
    }
    then?.();
  };
  more();
  return st;
}

async function serve(sim: Simulation, host: ReturnType<typeof world>['b'], port = 6881) {
  const accepted: Transport[] = [];
  await host.listen('0.0.0.0', port, (t) => accepted.push(t));
  return accepted;
}

test('connect, send both ways, end: everything arrives in order, both sides close once', async () => {
  const { sim, a, b } = world({ link: { latencyMs: 20 } }, { link: { latencyMs: 30 } });
  const accepted = await serve(sim, b);
  const c = a.connect('10.0.0.2', 6881);
  const cs = sink(c);
  let connectedAt = -1;
  c.once('connect', () => (connectedAt = sim.now()));
  const up = new Prng(1).bytes(300_000);
  const down = new Prng(2).bytes(200_000);
  c.once('connect', () => pump(c, up, () => c.end()));
  await sim.run({ until: () => accepted.length === 1 });
  const srv = accepted[0]!;
  assert.equal(srv.remoteAddress, '10.0.0.1');
  assert.equal(srv.kind, 'sim');
  const ss = sink(srv);
  pump(srv, down);
  await sim.run();
  assert.equal(connectedAt, 100, 'SYN and SYN-ACK: one round trip of 2 × (20 + 30) ms');
  assert.ok(Buffer.concat(ss.bytes).equals(up));
  assert.ok(Buffer.concat(cs.bytes).equals(down));
  assert.deepEqual(cs.events, ['close']);
  assert.deepEqual(ss.events, ['close']);
  assert.ok(c.destroyed && srv.destroyed);
  assert.equal(a.streams.size + b.streams.size, 0, 'no stream state left');
});

test('nobody listening: ECONNREFUSED; no such host: ETIMEDOUT after the SYN retries', async () => {
  const { sim, a } = world();
  const refused = sink(a.connect('10.0.0.2', 1234));
  const lost = sink(a.connect('10.7.7.7', 1234));
  await sim.run({ until: () => refused.events.length === 2 });
  assert.deepEqual(refused.events, ['error ECONNREFUSED', 'close']);
  assert.equal(refused.error?.syscall, 'connect');
  await sim.run();
  assert.deepEqual(lost.events, ['error ETIMEDOUT', 'close']);
  assert.equal(sim.now(), 15_000, 'SYN at 0, retries at 1, 3 and 7 s, given up at 15 s');
});

test('throughput is the bottleneck rate minus header overhead', async () => {
  // 10 Mbit/s bottleneck on the receiver's downlink, 40 ms RTT; 4 MB transfer.
  const { sim, a, b } = world(
    { link: { latencyMs: 10 } },
    { link: { latencyMs: 10 }, down: { bitsPerSecond: mbit(10) } },
  );
  const accepted = await serve(sim, b);
  const data = new Prng(3).bytes(2_000_000);
  const c = a.connect('10.0.0.2', 6881);
  c.once('connect', () => pump(c, data, () => c.end()));
  await sim.run({ until: () => accepted.length === 1 });
  const s = sink(accepted[0]!);
  let half = 0;
  let halfAt = 0;
  accepted[0]!.on('data', () => {
    if (!half && s.length >= data.length / 4) [half, halfAt] = [s.length, sim.now()];
  });
  await sim.run({ until: () => s.length === data.length });
  const rate = ((s.length - half) * 8) / ((sim.now() - halfAt) / 1000);
  const ceiling = (mbit(10) * 1460) / 1500;
  assert.ok(rate <= ceiling * 1.001, `rate ${rate} above the link`);
  assert.ok(
    rate > ceiling * 0.95,
    `rate ${(rate / 1e6).toFixed(2)} Mbit/s, expected ≈ ${(ceiling / 1e6).toFixed(2)}`,
  );
});

test('loss, reordering and duplication both ways: retransmission delivers every byte in order', async () => {
  const bad = {
    loss: 0.03,
    reorder: 0.05,
    reorderDelayMs: 15,
    duplicate: 0.02,
    bitsPerSecond: mbit(20),
    latencyMs: 15,
  };
  const { sim, a, b } = world({ link: bad }, { link: bad });
  const accepted = await serve(sim, b);
  const data = new Prng(4).bytes(2_000_000);
  const c = a.connect('10.0.0.2', 6881);
  const st = c as unknown as { stats: { retransmits: number; fastRetransmits: number; timeouts: number } };
  c.once('connect', () => pump(c, data, () => c.end()));
  await sim.run({ until: () => accepted.length === 1 });
  const s = sink(accepted[0]!);
  await sim.run();
  assert.equal(s.length, data.length);
  assert.equal(
    createHash('sha1').update(Buffer.concat(s.bytes)).digest('hex'),
    createHash('sha1').update(data).digest('hex'),
  );
  assert.deepEqual(s.events, ['close']);
  assert.ok(st.stats.retransmits > 20, `retransmits ${JSON.stringify(st.stats)}`);
  assert.ok(st.stats.fastRetransmits > 0);
});

test('flow control: write() turns false and drain follows; a paused reader closes the window', async () => {
  const { sim, a, b } = world(
    { link: { latencyMs: 5 } },
    { link: { latencyMs: 5 } },
    { tcp: { receiveBuffer: 256 << 10 } },
  );
  const accepted = await serve(sim, b);
  const c = a.connect('10.0.0.2', 6881);
  const data = new Prng(5).bytes(3_000_000);
  let st = { falses: 0, written: 0 };
  c.once('connect', () => (st = pump(c, data)));
  await sim.run({ until: () => accepted.length === 1 });
  const srv = accepted[0]!;
  srv.pause();
  const s = sink(srv);
  await sim.run({ for: 2_000 });
  assert.equal(s.length, 0, 'paused: nothing delivered');
  assert.ok(st.falses >= 1, 'the writer was told to wait');
  assert.ok(c.writableLength > 0, 'the sender holds what the window refused');
  assert.ok(st.written < data.length / 2, `the writer stopped at ${st.written}`);
  // What left the writer's buffer sits in the receiver's 256 KiB window and the sender's
  // send buffer (2 × cwnd), not anywhere without bound.
  const held = st.written - c.writableLength;
  assert.ok(held < 800_000, `in the network and buffers: ${held}`);
  srv.resume();
  await sim.run({ until: () => s.length === data.length, for: 60_000 });
  assert.ok(Buffer.concat(s.bytes).equals(data));
  assert.ok(st.falses >= 2, `drain followed by more writes (${st.falses} waits)`);
  assert.equal(c.writableLength, 0);
});

test('destroy() resets the peer: ECONNRESET there, a plain close here', async () => {
  const { sim, a, b } = world();
  const accepted = await serve(sim, b);
  const c = a.connect('10.0.0.2', 6881);
  const cs = sink(c);
  c.once('connect', () => c.write(Buffer.from('hi')));
  await sim.run({ until: () => accepted.length === 1 });
  const ss = sink(accepted[0]!);
  await sim.run({ for: 100 });
  c.destroy();
  assert.equal(c.destroyed, true);
  assert.equal(c.write(Buffer.from('late')), false);
  await sim.run();
  assert.deepEqual(cs.events, ['close']);
  assert.deepEqual(ss.events, ['error ECONNRESET', 'close']);
  assert.equal(Buffer.concat(ss.bytes).toString(), 'hi');
});

test('a closed listener refuses new connections', async () => {
  const { sim, a, b } = world();
  const l = await b.listen('0.0.0.0', 6881, () => {});
  await assert.rejects(
    b.listen('0.0.0.0', 6881, () => {}),
    { code: 'EADDRINUSE' },
  );
  await l.close();
  const s = sink(a.connect('10.0.0.2', 6881));
  await sim.run();
  assert.deepEqual(s.events, ['error ECONNREFUSED', 'close']);
});

async function lossyRun(seed: number): Promise<{ hash: string; time: number; events: number }> {
  const bad = { loss: 0.02, reorder: 0.05, duplicate: 0.01, bitsPerSecond: mbit(50), latencyMs: 7 };
  const { sim, a, b } = world({ link: bad }, { link: bad }, { seed });
  const accepted = await serve(sim, b);
  const c = a.connect('10.0.0.2', 6881);
  c.once('connect', () => pump(c, new Prng(9).bytes(500_000), () => c.end()));
  await sim.run({ until: () => accepted.length === 1 });
  sink(accepted[0]!);
  await sim.run();
  return { hash: sim.traceHash, time: sim.now(), events: sim.events };
}

test('determinism: the same seed gives the same event trace, another seed another', async () => {
  const one = await lossyRun(11);
  const again = await lossyRun(11);
  const other = await lossyRun(12);
  assert.deepEqual(again, one);
  assert.notEqual(other.hash, one.hash);
});

test('a 100 Mbit/s, 200 ms RTT path: the window grows past the bandwidth-delay product', async () => {
  // BDP = 12.5 MB/s × 0.2 s = 2.5 MB; the 4 MiB window and a 2 MiB queue do not cap it.
  const far = { latencyMs: 50, bitsPerSecond: mbit(100), queueBytes: 2 << 20 };
  const { sim, a, b } = world({ link: far }, { link: far });
  const accepted = await serve(sim, b);
  const data = new Prng(6).bytes(10_000_000);
  const c = a.connect('10.0.0.2', 6881);
  c.once('connect', () => pump(c, data));
  await sim.run({ until: () => accepted.length === 1 });
  const s = sink(accepted[0]!);
  const marks: [number, number][] = [];
  accepted[0]!.on('data', () => marks.push([sim.now(), s.length]));
  await sim.run({ until: () => s.length === data.length });
  const from = marks.find(([, n]) => n >= data.length * 0.3)!;
  const rate = ((s.length - from[1]) * 8) / ((sim.now() - from[0]) / 1000);
  assert.ok(rate >= 0.9 * mbit(100), `steady rate ${(rate / 1e6).toFixed(1)} Mbit/s`);
});
