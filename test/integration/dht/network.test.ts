import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { DhtNode, encodeKrpc, decodeKrpc, type KrpcMessage } from '../../../src/dht/index.js';
import type { PeerAddress } from '../../../src/util/compact.js';
import { seededBytes } from '../../helpers/tmp.js';
import { FakeClock } from '../../../src/util/clock.js';

const LOOP = '127.0.0.1';

async function startNetwork(count: number, opts: { queryTimeoutMs?: number } = {}): Promise<DhtNode[]> {
  const nodes: DhtNode[] = [];
  for (let i = 0; i < count; i++) {
    const n = new DhtNode({
      host: LOOP,
      port: 0,
      bootstrap: i === 0 ? [] : [nodes[0]!.address()!],
      queryTimeoutMs: opts.queryTimeoutMs ?? 1000,
    });
    await n.listen();
    nodes.push(n);
  }
  for (const n of nodes.slice(1)) await n.bootstrap();
  return nodes;
}

/** Sends one raw datagram to a node and waits for at most one reply. */
function rawExchange(to: PeerAddress, payload: Buffer, waitMs = 300): Promise<KrpcMessage | undefined> {
  const sock = createSocket('udp4');
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), waitMs);
    const done = (m: KrpcMessage | undefined): void => {
      clearTimeout(timer);
      sock.close();
      resolve(m);
    };
    sock.on('message', (msg) => done(decodeKrpc(msg)));
    sock.bind(0, LOOP, () => sock.send(payload, to.port, to.host));
  });
}

test('30 nodes on loopback: get_peers finds what announce_peer stored', { timeout: 30_000 }, async (t) => {
  const nodes = await startNetwork(30);
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  for (const n of nodes) assert.ok(n.stats.nodes >= 1, 'every node learnt others');
  // Responders report the address they saw us at (BEP 42 'ip'); enough agree to trust it.
  assert.deepEqual(nodes[9]!.externalAddress, nodes[9]!.address());
  const infoHash = seededBytes(20, 99);
  const announced: string[] = [];
  for (const n of nodes)
    n.on('announce', (_h: Buffer, p: PeerAddress) => announced.push(`${p.host}:${p.port}`));

  const r = await nodes[7]!.announce(infoHash, 51413);
  assert.ok(r.announcedTo >= 3, `announced to ${r.announcedTo}`);
  assert.ok(announced.every((a) => a === `${LOOP}:51413`));

  const r2 = await nodes[22]!.announce(infoHash, 0, true);
  assert.ok(r2.announcedTo >= 3);
  const impliedPort = nodes[22]!.address()!.port;

  const batches: number[] = [];
  nodes[15]!.on('peers', (h: Buffer, peers: unknown[]) => h.equals(infoHash) && batches.push(peers.length));
  const peers = await nodes[15]!.lookup(infoHash);
  const ports = peers.map((p) => p.port).sort((a, b) => a - b);
  assert.deepEqual(new Set(ports), new Set([51413, impliedPort]));
  assert.ok(peers.every((p) => p.source.kind === 'dht' && p.host === LOOP));
  assert.ok(batches.length >= 1);
  const stats = nodes[15]!.stats;
  assert.ok(stats.lookups >= 2 && stats.packetsOut > 0 && stats.packetsIn > 0, JSON.stringify(stats));

  // find_node converges on the node whose id is the target.
  const found = await nodes[3]!.findNode(nodes[28]!.id);
  assert.ok(found[0]!.id.equals(nodes[28]!.id));
});

test(
  'restore from saved state makes a warm start without the bootstrap node',
  { timeout: 20_000 },
  async (t) => {
    const nodes = await startNetwork(12, { queryTimeoutMs: 250 });
    const extra: DhtNode[] = [];
    t.after(() => Promise.all([...nodes, ...extra].map((n) => n.close())));
    const saved = JSON.parse(JSON.stringify(nodes[5]!)) as unknown;
    await nodes[5]!.close();
    const restored = DhtNode.restore(saved, { host: LOOP, port: 0, bootstrap: [], queryTimeoutMs: 250 });
    extra.push(restored);
    assert.ok(restored.id.equals(nodes[5]!.id));
    assert.ok(restored.stats.nodes >= 5, `restored ${restored.stats.nodes} nodes`);
    await restored.listen();
    await nodes[0]!.close(); // the bootstrap node is gone; restored contacts must carry us
    const { nodes: known } = await restored.bootstrap();
    assert.ok(known >= 5);
    assert.ok(restored.stats.goodNodes >= 5, `good ${restored.stats.goodNodes}`);
    const infoHash = seededBytes(20, 5);
    await nodes[9]!.announce(infoHash, 7000);
    const peers = await restored.lookup(infoHash);
    assert.deepEqual(
      peers.map((p) => p.port),
      [7000],
    );
  },
);

