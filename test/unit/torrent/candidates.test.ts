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
