import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lookup, compareDistance, type NodeInfo } from '../../../src/dht/index.js';
import { formatAddress } from '../../../src/util/compact.js';
import { prng, seededBytes } from '../../helpers/tmp.js';

interface SimNode extends NodeInfo {
  knows: NodeInfo[];
}

/** A synthetic network: every node knows its 8 nearest neighbours and 16 random nodes. */
function network(size: number, seed: number): SimNode[] {
  const rand = prng(seed);
  const nodes: SimNode[] = Array.from({ length: size }, (_, i) => ({
    id: seededBytes(20, seed * 1000 + i + 1),
    host: '10.0.0.1',
    port: 1000 + i,
    knows: [],
  }));
  for (const n of nodes) {
    const near = [...nodes].sort((a, b) => compareDistance(n.id, a.id, b.id)).slice(1, 9);
    const random = Array.from({ length: 16 }, () => nodes[Math.floor(rand() * size)]!);
    n.knows = [...near, ...random];
  }
  return nodes;
}

function run(
  l: Lookup,
  nodes: SimNode[],
  dead = new Set<number>(),
  peersAt = new Map<number, { host: string; port: number }[]>(),
) {
  const byKey = new Map(nodes.map((n) => [formatAddress(n), n]));
  let maxInFlight = 0;
  for (let rounds = 0; !l.done && rounds < 1000; rounds++) {
    const batch = l.next();
    maxInFlight = Math.max(maxInFlight, l.inFlight);
    if (batch.length === 0) break;
    for (const addr of batch) {
      const n = byKey.get(formatAddress(addr))!;
      if (dead.has(n.port)) {
        l.failed(addr);
        continue;
      }
      const answer = [...n.knows].sort((a, b) => compareDistance(l.target, a.id, b.id)).slice(0, 8);
      l.answered(addr, n.id, answer, peersAt.get(n.port) ?? [], Buffer.from(`tok${n.port}`));
    }
  }
  return { maxInFlight };
}

test('finds the k closest nodes of a 500-node network with alpha = 3', () => {
  const nodes = network(500, 3);
  for (let trial = 0; trial < 5; trial++) {
    const target = seededBytes(20, 777 + trial);
    const truth = [...nodes].sort((a, b) => compareDistance(target, a.id, b.id)).slice(0, 8);
    const seeds = [nodes[trial * 7]!, nodes[trial * 7 + 1]!];
    const l = new Lookup(target, seeds, { k: 8, alpha: 3 });
    const { maxInFlight } = run(l, nodes);
    assert.ok(l.done);
    assert.ok(maxInFlight <= 3, `in flight ${maxInFlight}`);
    assert.deepEqual(
      l.closest().map((n) => n.port),
      truth.map((n) => n.port),
    );
    assert.ok(l.queriesSent < 120, `queries ${l.queriesSent}`);
    assert.ok(
      l.closest().every((n) => n.token?.toString() === `tok${n.port}`),
      'tokens kept for announce',
    );
  }
});

test('failed nodes are skipped and peers are collected once', () => {
  const nodes = network(200, 9);
  const target = seededBytes(20, 4242);
  const truth = [...nodes].sort((a, b) => compareDistance(target, a.id, b.id));
  const dead = new Set([truth[0]!.port, truth[2]!.port]);
  const peer = { host: '1.2.3.4', port: 6881 };
  const peersAt = new Map([
    [truth[1]!.port, [peer]],
    [truth[3]!.port, [peer, { host: '5.6.7.8', port: 1 }]],
  ]);
  const l = new Lookup(target, [nodes[0]!, nodes[1]!, nodes[2]!], { k: 8, alpha: 3 });
  run(l, nodes, dead, peersAt);
  assert.ok(l.done);
  const closest = l.closest().map((n) => n.port);
  assert.ok(!closest.includes(truth[0]!.port) && !closest.includes(truth[2]!.port));
  assert.deepEqual(
    closest,
    truth
      .filter((n) => !dead.has(n.port))
      .slice(0, 8)
      .map((n) => n.port),
  );
  assert.deepEqual(l.peers, [peer, { host: '5.6.7.8', port: 1 }]);
});

test('ends with no seeds, ignores unsolicited answers, caps queries', () => {
  const target = Buffer.alloc(20);
  const empty = new Lookup(target, []);
  assert.ok(empty.done);
  assert.deepEqual(empty.answered({ host: '1.1.1.1', port: 1 }, target, []), []);
  // A hostile node that always invents 8 new closer ids cannot keep the lookup alive forever.
  let seq = 0;
  const l = new Lookup(target, [{ host: '10.0.0.1', port: 1 }], { maxQueries: 50 });
  while (!l.done) {
    for (const a of l.next()) {
      const fake = Array.from({ length: 8 }, () => {
        seq++;
        const id = Buffer.alloc(20, 0);
        id.writeUInt32BE(0xffffffff - seq, 16);
        return { id, host: '10.0.0.2', port: seq };
      });
      l.answered(a, Buffer.alloc(20, 0xff), fake);
    }
  }
  assert.equal(l.queriesSent, 50);
});

test('a stalled query frees its alpha slot but is still awaited while among the k closest', () => {
  const target = Buffer.alloc(20);
  const seeds = [1, 2, 3, 4].map((i) => {
    const id = Buffer.alloc(20);
    id[19] = i;
    return { id, host: '10.0.0.1', port: i };
  });
  const l = new Lookup(target, seeds, { k: 8, alpha: 3 });
  assert.deepEqual(
    l.next().map((a) => a.port),
    [1, 2, 3],
  );
  assert.deepEqual(l.next(), []);
  l.stalled(seeds[0]!);
  assert.deepEqual(
    l.next().map((a) => a.port),
    [4],
    'slot reused',
  );
  for (const s of seeds.slice(1)) l.answered(s, s.id, []);
  assert.equal(l.done, false, 'the stalled node is one of the k closest');
  l.answered(seeds[0]!, seeds[0]!.id, []);
  assert.ok(l.done);
  assert.deepEqual(
    l.closest().map((n) => n.port),
    [1, 2, 3, 4],
  );
});
