import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MetadataFetcher,
  MetadataServer,
  decodeMetadataMessage,
  type FetcherAction,
  type MetadataMessage,
} from '../../../src/extensions/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { sha1 } from '../../../src/util/sha1.js';
import { encode } from '../../../src/bencode/index.js';
import { seededBytes } from '../../helpers/tmp.js';
import { createHash } from 'node:crypto';

const info = encode({
  name: 'x',
  'piece length': 16384,
  pieces: seededBytes(20 * 2500, 9),
  length: 2500 * 16384,
});
const infoHash = sha1(info);

type Behaviour = (piece: number, honest: Buffer) => MetadataMessage | undefined;

/** Runs the fetcher against simulated peers until nothing more happens. */
function simulate(
  fetcher: MetadataFetcher,
  clock: FakeClock,
  peers: Record<string, { size: number; reply: Behaviour }>,
) {
  const server = new MetadataServer(info, { floodFactor: 100 });
  const dropped: Record<string, string> = {};
  let complete: Buffer | undefined;
  const queue: FetcherAction[] = [];
  const handle = (actions: FetcherAction[]): void => void queue.push(...actions);
  for (const [name, p] of Object.entries(peers)) handle(fetcher.addPeer(name, p.size));
  let requests = 0;
  for (let steps = 0; steps < 10_000; steps++) {
    const a = queue.shift();
    if (!a) {
      if (complete || Object.keys(peers).every((n) => n in dropped)) break;
      clock.advance(5_000);
      handle(fetcher.tick());
      if (queue.length === 0 && clock.now() > 600_000) break;
      continue;
    }
    if (a.type === 'complete') complete = a.info;
    else if (a.type === 'drop') dropped[a.peer] = a.reason;
    else {
      requests++;
      const honest = decodeMetadataMessage(server.respond(a.peer, { type: 'request', piece: a.piece })!);
      const honestData = honest.type === 'data' ? honest.data : Buffer.alloc(0);
      const reply = peers[a.peer]!.reply(a.piece, honestData);
      if (reply) handle(fetcher.onMessage(a.peer, reply));
    }
  }
  return { complete, dropped, requests };
}

const honest = (size = info.length): { size: number; reply: Behaviour } => ({
  size,
  reply: (piece, data) => ({ type: 'data', piece, totalSize: size, data }),
});

test('fetches and verifies metadata from several peers in parallel', () => {
  const clock = new FakeClock();
  const f = new MetadataFetcher({ infoHash, clock });
  const r = simulate(f, clock, { a: honest(), b: honest(), c: honest() });
  assert.ok(r.complete?.equals(info));
  assert.deepEqual(r.dropped, {});
  assert.equal(r.requests, Math.ceil(info.length / 16384));
  assert.ok(f.complete && f.info?.equals(info));
});

test('a peer sending one bad piece is found and dropped; the metadata still completes', () => {
  const liar: Behaviour = (piece, data) => {
    const bad = Buffer.from(data);
    if (piece === 1) bad[0] = bad[0]! ^ 0xff;
    return { type: 'data', piece, totalSize: info.length, data: bad };
  };
  // Pieces spread over three peers: the mixed attempt fails, single-peer attempts find the culprit.
  for (const maxOutstandingPerPeer of [1, 4]) {
    const clock = new FakeClock();
    const f = new MetadataFetcher({ infoHash, clock, maxOutstandingPerPeer });
    const r = simulate(f, clock, { a: honest(), b: { size: info.length, reply: liar }, c: honest() });
    assert.ok(r.complete?.equals(info));
    assert.deepEqual(
      r.dropped,
      maxOutstandingPerPeer === 1 ? { b: 'bad-data' } : {},
      'with 4 in flight, a serves all',
    );
  }
  // The liar first, alone: its own attempt fails and names it.
  const clock = new FakeClock();
  const r = simulate(new MetadataFetcher({ infoHash, clock }), clock, {
    b: { size: info.length, reply: liar },
    a: honest(),
  });
  assert.ok(r.complete?.equals(info));
  assert.deepEqual(r.dropped, { b: 'bad-data' });
});

