import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CandidateList } from '../../../src/torrent/candidates.js';

const src = { kind: 'tracker' as const };
const never = (): boolean => false;

test('adds each address once, skips banned and bad ports', () => {
  const c = new CandidateList();
  const added = c.add(
    [
      { host: '10.0.0.1', port: 1 },
      { host: '10.0.0.1', port: 1 },
      { host: '10.0.0.2', port: 0 },
      { host: '10.0.0.3', port: 3 },
    ],
    src,
    (h) => h === '10.0.0.3',
  );
  assert.deepEqual(added, [{ host: '10.0.0.1', port: 1 }]);
  assert.equal(c.size, 1);
});

test('failed attempts back off exponentially and are dropped after the limit', () => {
  const c = new CandidateList(10, 3, 1000);
  c.add([{ host: 'h', port: 1 }], src, never);
  let now = 0;
  const first = c.next(now, () => true)!;
  assert.equal(
    c.next(now, () => true),
    undefined,
    'busy while connecting',
  );
  c.failed(first, now);
  assert.equal(
    c.next(now + 999, () => true),
    undefined,
  );
  const second = c.next((now += 1000), () => true)!;
  c.failed(second, now);
  assert.equal(
    c.next(now + 1999, () => true),
    undefined,
  );
  const third = c.next((now += 2000), () => true)!;
  c.failed(third, now);
  assert.equal(c.size, 0, 'dropped after 3 failures');
});

test('a connected address is not handed out; released ones come back later', () => {
  const c = new CandidateList(10, 3, 1000);
  c.markBusy({ host: 'h', port: 1 });
  assert.deepEqual(c.add([{ host: 'h', port: 1 }], src, never), []);
  c.release({ host: 'h', port: 1 }, src, 0, true);
  assert.equal(
    c.next(500, () => true),
    undefined,
  );
  assert.equal(c.next(1000, () => true)?.host, 'h');
  c.release({ host: 'h', port: 1 }, src, 0, false);
  assert.equal(c.size, 0);
});

test('the list is bounded and respects the usable filter', () => {
  const c = new CandidateList(2);
  c.add(
    [1, 2, 3].map((port) => ({ host: 'h', port })),
    src,
    never,
  );
  assert.equal(c.size, 2);
  assert.equal(c.next(0, (x) => x.port === 2)?.port, 2);
  c.removeHost('h');
  assert.equal(c.size, 0);
});

test('hints (PEX flags) travel with an address: merged from later sources, kept across a connection', () => {
  const c = new CandidateList();
  c.add([{ host: '10.0.0.9', port: 9 }], src, never);
  // PEX later says the same address speaks uTP and is a seed.
  c.add([{ host: '10.0.0.9', port: 9, hints: { utp: true, seed: true } }], { kind: 'pex' }, never);
  const first = c.next(0, () => true)!;
  assert.deepEqual(first.hints, { utp: true, seed: true });
  assert.equal(first.source.kind, 'tracker', 'the first source stays');
  // While connected, a hint that arrives is kept for when the address comes back.
  c.add([{ host: '10.0.0.9', port: 9, hints: { encryption: true } }], { kind: 'pex' }, never);
  c.release(first, first.source, 0, true);
  const again = c.next(60_000, () => true)!;
  assert.deepEqual(again.hints, { utp: true, seed: true, encryption: true });
});

const junk = (n: number, base = 0) =>
  Array.from({ length: n }, (_, i) => ({ host: `192.0.2.${(base + i) % 250}`, port: 1000 + base + i }));

test("a full list ranks instead of dropping: the user's peer and proven peers come first", () => {
  const c = new CandidateList(100, 4, 1000);
  assert.equal(c.add(junk(100), src, never).length, 100);
  // The user's own peer still gets in (evicting junk), and is dialled first.
  assert.deepEqual(c.add([{ host: '10.9.9.9', port: 6881 }], { kind: 'user' }, never), [
    { host: '10.9.9.9', port: 6881 },
  ]);
  assert.equal(c.size, 100);
  assert.equal(c.next(0, () => true)?.host, '10.9.9.9');
  // More junk from a tracker cannot push out anything better than junk.
  c.markBusy({ host: '10.8.8.8', port: 1 }); // a peer that connected…
  c.release({ host: '10.8.8.8', port: 1 }, src, 0, true); // …and closed: proven
  assert.deepEqual(c.add(junk(50, 500), src, never), [], 'a full list of untried ones takes no more');
  const order: string[] = [];
  for (let cand; (cand = c.next(10_000, () => true));) order.push(cand.host);
  assert.equal(order[0], '10.8.8.8', 'the proven peer before the untried');
});