test(
  'malformed packets are counted and ignored; queries are rate limited per IP; read-only nodes stay silent',
  { timeout: 10_000 },
  async (t) => {
    const node = new DhtNode({ host: LOOP, port: 0, bootstrap: [], rateLimit: { perSecond: 0.1, burst: 5 } });
    const ro = new DhtNode({
      host: LOOP,
      port: 0,
      bootstrap: [node.address() ?? { host: LOOP, port: 1 }],
      readOnly: true,
    });
    t.after(() => Promise.all([node.close(), ro.close()]));
    const addr = await node.listen();
    const roAddr = await ro.listen();

    const junk = ['hello', 'd1:t2:aa1:y1:qe', 'i42e', 'd1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe'];
    const junkReplies = await Promise.all(junk.map((j) => rawExchange(addr, Buffer.from(j), 150)));
    assert.deepEqual(junkReplies, [undefined, undefined, undefined, undefined]);
    assert.equal(node.stats.malformedDropped, 4);

    const ping = (i: number) =>
      encodeKrpc({ y: 'q', t: Buffer.from([0, i]), q: 'ping', a: { id: seededBytes(20, i + 1) } });
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => rawExchange(addr, ping(i), 300)));
    const answered = replies.filter((r) => r?.y === 'r').length;
    assert.equal(answered, 5, 'burst of 5 answered, the rest dropped');
    assert.equal(node.stats.rateLimited, 3);
    const unknown = await rawExchange(
      addr,
      encodeKrpc({ y: 'q', t: Buffer.from('zz'), q: 'vote', a: { id: seededBytes(20, 50) } }),
      300,
    );
    assert.equal(unknown, undefined, 'still limited');

    // A read-only node answers nothing, but can query: its pings carry ro=1 and it is not added.
    assert.equal(await rawExchange(roAddr, ping(9), 150), undefined);
    const before = node.stats.nodes;
    const node2 = new DhtNode({ host: LOOP, port: 0, bootstrap: [] });
    t.after(() => node2.close());
    const addr2 = await node2.listen();
    assert.ok(await ro.addNode(addr2));
    assert.equal(node2.stats.nodes, 0, 'read-only querier not added to the routing table');
    assert.equal(ro.stats.nodes, 1, 'but the read-only node learnt the responder');
    assert.equal(node.stats.nodes, before);
  },
);

test(
  'announce_peer with a bad token gets error 203; unknown methods get 204',
  { timeout: 10_000 },
  async (t) => {
    const node = new DhtNode({ host: LOOP, port: 0, bootstrap: [] });
    t.after(() => node.close());
    const addr = await node.listen();
    const id = seededBytes(20, 1);
    const bad = await rawExchange(
      addr,
      encodeKrpc({
        y: 'q',
        t: Buffer.from('a1'),
        q: 'announce_peer',
        a: { id, infoHash: id, port: 1, token: Buffer.from('nope') },
      }),
    );
    assert.ok(bad?.y === 'e' && bad.code === 203);
    const unk = await rawExchange(addr, encodeKrpc({ y: 'q', t: Buffer.from('a2'), q: 'vote', a: { id } }));
    assert.ok(unk?.y === 'e' && unk.code === 204);
    const gp = await rawExchange(
      addr,
      encodeKrpc({ y: 'q', t: Buffer.from('a3'), q: 'get_peers', a: { id, infoHash: id } }),
    );
    assert.ok(gp?.y === 'r' && gp.r.token && gp.ip?.port !== undefined, 'token and BEP 42 ip in the reply');
  },
);

test('BEP 32: an IPv6 network on ::1 uses nodes6 and finds IPv6 peers', { timeout: 10_000 }, async (t) => {
  const probe = new DhtNode({ host: '::1', port: 0, bootstrap: [] });
  try {
    await probe.listen();
  } catch {
    t.skip('no IPv6 loopback on this host');
    return;
  } finally {
    await probe.close();
  }
  const nodes: DhtNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  for (let i = 0; i < 8; i++) {
    const n = new DhtNode({
      host: '::1',
      port: 0,
      bootstrap: i ? [nodes[0]!.address()!] : [],
      queryTimeoutMs: 500,
    });
    await n.listen();
    if (i) await n.bootstrap();
    nodes.push(n);
  }
  assert.equal(nodes[0]!.family, 6);
  const infoHash = seededBytes(20, 66);
  assert.ok((await nodes[2]!.announce(infoHash, 555)).announcedTo >= 3);
  const peers = await nodes[6]!.lookup(infoHash);
  assert.deepEqual(peers, [{ host: '::1', port: 555, source: { kind: 'dht' } }]);
  // A raw find_node over IPv6 is answered with nodes6.
  const sock = createSocket('udp6');
  t.after(() => sock.close());
  const reply = await new Promise<KrpcMessage>((resolve) => {
    sock.on('message', (m) => resolve(decodeKrpc(m)));
    const q = encodeKrpc({
      y: 'q',
      t: Buffer.from('v6'),
      q: 'find_node',
      a: { id: seededBytes(20, 3), target: infoHash },
    });
    sock.bind(0, '::1', () => sock.send(q, nodes[1]!.address()!.port, '::1'));
  });
  assert.ok(reply.y === 'r' && reply.r.nodes6 && reply.r.nodes6.length >= 5 && reply.r.nodes === undefined);
});

