import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PiecePicker, type BlockRef, type PeerKey } from '../../../src/torrent/picker.js';
import { AvailabilityOrder } from '../../../src/torrent/avail-order.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { prng } from '../../helpers/tmp.js';

const B = 16384;

function bits(size: number, pieces: number[]): Bitfield {
  const bf = new Bitfield(size);
  for (const p of pieces) bf.set(p);
  return bf;
}

function picker(
  pieces: number,
  blocksPerPiece = 4,
  extra: Partial<ConstructorParameters<typeof PiecePicker>[0]> = {},
) {
  return new PiecePicker({
    pieceCount: pieces,
    pieceLength: blocksPerPiece * B,
    random: prng(7),
    randomFirstPieces: 0,
    ...extra,
  });
}

const piecesOf = (blocks: BlockRef[]): number[] => [...new Set(blocks.map((b) => b.piece))];

test('availability order keeps pieces sorted under random changes', () => {
  const n = 200;
  const pos = new Int32Array(n).fill(-1);
  const order = new AvailabilityOrder(pos);
  const avail = new Array<number>(n).fill(0);
  const inOrder = new Set<number>();
  const rnd = prng(3);
  for (let i = 0; i < n; i++) {
    order.insert(i, 0);
    inOrder.add(i);
  }
  for (let step = 0; step < 20000; step++) {
    const p = Math.floor(rnd() * n);
    const r = rnd();
    if (!inOrder.has(p)) {
      if (r < 0.5) {
        order.insert(p, avail[p]!);
        inOrder.add(p);
      }
      continue;
    }
    if (r < 0.45) order.increment(p, avail[p]!++);
    else if (r < 0.9 && avail[p]! > 0) order.decrement(p, avail[p]!--);
    else if (r >= 0.98) {
      order.remove(p, avail[p]!);
      inOrder.delete(p);
    }
  }
  assert.equal(order.size, inOrder.size);
  let prev = -1;
  for (let k = 0; k < order.size; k++) {
    const p = order.items[k]!;
    assert.equal(pos[p], k);
    assert.ok(avail[p]! >= prev, 'sorted by availability');
    prev = avail[p]!;
    const [s, e] = order.bucket(avail[p]!);
    assert.ok(k >= s && k < e, 'in its bucket');
  }
});

test('rarest first: pieces fewer peers have come first', () => {
  const pk = picker(10);
  pk.peerHasAll('seed');
  pk.peerHasBitfield('a', bits(10, [0, 1, 2, 3, 4, 5, 6, 7]));
  pk.peerHasBitfield('b', bits(10, [0, 1, 2, 3, 4]));
  // Availability: 0-4 -> 3, 5-7 -> 2, 8-9 -> 1.
  assert.equal(pk.availability(9), 1);
  assert.equal(pk.availability(0), 3);
  const first = piecesOf(pk.pick('seed', 8));
  assert.deepEqual(first.sort(), [8, 9]);
  const next = piecesOf(pk.pick('seed', 12));
  assert.deepEqual(next.sort(), [5, 6, 7]);
  // A peer only offering common pieces gets those.
  assert.ok(piecesOf(pk.pick('b', 4)).every((p) => p <= 4));
});

test('availability follows have, have-all/none and departures', () => {
  const pk = picker(4);
  pk.peerHasPiece('a', 2);
  pk.peerHasPiece('a', 2);
  assert.equal(pk.availability(2), 1);
  pk.peerHasNone('a');
  assert.equal(pk.availability(2), 0);
  pk.peerHasAll('s');
  pk.peerHasPiece('b', 1);
  assert.equal(pk.availability(1), 2);
  pk.peerGone('s');
  assert.equal(pk.availability(1), 1);
  assert.equal(pk.availability(0), 0);
  // A bitfield that fills up by haves turns into a seed.
  for (const i of [0, 2, 3]) pk.peerHasPiece('b', i);
  assert.equal(pk.availability(3), 1);
  assert.ok(pk.isInterestingPeer('b'));
});

