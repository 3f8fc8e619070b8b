/**
 * The WebSeed link alone, with a scripted fetcher and the FakeClock: batching into runs, blocks
 * cut from the bytes, cancels, back-off (exponential and Retry-After) as choke/unchoke, and when
 * a seed is given up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSeed, type RangeFetcher, type WebSeedErrorInfo } from '../../../src/torrent/web-seed.js';
import type { FetchOutcome, RangeFetch } from '../../../src/webseed/http-fetcher.js';
import type { WebSeedTorrent } from '../../../src/webseed/plan.js';
import type { Message } from '../../../src/wire/index.js';
import type { DisconnectInfo } from '../../../src/peer/disconnect.js';
import { FakeClock } from '../../../src/util/clock.js';
import { seededBytes } from '../../helpers/tmp.js';

const B = 16384;
const PL = 4 * B;

interface Call {
  req: RangeFetch;
  finish(r: FetchOutcome): void;
  aborted: boolean;
}

function setup(files: number[] = [10 * PL], tuning = {}) {
  let offset = 0;
  const t: WebSeedTorrent = {
    name: 'n',
    infoHash: Buffer.alloc(20, 1),
    multiFile: files.length > 1,
    pieceLength: PL,
    pieceCount: Math.ceil(files.reduce((a, b) => a + b, 0) / PL),
    lastPieceLength: 0,
    length: files.reduce((a, b) => a + b, 0),
    files: files.map((length, i) => {
      const f = { path: ['n', `f${i}`], length, offset, pad: false };
      offset += length;
      return f;
    }),
  };
  const data = seededBytes(t.length, 5);
  const calls: Call[] = [];
  const fetcher: RangeFetcher = {
    fetch(req) {
      let finish!: (r: FetchOutcome) => void;
      const done = new Promise<FetchOutcome>((r) => (finish = r));
      const call: Call = { req, finish, aborted: false };
      calls.push(call);
      return {
        done,
        abort: () => {
          call.aborted = true;
          finish({ ok: false, kind: 'aborted', code: 'WEBSEED_ABORTED', message: 'aborted' });
        },
      };
    },
  };
  const clock = new FakeClock();
  const messages: Message[] = [];
  const errors: WebSeedErrorInfo[] = [];
  const closes: DisconnectInfo[] = [];
  const seed = new WebSeed(
    'http://seed/n',
    {
      clock,
      torrent: t,
      fetcher,
      message: (_s, m) => messages.push(m.type === 'piece' ? { ...m, block: Buffer.from(m.block) } : m),
      error: (_s, e) => errors.push(e),
      closed: (_s, i) => closes.push(i),
    },
    tuning,
  );
  /** Serves a call's range from the data (in chunks of `chunk`) and completes it. */
  const serve = (c: Call, chunk = 5000): void => {
    const fileStart = (t.files.find((f) => c.req.url.endsWith(`/${f.path.at(-1)!}`)) ?? t.files[0]!).offset;
    const bytes = data.subarray(fileStart + c.req.start, fileStart + c.req.start + c.req.length);
    for (let i = 0; i < bytes.length; i += chunk) c.req.onData(bytes.subarray(i, i + chunk));
    c.finish({ ok: true, url: c.req.url });
  };
  return { t, data, calls, clock, messages, errors, closes, seed, serve };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a batch of adjacent block requests is one range; its bytes come back as blocks', async () => {
  const s = setup();
  for (let p = 2; p < 4; p++) for (let b = 0; b < 4; b++) s.seed.request(p, b * B, B);
  await tick();
  assert.equal(s.calls.length, 1);
  assert.deepEqual([s.calls[0]!.req.start, s.calls[0]!.req.length], [2 * PL, 2 * PL]);
  s.serve(s.calls[0]!);
  await tick();
  const pieces = s.messages.filter((m) => m.type === 'piece');
  assert.equal(pieces.length, 8);
  for (const m of pieces) {
    if (m.type !== 'piece') continue;
    const at = m.index * PL + m.begin;
    assert.ok(m.block.equals(s.data.subarray(at, at + B)));
  }
  assert.equal(s.seed.downloaded, 8 * B);
  assert.equal(s.seed.outstanding, 0);
});

