import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RoutingTable,
  NODE_GOOD_MS,
  BUCKET_REFRESH_MS,
  commonPrefixLength,
  compareDistance,
  xorDistance,
  bep42NodeId,
  isValidBep42Id,
  randomIdWithPrefix,
} from '../../../src/dht/index.js';
import { FakeClock } from '../../../src/util/clock.js';

/** An id sharing exactly `prefix` bits with `base`. */
function idAt(base: Buffer, prefix: number, tail = 0): Buffer {
  const id = randomIdWithPrefix(base, prefix, true);
  id[19] = tail;
  return id;
}

const own = Buffer.alloc(20, 0);
let portSeq = 1000;
/** A node at its own address, in its own /24 (the table rations nodes per IP and subnet). */
const contact = (id: Buffer) => {
  const n = portSeq++;
  return { id, host: `10.${(n >> 8) & 255}.${n & 255}.1`, port: n };
};

test('distance uses all 160 bits', () => {
  const a = Buffer.alloc(20);
  const b = Buffer.alloc(20);
  b[19] = 1;
  const c = Buffer.alloc(20);
  c[19] = 2;
  assert.equal(commonPrefixLength(a, b), 159);
  assert.ok(compareDistance(a, b, c) < 0, 'differences in the last byte still order nodes');
  assert.equal(xorDistance(b, c)[19], 3);
});

test('buckets split only around our own id; far buckets stay at k', () => {
  const clock = new FakeClock();
  const table = new RoutingTable(own, clock);
  // 20 nodes in the far half (first bit differs): only 8 fit, the rest go to the replacement cache.
  for (let i = 0; i < 20; i++) table.heard(contact(idAt(own, 0, i)), 'response');
  assert.equal(table.size, 8);
  // Nodes close to us keep splitting the bucket our id is in.
  const near: Buffer[] = [];
  for (let p = 1; p < 40; p++) for (let i = 0; i < 3; i++) near.push(idAt(own, p, i));
  for (const id of near) table.heard(contact(id), 'response');
  assert.equal(table.size, 8 + 39 * 3);
  assert.ok(table.bucketCount >= 39, `buckets ${table.bucketCount}`);
  // The closest lookup is exact on full ids.
  for (const target of [near[50]!, near.at(-1)!]) assert.ok(table.closest(target, 1)[0]!.id.equals(target));
});

test('node states: good, questionable after 15 min, bad after two failures; bad nodes replaced', () => {
  const clock = new FakeClock();
  const table = new RoutingTable(own, clock);
  const far = Array.from({ length: 8 }, (_, i) => contact(idAt(own, 0, i)));
  for (const c of far) table.heard(c, 'response');
  // Fill the near side so the far bucket cannot split any more.
  table.heard(contact(idAt(own, 5)), 'response');
  const n0 = table.get(far[0]!.id)!;
  assert.equal(table.stateOf(n0), 'good');
  clock.advance(NODE_GOOD_MS);
  assert.equal(table.stateOf(n0), 'questionable');
  // A query from a node that once answered makes it good again.
  table.heard(far[0]!, 'query');
  assert.equal(table.stateOf(n0), 'good');

  // Bucket full of questionable nodes: a newcomer is cached and we are told to ping the oldest.
  clock.advance(NODE_GOOD_MS);
  const newcomer = contact(idAt(own, 0, 100));
  const r = table.heard(newcomer, 'response');
  assert.equal(r.added, false);
  assert.equal(r.ping.length, 1);
  const victim = r.ping[0]!;
  table.failed(victim.id);
  assert.ok(table.get(victim.id), 'one failure is forgiven');
  table.failed(victim.id);
  assert.equal(table.get(victim.id), undefined, 'the bad node gave way');
  assert.ok(table.get(newcomer.id), 'the replacement took its place');
  assert.equal(table.counts().bad, 0);
});

test('a known id from another address is not moved', () => {
  const table = new RoutingTable(own, new FakeClock());
  const id = idAt(own, 3);
  table.heard({ id, host: '10.0.0.1', port: 1 }, 'response');
  table.heard({ id, host: '10.6.6.6', port: 2 }, 'response');
  assert.equal(table.get(id)!.host, '10.0.0.1');
  assert.equal(
    table.heard({ id: own, host: '1.1.1.1', port: 1 }, 'response').added,
    false,
    'never ourselves',
  );
});

test('bucket refresh targets after 15 minutes, inside their bucket', () => {
  const clock = new FakeClock();
  const table = new RoutingTable(own, clock);
  for (let p = 0; p < 12; p++) for (let i = 0; i < 8; i++) table.heard(contact(idAt(own, p, i)), 'response');
  assert.deepEqual(table.refreshTargets(), []);
  clock.advance(BUCKET_REFRESH_MS);
  const targets = table.refreshTargets();
  assert.equal(targets.length, table.bucketCount);
  targets.slice(0, -1).forEach((t, i) => assert.equal(commonPrefixLength(own, t), i));
  assert.deepEqual(table.refreshTargets(), [], 'refreshed buckets wait another 15 minutes');
});

