/**
 * The download side with a FakeClock and scripted fake peers: pipeline slow start and reqq cap,
 * snubbing, choke without Fast, rejects, endgame cancels, unrequested blocks, hash failures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DisconnectReason } from '../../../src/peer/disconnect.js';
import type { Metainfo } from '../../../src/metainfo/types.js';
import { Downloader, defaultDownloaderTuning, type DownloaderHost } from '../../../src/torrent/downloader.js';
import { PeerSession } from '../../../src/torrent/session.js';
import { PieceDeadlines } from '../../../src/torrent/deadlines.js';
import { sha1Pieces } from '../../../src/torrent/verification.js';
import type { PeerLink } from '../../../src/torrent/peer-link.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import { makeLayout } from '../../../src/storage/layout.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { FakeClock } from '../../../src/util/clock.js';
import { sharedHashPool } from '../../../src/hash/index.js';
import { seededBytes } from '../../helpers/tmp.js';

const PIECE = 65536;

/** A scripted PeerLink: records what the downloader asks of it. */
class FakePeer implements PeerLink {
  closed = false;
  closeReason: DisconnectReason | undefined;
  amInterested = false;
  peerChoking = true;
  fastExtension = true;
  allowedFastSet = new Set<number>();
  extensions: { reqq?: number } | undefined;
  bitfield: Bitfield;
  downloadRate = 0;
  uploadRate = 0;
  uploaded = 0;
  amChoking = true;
  peerInterested = false;
  congested = false;
  connectedAt = 0;
  requests: { index: number; begin: number; length: number }[] = [];
  /** Every request ever sent, in order. */
  log: { index: number; begin: number; length: number }[] = [];
  cancels: { index: number; begin: number; length: number }[] = [];
  constructor(
    readonly host: string,
    pieces: number,
  ) {
    this.bitfield = new Bitfield(pieces);
  }
  interested(): void {
    this.amInterested = true;
  }
  notInterested(): void {
    this.amInterested = false;
  }
  request(index: number, begin: number, length: number): void {
    this.requests.push({ index, begin, length });
    this.log.push({ index, begin, length });
  }
  cancel(index: number, begin: number, length: number): void {
    this.cancels.push({ index, begin, length });
  }
  get maxRequests(): number | undefined {
    return this.extensions?.reqq;
  }
  choke(): void {}
  unchoke(): void {}
  have(): void {}
  piece(): void {}
  reject(): void {}
  close(reason: DisconnectReason = DisconnectReason.CLOSED_BY_US): void {
    this.closed = true;
    this.closeReason = reason;
  }
}