test('a peer lying about the size is dropped, whether outvoted or alone first', () => {
  for (const order of [
    ['liar', 'a', 'b'],
    ['a', 'b', 'liar'],
  ]) {
    const clock = new FakeClock();
    const f = new MetadataFetcher({ infoHash, clock });
    const peers: Record<string, { size: number; reply: Behaviour }> = {};
    for (const n of order)
      peers[n] =
        n === 'liar'
          ? {
              size: info.length + 20_000,
              reply: (piece) => ({
                type: 'data',
                piece,
                totalSize: info.length + 20_000,
                data: Buffer.alloc(Math.min(16384, info.length + 20_000 - piece * 16384)),
              }),
            }
          : honest();
    const r = simulate(f, clock, peers);
    assert.ok(r.complete?.equals(info), order.join());
    assert.equal(r.dropped.liar !== undefined, true, order.join());
    assert.equal(Object.keys(r.dropped).length, 1);
  }
  // A lone liar whose size beats the limit is refused at once.
  const f = new MetadataFetcher({ infoHash, clock: new FakeClock(), maxSize: 1024 * 1024 });
  assert.deepEqual(f.addPeer('huge', 50 * 1024 * 1024), [{ type: 'drop', peer: 'huge', reason: 'bad-size' }]);
  assert.deepEqual(f.addPeer('zero', 0), [{ type: 'drop', peer: 'zero', reason: 'bad-size' }]);
});

test('wrong total_size or wrong piece length in data drops the peer', () => {
  const clock = new FakeClock();
  const f = new MetadataFetcher({ infoHash, clock });
  const r = simulate(f, clock, {
    short: {
      size: info.length,
      reply: (piece, data) => ({ type: 'data', piece, totalSize: info.length, data: data.subarray(1) }),
    },
    other: { size: info.length, reply: (piece, data) => ({ type: 'data', piece, totalSize: 5, data }) },
    good: honest(),
  });
  assert.ok(r.complete?.equals(info));
  assert.deepEqual(r.dropped, { short: 'bad-data', other: 'bad-size' });
});

test('rejects and timeouts move pieces to other peers; silent peers are dropped', () => {
  const clock = new FakeClock();
  const f = new MetadataFetcher({ infoHash, clock, requestTimeoutMs: 10_000, maxTimeouts: 2 });
  const r = simulate(f, clock, {
    rejecter: { size: info.length, reply: (piece) => ({ type: 'reject', piece }) },
    silent: { size: info.length, reply: () => undefined },
    good: honest(),
  });
  assert.ok(r.complete?.equals(info));
  assert.equal(r.dropped.silent, 'unresponsive');
  assert.equal(r.dropped.good, undefined);
  assert.ok(clock.now() >= 10_000, 'needed the timeout to move on');
});

test('unrequested data is ignored and nothing completes without honest peers', () => {
  const clock = new FakeClock();
  const f = new MetadataFetcher({ infoHash, clock });
  assert.deepEqual(
    f.onMessage('nobody', { type: 'data', piece: 0, totalSize: info.length, data: info.subarray(0, 16384) }),
    [],
  );
  f.addPeer('x', info.length);
  assert.deepEqual(
    f.onMessage('x', { type: 'data', piece: 10, totalSize: info.length, data: info.subarray(0, 16384) }),
    [],
  );
  const garbage: Behaviour = (piece, data) => ({
    type: 'data',
    piece,
    totalSize: info.length,
    data: Buffer.alloc(data.length, 7),
  });
  const r = simulate(new MetadataFetcher({ infoHash, clock }), clock, {
    g1: { size: info.length, reply: garbage },
    g2: { size: info.length, reply: garbage },
  });
  assert.equal(r.complete, undefined);
  assert.deepEqual(r.dropped, { g1: 'bad-data', g2: 'bad-data' });
});

test('BEP 52: a v2 or hybrid magnet verifies the metadata by SHA-256 (and SHA-1 for a hybrid)', () => {
  const v2 = createHash('sha256').update(info).digest();
  const other = createHash('sha256').update('another torrent').digest();
  const cases: [string, Buffer, Buffer, boolean][] = [
    ['v2-only', v2.subarray(0, 20), v2, true],
    ['hybrid', infoHash, v2, true],
    ['v2-only, another hash', other.subarray(0, 20), other, false],
    ['hybrid whose v2 half differs', infoHash, other, false],
    ['v1 hash that differs, v2 right', Buffer.alloc(20, 1), v2, false],
  ];
  for (const [what, wire, infoHashV2, completes] of cases) {
    const clock = new FakeClock();
    const r = simulate(new MetadataFetcher({ infoHash: wire, infoHashV2, clock }), clock, {
      a: honest(),
      b: honest(),
    });
    assert.equal(r.complete?.equals(info) ?? false, completes, what);
  }
  assert.throws(
    () => new MetadataFetcher({ infoHash, infoHashV2: Buffer.alloc(20), clock: new FakeClock() }),
    { code: 'METADATA_BAD_INFOHASH' },
  );
});
