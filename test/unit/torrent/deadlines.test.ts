import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PiecePicker, type BlockRef } from '../../../src/torrent/picker.js';
import { PieceDeadlines, type DeadlineListener } from '../../../src/torrent/deadlines.js';
import { FakeClock } from '../../../src/util/clock.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { prng } from '../../helpers/tmp.js';

const B = 16384;

function setup(pieces = 32, blocksPerPiece = 4, listener?: DeadlineListener) {
  const clock = new FakeClock();
  const deadlines = new PieceDeadlines(clock, listener);
  const picker = new PiecePicker({
    pieceCount: pieces,
    pieceLength: blocksPerPiece * B,
    random: prng(7),
    randomFirstPieces: 0,
  });
  picker.critical = deadlines;
  return { clock, deadlines, picker };
}

const piecesOf = (blocks: BlockRef[]): number[] => [...new Set(blocks.map((b) => b.piece))];

test('deadlines: earliest deadline first over several owners, released on demand', () => {
  let changes = 0;
  const { deadlines } = setup(32, 4, { criticalChanged: () => changes++ });
  const a = {};
  const b = {};
  deadlines.set(a, [
    { piece: 5, deadline: 300 },
    { piece: 6, deadline: 400 },
  ]);
  deadlines.set(b, [
    { piece: 20, deadline: 100 },
    { piece: 6, deadline: 50 },
  ]);
  assert.deepEqual(deadlines.ordered(), [6, 20, 5]);
  assert.equal(deadlines.deadline(6), 50);
  assert.equal(changes, 2);
  deadlines.release(b);
  assert.deepEqual(deadlines.ordered(), [5, 6]);
  assert.equal(deadlines.deadline(6), 400);
  deadlines.pieceDone(5);
  assert.deepEqual(deadlines.ordered(), [6]);
  deadlines.release(a);
  assert.equal(deadlines.size, 0);
  assert.equal(deadlines.owners, 0);
});

test('deadlines: a window set, its pieces done and set again behaves like a fresh set', () => {
  let changes = 0;
  const d = new PieceDeadlines({ now: () => 0 }, { criticalChanged: () => changes++ });
  const a = {};
  assert.deepEqual(
    [d.size, d.owners, [...d.ordered()], d.has(1), d.deadline(1)],
    [0, 0, [], false, undefined],
  );
  d.pieceDone(1); // nothing set: nothing to do
  d.set(a, [
    { piece: 1, deadline: 50 },
    { piece: 2, deadline: 10 },
  ]);
  assert.deepEqual([...d.ordered()], [2, 1]);
  d.pieceDone(2);
  d.pieceDone(1);
  assert.deepEqual([d.size, d.owners, [...d.ordered()]], [0, 0, []]);
  d.set(a, [{ piece: 3, deadline: 5 }]);
  assert.deepEqual([d.size, d.owners, [...d.ordered()], d.deadline(3)], [1, 1, [3], 5]);
  d.release(a);
  d.release(a);
  assert.deepEqual([d.size, d.owners, [...d.ordered()], d.has(3)], [0, 0, [], false]);
  assert.equal(changes, 2 + 1);
});

test('deadlines: overdue follows the injected clock', () => {
  const { clock, deadlines } = setup();
  deadlines.set({}, [{ piece: 1, deadline: clock.now() + 500 }]);
  assert.equal(deadlines.overdue(1), false);
  clock.advance(499);
  assert.equal(deadlines.overdue(1), false);
  clock.advance(1);
  assert.equal(deadlines.overdue(1), true);
  assert.equal(deadlines.overdue(2), false);
});

test('picker: critical pieces come before rarest-first, closest deadline first', () => {
  const { deadlines, picker } = setup();
  picker.peerHasAll('p');
  deadlines.set({}, [
    { piece: 17, deadline: 2000 },
    { piece: 16, deadline: 1000 },
  ]);
  const got = picker.pick('p', 6);
  assert.deepEqual(
    got.map((b) => [b.piece, b.offset / B]),
    [
      [16, 0],
      [16, 1],
      [16, 2],
      [16, 3],
      [17, 0],
      [17, 1],
    ],
  );
});