test('query timeouts and bad nodes run on the injected clock', { timeout: 10_000 }, async (t) => {
  const clock = new FakeClock();
  const node = new DhtNode({ host: LOOP, port: 0, bootstrap: [], clock, queryTimeoutMs: 3000 });
  const silent = createSocket('udp4');
  t.after(async () => {
    silent.close();
    await node.close();
  });
  await node.listen();
  await new Promise<void>((resolve) => silent.bind(0, LOOP, resolve));
  let settled: boolean | undefined;
  void node.addNode({ host: LOOP, port: silent.address().port }).then((ok) => (settled = ok));
  while (node.stats.packetsOut === 0) await new Promise((r) => setImmediate(r));
  clock.advance(2999);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, undefined, 'still waiting at 2999 ms');
  clock.advance(1);
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'timed out at 3000 ms without any real waiting');
});

test(
  'maintenance on the clock: unanswered nodes turn bad, answering ones stay good',
  { timeout: 15_000 },
  async (t) => {
    const clock = new FakeClock();
    const live = new DhtNode({ host: LOOP, port: 0, bootstrap: [] });
    const silent = createSocket('udp4');
    await live.listen();
    await new Promise<void>((resolve) => silent.bind(0, LOOP, resolve));
    const deadId = seededBytes(20, 404);
    const state = {
      id: seededBytes(20, 1).toString('hex'),
      nodes: [
        { id: live.id.toString('hex'), host: LOOP, port: live.address()!.port },
        { id: deadId.toString('hex'), host: LOOP, port: silent.address().port },
      ],
    };
    const node = DhtNode.restore(state, { host: LOOP, port: 0, bootstrap: [], clock, queryTimeoutMs: 3000 });
    t.after(async () => {
      silent.close();
      await Promise.all([node.close(), live.close()]);
    });
    await node.listen();
    const until = async (what: string, pred: () => boolean): Promise<void> => {
      const end = Date.now() + 5000;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const dead = () => node.table.get(deadId)!;
    for (let round = 1; round <= 2; round++) {
      const answered = node.stats.packetsIn;
      clock.advance(60_000); // maintenance: the table is small, so it bootstraps from its contacts
      await until('the live node to answer', () => node.stats.packetsIn > answered);
      clock.advance(3000); // the silent node's query times out
      await until('the timeout to count', () => dead().failures >= round);
    }
    assert.equal(node.table.stateOf(dead()), 'bad');
    assert.equal(node.table.stateOf(node.table.get(live.id)!), 'good');
    assert.ok(
      !node.table.closest(deadId, 8).some((n) => n.id.equals(deadId)),
      'bad nodes are not handed out',
    );
  },
);

test(
  '1,200 queries with ids close to ours from one socket take one routing-table slot',
  { timeout: 20_000 },
  async (t) => {
    const node = new DhtNode({
      host: LOOP,
      port: 0,
      bootstrap: [],
      rateLimit: { perSecond: 1e6, burst: 1e6 },
    });
    await node.listen();
    t.after(() => node.close());
    const sock = createSocket('udp4');
    t.after(() => sock.close());
    await new Promise<void>((r) => sock.bind(0, LOOP, r));
    let answered = 0;
    sock.on('message', () => answered++);
    const to = node.address()!;
    for (let i = 0; i < 1200; i++) {
      const id = Buffer.from(node.id);
      id[18] ^= (i >> 8) + 1;
      id[19] ^= i & 0xff;
      sock.send(
        encodeKrpc({ y: 'q', t: Buffer.from([i >> 8, i & 0xff]), q: 'ping', a: { id } }),
        to.port,
        to.host,
      );
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
    }
    const deadline = Date.now() + 5000;
    while (answered < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(answered >= 600, `${answered} answers`); // loopback may drop a few under load
    assert.equal(node.stats.nodes, 1, 'one endpoint, one node');
    assert.equal(node.table.closest(node.id, 8).length, 1);
  },
);
