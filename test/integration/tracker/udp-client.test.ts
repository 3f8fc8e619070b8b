import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { FakeClock } from '../../../src/util/clock.js';
import { isNbtError } from '../../../src/util/errors.js';
import { UdpTrackerClient, retransmitTimeout } from '../../../src/tracker/udp-client.js';
import { TrackerFailure } from '../../../src/tracker/http-codec.js';
import {
  decodeTrackerRequest,
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  type UdpTrackerRequest,
} from '../../../src/tracker/udp-codec.js';
import type { AnnounceRequest } from '../../../src/tracker/types.js';
import { TrackerServer } from '../../../src/tracker/server/index.js';
import { UdpMux } from '../../../src/net/udp-mux.js';

interface Received {
  req: UdpTrackerRequest;
  at: number;
  from: RemoteInfo;
}

/** A scriptable UDP tracker: `reply` decides what (if anything) to answer to each request. */
async function fakeTracker(clock: FakeClock, reply: (r: Received, s: Socket) => Buffer | undefined) {
  const s = createSocket('udp4');
  const got: Received[] = [];
  let waiter: (() => void) | undefined;
  s.on('message', (msg, from) => {
    const r = { req: decodeTrackerRequest(msg), at: clock.now(), from };
    got.push(r);
    const out = reply(r, s);
    if (out) s.send(out, from.port, from.address);
    waiter?.();
  });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  return {
    url: `udp://127.0.0.1:${port}/announce?k=1`,
    got,
    /** Waits (real time, bounded) until `n` requests have arrived. */
    async until(n: number): Promise<void> {
      const deadline = Date.now() + 3000;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${got.length} of ${n} packets arrived`);
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => new Promise<void>((resolve) => s.close(() => resolve())),
  };
}

const request: AnnounceRequest = {
  infoHash: Buffer.alloc(20, 1),
  peerId: Buffer.alloc(20, 2),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 100,
  event: 'started',
  numwant: 10,
  key: 5,
};
const CONN = Buffer.from('0102030405060708', 'hex');

test('retransmission follows base × 2^n on the clock, then fails with TRACKER_TIMEOUT', async (t) => {
  assert.deepEqual(
    [0, 1, 2, 8].map((n) => retransmitTimeout(n, 15_000)),
    [15_000, 30_000, 60_000, 3_840_000],
  );
  const clock = new FakeClock();
  const tracker = await fakeTracker(clock, () => undefined);
  const client = new UdpTrackerClient({ clock, baseTimeoutMs: 100, maxRetransmits: 3 });
  t.after(() => (client.close(), tracker.close()));
  const p = client.announce(tracker.url, request);
  const settled = p.then(
    () => 'resolved',
    (e: unknown) => (isNbtError(e) ? e.code : 'other'),
  );
  for (const [n, wait] of [
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
  ] as const) {
    await tracker.until(n);
    clock.advance(wait - 1);
    assert.equal(tracker.got.length, n, 'no early retransmission');
    clock.advance(1);
  }
  assert.equal(await settled, 'TRACKER_TIMEOUT');
  assert.deepEqual(
    tracker.got.map((g) => g.at),
    [0, 100, 300, 700],
  );
  assert.ok(tracker.got.every((g) => g.req.action === 'connect'));
  const txids = new Set(tracker.got.map((g) => g.req.transactionId));
  assert.equal(txids.size, 4, 'random transaction ids');
});

test('connection id is cached for a minute; a lost announce is resent; BEP 41 path is sent', async (t) => {
  const clock = new FakeClock();
  let announces = 0;
  const tracker = await fakeTracker(clock, ({ req }) => {
    if (req.action === 'connect') return encodeConnectResponse(req.transactionId, CONN);
    if (req.action === 'announce' && ++announces === 1) return undefined; // lose the first
    return encodeAnnounceResponse(req.transactionId, {
      interval: 900,
      leechers: 2,
      seeders: 3,
      compactPeers: Buffer.from('0a0000011ae1', 'hex'),
    });
  });
  const client = new UdpTrackerClient({ clock, baseTimeoutMs: 1000 });
  t.after(() => (client.close(), tracker.close()));
  const p = client.announce(tracker.url, request);
  await tracker.until(2);
  clock.advance(1000);
  const r = await p;
  assert.deepEqual(r, { interval: 900, seeders: 3, leechers: 2, peers: [{ host: '10.0.0.1', port: 6881 }] });
  const kinds = tracker.got.map((g) => g.req.action);
  assert.deepEqual(kinds, ['connect', 'announce', 'announce']);
  const ann = tracker.got[1]!.req;
  assert.ok(ann.action === 'announce');
  assert.deepEqual(ann.connectionId, CONN);
  assert.equal(ann.event, 'started');
  assert.equal(ann.left, 100n);
  assert.equal(ann.numwant, 10);
  assert.equal(ann.urlData, '/announce?k=1');
  // Within the minute: no new connect.
  clock.advance(58_000);
  await client.announce(tracker.url, { ...request, event: 'periodic' });
  assert.equal(tracker.got.at(-1)!.req.action, 'announce');
  assert.equal(tracker.got.length, 4);
  clock.advance(2_000);
  await client.announce(tracker.url, { ...request, event: 'stopped' });
  assert.deepEqual(
    tracker.got.slice(4).map((g) => g.req.action),
    ['connect', 'announce'],
  );
  const stopped = tracker.got.at(-1)!.req;
  assert.ok(stopped.action === 'announce' && stopped.numwant === 0 && stopped.event === 'stopped');
});

test('replies with a wrong transaction id are ignored; error action is a TrackerFailure; garbage fails fast', async (t) => {
  const clock = new FakeClock();
  let mode: 'error' | 'garbage' = 'error';
  const tracker = await fakeTracker(clock, ({ req, from }, s) => {
    if (req.action === 'connect') {
      s.send(encodeConnectResponse(req.transactionId ^ 1, Buffer.alloc(8, 9)), from.port, from.address);
      return encodeConnectResponse(req.transactionId, CONN);
    }
    if (mode === 'error') return encodeErrorResponse(req.transactionId, 'torrent not registered');
    const b = Buffer.alloc(12);
    b.writeUInt32BE(77, 0); // unknown action
    b.writeUInt32BE(req.transactionId, 4);
    return b;
  });
  const client = new UdpTrackerClient({ clock, baseTimeoutMs: 1000 });
  t.after(() => (client.close(), tracker.close()));
  await assert.rejects(
    client.announce(tracker.url, request),
    (e: unknown) => e instanceof TrackerFailure && /not registered/.test(e.message),
  );
  const ann = tracker.got[1]!.req;
  assert.ok(ann.action === 'announce');
  assert.deepEqual(ann.connectionId, CONN, 'the forged connect reply was not used');
  mode = 'garbage';
  await assert.rejects(client.announce(tracker.url, request), { code: 'TRACKER_BAD_PACKET' });
  await assert.rejects(client.announce('udp://127.0.0.1/x', request), { code: 'TRACKER_BAD_URL' });
  await assert.rejects(client.announce('http://127.0.0.1:1/x', request), { code: 'TRACKER_BAD_URL' });
});

test('close() fails pending requests at once', async (t) => {
  const clock = new FakeClock();
  const tracker = await fakeTracker(clock, () => undefined);
  t.after(() => tracker.close());
  const client = new UdpTrackerClient({ clock });
  const p = client.announce(tracker.url, request);
  await tracker.until(1);
  client.close();
  await assert.rejects(p, { code: 'TRACKER_CLOSED' });
  const ctrl = new AbortController();
  const c2 = new UdpTrackerClient({ clock });
  t.after(() => c2.close());
  const p2 = c2.scrape(tracker.url, [Buffer.alloc(20)], ctrl.signal);
  await tracker.until(2);
  ctrl.abort();
  await assert.rejects(p2, { code: 'TRACKER_ABORTED' });
});

test('requests move to the session endpoint once it is bound, with a connection id for that port', async (t) => {
  const server = new TrackerServer({ http: false, udp: { port: 0 }, host: '127.0.0.1' });
  await server.listen();
  const ports: number[] = [];
  server.on('request', (r) => ports.push(r.port));
  const bound: { mux?: UdpMux } = {};
  const client = new UdpTrackerClient({ endpoint: (f) => bound.mux?.endpoint('tracker', f) });
  t.after(async () => {
    client.close();
    await bound.mux?.close();
    await server.close();
  });
  const url = server.announceUrls().udp!;
  await client.announce(url, request);
  const session = (bound.mux = await UdpMux.bind(0, '127.0.0.1'));
  // The server binds connection ids to the source port: the id got on our own socket is no good here.
  const res = await client.announce(url, { ...request, event: 'periodic' });
  assert.equal(res.interval > 0, true);
  assert.equal(ports.length, 4, 'connect + announce, twice');
  assert.notEqual(ports[0], session.localPort);
  assert.deepEqual(ports.slice(2), [session.localPort, session.localPort]);
  assert.equal(session.stats.tracker, 2);
});