test('random choice among equally rare pieces depends on the seed', () => {
  const firsts = new Set<number>();
  for (let seed = 1; seed <= 40; seed++) {
    const pk = picker(8, 4, { random: prng(0x9e3779b9 ^ (seed * 2654435761)) });
    pk.peerHasAll('s');
    firsts.add(pk.pick('s', 1)[0]!.piece);
  }
  assert.ok(firsts.size >= 6, `only ${[...firsts].join(',')} were picked first`);
});

test('first pieces are random even when one piece is rarer', () => {
  const chosen = new Set<number>();
  for (let seed = 1; seed <= 30; seed++) {
    const pk = picker(8, 1, { random: prng(0x9e3779b9 ^ (seed * 2654435761)), randomFirstPieces: 4 });
    pk.peerHasAll('s');
    pk.peerHasBitfield('x', bits(8, [0, 1, 2, 3, 4, 5, 6]));
    chosen.add(pk.pick('s', 1)[0]!.piece);
  }
  assert.ok(chosen.size > 2, 'not always the rarest piece 7');
});

test('a peer continues the piece it started; another peer starts another piece', () => {
  const pk = picker(6);
  pk.peerHasAll('a');
  pk.peerHasAll('b');
  const a1 = pk.pick('a', 2);
  assert.equal(piecesOf(a1).length, 1);
  const b1 = pk.pick('b', 2);
  assert.notEqual(b1[0]!.piece, a1[0]!.piece, 'b does not join a piece a owns while others are free');
  const a2 = pk.pick('a', 2);
  assert.deepEqual(piecesOf(a2), piecesOf(a1));
  assert.deepEqual(
    a2.map((b) => b.offset),
    [2 * B, 3 * B],
  );
});

test('orphaned partial pieces are finished before new ones are started', () => {
  const pk = picker(6);
  pk.peerHasAll('a');
  pk.peerHasAll('b');
  const a = pk.pick('a', 2);
  pk.received('a', a[0]!);
  pk.peerGone('a');
  const b = pk.pick('b', 3);
  assert.deepEqual(piecesOf(b), [a[0]!.piece]);
  assert.deepEqual(
    b.map((x) => x.offset),
    [B, 2 * B, 3 * B],
  );
});

test('priorities: higher first, zero never; interest follows', () => {
  const pk = picker(6);
  pk.peerHasAll('s');
  pk.peerHasBitfield('p', bits(6, [0, 1]));
  pk.setPiecePriorities([0, 0, 4, 4, 7, 1]);
  assert.equal(pk.pick('s', 4)[0]!.piece, 4);
  assert.deepEqual(piecesOf(pk.pick('s', 8)).sort(), [2, 3]);
  assert.deepEqual(piecesOf(pk.pick('s', 8)), [5]);
  assert.deepEqual(pk.pick('s', 8), []);
  assert.equal(pk.isInterestingPeer('p'), false);
  assert.equal(pk.isInteresting(bits(6, [1])), false);
  assert.equal(pk.isInteresting(bits(6, [2])), true);
  pk.setPiecePriority(1, 2);
  assert.equal(pk.isInterestingPeer('p'), true);
  assert.deepEqual(piecesOf(pk.pick('p', 8)), [1]);
  assert.equal(pk.remaining, 5);
});

test('sequential mode picks in index order', () => {
  const pk = picker(10, 2);
  pk.peerHasAll('s');
  pk.peerHasBitfield('x', bits(10, [9]));
  pk.sequential = true;
  const got = pk.pick('s', 6).map((b) => `${b.piece}:${b.offset / B}`);
  assert.deepEqual(got, ['0:0', '0:1', '1:0', '1:1', '2:0', '2:1']);
  const more = pk.pick('s', 2).map((b) => b.piece);
  assert.deepEqual(more, [3, 3]);
});

test('allowed-fast: a choking peer only gets its fast pieces', () => {
  const pk = picker(10);
  pk.peerHasAll('s');
  const got = pk.pick('s', 20, { fast: new Set([3, 7]) });
  assert.deepEqual(piecesOf(got).sort(), [3, 7]);
  assert.equal(got.length, 8);
});

