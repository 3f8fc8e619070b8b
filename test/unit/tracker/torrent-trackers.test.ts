import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/util/clock.js';
import { NbtError } from '../../../src/util/errors.js';
import {
  TorrentTrackers,
  type AnnounceInfo,
  type TrackerErrorInfo,
} from '../../../src/tracker/torrent-trackers.js';
import { TrackerFailure } from '../../../src/tracker/http-codec.js';
import type {
  AnnounceRequest,
  AnnounceResponse,
  ScrapeResult,
  TrackerTransport,
} from '../../../src/tracker/types.js';
import type { PeerAddress } from '../../../src/util/compact.js';

interface Call {
  url: string;
  req: AnnounceRequest;
  signal: AbortSignal | undefined;
  resolve: (r: AnnounceResponse) => void;
  reject: (e: Error) => void;
}

class FakeTransport implements TrackerTransport {
  calls: Call[] = [];
  closed = 0;
  scrapes: string[] = [];
  announce(url: string, req: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse> {
    return new Promise((resolve, reject) => {
      this.calls.push({ url, req, signal, resolve, reject });
      signal?.addEventListener('abort', () => reject(new NbtError('TRACKER_ABORTED', 'aborted')));
    });
  }
  scrape(url: string, hashes: readonly Uint8Array[]): Promise<ScrapeResult> {
    this.scrapes.push(url);
    if (url.includes('bad')) return Promise.reject(new NbtError('TRACKER_NO_SCRAPE', 'no scrape'));
    return Promise.resolve(
      new Map([[Buffer.from(hashes[0]!).toString('hex'), { complete: 2, incomplete: 3, downloaded: 4 }]]),
    );
  }
  close(): void {
    this.closed++;
  }
  last(): Call {
    return this.calls[this.calls.length - 1]!;
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(tiers: string[][], extra: { requestTimeoutMs?: number } = {}) {
  const clock = new FakeClock(1000);
  const http = new FakeTransport();
  const udp = new FakeTransport();
  const stats = { uploaded: 10, downloaded: 20, left: 30 };
  const tt = new TorrentTrackers({
    tiers,
    infoHash: Buffer.alloc(20, 7),
    peerId: Buffer.alloc(20, 8),
    port: 6881,
    clock,
    stats: () => stats,
    key: 42,
    http,
    udp,
    scheduler: { random: () => 0.999, backoffBaseMs: 1000 },
    ...extra,
  });
  const events: {
    announce: AnnounceInfo[];
    errors: TrackerErrorInfo[];
    peers: [PeerAddress[], string][];
    warnings: string[];
  } = {
    announce: [],
    errors: [],
    peers: [],
    warnings: [],
  };
  tt.on('announce', (i) => events.announce.push(i));
  tt.on('error', (i) => events.errors.push(i));
  tt.on('peers', (p, s) => events.peers.push([p, s.url]));
  tt.on('warning', (w) => events.warnings.push(w.message));
  return { clock, http, udp, stats, tt, events };
}

test('announces started with the stats, emits peers tagged with their tracker, re-announces after interval', async () => {
  const { clock, http, stats, tt, events } = setup([['http://a/announce']]);
  tt.start();
  await flush();
  assert.equal(http.calls.length, 1);
  const c = http.last();
  assert.equal(c.url, 'http://a/announce');
  assert.deepEqual(
    { ...c.req, infoHash: undefined, peerId: undefined },
    {
      infoHash: undefined,
      peerId: undefined,
      port: 6881,
      uploaded: 10,
      downloaded: 20,
      left: 30,
      event: 'started',
      numwant: 50,
      key: 42,
      trackerId: undefined,
      ipv4: undefined,
      ipv6: undefined,
    },
  );
  c.resolve({
    interval: 120,
    peers: [{ host: '1.2.3.4', port: 5 }],
    seeders: 1,
    leechers: 2,
    warning: 'hi',
    trackerId: 'T',
  });
  await flush();
  assert.deepEqual(events.peers, [[[{ host: '1.2.3.4', port: 5 }], 'http://a/announce']]);
  assert.deepEqual(events.announce, [
    { url: 'http://a/announce', event: 'started', peers: 1, seeders: 1, leechers: 2, interval: 120 },
  ]);
  assert.deepEqual(events.warnings, ['hi']);
  const st = tt.trackers[0]!;
  assert.equal(st.lastAnnounce, 1000);
  assert.equal(st.nextAnnounce, 121_000);
  assert.equal(st.seeders, 1);
  clock.advance(119_999);
  await flush();
  assert.equal(http.calls.length, 1);
  stats.left = 0;
  clock.advance(1);
  await flush();
  assert.equal(http.calls.length, 2);
  assert.equal(http.last().req.event, 'periodic');
  assert.equal(http.last().req.left, 0);
  assert.equal(http.last().req.trackerId, 'T');
});

test('a failing tracker gives an error event and the next tier is tried; udp URLs use the udp transport', async () => {
  const { http, udp, tt, events } = setup([['http://a/announce'], ['udp://b:1/announce'], ['wss://ignored']]);
  assert.equal(tt.trackers.length, 2, 'unsupported schemes are left out');
  tt.start();
  await flush();
  http.last().reject(new TrackerFailure('unregistered torrent'));
  await flush();
  assert.deepEqual(events.errors, [
    {
      url: 'http://a/announce',
      event: 'started',
      code: 'TRACKER_FAILURE',
      message: 'tracker failure: unregistered torrent',
    },
  ]);
  assert.equal(udp.calls.length, 1);
  assert.equal(udp.last().req.event, 'started');
  udp.last().resolve({ interval: 1800, peers: [] });
  await flush();
  assert.equal(events.announce[0]!.url, 'udp://b:1/announce');
  assert.equal(events.peers.length, 0, 'no peers event for an empty list');
  const [a] = tt.trackers;
  assert.equal(a!.lastError, 'tracker failure: unregistered torrent');
  assert.equal(a!.failures, 1);
});

test('a tracker that never answers times out on the clock and the next one is tried', async () => {
  const { clock, http, udp, tt, events } = setup([['http://a/announce', 'udp://b:1']], {
    requestTimeoutMs: 5000,
  });
  tt.start();
  await flush();
  assert.equal(http.calls.length, 1);
  clock.advance(5000);
  await flush();
  assert.equal(events.errors[0]?.code, 'TRACKER_TIMEOUT');
  assert.equal(http.calls[0]!.signal?.aborted, true);
  assert.equal(udp.calls.length, 1);
});

test('completed is sent once; stop sends stopped to the tracker that answered and waits a bounded time', async () => {
  const { clock, http, tt, events } = setup([['http://a/announce']]);
  tt.start();
  await flush();
  tt.completed();
  http.last().resolve({ interval: 1800, peers: [] });
  await flush();
  assert.equal(http.last().req.event, 'completed');
  tt.completed();
  http.last().resolve({ interval: 1800, peers: [] });
  await flush();
  assert.equal(http.calls.length, 2);
  tt.completed();
  await flush();
  assert.equal(http.calls.length, 2);
  let stopped = false;
  const p = tt.stop().then(() => (stopped = true));
  await flush();
  assert.equal(http.last().req.event, 'stopped');
  assert.equal(http.last().req.numwant, 0);
  assert.equal(stopped, false);
  clock.advance(5000); // the tracker never answers stopped
  await p;
  assert.equal(events.errors.at(-1)?.event, 'stopped');
  assert.equal(clock.pending, 0, 'no timers left after stop');
  clock.advance(1e9);
  await flush();
  assert.equal(http.calls.length, 3);
});

test('stop while the started announce is in flight aborts it and sends nothing', async () => {
  const { http, tt, clock } = setup([['http://a/announce']]);
  tt.start();
  await flush();
  await tt.stop();
  assert.equal(http.calls[0]!.signal?.aborted, true);
  assert.equal(http.calls.length, 1);
  assert.equal(clock.pending, 0);
});

test('scrape asks every tracker and records the counts', async () => {
  const { tt } = setup([['http://a/announce'], ['http://bad/x']]);
  const r = await tt.scrape();
  assert.deepEqual(r, [
    { url: 'http://a/announce', tier: 0, result: { complete: 2, incomplete: 3, downloaded: 4 } },
    { url: 'http://bad/x', tier: 1, error: 'no scrape' },
  ]);
  assert.equal(tt.trackers[0]!.downloaded, 4);
  assert.equal(tt.trackers[0]!.seeders, 2);
});