test('picker: a critical piece is shared block by block between peers, never twice before overdue', () => {
  const { deadlines, picker } = setup();
  picker.peerHasAll('a');
  picker.peerHasAll('b');
  deadlines.set({}, [{ piece: 9, deadline: 1000 }]);
  const a = picker.pick('a', 2, { criticalOnly: true });
  const b = picker.pick('b', 4, { criticalOnly: true });
  assert.deepEqual(
    a.map((x) => x.offset / B),
    [0, 1],
  );
  assert.deepEqual(
    b.map((x) => x.offset / B),
    [2, 3],
  );
  assert.deepEqual(picker.pick('b', 4, { criticalOnly: true }), [], 'no duplicates before the deadline');
});

test('picker: an overdue critical piece is duplicated to a second peer; the first copy wins', () => {
  const { clock, deadlines, picker } = setup();
  picker.peerHasAll('slow');
  picker.peerHasAll('fast');
  deadlines.set({}, [{ piece: 3, deadline: 100 }]);
  assert.equal(picker.pick('slow', 4, { criticalOnly: true }).length, 4);
  assert.equal(picker.pick('fast', 4, { criticalOnly: true }).length, 0);
  clock.advance(100);
  assert.equal(picker.criticalPending, true);
  const dup = picker.pick('fast', 4, { criticalOnly: true });
  assert.deepEqual(
    dup.map((x) => [x.piece, x.offset / B]),
    [
      [3, 0],
      [3, 1],
      [3, 2],
      [3, 3],
    ],
  );
  const r = picker.received('fast', dup[0]!);
  assert.deepEqual(r.duplicateHolders, ['slow'], 'the slow peer is told to cancel');
  assert.equal(picker.received('slow', dup[0]!).duplicate, true);
  // Never a third copy.
  assert.deepEqual(picker.pick('fast', 4, { criticalOnly: true }), []);
});

test('picker: peers not allowed critical pieces get other pieces, not the critical ones', () => {
  const { deadlines, picker } = setup(8, 2);
  picker.peerHasAll('slow');
  deadlines.set({}, [
    { piece: 0, deadline: 1 },
    { piece: 1, deadline: 2 },
  ]);
  const got = picker.pick('slow', 100, { critical: false });
  assert.equal(got.length, 12);
  assert.ok(!piecesOf(got).includes(0) && !piecesOf(got).includes(1));
});

test('picker: a reader can fetch a piece of a skipped file (priority 0) without changing what is wanted', () => {
  const { deadlines, picker } = setup(4, 2);
  picker.setPiecePriorities([0, 0, 0, 0]);
  picker.peerHasAll('p');
  assert.equal(picker.finished, true);
  assert.equal(picker.hasCriticalFor('p'), false);
  deadlines.set({}, [{ piece: 2, deadline: 10 }]);
  assert.equal(picker.hasCriticalFor('p'), true);
  const got = picker.pick('p', 10);
  assert.deepEqual(piecesOf(got), [2]);
  for (const b of got) picker.received('p', b);
  picker.pieceVerified(2);
  deadlines.pieceDone(2);
  assert.equal(picker.hasPiece(2), true);
  assert.equal(picker.finished, true);
  assert.equal(picker.remaining, 0);
  assert.deepEqual(picker.pick('p', 10), []);
  assert.equal(picker.hasCriticalFor('p'), false);
});

test('picker: critical pieces only from peers that have them; released windows return to rarest-first', () => {
  const { deadlines, picker } = setup(8, 1);
  const bits = new Bitfield(8);
  bits.set(4);
  bits.set(5);
  picker.peerHasBitfield('p', bits);
  const owner = {};
  deadlines.set(owner, [
    { piece: 1, deadline: 1 },
    { piece: 5, deadline: 2 },
  ]);
  assert.deepEqual(piecesOf(picker.pick('p', 1)), [5]);
  deadlines.release(owner);
  assert.deepEqual(piecesOf(picker.pick('p', 1)), [4]);
});