test('endgame: duplicates only when everything is requested, cancels reported', () => {
  const pk = picker(2, 2, { endgamePeersPerBlock: 2 });
  pk.peerHasAll('a');
  pk.peerHasAll('b');
  const a = pk.pick('a', 3);
  assert.equal(a.length, 3);
  assert.equal(pk.inEndgame, false);
  const b = pk.pick('b', 5);
  assert.equal(b.length, 1 + 3, 'the last free block, then duplicates of the blocks a holds');
  assert.equal(pk.inEndgame, true);
  assert.deepEqual(pk.pick('b', 5), [], 'never the same block twice to one peer');
  const r = pk.received('a', a[0]!);
  assert.deepEqual(r.duplicateHolders, ['b']);
  assert.equal(r.duplicate, false);
  const late = pk.received('b', a[0]!);
  assert.equal(late.duplicate, true);
  // A third peer may only double up with blocks that have one holder: the one b took while free.
  pk.peerHasAll('c');
  assert.deepEqual(pk.pick('c', 5), [b[0]]);
  assert.deepEqual(pk.pick('c', 5), []);
});

test('departure returns requests; rejects free blocks; no block is handed out twice', () => {
  const pk = picker(1, 4);
  pk.peerHasAll('a');
  pk.peerHasAll('b');
  const a = pk.pick('a', 4);
  assert.equal(a.length, 4);
  pk.rejected('a', a[1]!);
  assert.deepEqual(
    pk.pick('b', 1).map((x) => x.offset),
    [B],
  );
  pk.peerGone('a');
  assert.deepEqual(pk.requestsOf('a'), []);
  const b2 = pk.pick('b', 4);
  assert.deepEqual(
    b2.map((x) => x.offset),
    [0, 2 * B, 3 * B],
  );
});

test('failed piece: blocks reset, senders named; verified piece is done', () => {
  const pk = picker(2, 2);
  pk.peerHasAll('a');
  pk.peerHasAll('b');
  const a = pk.pick('a', 2);
  const piece = a[0]!.piece;
  assert.equal(pk.received('a', a[0]!).pieceComplete, false);
  assert.equal(pk.received('b', a[1]!).pieceComplete, true);
  assert.deepEqual(pk.pieceFailed(piece).sort(), ['a', 'b']);
  assert.equal(pk.hasPiece(piece), false);
  const again = pk.pick('b', 4);
  assert.ok(again.some((x) => x.piece === piece));
  for (const x of again) pk.received('b', x);
  pk.pieceVerified(0);
  pk.pieceVerified(1);
  assert.equal(pk.finished, true);
  assert.equal(pk.isInterestingPeer('a'), false);
  assert.deepEqual(pk.pick('a', 4), []);
});

test('short last piece has short last block; partial pieces round-trip for resume', () => {
  const pk = new PiecePicker({
    pieceCount: 2,
    pieceLength: 4 * B,
    pieceSize: (p) => (p === 1 ? B + 100 : 4 * B),
    randomFirstPieces: 0,
  });
  assert.equal(pk.blockCount(1), 2);
  assert.deepEqual(pk.blockRef(1, 1), { piece: 1, offset: B, length: 100 });
  pk.restorePartial(0, bits(4, [0, 2]));
  assert.deepEqual(
    pk.partialPieces().map((p) => [p.piece, [...p.blocks.indices()]]),
    [[0, [0, 2]]],
  );
  pk.peerHasAll('s');
  const got = pk.pick('s', 2);
  assert.deepEqual(
    got.map((x) => [x.piece, x.offset]),
    [
      [0, B],
      [0, 3 * B],
    ],
  );
});

