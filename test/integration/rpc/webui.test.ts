/**
 * The web UI's HTTP side on the daemon's RPC server, over real sockets: pages and assets, the
 * login rules with credentials (redirect, 401, the qBittorrent SID), the CSRF rules for state
 * changes (Origin/Referer and the X-Nbt-Token), and the event stream's full and incremental
 * torrent rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { Daemon } from '../../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../../src/rpc/transmission/server.js';
import { makeFixture, type Fixture } from '../../unit/client/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    r.on('error', reject);
    r.end(body);
  });
}

async function rig(credentials: boolean): Promise<{
  daemon: Daemon;
  port: number;
  fx: Fixture;
  close(): Promise<void>;
}> {
  const dir = await tempDir('nbt-webui-');
  const fx = await makeFixture(dir.path, { files: [{ path: 'a.bin', size: 40_000 }] });
  const daemon = await Daemon.open({
    configDir: join(dir.path, 'cfg'),
    downloadDir: join(dir.path, 'dl'),
    port: 0,
    client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  const rpc = new TransmissionRpcServer(daemon, {
    port: 0,
    ...(credentials ? { username: 'admin', password: 'secret' } : {}),
  });
  const port = await rpc.listen();
  return {
    daemon,
    port,
    fx,
    async close() {
      await rpc.close();
      await daemon.close();
      await dir.cleanup();
    },
  };
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const MAGNET = `magnet:?xt=urn:btih:${'cd'.repeat(20)}&dn=wanted`;

test('with credentials: login page, 401 without a SID, the SID from auth/login, CSRF token and Origin rules', async () => {
  const r = await rig(true);
  try {
    const origin = `http://127.0.0.1:${r.port}`;
    const home = await call(r.port, 'GET', '/');
    assert.equal(home.status, 302);
    assert.equal(home.headers['location'], '/login');
    const login = await call(r.port, 'GET', '/login');
    assert.equal(login.status, 200);
    assert.match(login.body, /<form id="login"/);
    assert.match(String(login.headers['content-security-policy']), /script-src 'self'/);
    assert.equal((await call(r.port, 'GET', '/api/nbt/session')).status, 401);
    assert.equal((await call(r.port, 'GET', '/api/nbt/events')).status, 401);
    const add = `urls=${encodeURIComponent(MAGNET)}`;
    assert.equal(
      (await call(r.port, 'POST', '/api/nbt/qbt/torrents/add', { ...FORM, Origin: origin }, add)).status,
      401,
    );
    // A wrong password sets no cookie.
    const bad = await call(r.port, 'POST', '/api/v2/auth/login', FORM, 'username=admin&password=nope');
    assert.equal(bad.body, 'Fails.');
    assert.equal(bad.headers['set-cookie'], undefined);
    const ok = await call(r.port, 'POST', '/api/v2/auth/login', FORM, 'username=admin&password=secret');
    const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
    assert.match(cookie, /^SID=/);
    assert.equal((await call(r.port, 'GET', '/', { Cookie: cookie })).status, 200);
    const session = JSON.parse((await call(r.port, 'GET', '/api/nbt/session', { Cookie: cookie })).body) as {
      token: string;
      login: boolean;
    };
    assert.equal(session.login, true);
    const token = session.token;
    // Another session's token is not this one's.
    const ok2 = await call(r.port, 'POST', '/api/v2/auth/login', FORM, 'username=admin&password=secret');
    const cookie2 = String(ok2.headers['set-cookie']).split(';')[0]!;
    const token2 = (
      JSON.parse((await call(r.port, 'GET', '/api/nbt/session', { Cookie: cookie2 })).body) as {
        token: string;
      }
    ).token;
    assert.notEqual(token, token2);
    const post = (headers: Record<string, string>): Promise<Answer> =>
      call(r.port, 'POST', '/api/nbt/qbt/torrents/add', { ...FORM, Cookie: cookie, ...headers }, add);
    // Refused: no token, a wrong one, another session's, a cross-origin page, no Origin/Referer.
    for (const [what, headers] of [
      ['no token', { Origin: origin }],
      ['wrong token', { Origin: origin, 'X-Nbt-Token': 'x'.repeat(43) }],
      ["another session's token", { Origin: origin, 'X-Nbt-Token': token2 }],
      ['cross-origin', { Origin: 'http://evil.example', 'X-Nbt-Token': token }],
      ['cross-site Referer', { Referer: 'http://evil.example/page', 'X-Nbt-Token': token }],
      ['no Origin or Referer', { 'X-Nbt-Token': token }],
    ] as const) {
      const a = await post(headers);
      assert.equal(a.status, 403, what);
      assert.equal(r.daemon.list().length, 0, `${what}: nothing added`);
    }
    const good = await post({ Origin: origin, 'X-Nbt-Token': token });
    assert.equal(good.status, 200, good.body);
    assert.equal(good.body, 'Ok.');
    assert.equal(r.daemon.list().length, 1);
    // Same-origin Referer works as well as Origin; logging out ends the session.
    const out = await call(r.port, 'POST', '/api/nbt/qbt/auth/logout', {
      Cookie: cookie,
      Referer: `${origin}/`,
      'X-Nbt-Token': token,
    });
    assert.equal(out.status, 200);
    assert.equal((await call(r.port, 'GET', '/api/nbt/session', { Cookie: cookie })).status, 401);
    assert.equal((await call(r.port, 'GET', '/', { Cookie: cookie })).status, 302);
  } finally {
    await r.close();
  }
});

test('without credentials: pages and assets, no path escapes, token and Origin still required', async () => {
  const r = await rig(false);
  try {
    const origin = `http://127.0.0.1:${r.port}`;
    const home = await call(r.port, 'GET', '/');
    assert.equal(home.status, 200, `${home.body} (the web UI is built by npx tsc -p webui/tsconfig.json)`);
    assert.match(home.body, /<script type="module" src="\/ui\/app.js">/);
    assert.equal((await call(r.port, 'GET', '/login')).status, 302);
    const js = await call(r.port, 'GET', '/ui/app.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal((await call(r.port, 'GET', '/ui/style.css')).status, 200);
    for (const p of [
      '/ui/..%2fpackage.json',
      '/ui/../../package.json',
      '/ui/%2e%2e/tsconfig.json',
      '/ui/x.ts',
    ])
      assert.equal((await call(r.port, 'GET', p)).status, 404, p);
    assert.equal((await call(r.port, 'POST', '/')).status, 405);
    const { token } = JSON.parse((await call(r.port, 'GET', '/api/nbt/session')).body) as { token: string };
    const add = `urls=${encodeURIComponent(MAGNET)}`;
    const evil = await call(
      r.port,
      'POST',
      '/api/nbt/qbt/torrents/add',
      { ...FORM, Origin: 'http://evil.example', 'X-Nbt-Token': token },
      add,
    );
    assert.equal(evil.status, 403);
    assert.equal(
      (await call(r.port, 'POST', '/api/nbt/qbt/torrents/add', { ...FORM, Origin: origin }, add)).status,
      403,
    );
    assert.equal(
      (await call(r.port, 'GET', '/api/nbt/session', { Origin: 'http://evil.example' })).status,
      403,
      'a cross-origin read is refused too',
    );
    assert.equal(r.daemon.list().length, 0);
    // inspect: a .torrent's files; junk is 415, no token 403, nothing is added.
    const inspect = (body: Buffer | string, headers: Record<string, string> = {}): Promise<Answer> =>
      new Promise((resolve, reject) => {
        const q = request(
          {
            host: '127.0.0.1',
            port: r.port,
            method: 'POST',
            path: '/api/nbt/inspect',
            headers: { Origin: origin, 'X-Nbt-Token': token, ...headers },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString(),
              }),
            );
          },
        );
        q.on('error', reject);
        q.end(body);
      });
    const seen = await inspect(r.fx.torrent);
    assert.equal(seen.status, 200, seen.body);
    const info = JSON.parse(seen.body) as {
      infoHash: string;
      files: { index: number; path: string; size: number }[];
    };
    assert.equal(info.infoHash, r.fx.metainfo.infoHashHex);
    assert.deepEqual(info.files, [{ index: 0, path: 'data/a.bin', size: 40_000 }]);
    assert.equal((await inspect('d4:junk')).status, 415);
    assert.equal((await inspect(r.fx.torrent, { 'X-Nbt-Token': 'nope' })).status, 403);
    assert.equal(r.daemon.list().length, 0);
    assert.equal((await call(r.port, 'GET', '/api/nbt/torrent?hash=zz')).status, 404);
    assert.equal((await call(r.port, 'GET', '/api/nbt/nothing')).status, 404);
  } finally {
    await r.close();
  }
});

test('the event stream sends every row first, then only what changed, and removals', async () => {
  const r = await rig(false);
  const ac = new AbortController();
  try {
    await r.daemon.add({ metainfo: r.fx.torrent, paused: true });
    const res = await fetch(`http://127.0.0.1:${r.port}/api/nbt/events`, { signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = res.body!.getReader();
    let buffer = '';
    const next = async (event: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const m = new RegExp(`event: ${event}\\ndata: (.*)\\n\\n`).exec(buffer);
        if (m) {
          buffer = buffer.slice(m.index + m[0].length);
          return JSON.parse(m[1]!) as Record<string, unknown>;
        }
        const { value, done } = await reader.read();
        assert.ok(!done, 'stream open');
        buffer += Buffer.from(value).toString();
      }
    };
    const first = (await next('torrents')) as { full: boolean; rows: { hash: string; state: string }[] };
    assert.equal(first.full, true);
    assert.deepEqual(
      first.rows.map((x) => x.hash),
      [r.fx.metainfo.infoHashHex],
    );
    const session = await next('session');
    assert.equal(typeof session['dl'], 'number');
    assert.equal(typeof (session['counters'] as Record<string, unknown>)['connectionsClosed'], 'object');
    // A second torrent: the next update names it alone.
    const added = await r.daemon.add({ filename: MAGNET, paused: true });
    const second = (await next('torrents')) as { full: boolean; rows: { hash: string }[]; removed: string[] };
    assert.equal(second.full, false);
    assert.deepEqual(
      second.rows.map((x) => x.hash),
      ['cd'.repeat(20)],
    );
    await r.daemon.remove(added.entry, false);
    for (;;) {
      const u = (await next('torrents')) as { removed: string[] };
      if (u.removed.length) {
        assert.deepEqual(u.removed, ['cd'.repeat(20)]);
        break;
      }
    }
  } finally {
    ac.abort();
    await r.close();
  }
});
