import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createSocket } from 'node:dgram';
import { encode } from '../../../src/bencode/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { HttpTrackerClient } from '../../../src/tracker/http-client.js';
import { TorrentTrackers, type TrackerErrorInfo } from '../../../src/tracker/torrent-trackers.js';
import { UdpTrackerClient } from '../../../src/tracker/udp-client.js';
import type { AnnounceRequest } from '../../../src/tracker/types.js';

const request: AnnounceRequest = {
  infoHash: Buffer.alloc(20, 1),
  peerId: Buffer.alloc(20, 2),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 1,
  event: 'started',
  numwant: 10,
  key: 1,
};

/** One HTTP server whose behaviour depends on the path. */
async function hostileServer(): Promise<{ base: string; server: Server; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    switch (path) {
      case '/failure/announce':
        res.writeHead(400).end(encode({ 'failure reason': 'torrent not registered' }));
        return;
      case '/garbage/announce':
        res.end('<html>502 Bad Gateway</html>');
        return;
      case '/truncated/announce':
        res.end('d8:intervali1800e5:peers12:abc');
        return;
      case '/loop/announce':
        res.writeHead(302, { location: '/loop/announce?again=1' }).end();
        return;
      case '/redirect/announce':
        res.writeHead(301, { location: '/ok/announce' }).end();
        return;
      case '/ok/announce':
        res.end(encode({ interval: 900, peers: Buffer.from([9, 9, 9, 9, 0, 9]) }));
        return;
      case '/huge/announce':
        res.writeHead(200, { 'content-length': String(50 << 20) });
        res.write(Buffer.alloc(64 << 10));
        return; // never finishes; the client must cut it off
      case '/chunked/announce': {
        // No content-length: the limit applies while streaming.
        const chunk = Buffer.alloc(64 << 10, 0x61);
        let sent = 0;
        const pump = (): void => {
          while (sent < 400 && res.write(chunk)) sent++;
          if (sent < 400 && !res.destroyed) res.once('drain', pump);
          else res.end();
        };
        pump();
        return;
      }
      case '/cut/announce':
        res.writeHead(200, { 'content-length': '100' });
        res.write('d8:interval');
        setTimeout(() => res.destroy(), 10);
        return;
      case '/status/announce':
        res.writeHead(503).end('busy');
        return;
      case '/silent/announce':
        return; // never answers
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { base: `http://127.0.0.1:${port}`, server, hits };
}

test('hostile HTTP trackers: every misbehaviour is a typed failure, never a crash or a hang', async (t) => {
  const { base, server, hits } = await hostileServer();
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const clock = new FakeClock();
  const client = new HttpTrackerClient({
    clock,
    timeoutMs: 10_000,
    maxBodyBytes: 256 << 10,
    maxRedirects: 3,
  });
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: { code?: string }) => e.code ?? String(e),
    );
  assert.equal(await code(client.announce(`${base}/failure/announce`, request)), 'TRACKER_FAILURE');
  assert.equal(await code(client.announce(`${base}/garbage/announce`, request)), 'BENCODE_BAD_TOKEN');
  assert.equal(await code(client.announce(`${base}/truncated/announce`, request)), 'BENCODE_TRUNCATED');
  assert.equal(await code(client.announce(`${base}/loop/announce`, request)), 'TRACKER_REDIRECTS');
  assert.equal(hits.get('/loop/announce'), 4, 'first request plus 3 redirects');
  assert.deepEqual((await client.announce(`${base}/redirect/announce`, request)).peers, [
    { host: '9.9.9.9', port: 9 },
  ]);
  assert.equal(await code(client.announce(`${base}/huge/announce`, request)), 'TRACKER_RESPONSE_TOO_LARGE');
  assert.equal(
    await code(client.announce(`${base}/chunked/announce`, request)),
    'TRACKER_RESPONSE_TOO_LARGE',
  );
  assert.equal(await code(client.announce(`${base}/status/announce`, request)), 'TRACKER_HTTP_STATUS');
  // Cut mid-body: a failure at once, not at the deadline (the fake clock never moves here).
  assert.equal(await code(client.announce(`${base}/cut/announce`, request)), 'TRACKER_HTTP_ERROR');
  assert.equal(await code(client.announce('http://127.0.0.1:1/announce', request)), 'TRACKER_HTTP_ERROR');
  assert.equal(await code(client.announce('ftp://x/announce', request)), 'TRACKER_BAD_URL');
  assert.equal(await code(client.scrape(`${base}/a`, [request.infoHash])), 'TRACKER_NO_SCRAPE');
  // Silent tracker: the deadline comes from the injected clock.
  const silent = code(client.announce(`${base}/silent/announce`, request));
  while (!hits.get('/silent/announce')) await new Promise((r) => setTimeout(r, 5));
  clock.advance(9_999);
  clock.advance(1);
  assert.equal(await silent, 'TRACKER_TIMEOUT');
  assert.equal(clock.pending, 0);
});