test('randomized swarm: invariants hold and every piece completes', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rnd = prng(seed);
    const pieces = 40;
    const pk = new PiecePicker({
      pieceCount: pieces,
      pieceLength: 4 * B,
      pieceSize: (p) => (p === pieces - 1 ? 2 * B + 5 : 4 * B),
      random: prng(seed + 100),
      endgamePeersPerBlock: 3,
    });
    const corrupt = new Set([3, 17]); // fail once each
    const peers = new Map<PeerKey, BlockRef[]>();
    let nextPeer = 0;
    const join = (): void => {
      const key = `p${nextPeer++}`;
      peers.set(key, []);
      if (rnd() < 0.3) pk.peerHasAll(key);
      else {
        const bf = new Bitfield(pieces);
        for (let i = 0; i < pieces; i++) if (rnd() < 0.5) bf.set(i);
        pk.peerHasBitfield(key, bf);
      }
    };
    for (let i = 0; i < 6; i++) join();
    let steps = 0;
    let endgameSteps = 0;
    while (!pk.finished) {
      if (pk.inEndgame) endgameSteps++;
      assert.ok(++steps < 200000, 'simulation did not finish');
      const keys = [...peers.keys()];
      const key = keys[Math.floor(rnd() * keys.length)]!;
      const queue = peers.get(key)!;
      const r = rnd();
      if (r < 0.4) {
        const got = pk.pick(key, 1 + Math.floor(rnd() * 6));
        // A block someone else holds may only be handed out in endgame.
        for (const b of got) {
          const shared = [...peers].some(
            ([k, q]) => k !== key && q.some((x) => x.piece === b.piece && x.offset === b.offset),
          );
          if (shared) assert.ok(pk.inEndgame, 'duplicate request outside endgame');
        }
        queue.push(...got);
      } else if (r < 0.85 && queue.length > 0) {
        const blk = queue.shift()!;
        const res = pk.received(key, blk);
        for (const h of res.duplicateHolders) {
          const q = peers.get(h)!;
          const i = q.findIndex((x) => x.piece === blk.piece && x.offset === blk.offset);
          assert.ok(i >= 0, 'duplicate holder really held the block');
          q.splice(i, 1);
        }
        if (res.pieceComplete) {
          if (corrupt.delete(blk.piece)) assert.ok(pk.pieceFailed(blk.piece).length > 0);
          else pk.pieceVerified(blk.piece);
        }
      } else if (r < 0.9 && queue.length > 0) {
        pk.rejected(key, queue.pop()!);
      } else if (r < 0.93 && peers.size > 2) {
        pk.peerGone(key);
        peers.delete(key);
      } else if (r < 0.96) join();
      else if (r < 0.965) {
        // Priorities change under way, sometimes to skip; counters must stay exact.
        const piece = Math.floor(rnd() * pieces);
        pk.setPiecePriority(piece, rnd() < 0.3 ? 0 : 1 + Math.floor(rnd() * 7));
        let wanted = 0;
        for (let i = 0; i < pieces; i++) if (pk.priority(i) > 0 && !pk.hasPiece(i)) wanted++;
        assert.equal(pk.remaining, wanted);
      } else if (r < 0.97 && !pk.finished) {
        // a seed joins, so the swarm always can finish
        join();
        pk.peerHasAll(`p${nextPeer - 1}`);
      }
      // Invariant: outside endgame nobody shares a block; each peer's queue matches the picker.
      const holders = new Map<string, number>();
      for (const [k, q] of peers) {
        assert.equal(pk.requestsOf(k).length, q.length, 'picker and peer agree on outstanding requests');
        for (const b of q) {
          const id = `${b.piece}:${b.offset}`;
          holders.set(id, (holders.get(id) ?? 0) + 1);
        }
      }
      assert.ok(Math.max(0, ...holders.values()) <= 3, 'at most endgamePeersPerBlock holders');
    }
    // Un-skip everything that was skipped and finish those too.
    pk.setPiecePriorities(new Array<number>(pieces).fill(4));
    for (let guard = 0; !pk.finished; guard++) {
      assert.ok(guard < 100000, 'did not finish skipped pieces');
      for (const [k, q] of peers) {
        q.push(...pk.pick(k, 4));
        for (const blk of q.splice(0)) {
          const res = pk.received(k, blk);
          for (const h of res.duplicateHolders) {
            const hq = peers.get(h)!;
            hq.splice(
              hq.findIndex((x) => x.piece === blk.piece && x.offset === blk.offset),
              1,
            );
          }
          if (res.pieceComplete) {
            if (corrupt.delete(blk.piece)) pk.pieceFailed(blk.piece);
            else pk.pieceVerified(blk.piece);
          }
        }
      }
      if (pk.inEndgame) endgameSteps++;
    }
    assert.equal(pk.haveCount, pieces);
    assert.equal(corrupt.size, 0, 'corrupt pieces were failed and refetched');
    assert.ok(endgameSteps > 0, 'the simulation reached endgame');
  }
});