test('a run across two files is fetched as one range per file, in order', async () => {
  const s = setup([PL + 1000, 3 * PL]);
  for (let b = 0; b < 8; b++) s.seed.request(Math.floor(b / 4), (b % 4) * B, B);
  await tick();
  assert.equal(s.calls.length, 1);
  assert.ok(s.calls[0]!.req.url.endsWith('/n/f0'));
  s.serve(s.calls[0]!, 777);
  await tick();
  assert.equal(s.calls.length, 2);
  assert.ok(s.calls[1]!.req.url.endsWith('/n/f1'));
  assert.deepEqual([s.calls[1]!.req.start, s.calls[1]!.req.length], [0, 2 * PL - PL - 1000]);
  s.serve(s.calls[1]!, 777);
  await tick();
  const got = s.messages.filter((m) => m.type === 'piece');
  assert.equal(got.length, 8);
  const straddling = got.find((m) => m.type === 'piece' && m.index === 1 && m.begin === 0);
  assert.ok(
    straddling && straddling.type === 'piece' && straddling.block.equals(s.data.subarray(PL, PL + B)),
  );
});

test('cancelled blocks are not delivered; a run with nothing left wanted is aborted', async () => {
  const s = setup();
  for (let b = 0; b < 4; b++) s.seed.request(0, b * B, B);
  await tick();
  s.seed.cancel(0, B);
  s.serve(s.calls[0]!);
  await tick();
  assert.deepEqual(
    s.messages.map((m) => (m.type === 'piece' ? m.begin / B : -1)),
    [0, 2, 3],
  );
  for (let b = 0; b < 4; b++) s.seed.request(1, b * B, B);
  await tick();
  for (let b = 0; b < 4; b++) s.seed.cancel(1, b * B);
  assert.equal(s.calls[1]!.aborted, true);
});

test('errors rest the seed (choke), doubling each time or as Retry-After says, then unchoke', async () => {
  const s = setup();
  const fail = async (afterMs?: number): Promise<void> => {
    s.seed.request(0, 0, B);
    await tick();
    s.calls.at(-1)!.finish({
      ok: false,
      kind: 'retry',
      code: 'WEBSEED_UNAVAILABLE',
      message: 'HTTP 503',
      ...(afterMs !== undefined ? { afterMs } : {}),
    });
    await tick();
  };
  await fail();
  assert.deepEqual(s.messages.at(-1), { type: 'choke' });
  assert.equal(s.seed.peerChoking, true);
  assert.equal(s.errors[0]!.retryInMs, 1000);
  assert.equal(s.errors[0]!.dropped, false);
  // Requests while resting are refused outright (the Downloader gave its requests back).
  s.seed.request(0, B, B);
  await tick();
  assert.equal(s.calls.length, 1);
  s.clock.advance(999);
  assert.equal(s.seed.peerChoking, true);
  s.clock.advance(1);
  assert.deepEqual(s.messages.at(-1), { type: 'unchoke' });
  await fail();
  assert.equal(s.errors[1]!.retryInMs, 2000);
  s.clock.advance(2000);
  await fail(30_000);
  assert.equal(s.errors[2]!.retryInMs, 30_000, 'Retry-After wins over the back-off');
  s.clock.advance(30_000);
  // A success resets the count.
  s.seed.request(0, 0, B);
  await tick();
  s.serve(s.calls.at(-1)!);
  await tick();
  assert.equal(s.seed.failures, 0);
  assert.equal(s.closes.length, 0);
});

test('too many errors in a row, or one that cannot get better, drop the seed', async () => {
  const s = setup([10 * PL], { maxFailures: 2 });
  for (let i = 0; i < 3; i++) {
    s.seed.request(0, 0, B);
    await tick();
    s.calls.at(-1)!.finish({ ok: false, kind: 'retry', code: 'WEBSEED_CONNECTION', message: 'ECONNREFUSED' });
    await tick();
    s.clock.advance(10_000);
  }
  assert.equal(s.closes.length, 1);
  assert.equal(s.errors.at(-1)!.dropped, true);
  assert.equal(s.seed.closed, true);

  const p = setup();
  p.seed.request(0, 0, B);
  await tick();
  p.calls[0]!.finish({ ok: false, kind: 'fail', code: 'WEBSEED_HTTP_ERROR', message: 'HTTP 404' });
  await tick();
  assert.equal(p.closes.length, 1);
  assert.deepEqual([p.errors[0]!.code, p.errors[0]!.dropped], ['WEBSEED_HTTP_ERROR', true]);
});
