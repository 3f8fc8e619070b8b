import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SuperSeeder } from '../../../src/torrent/super-seed.js';
import { prng } from '../../helpers/prng.js';

const first = (): number => 0;

test('each peer is offered one piece, a different one, the rarest', () => {
  const s = new SuperSeeder<string>(4, { random: first });
  assert.deepEqual(s.peerJoined('a'), [{ peer: 'a', piece: 0 }]);
  assert.deepEqual(s.peerJoined('b'), [{ peer: 'b', piece: 1 }]);
  // c already holds 2: offered 3, the only piece no one holds or is offered.
  assert.deepEqual(s.peerJoined('c'), [{ peer: 'c', piece: 2 }]);
  assert.deepEqual(s.peerHas('c', [2], true), [{ peer: 'c', piece: 3 }]);
  assert.equal(s.mayServe('a', 0), true);
  assert.equal(s.mayServe('a', 1), false);
  assert.equal(s.mayServe('zz', 0), false);
});

test('strict rotation: the next piece only once another peer was seen with the offered one', () => {
  const s = new SuperSeeder<string>(8, { random: first });
  s.peerJoined('a');
  s.peerJoined('b');
  assert.deepEqual(s.offers('a'), [0]);
  assert.deepEqual(s.offers('b'), [1]);
  // a completes its piece: nothing yet, nobody else has it.
  assert.deepEqual(s.peerHas('a', [0]), []);
  assert.deepEqual(s.offers('a'), [0]);
  // b announces piece 0 (it got it from a): a is offered the next rarest piece.
  assert.deepEqual(s.peerHas('b', [0]), [{ peer: 'a', piece: 2 }]);
  assert.equal(s.mayServe('a', 0), true, 'an announced piece stays servable');
  // b completes 1, a gets it from b: b moves on.
  s.peerHas('b', [1]);
  assert.deepEqual(s.peerHas('a', [1]), [{ peer: 'b', piece: 3 }]);
});

test('a peer alone with the seed moves on as soon as it holds its piece', () => {
  const s = new SuperSeeder<string>(3, { random: first });
  s.peerJoined('a');
  assert.deepEqual(s.peerHas('a', [0]), [{ peer: 'a', piece: 1 }]);
  s.peerJoined('b');
  assert.deepEqual(s.offers('b'), [2]);
  // b leaves: a, alone again, holds 1, so it gets the next piece.
  assert.deepEqual(s.peerHas('a', [1]), []);
  assert.deepEqual(s.peerLeft('b'), [{ peer: 'a', piece: 2 }]);
});

test('a leaving peer frees its offer for others; a seed is offered nothing', () => {
  const s = new SuperSeeder<string>(2, { random: first });
  s.peerJoined('a');
  s.peerJoined('b');
  s.peerJoined('c');
  // Every piece is offered: c shares one (the least held), rather than nothing.
  assert.deepEqual(s.offers('c'), [0]);
  s.peerLeft('a');
  const seed = new SuperSeeder<string>(2);
  seed.peerJoined('x');
  assert.deepEqual(seed.peerHas('x', 'all', true), []);
  assert.deepEqual(seed.offers('x'), []);
});

test('bad indices are ignored; offersPerPeer bounds the offers', () => {
  const s = new SuperSeeder<string>(10, { random: first, offersPerPeer: 2 });
  assert.equal(s.peerJoined('a').length, 2);
  assert.deepEqual(s.peerHas('a', [-1, 10, 1.5, NaN]), []);
  assert.deepEqual(s.offers('a'), [0, 1]);
});

test('a simulated swarm: every piece reaches everyone and the seed uploads about one copy', () => {
  // Peers trade among themselves; the seed serves only offered pieces.
  const rnd = prng(7);
  const pieces = 64;
  const s = new SuperSeeder<number>(pieces, { random: rnd });
  const has = Array.from({ length: 4 }, () => new Set<number>());
  const offered = Array.from({ length: 4 }, () => new Set<number>());
  const apply = (offers: { peer: number; piece: number }[]): void => {
    for (const o of offers) offered[o.peer]!.add(o.piece);
  };
  for (let i = 0; i < 4; i++) apply(s.peerJoined(i));
  let seedUploads = 0;
  for (let round = 0; round < 10_000 && has.some((h) => h.size < pieces); round++) {
    const i = Math.floor(rnd() * 4);
    // From the seed: an offered piece it lacks. From a peer: any piece it lacks.
    const fromSeed = [...offered[i]!].filter((p) => !has[i]!.has(p));
    const j = Math.floor(rnd() * 4);
    const fromPeer = j === i ? [] : [...has[j]!].filter((p) => !has[i]!.has(p));
    const take = fromPeer.length > 0 && rnd() < 0.8 ? fromPeer : fromSeed;
    if (take.length === 0) continue;
    const p = take[Math.floor(rnd() * take.length)]!;
    if (take === fromSeed) seedUploads++;
    has[i]!.add(p);
    apply(s.peerHas(i, [p]));
  }
  assert.ok(
    has.every((h) => h.size === pieces),
    'everyone completes',
  );
  assert.ok(seedUploads >= pieces && seedUploads <= pieces * 1.15, `seed uploaded ${seedUploads} pieces`);
});