test('picking is fast: 1 GiB in 1 MiB pieces with 50 peers', () => {
  const pieces = 1024;
  const pk = new PiecePicker({
    pieceCount: pieces,
    pieceLength: 1 << 20,
    random: prng(9),
  });
  const rnd = prng(11);
  for (let p = 0; p < 50; p++) {
    if (p % 5 === 0) pk.peerHasAll(p);
    else {
      const bf = new Bitfield(pieces);
      for (let i = 0; i < pieces; i++) if (rnd() < 0.7) bf.set(i);
      pk.peerHasBitfield(p, bf);
    }
  }
  const t0 = performance.now();
  let blocks = 0;
  let peer = 0;
  while (!pk.finished) {
    peer = (peer + 1) % 50;
    const got = pk.pick(peer, 16);
    for (const b of got) {
      blocks++;
      if (pk.received(peer, b).pieceComplete) pk.pieceVerified(b.piece);
    }
  }
  const ms = performance.now() - t0;
  assert.equal(blocks, 65536);
  // 65536 blocks is 1 GiB: at 60 MB/s that is 17 s of download; picking must be a tiny part.
  assert.ok(ms < 1500, `picking 1 GiB took ${ms.toFixed(0)} ms`);
});

test('solo pieces: only their owner picks them (first, whole, even in endgame); nobody while unowned', () => {
  const pk = picker(3, 4);
  for (const p of ['a', 'b']) pk.peerHasAll(p);
  pk.setSolo(1, undefined);
  // Nobody may start piece 1 while it is reserved for nobody: not even in endgame.
  const a = pk.pick('a', 100);
  const b = pk.pick('b', 100);
  assert.ok(![...a, ...b].some((r) => r.piece === 1), 'unowned solo piece untouched');
  for (const r of [...a, ...b]) pk.received(r.piece === 0 ? 'a' : 'b', r);
  pk.setSolo(1, 'b');
  assert.deepEqual(pk.pick('a', 100), [], 'a may not share it, endgame or not');
  const mine = pk.pick('b', 2);
  assert.deepEqual(piecesOf(mine), [1], 'the owner gets its piece first');
  assert.equal(pk.soloOwner(1), 'b');
  // Abandoned: every block is free again, still reserved until reassigned.
  pk.abandonPiece(1);
  pk.setSolo(1, 'a');
  assert.equal(pk.pick('a', 100).filter((r) => r.piece === 1).length, 4);
  for (const r of pk.requestsOf('a')) pk.received('a', r);
  pk.pieceVerified(1);
  assert.equal(pk.isSolo(1), false, 'verified: no longer reserved');
});

test('contiguous picking (web seeds) takes runs of adjacent pieces; rarer pieces still come first', () => {
  const p = picker(40, 4);
  const web = 'web';
  p.peerHasAll(web);
  // Nobody else: one run from wherever it starts, each piece following the last.
  const first = piecesOf(p.pick(web, 4 * 8, { contiguous: true }));
  assert.equal(first.length, 8);
  for (let i = 1; i < first.length; i++) assert.equal(first[i], first[i - 1]! + 1, `run ${first.join(',')}`);
  // Without the option the same picker scatters (rarest first, random among equals).
  const q = picker(40, 4);
  q.peerHasAll(web);
  const scattered = piecesOf(q.pick(web, 4 * 8));
  assert.ok(
    scattered.some((x, i) => i > 0 && x !== scattered[i - 1]! + 1),
    `scattered ${scattered.join(',')}`,
  );

  // A peer has pieces 20..39: the web seed fills what peers do not have (0..19), in a run, and
  // its run stops where the peer's pieces (more common) begin.
  const r = picker(40, 4);
  r.peerHasBitfield(
    'peer',
    bits(
      40,
      Array.from({ length: 20 }, (_, i) => 20 + i),
    ),
  );
  r.peerHasAll(web);
  const fill = piecesOf(r.pick(web, 4 * 40, { contiguous: true }));
  const rare = fill.slice(0, 20);
  assert.deepEqual(
    [...rare].sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
  let breaks = 0;
  for (let i = 1; i < rare.length; i++) if (rare[i] !== rare[i - 1]! + 1) breaks++;
  assert.ok(breaks <= 1, `pieces 0..19 in at most two runs: ${rare.join(',')}`);
});
