import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation, SimNetwork, UDP_HEADER, mbit } from '../../sim/index.js';

function pair(o: { up?: object; down?: object; seed?: number } = {}) {
  const sim = new Simulation({ seed: o.seed ?? 1 });
  const net = new SimNetwork(sim);
  const a = net.addHost('10.0.0.1', { up: o.up ?? {} });
  const b = net.addHost('10.0.0.2', { down: o.down ?? {} });
  return { sim, net, a, b };
}

test('a datagram takes the sender uplink latency plus the receiver downlink latency', async () => {
  const { sim, a, b } = pair({ up: { latencyMs: 10 }, down: { latencyMs: 25 } });
  const got: { at: number; msg: string; from: string }[] = [];
  b.udp(7000, (msg, from) =>
    got.push({ at: sim.now(), msg: msg.toString(), from: `${from.address}:${from.port}` }),
  );
  const s = a.udp(5000, () => {});
  s.send(Buffer.from('hello'), 7000, '10.0.0.2');
  s.send(Buffer.from('other port'), 7001, '10.0.0.2'); // nobody bound: dropped
  await sim.run();
  assert.deepEqual(got, [{ at: 35, msg: 'hello', from: '10.0.0.1:5000' }]);
});

test('bandwidth adds serialisation delay on each hop (store and forward)', async () => {
  // 8 Mbit/s = 1000 bytes per ms on both hops; 972 payload + 28 header = 1000 bytes on the wire.
  const { sim, a, b } = pair({
    up: { latencyMs: 5, bitsPerSecond: mbit(8) },
    down: { latencyMs: 5, bitsPerSecond: mbit(8) },
  });
  const at: number[] = [];
  b.udp(1, () => at.push(sim.now()));
  const s = a.udp(2, () => {});
  for (let i = 0; i < 3; i++) s.send(Buffer.alloc(1000 - UDP_HEADER), 1, '10.0.0.2');
  await sim.run();
  // First packet: 1 ms up + 5 + 1 ms down + 5 = 12; the next ones follow 1 ms apart.
  assert.deepEqual(
    at.map((t) => Math.round(t * 1000) / 1000),
    [12, 13, 14],
  );
});

test('a full queue drops the tail', async () => {
  const { sim, a, b, net } = pair({ up: { bitsPerSecond: mbit(8), queueBytes: 10_000 } });
  let n = 0;
  b.udp(1, () => n++);
  const s = a.udp(2, () => {});
  for (let i = 0; i < 100; i++) s.send(Buffer.alloc(1000 - UDP_HEADER), 1, '10.0.0.2');
  await sim.run();
  assert.equal(n, 10);
  assert.equal(a.up.stats.queueDrops, 90);
  assert.equal(a.up.stats.maxBacklog, 10_000);
  assert.equal(net.stats.delivered, 10);
});

test('loss, reordering and duplication happen at about their configured rates', async () => {
  const { sim, a, b } = pair({ up: { loss: 0.1, reorder: 0.2, reorderDelayMs: 20, duplicate: 0.05 } });
  const seen: number[] = [];
  b.udp(1, (m) => seen.push(m.readUInt32BE(0)));
  const s = a.udp(2, () => {});
  const N = 5000;
  for (let i = 0; i < N; i++) {
    const m = Buffer.alloc(4);
    m.writeUInt32BE(i);
    s.send(m, 1, '10.0.0.2');
  }
  await sim.run();
  const st = a.up.stats;
  assert.ok(Math.abs(st.lost / N - 0.1) < 0.02, `lost ${st.lost}`);
  assert.ok(Math.abs(st.duplicated / (N - st.lost) - 0.05) < 0.015, `duplicated ${st.duplicated}`);
  assert.equal(seen.length, N - st.lost + st.duplicated);
  let inversions = 0;
  for (let i = 1; i < seen.length; i++) if (seen[i]! < seen[i - 1]!) inversions++;
  assert.ok(inversions > N * 0.05, `reordered arrivals: ${inversions}`);
});

test('an unknown destination is unroutable, an unplugged host hears nothing', async () => {
  const { sim, a, b, net } = pair();
  let n = 0;
  b.udp(1, () => n++);
  const s = a.udp(2, () => {});
  s.send(Buffer.from('x'), 1, '10.9.9.9');
  b.setOnline(false);
  s.send(Buffer.from('y'), 1, '10.0.0.2');
  await sim.run();
  b.setOnline(true);
  s.send(Buffer.from('z'), 1, '10.0.0.2');
  await sim.run();
  assert.equal(net.stats.unroutable, 1);
  assert.equal(n, 1);
});