function setup(pieces = 8, tuning = {}) {
  const data = seededBytes(pieces * PIECE, 5);
  const hashes = Buffer.concat(
    Array.from({ length: pieces }, (_, i) =>
      createHash('sha1')
        .update(data.subarray(i * PIECE, (i + 1) * PIECE))
        .digest(),
    ),
  );
  const layout = makeLayout(PIECE, [{ path: ['f'], length: data.length }]);
  const metainfo = {
    ...layout,
    pieceSize: (i: number) => (i === pieces - 1 ? layout.lastPieceLength : PIECE),
    pieceHash: (i: number) => hashes.subarray(i * 20, i * 20 + 20),
  } as unknown as Metainfo;
  const storage = new MemoryStorage(layout);
  const clock = new FakeClock(1000);
  const sessions = new Map<PeerLink, PeerSession>();
  const done: number[] = [];
  const failed: number[] = [];
  const banned: string[] = [];
  const host: DownloaderHost = {
    clock,
    metainfo,
    hashPool: sharedHashPool(),
    verification: sha1Pieces((i) => hashes.subarray(i * 20, i * 20 + 20)),
    storage: () => storage,
    session: (p) => sessions.get(p),
    sessions: () => sessions.values(),
    canDownload: () => true,
    pieceDone: (i) => done.push(i),
    pieceFailed: (i) => failed.push(i),
    ban: (h) => banned.push(h),
    writeFailed: (_i, e) => assert.fail(String(e)),
  };
  const d = new Downloader(host, new Bitfield(pieces), { ...defaultDownloaderTuning, ...tuning });
  const add = (name: string, all = true): { fake: FakePeer; s: PeerSession } => {
    const fake = new FakePeer(name, pieces);
    const s = new PeerSession(fake, name, clock.now());
    sessions.set(fake, s);
    d.peerAdded(s);
    if (all) {
      fake.bitfield = Bitfield.full(pieces);
      d.onMessage(s, { type: 'haveAll' });
    }
    return { fake, s };
  };
  const block = (r: { index: number; begin: number; length: number }): Buffer =>
    data.subarray(r.index * PIECE + r.begin, r.index * PIECE + r.begin + r.length);
  return { d, clock, add, block, done, failed, banned, data, storage };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

test('interest follows availability; nothing is requested while choked', () => {
  const { add } = setup();
  const { fake } = add('a');
  assert.equal(fake.amInterested, true);
  assert.equal(fake.requests.length, 0);
});

test('slow start: the pipeline grows by one per block, capped by reqq', () => {
  const { d, add, block } = setup(8);
  const { fake, s } = add('a');
  fake.extensions = { reqq: 6 };
  fake.peerChoking = false;
  d.onMessage(s, { type: 'unchoke' });
  assert.equal(fake.requests.length, defaultDownloaderTuning.initialPipeline);
  for (let i = 0; i < 6; i++) {
    const r = fake.requests[i]!;
    d.onMessage(s, { type: 'piece', index: r.index, begin: r.begin, block: block(r) });
  }
  assert.equal(s.target, 6, 'capped by reqq');
  assert.ok(s.inflight.size <= 6);
});

test('blocks become verified pieces written to storage', async () => {
  const { d, add, block, done, storage, data } = setup(2);
  const { fake, s } = add('a');
  fake.peerChoking = false;
  d.onMessage(s, { type: 'unchoke' });
  for (let guard = 0; guard < 100 && done.length < 2; guard++) {
    const r = fake.requests.shift();
    if (!r) {
      await settle();
      continue;
    }
    d.onMessage(s, { type: 'piece', index: r.index, begin: r.begin, block: block(r) });
  }
  await settle();
  await d.settle();
  assert.deepEqual(done.sort(), [0, 1]);
  assert.ok((await storage.read(1, 0, PIECE)).equals(data.subarray(PIECE)));
  assert.equal(d.picker.finished, true);
});

test('a peer silent for the snub timeout is snubbed: its requests go back and are cancelled', () => {
  const { d, clock, add } = setup();
  const { fake, s } = add('a');
  fake.peerChoking = false;
  d.onMessage(s, { type: 'unchoke' });
  const sent = fake.requests.length;
  assert.ok(sent > 0);
  clock.advance(defaultDownloaderTuning.snubTimeoutMs + 1);
  d.tick();
  assert.equal(s.snubbed, true);
  assert.equal(fake.cancels.length, sent);
  assert.equal(s.inflight.size, 1, 'a snubbed peer keeps a single request');
  assert.equal(d.picker.requestsOf(fake).length, 1, 'the cancelled blocks are free again');
});

test('a single lost request times out while the peer keeps answering the others', () => {
  const { d, clock, add, block } = setup(64);
  const { fake, s } = add('a');
  fake.extensions = { reqq: 4 };
  fake.peerChoking = false;
  d.onMessage(s, { type: 'unchoke' });
  const lost = fake.requests.shift()!;
  for (let t = 0; t < 25; t++) {
    clock.advance(1000);
    // Every other request is answered within a second.
    for (const r of fake.requests.splice(0))
      d.onMessage(s, { type: 'piece', index: r.index, begin: r.begin, block: block(r) });
    d.tick();
  }
  assert.ok(fake.cancels.some((c) => c.index === lost.index && c.begin === lost.begin));
  assert.equal(s.snubbed, false);
  // The freed block is requested again (from the same peer: it is the only one).
  assert.equal(fake.log.filter((r) => r.index === lost.index && r.begin === lost.begin).length, 2);
});

test('choke without the Fast extension drops every request; with Fast a reject frees one', () => {
  const { d, add } = setup();
  const { fake, s } = add('a');
  fake.fastExtension = false;
  fake.peerChoking = false;
  d.onMessage(s, { type: 'unchoke' });
  assert.ok(s.inflight.size > 0);
  fake.peerChoking = true;
  d.onMessage(s, { type: 'choke' });
  assert.equal(s.inflight.size, 0);

  const { fake: f2, s: s2 } = add('b');
  f2.peerChoking = false;
  d.onMessage(s2, { type: 'unchoke' });
  const r = f2.requests[0]!;
  const held = (): boolean =>
    d.picker.requestsOf(f2).some((q) => q.piece === r.index && q.offset === r.begin);
  assert.ok(held());
  d.onMessage(s2, { type: 'reject', index: r.index, begin: r.begin, length: r.length });
  assert.equal(held(), false, 'the rejected block is free again');
});

test('allowed-fast pieces are requested while choked', () => {
  const { d, add } = setup();
  const { fake, s } = add('a');
  fake.allowedFastSet.add(3);
  d.onMessage(s, { type: 'allowedFast', index: 3 });
  assert.ok(fake.requests.length > 0);
  assert.ok(fake.requests.every((r) => r.index === 3));
});

test('unrequested blocks are wasted and, past the limit, disconnect the peer', () => {
  const { d, add } = setup(8, { maxUnrequested: 2 });
  const { fake, s } = add('a');
  for (let i = 0; i < 3; i++)
    d.onMessage(s, { type: 'piece', index: 5, begin: 0, block: Buffer.alloc(16384) });
  assert.equal(fake.closeReason, DisconnectReason.UNREQUESTED_PIECE);
  assert.equal(d.wasted, 3 * 16384);
});

test('endgame: a block received from one peer is cancelled at the other', () => {
  const { d, add, block } = setup(1);
  const { fake: a, s: sa } = add('a');
  a.peerChoking = false;
  a.extensions = { reqq: 100 };
  d.onMessage(sa, { type: 'unchoke' });
  assert.equal(a.requests.length, 4);
  // Slow start keeps the pipeline at 4; let b take the rest, then duplicate in endgame.
  const { fake: b, s: sb } = add('b');
  b.peerChoking = false;
  d.onMessage(sb, { type: 'unchoke' });
  assert.ok(d.picker.inEndgame);
  const dup = a.requests.find((r) => b.requests.some((q) => q.index === r.index && q.begin === r.begin));
  assert.ok(dup, 'b duplicated one of a\u2019s blocks');
  d.onMessage(sa, { type: 'piece', index: dup.index, begin: dup.begin, block: block(dup) });
  assert.ok(b.cancels.some((c) => c.index === dup.index && c.begin === dup.begin));
  // b's late copy is a normal race: wasted, not an offence.
  d.onMessage(sb, { type: 'piece', index: dup.index, begin: dup.begin, block: block(dup) });
  assert.equal(b.closed, false);
  assert.equal(d.wasted, dup.length);
});

test('a piece with bad data fails, is re-requested, and its only sender is banned', async () => {
  const { d, add, failed, banned } = setup(2);
  const { fake, s } = add('liar');
  fake.peerChoking = false;
  d.onMessage(s, { type: 'unchoke' });
  for (let guard = 0; guard < 200 && failed.length === 0; guard++) {
    const r = fake.requests.shift();
    if (!r) {
      await settle();
      continue;
    }
    d.onMessage(s, { type: 'piece', index: r.index, begin: r.begin, block: Buffer.alloc(r.length, 1) });
  }
  assert.ok(failed.length >= 1);
  assert.deepEqual(banned, ['liar']);
  assert.equal(d.hashFailures, failed.length);
});

test('a seek withdraws queued ordinary requests so critical ones go first; a moving window does not', () => {
  const { d, add, clock } = setup(8);
  const deadlines = new PieceDeadlines(clock, d);
  d.picker.critical = deadlines;
  const { fake, s } = add('a');
  fake.extensions = { reqq: 64 };
  fake.peerChoking = false;
  s.slowStart = false;
  s.target = 64;
  d.onMessage(s, { type: 'unchoke' });
  assert.equal(s.inflight.size, 32, 'a full pipeline of ordinary requests (8 pieces of 4 blocks)');
  const queued = fake.requests.map((r) => r.index);
  const far = [0, 1, 2, 3, 4, 5, 6, 7].find((p) => !queued.includes(p));
  assert.equal(far, undefined, 'every piece requested');
  // Seek: piece 6 becomes critical (its blocks are already queued: kept), piece 7 too.
  fake.requests.length = 0;
  deadlines.set({}, [{ piece: 6, deadline: clock.now() }]);
  assert.equal(fake.cancels.length, 0, 'the critical piece is already in flight: nothing withdrawn');

  // A fresh session: a seek to a piece nobody requested yet withdraws the ordinary queue.
  const b = setup(8);
  const dl = new PieceDeadlines(b.clock, b.d);
  b.d.picker.critical = dl;
  const p = b.add('a');
  p.fake.extensions = { reqq: 8 };
  p.fake.peerChoking = false;
  p.s.slowStart = false;
  p.s.target = 8;
  b.d.onMessage(p.s, { type: 'unchoke' });
  const first = p.fake.requests.map((r) => r.index);
  assert.equal(p.s.inflight.size, 8);
  const target = [0, 1, 2, 3, 4, 5, 6, 7].find((x) => !first.includes(x))!;
  p.fake.requests.length = 0;
  dl.set({}, [{ piece: target, deadline: b.clock.now() }]);
  assert.equal(p.fake.cancels.length, 8, 'every ordinary request withdrawn');
  assert.deepEqual(
    p.fake.requests.slice(0, 4).map((r) => r.index),
    [target, target, target, target],
    'the critical piece is requested first',
  );
  // The reader moves on: the next piece joins the window while the first is in flight: no withdrawal.
  const next = (target + 1) % 8;
  dl.set({}, [
    { piece: target, deadline: b.clock.now() },
    { piece: next, deadline: b.clock.now() + 500 },
  ]);
  assert.equal(p.fake.cancels.length, 8);
});

test('a shared failure bans nobody; the piece goes to one peer at a time until it passes, then the liar is named', async () => {
  const { d, add, block, failed, banned, done } = setup(1);
  const liar = add('liar');
  const seed = add('seed');
  const answer = (p: ReturnType<typeof add>, lie: boolean): void => {
    for (const r of p.fake.requests.splice(0)) {
      if (lie && r.begin === 0)
        d.onMessage(p.s, { type: 'piece', index: r.index, begin: r.begin, block: Buffer.alloc(r.length, 7) });
      else if (lie) d.onMessage(p.s, { type: 'reject', ...r });
      else d.onMessage(p.s, { type: 'piece', index: r.index, begin: r.begin, block: block(r) });
    }
  };
  liar.fake.peerChoking = false;
  d.onMessage(liar.s, { type: 'unchoke' });
  answer(liar, true); // garbage for block 0, the other three rejected
  seed.fake.peerChoking = false;
  d.onMessage(seed.s, { type: 'unchoke' });
  answer(seed, false); // the seed completes the piece: it fails, shared
  await settle();
  assert.deepEqual(failed, [0]);
  assert.deepEqual(banned, [], 'one shared failure proves nothing');
  assert.equal(seed.fake.closed, false);
  // Only one peer at a time is asked for the piece; the liar (first in line) refuses it.
  const owner = d.picker.soloOwner(0);
  assert.ok(owner === liar.fake || owner === seed.fake);
  if (owner === liar.fake) {
    assert.deepEqual(seed.fake.requests, [], 'the piece is not shared');
    answer(liar, true);
    assert.equal(d.picker.soloOwner(0), seed.fake, 'refused: the next peer gets it alone');
    assert.ok(liar.fake.requests.every((r) => r.index !== 0));
  }
  answer(seed, false);
  await settle();
  assert.deepEqual(done, [0]);
  assert.deepEqual(banned, ['liar'], 'its block differs from the verified piece');
  assert.equal(seed.fake.closed, false);
});

/**
 * One peer with a full pipeline of 8 ordinary requests, then a seek to a piece nobody requested:
 * every ordinary request is withdrawn (`first`), the critical piece asked for first.
 */
function afterSeekWithdrawal(tuning = {}) {
  const b = setup(8, tuning);
  const dl = new PieceDeadlines(b.clock, b.d);
  b.d.picker.critical = dl;
  const p = b.add('a');
  p.fake.extensions = { reqq: 8 };
  p.fake.peerChoking = false;
  p.s.slowStart = false;
  p.s.target = 8;
  b.d.onMessage(p.s, { type: 'unchoke' });
  const first = p.fake.requests.slice();
  const target = [0, 1, 2, 3, 4, 5, 6, 7].find((x) => !first.some((r) => r.index === x))!;
  p.fake.requests.length = 0;
  dl.set({}, [{ piece: target, deadline: b.clock.now() }]);
  assert.equal(p.fake.cancels.length, 8, 'the ordinary requests withdrawn');
  const serve = (r: { index: number; begin: number; length: number }): void =>
    b.d.onMessage(p.s, { type: 'piece', index: r.index, begin: r.begin, block: b.block(r) });
  return { b, p, first, serve };
}

test('blocks cancelled by a seek and asked for again may arrive twice: neither copy is "unrequested"', () => {
  // Before: re-requesting a cancelled block forgot the cancel, so the copy already on its way
  // plus the one for the new request counted as unrequested; a streaming reader's seeks withdrew
  // 2,000-request pipelines and the seed was disconnected (UNREQUESTED_PIECE).
  const { p, first, serve: deliver } = afterSeekWithdrawal({ maxUnrequested: 1 });
  // The seed had already sent the withdrawn blocks: they arrive; then it answers the new requests,
  // among them the withdrawn blocks asked for again, and those asked for later.
  for (const r of first) deliver(r);
  for (let round = 0; round < 4 && p.fake.requests.length > 0; round++) {
    const batch = p.fake.requests.splice(0);
    for (const r of batch) deliver(r);
  }
  assert.equal(p.fake.closed, false, `closed: ${String(p.fake.closeReason)}`);
});

test('a reject answering our cancel does not undo the same block asked for again', () => {
  // BEP 6 answers a cancel with a reject. When a seek withdrew a block and it was requested again,
  // that reject used to drop the new request; the block then arrived unmatched and was wasted.
  const { b, p, first, serve } = afterSeekWithdrawal();
  // The critical blocks come first; meanwhile the withdrawn ones are asked for again.
  for (
    let round = 0;
    round < 6 && !first.some((f) => p.s.inflight.has(f.index * 4 + f.begin / 16384));
    round++
  )
    for (const r of p.fake.requests.splice(0)) serve(r);
  const again = first.filter((f) => p.s.inflight.has(f.index * 4 + f.begin / 16384));
  assert.ok(again.length > 0, 'withdrawn blocks requested again');
  // Only now do the rejects answering the cancels arrive; then the seed serves the rest.
  for (const r of first)
    b.d.onMessage(p.s, { type: 'reject', index: r.index, begin: r.begin, length: r.length });
  for (const r of again) assert.ok(p.s.inflight.has(r.index * 4 + r.begin / 16384), 'the new request stands');
  for (let round = 0; round < 6 && p.fake.requests.length > 0; round++)
    for (const r of p.fake.requests.splice(0)) serve(r);
  assert.equal(b.d.wasted, 0, 'nothing received was thrown away');
});
