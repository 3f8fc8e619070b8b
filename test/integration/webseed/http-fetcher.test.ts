/**
 * HttpRangeFetcher against small node:http servers on 127.0.0.1 that misbehave on purpose: a
 * body longer than asked is cut, a short one is an error, a silent server times out on the
 * FakeClock, the IP filter applies to redirects, and redirect chains are bounded.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRangeFetcher, type FetchOutcome } from '../../../src/webseed/http-fetcher.js';
import { FakeClock, systemClock, type Clock } from '../../../src/util/clock.js';

async function server(
  t: TestContext,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<string> {
  const s = createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.after(() => {
    s.closeAllConnections();
    return new Promise<void>((r) => s.close(() => r()));
  });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function get(
  f: HttpRangeFetcher,
  url: string,
  start: number,
  length: number,
  fileLength: number,
): Promise<{ out: FetchOutcome; body: Buffer }> {
  const parts: Buffer[] = [];
  const h = f.fetch({ url, start, length, fileLength, onData: (c) => parts.push(Buffer.from(c)) });
  return { out: await h.done, body: Buffer.concat(parts) };
}

function fetcher(t: TestContext, clock: Clock = systemClock, o = {}): HttpRangeFetcher {
  const f = new HttpRangeFetcher({ clock, ...o });
  t.after(() => f.close());
  return f;
}

test('a 206 body longer than asked is cut at the range; a short one is an error', async (t) => {
  const base = await server(t, (req, res) => {
    const long = req.url === '/long';
    res.writeHead(206, { 'content-range': 'bytes 10-19/100' });
    res.end(Buffer.alloc(long ? 5000 : 4, 7));
  });
  const f = fetcher(t);
  const long = await get(f, `${base}/long`, 10, 10, 100);
  assert.deepEqual(long.out, { ok: true, url: `${base}/long` });
  assert.equal(long.body.length, 10);
  const short = await get(f, `${base}/short`, 10, 10, 100);
  assert.equal(!short.out.ok && short.out.code, 'WEBSEED_SHORT_BODY');
  assert.equal(!short.out.ok && short.out.kind, 'retry');
});

test('the Range header asks for exactly the bytes wanted', async (t) => {
  let range: string | undefined;
  const base = await server(t, (req, res) => {
    range = req.headers.range;
    res.writeHead(206, { 'content-range': 'bytes 5-9/10', 'content-length': '5' });
    res.end('abcde');
  });
  const r = await get(fetcher(t), `${base}/f`, 5, 5, 10);
  assert.equal(range, 'bytes=5-9');
  assert.equal(r.body.toString(), 'abcde');
});

test('a server that never answers fails with WEBSEED_TIMEOUT on the injected clock', async (t) => {
  const base = await server(t, () => {
    /* never answers */
  });
  const clock = new FakeClock();
  const f = fetcher(t, clock, { stallTimeoutMs: 5000 });
  const h = f.fetch({ url: `${base}/x`, start: 0, length: 1, fileLength: 1, onData: () => {} });
  await new Promise((r) => setTimeout(r, 50));
  clock.advance(4999);
  let settled = false;
  void h.done.then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false);
  clock.advance(1);
  const out = await h.done;
  assert.equal(!out.ok && out.code, 'WEBSEED_TIMEOUT');
});

test('redirects: filtered hosts are refused before connecting; chains are bounded', async (t) => {
  let hits = 0;
  const base = await server(t, (req, res) => {
    hits++;
    if (req.url === '/to-blocked')
      res.writeHead(302, { location: 'http://127.0.0.9:1/x', 'content-length': '0' });
    else res.writeHead(302, { location: `/loop${hits}`, 'content-length': '0' });
    res.end();
  });
  const f = fetcher(t, systemClock, { allowAddress: (ip: string) => ip !== '127.0.0.9', maxRedirects: 3 });
  const blocked = await get(f, `${base}/to-blocked`, 0, 1, 1);
  assert.equal(!blocked.out.ok && blocked.out.code, 'WEBSEED_IP_FILTERED');
  hits = 0;
  const loop = await get(f, `${base}/loop`, 0, 1, 1);
  assert.equal(!loop.out.ok && loop.out.code, 'WEBSEED_BAD_REDIRECT');
  assert.equal(hits, 4, 'the first request and 3 redirects');
});

test('a host name resolving only to blocked addresses is refused', async (t) => {
  const f = fetcher(t, systemClock, { allowAddress: (ip: string) => ip !== '127.0.0.1' && ip !== '::1' });
  const r = await get(f, 'http://localhost:9/x', 0, 1, 1);
  assert.equal(!r.out.ok && r.out.code, 'WEBSEED_IP_FILTERED');
});