test('TorrentTrackers reports each hostile tracker as an error event and ends on the working one', async (t) => {
  const { base, server, hits } = await hostileServer();
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const clock = new FakeClock();
  const paths = ['failure', 'garbage', 'loop', 'huge', 'silent'];
  const tt = new TorrentTrackers({
    tiers: [...paths.map((p) => [`${base}/${p}/announce`]), [`${base}/ok/announce`]],
    infoHash: request.infoHash,
    peerId: request.peerId,
    port: 6881,
    clock,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
    http: new HttpTrackerClient({ clock, timeoutMs: 60_000, maxBodyBytes: 64 << 10 }),
    requestTimeoutMs: 5_000,
  });
  const errors: TrackerErrorInfo[] = [];
  tt.on('error', (e) => errors.push(e));
  const done = new Promise<string>((r) => tt.once('announce', (i) => r(i.url)));
  tt.start();
  // Once the silent tracker has the request, move the fake clock past its deadline.
  const deadline = Date.now() + 5000;
  while (!hits.get('/silent/announce') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  clock.advance(5_000);
  assert.equal(await done, `${base}/ok/announce`);
  assert.deepEqual(
    errors.map((e) => e.code),
    [
      'TRACKER_FAILURE',
      'BENCODE_BAD_TOKEN',
      'TRACKER_REDIRECTS',
      'TRACKER_RESPONSE_TOO_LARGE',
      'TRACKER_TIMEOUT',
    ],
  );
  await tt.stop();
});

test('a UDP tracker that answers garbage from another port or never answers does not hang the client', async (t) => {
  const sock = createSocket('udp4');
  const other = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => other.bind(0, '127.0.0.1', r));
  let got = 0;
  sock.on('message', (msg, from) => {
    got++;
    // A reply with the right transaction id but from another socket must be ignored.
    const b = Buffer.alloc(16);
    msg.copy(b, 4, 12, 16);
    other.send(b, from.port, from.address);
  });
  const clock = new FakeClock();
  const client = new UdpTrackerClient({ clock, baseTimeoutMs: 100, maxRetransmits: 1 });
  t.after(() => (client.close(), sock.close(), other.close()));
  const p = client.announce(`udp://127.0.0.1:${sock.address().port}`, request);
  const settled = p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );
  while (got < 1) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 30));
  clock.advance(100);
  while (got < 2) await new Promise((r) => setTimeout(r, 5));
  clock.advance(200);
  assert.equal(await settled, 'TRACKER_TIMEOUT');
});

/** A tracker that redirects each path to a URL built from `targets` (path → Location). */
async function redirectingServer(
  targets: (base: string) => Record<string, string>,
): Promise<{ base: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  let base = '';
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    hits.push(path);
    const to = targets(base)[path];
    if (to) res.writeHead(302, { location: to }).end();
    else if (path === '/ok/announce')
      res.end(encode({ interval: 900, peers: Buffer.from([9, 9, 9, 9, 0, 9]) }));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { base, server, hits };
}

test('tracker redirects: only to the same host and port (or an https upgrade), never elsewhere', async (t) => {
  // The victim: another service a hostile torrent's tracker would like us to hit.
  const victim = await redirectingServer(() => ({}));
  const { base, server, hits } = await redirectingServer((b) => ({
    '/same/announce': `${b}/ok/announce`,
    '/relative/announce': '/ok/announce',
    '/host/announce': `${victim.base.replace('127.0.0.1', 'localhost')}/ok/announce`,
    '/port/announce': `${victim.base}/ok/announce`,
    '/https-port/announce': `${b.replace('http:', 'https:')}/ok/announce`,
  }));
  t.after(() => {
    for (const s of [server, victim.server]) {
      s.closeAllConnections();
      s.close();
    }
  });
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: { code?: string }) => e.code ?? String(e),
    );
  const client = new HttpTrackerClient({ timeoutMs: 5_000 });
  assert.equal(await code(client.announce(`${base}/same/announce`, request)), 'ok');
  assert.equal(await code(client.announce(`${base}/relative/announce`, request)), 'ok');
  for (const p of ['host', 'port', 'https-port'])
    assert.equal(
      await code(client.announce(`${base}/${p}/announce`, request)),
      'TRACKER_REDIRECT_REFUSED',
      p,
    );
  assert.deepEqual(victim.hits, [], 'the other host/port was never contacted');
  // Redirects off: not even the same host.
  const none = new HttpTrackerClient({ timeoutMs: 5_000, redirects: 'none' });
  hits.length = 0;
  assert.equal(await code(none.announce(`${base}/same/announce`, request)), 'TRACKER_REDIRECT_REFUSED');
  assert.deepEqual(hits, ['/same/announce']);
});

test('tracker addresses the IP filter blocks are never contacted (literal or resolved)', async (t) => {
  const { base, server, hits } = await redirectingServer(() => ({}));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: { code?: string }) => e.code ?? String(e),
    );
  const blocked = new Set(['127.0.0.1', '::1']);
  const client = new HttpTrackerClient({ timeoutMs: 5_000, allowAddress: (a) => !blocked.has(a) });
  assert.equal(await code(client.announce(`${base}/ok/announce`, request)), 'TRACKER_IP_FILTERED');
  const byName = base.replace('127.0.0.1', 'localhost');
  assert.equal(await code(client.announce(`${byName}/ok/announce`, request)), 'TRACKER_IP_FILTERED');
  assert.deepEqual(hits, []);
  blocked.clear();
  assert.equal(await code(client.announce(`${byName}/ok/announce`, request)), 'ok');
});
