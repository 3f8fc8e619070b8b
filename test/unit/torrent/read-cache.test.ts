import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MemoryStorage, makeLayout } from '../../../src/storage/index.js';
import { ReadCache, type BufferBorrower, type ReadCacheSource } from '../../../src/torrent/read-cache.js';
import { seededBytes } from '../../helpers/tmp.js';

const PIECE = 4096;
const PIECES = 8;
const payload = seededBytes(PIECE * PIECES, 77);

async function cacheOf(pieces: number): Promise<ReadCache> {
  const layout = makeLayout(PIECE, [{ path: ['f'], length: payload.length }]);
  const storage = new MemoryStorage(layout);
  for (let p = 0; p < PIECES; p++) await storage.write(p, 0, payload.subarray(p * PIECE, (p + 1) * PIECE));
  const source: ReadCacheSource = {
    storage: () => storage,
    pieceSize: () => PIECE,
    pieceOffset: (p) => p * PIECE,
    checkRead: async () => undefined,
  };
  // Room for `pieces` pieces; evicted buffers may park up to half of that.
  return new ReadCache(source, pieces * PIECE);
}

/** A send path whose position we move by hand. */
class Borrower implements BufferBorrower {
  queuedEnd = 0;
  released: number | undefined = 0;
  get releasedEnd(): number | undefined {
    return this.released;
  }
  send(n: number): void {
    this.queuedEnd += n;
  }
}

function piece(p: number): Buffer {
  return payload.subarray(p * PIECE, (p + 1) * PIECE);
}

test('read cache: an evicted buffer is reused once its borrower released it, in a later turn, and reads stay right', async () => {
  const c = await cacheOf(4);
  const peer = new Borrower();
  const got: Buffer[] = [];
  for (let p = 0; p < 6; p++) {
    const b = await c.get(p);
    assert.ok(b.equals(piece(p)), `piece ${p}`);
    c.lend(b, peer);
    peer.send(100);
    got.push(b);
  }
  // Pieces 0 and 1 were evicted, in this turn: not reusable yet, and still lent.
  assert.ok((await c.get(6)).equals(piece(6)));
  assert.equal(c.reused, 0);
  await nextTurn();
  assert.ok((await c.get(7)).equals(piece(7)));
  assert.equal(c.reused, 0, 'the peer has not released the bytes yet');
  peer.released = peer.queuedEnd;
  const again = await c.get(0);
  assert.equal(c.reused, 1);
  assert.ok(got.slice(0, 3).includes(again), 'one of the evicted buffers');
  assert.ok(again.equals(piece(0)));
});

test('read cache: a borrower that cannot tell when it is done keeps its buffers from reuse', async () => {
  const c = await cacheOf(2);
  const utp = new Borrower();
  utp.released = undefined;
  for (let p = 0; p < 4; p++) c.lend(await c.get(p), utp);
  await nextTurn();
  for (let p = 4; p < 8; p++) assert.ok((await c.get(p)).equals(piece(p)));
  assert.equal(c.reused, 0);
});

test('read cache: a buffer evicted and handed out in the same turn is not overwritten', async () => {
  const c = await cacheOf(1);
  const first = await c.get(0);
  await nextTurn();
  const second = await c.get(1); // evicts piece 0 now
  await nextTurn();
  const third = c.get(2); // may reuse piece 0's buffer (nobody borrowed it)
  const [b2] = await Promise.all([third]);
  assert.ok(b2.equals(piece(2)));
  assert.ok(second.equals(piece(1)), 'the cached piece is untouched');
  assert.equal(c.reused, 1);
  assert.equal(b2, first);
  // Evicted this turn (piece 1), then a miss in the same turn: piece 1's buffer is not reused.
  const fourth = await c.get(3);
  assert.notEqual(fourth, second);
  assert.ok(second.equals(piece(1)));
});