test('BEP 42 node ids: spec test vectors and checks', () => {
  const vectors: [string, number, string][] = [
    ['124.31.75.21', 1, '5fbfbf'],
    ['21.75.31.124', 86, '5a3ce9'],
    ['65.23.51.170', 22, 'a5d432'],
    ['84.124.73.14', 65, '1b0321'],
    ['43.213.53.83', 90, 'e56f6c'],
  ];
  for (const [ip, rand, prefix] of vectors) {
    const id = bep42NodeId(ip, rand);
    assert.equal(id.subarray(0, 2).toString('hex'), prefix.slice(0, 4), ip);
    assert.equal(id[2]! & 0xf8, Number.parseInt(prefix.slice(4), 16) & 0xf8, ip);
    assert.equal(id[19], rand);
    assert.ok(isValidBep42Id(id, ip));
    assert.ok(!isValidBep42Id(id, '8.8.8.8'));
  }
  assert.ok(isValidBep42Id(Buffer.alloc(20), '127.0.0.1'), 'loopback is exempt');
  assert.ok(isValidBep42Id(bep42NodeId('2001:db8::1'), '2001:db8::1'));
});

test('routing poisoning: ids close to ours from one endpoint, one IP or one /24 take one slot', () => {
  const table = new RoutingTable(own, new FakeClock());
  // Honest nodes spread over the id space, each from its own network.
  for (let p = 0; p < 30; p++) for (let i = 0; i < 2; i++) table.heard(contact(idAt(own, p, i)), 'response');
  const honest = table.size;
  // 1,200 ids very close to ours from one IP and port (the audit's attack).
  for (let i = 0; i < 1200; i++)
    table.heard({ id: idAt(own, 100 + (i % 50), i & 0xff), host: '203.0.113.7', port: 6881 }, 'response');
  // The same from many ports of a second IP, and from its /24 neighbours.
  for (let i = 0; i < 600; i++)
    table.heard(
      { id: idAt(own, 100 + (i % 50), i & 0xff), host: '203.0.113.8', port: 10_000 + i },
      'response',
    );
  for (let i = 0; i < 200; i++)
    table.heard({ id: idAt(own, 60 + (i % 40), i & 0xff), host: `198.51.100.${i + 1}`, port: 7000 }, 'query');
  const attackers = table.all().filter((n) => !n.host.startsWith('10.'));
  assert.ok(attackers.filter((n) => n.host === '203.0.113.7').length <= 1);
  assert.ok(attackers.filter((n) => n.host === '203.0.113.8').length <= 1);
  assert.equal(table.size, honest + attackers.length);
  // The /24s: one node per bucket each, so a handful in all, not hundreds.
  assert.ok(attackers.length <= 2 * 2 + 40, `${attackers.length} attacker nodes`);
  const answers = table.closest(own, 8);
  const fromAttack = answers.filter((n) => n.host.startsWith('203.0.113.'));
  assert.ok(fromAttack.length <= 2, `${fromAttack.length} of 8 answers for our id from two IPs`);
  // findByAddress is exact on the endpoint.
  assert.equal(table.findByAddress({ host: '203.0.113.7', port: 6881 })?.host, '203.0.113.7');
  // Loopback stays exempt from the per-IP rule (every loopback node is this machine) but not
  // from one node per endpoint.
  const local = new RoutingTable(own, new FakeClock());
  for (let i = 0; i < 20; i++)
    local.heard({ id: idAt(own, i + 1), host: '127.0.0.1', port: 5000 + i }, 'response');
  for (let i = 0; i < 50; i++)
    local.heard({ id: idAt(own, 30 + i), host: '127.0.0.1', port: 4999 }, 'response');
  assert.equal(local.size, 21);
});

test('a bad node gives its endpoint to a new id; BEP 42 is enforced when asked, also for restored nodes', () => {
  const clock = new FakeClock();
  const table = new RoutingTable(own, clock);
  const first = { id: idAt(own, 4), host: '192.0.2.1', port: 1 };
  table.heard(first, 'response');
  const restarted = { id: idAt(own, 9), host: '192.0.2.1', port: 1 };
  assert.equal(table.heard(restarted, 'response').added, false, 'a live node keeps its endpoint');
  table.failed(first.id);
  table.failed(first.id);
  assert.equal(table.heard(restarted, 'response').added, true);
  assert.equal(table.get(first.id), undefined);
  assert.equal(table.size, 1);

  const strict = new RoutingTable(own, clock, { enforceNodeIdIp: true });
  assert.equal(strict.heard({ id: idAt(own, 3), host: '8.8.8.8', port: 1 }, 'unverified').added, false);
  assert.equal(
    strict.heard({ id: bep42NodeId('8.8.8.8'), host: '8.8.8.8', port: 1 }, 'unverified').added,
    true,
  );
  assert.equal(
    strict.heard({ id: idAt(own, 3), host: '10.1.1.1', port: 1 }, 'query').added,
    true,
    'exempt range',
  );
  // Off by setting: the old behaviour (many nodes from one IP).
  const open = new RoutingTable(own, clock, { restrictIps: false });
  for (let i = 0; i < 10; i++)
    open.heard({ id: idAt(own, i + 1), host: '192.0.2.9', port: 100 + i }, 'response');
  assert.equal(open.size, 10);
});
