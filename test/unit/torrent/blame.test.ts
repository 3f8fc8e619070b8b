import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BlameLedger, type BlockEvidence } from '../../../src/torrent/blame.js';

const sha1 = (s: string): Buffer => createHash('sha1').update(s).digest();
const good = [sha1('g0'), sha1('g1'), sha1('g2'), sha1('g3')];
/** An attempt: sender per block, and which blocks were garbage. */
function attempt(senders: (string | undefined)[], bad: number[] = []): (BlockEvidence | undefined)[] {
  return senders.map((sender, i) =>
    sender === undefined ? undefined : { sender, digest: bad.includes(i) ? sha1(`bad${i}`) : good[i]! },
  );
}

test('the sole sender of a failed piece is guilty at once; nothing to re-download alone', () => {
  const b = new BlameLedger();
  assert.deepEqual(b.failed(7, attempt(['liar', 'liar', 'liar', 'liar'], [2])), ['liar']);
  assert.equal(b.needsSolo(7), false);
});

test('a shared failure bans nobody, however often the honest peer is framed', () => {
  const b = new BlameLedger();
  // Three liars each spoil one block of a different piece the seed sent the rest of.
  for (const [piece, liar] of [
    [1, 'l1'],
    [2, 'l2'],
    [3, 'l3'],
  ] as const)
    assert.deepEqual(b.failed(piece, attempt(['seed', liar, 'seed', 'seed'], [1])), []);
  assert.deepEqual([...b.soloPieces].sort(), [1, 2, 3]);
});

test('the piece passes: exactly the senders of differing blocks are guilty, once', () => {
  const b = new BlameLedger();
  b.failed(1, attempt(['seed', 'l1', 'seed', 'l2'], [1]));
  assert.deepEqual(b.passed(1, good), ['l1'], 'l2 sent a good block: not guilty');
  assert.equal(b.needsSolo(1), false);
  assert.deepEqual(b.passed(1, good), [], 'judged once');
});

test('blocks of an abandoned single-peer attempt count as evidence too', () => {
  const b = new BlameLedger();
  b.failed(1, attempt(['seed', 'l1', 'seed', 'seed'], [1]));
  b.abandoned(1, attempt(['l2', undefined, undefined, undefined], [0]));
  b.abandoned(1, attempt([undefined, undefined, undefined, undefined]));
  assert.deepEqual(b.passed(1, good).sort(), ['l1', 'l2']);
});

test('chooseSolo: a non-contributor first, then contributors one at a time, then a new round', () => {
  const b = new BlameLedger();
  b.failed(1, attempt(['seed', 'l1', 'seed', 'seed'], [1]));
  const all = ['seed', 'l1', 'other'];
  assert.equal(b.chooseSolo(1, all), 'other');
  assert.equal(b.chooseSolo(1, all), 'seed', 'then the contributors, best first');
  assert.equal(b.chooseSolo(1, all), 'l1');
  assert.equal(b.chooseSolo(1, all), 'other', 'everyone had a turn: a new round');
  assert.equal(b.chooseSolo(1, []), undefined);
  assert.equal(b.chooseSolo(9, all), undefined, 'not a failed piece');
});

test('memory stays bounded for a piece that keeps failing', () => {
  const b = new BlameLedger();
  for (let i = 0; i < 10_000; i++) b.failed(1, attempt([`a${i}`, 'x', 'x', 'x'], [0]));
  // Only the last attempts are remembered: the oldest senders are no longer named.
  const guilty = b.passed(1, good);
  assert.ok(guilty.length <= 8, `${guilty.length} named`);
  assert.ok(guilty.includes('a9999'));
});

test('v2 leaves: once the proven leaves arrive, exactly the sender of the differing block is guilty', () => {
  const ledger = new BlameLedger();
  const leaf = (n: number): Buffer => Buffer.alloc(32, n);
  // a piece of 4 blocks from two senders failed: b sent block 2 wrong
  ledger.failed(7, [
    { sender: 'a', digest: Buffer.alloc(20, 1) },
    { sender: 'b', digest: Buffer.alloc(20, 2) },
    { sender: 'b', digest: Buffer.alloc(20, 3) },
    { sender: 'a', digest: Buffer.alloc(20, 4) },
  ]);
  assert.ok(ledger.needsSolo(7));
  ledger.rememberLeaves(7, [
    { sender: 'a', digest: leaf(1) },
    { sender: 'b', digest: leaf(2) },
    { sender: 'b', digest: leaf(9) },
    { sender: 'a', digest: leaf(4) },
  ]);
  assert.deepEqual(ledger.leavesKnown(7, [leaf(1), leaf(2), leaf(3), leaf(4)]), ['b']);
  assert.equal(ledger.needsSolo(7), false, 'the liar is named: no single-peer round');
  assert.deepEqual(ledger.leavesKnown(7, [leaf(1), leaf(2), leaf(3), leaf(4)]), [], 'evidence is used once');
  // leaves that match every block name nobody and keep the solo round
  ledger.failed(8, [
    { sender: 'a', digest: Buffer.alloc(20, 1) },
    { sender: 'b', digest: Buffer.alloc(20, 2) },
  ]);
  ledger.rememberLeaves(8, [
    { sender: 'a', digest: leaf(1) },
    { sender: 'b', digest: leaf(2) },
  ]);
  assert.deepEqual(ledger.leavesKnown(8, [leaf(1), leaf(2)]), []);
  assert.ok(ledger.needsSolo(8));
});