test('failed candidates are evicted first and never persisted; the user and proven ones are', () => {
  const c = new CandidateList(10, 4, 1000);
  c.add(junk(10), src, never);
  for (let i = 0; i < 3; i++)
    c.failed(
      c.next(0, (x) => x.failures === 0)!,
      0,
    );
  assert.deepEqual(c.addresses(), [], 'untried and failed addresses are not worth saving');
  c.add([{ host: '10.9.9.9', port: 1 }], { kind: 'user' }, never);
  c.markBusy({ host: '10.8.8.8', port: 2 });
  c.release({ host: '10.8.8.8', port: 2 }, src, 0, true);
  assert.equal(c.size, 10, 'two failed ones made room');
  assert.deepEqual(
    c.addresses().map((a) => a.host),
    ['10.9.9.9', '10.8.8.8'],
  );
  // The user's peer is never given up, its back-off capped.
  const u = new CandidateList(10, 2, 1000);
  u.add([{ host: '10.9.9.9', port: 1 }], { kind: 'user' }, never);
  let now = 0;
  for (let i = 0; i < 30; i++) {
    const cand = u.next(now, () => true);
    assert.ok(cand, `try ${i}`);
    u.failed(cand, now);
    now += 5 * 60_000;
  }
});

test('BEP 40: once our address is known, untried candidates are dialled by priority; the user’s stay first', async () => {
  const { peerPriority } = await import('../../../src/peer/priority.js');
  const self = { host: '203.0.113.7', port: 6881 };
  const c = new CandidateList();
  const hosts = Array.from({ length: 50 }, (_, i) => ({ host: `198.51.${i}.${(i * 37) % 250}`, port: 6881 }));
  c.add(hosts, src, never);
  c.add([{ host: '192.0.2.1', port: 1 }], { kind: 'user' }, never);
  // Without our address: the order they came in (after the user's).
  assert.equal(c.next(0, () => true)!.host, '192.0.2.1');
  assert.equal(c.next(0, () => true)!.host, hosts[0]!.host);
  c.setSelf(self);
  c.add([{ host: '192.0.2.2', port: 2 }], { kind: 'user' }, never);
  const order: string[] = [];
  for (let x = c.next(0, () => true); x; x = c.next(0, () => true)) order.push(x.host);
  assert.equal(order[0], '192.0.2.2', 'the user’s peer stays first');
  const expected = hosts
    .slice(1)
    .sort((a, b) => peerPriority(self, b) - peerPriority(self, a))
    .map((h) => h.host);
  assert.deepEqual(order.slice(1), expected);
  // Unusable candidates are skipped, not ranked.
  const d = new CandidateList();
  d.setSelf(self);
  d.add(hosts.slice(0, 5), src, never);
  const best = [...hosts.slice(0, 5)].sort((a, b) => peerPriority(self, b) - peerPriority(self, a));
  assert.equal(d.next(0, (x) => x.host !== best[0]!.host)!.host, best[1]!.host);
});

test('BEP 40: a full list of untried addresses keeps the highest-ranked ones', async () => {
  const { peerPriority } = await import('../../../src/peer/priority.js');
  const self = { host: '203.0.113.7', port: 6881 };
  const rank = (h: string): number => peerPriority(self, { host: h, port: 1 });
  const hosts = Array.from({ length: 12 }, (_, i) => `${11 + i * 13}.${i * 7}.0.1`).sort(
    (a, b) => rank(a) - rank(b),
  );
  const c = new CandidateList(10);
  c.setSelf(self);
  // The ten middle ones fill the list.
  c.add(
    hosts.slice(1, 11).map((host) => ({ host, port: 1 })),
    src,
    never,
  );
  assert.equal(c.size, 10);
  // The worst is turned away; the best takes the lowest one's place.
  assert.deepEqual(c.add([{ host: hosts[0]!, port: 1 }], src, never), []);
  assert.deepEqual(c.add([{ host: hosts[11]!, port: 1 }], src, never), [{ host: hosts[11]!, port: 1 }]);
  assert.equal(c.size, 10);
  const left: string[] = [];
  for (let x = c.next(0, () => true); x; x = c.next(0, () => true)) left.push(x.host);
  assert.deepEqual(left, hosts.slice(2).reverse());
  // Without our address a full list still drops an untried newcomer (oldest-first eviction only for better tiers).
  const d = new CandidateList(2);
  d.add(
    [
      { host: '1.1.1.1', port: 1 },
      { host: '1.1.1.2', port: 1 },
    ],
    src,
    never,
  );
  assert.deepEqual(d.add([{ host: '1.1.1.3', port: 1 }], src, never), []);
  assert.equal(d.add([{ host: '1.1.1.4', port: 1 }], { kind: 'user' }, never).length, 1);
});

test('retryAllNow makes every backed-off address due at once', () => {
  const c = new CandidateList();
  c.add([{ host: '10.0.0.1', port: 1 }], src, never);
  const got = c.next(0, () => true)!;
  c.release(got, src, 1000, true);
  assert.equal(
    c.next(1000, () => true),
    undefined,
    'released: backed off',
  );
  c.retryAllNow(1000);
  assert.equal(c.next(1000, () => true)?.host, '10.0.0.1');
});
