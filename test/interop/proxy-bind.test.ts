/**
 * SOCKS5 BIND against Dante (Debian's danted): the proxy listens on a port of its own, a real
 * TCP peer connects there, and bytes flow both ways through the relayed control connection;
 * the proxy reports the peer's address. A BIND nobody connects to ends with PROXY_TIMEOUT at
 * the Clock's deadline, abort() ends it at once, and an HTTP proxy refuses with PROXY_NO_BIND.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { openSocksBind, parseProxyUrl } from '../../src/proxy/index.js';
import { systemClock } from '../../src/util/clock.js';
import { isNbtError } from '../../src/util/errors.js';
import { Dante } from '../helpers/socks-servers.js';
import { freePort } from '../helpers/tmp.js';

const read = (s: Socket, n: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const on = (d: Buffer): void => {
      got = Buffer.concat([got, d]);
      if (got.length < n) return;
      s.off('data', on);
      resolve(got);
    };
    s.on('data', on);
    s.once('error', reject);
  });

test('SOCKS5 BIND through Dante: the peer connects to the proxy port, bytes flow both ways', async (t) => {
  const dante = new Dante('127.0.0.1', await freePort(), { bind: true });
  t.after(() => dante.kill());
  await dante.ready();
  const proxy = parseProxyUrl(`socks5://127.0.0.1:${dante.port}`);
  const o = { clock: systemClock, timeoutMs: 5000, acceptTimeoutMs: 5000 };
  const b = openSocksBind(proxy, { host: '127.0.0.1', port: 0 }, o);
  const where = await b.bound;
  assert.equal(where.host, '127.0.0.1');
  assert.ok(where.port > 0 && where.port !== dante.port, JSON.stringify(where));
  const peer = connect(where.port, where.host);
  t.after(() => peer.destroy());
  await new Promise<void>((r) => peer.once('connect', () => r()));
  const { socket, remote } = await b.accepted;
  t.after(() => socket.destroy());
  assert.equal(remote.host, '127.0.0.1');
  assert.equal(remote.port, peer.localPort);
  const fromPeer = read(socket, 19);
  peer.write('\x13BitTorrent protocol');
  assert.equal((await fromPeer).toString('latin1'), '\x13BitTorrent protocol');
  const toPeer = read(peer, 4);
  socket.write('pong');
  assert.equal((await toPeer).toString(), 'pong');
  assert.match(dante.log, /bind/i);

  // Nobody connects: PROXY_TIMEOUT once the accept deadline passes; abort ends one at once.
  const lonely = openSocksBind(proxy, { host: '127.0.0.1', port: 0 }, { ...o, acceptTimeoutMs: 300 });
  await lonely.bound;
  await assert.rejects(lonely.accepted, (e) => isNbtError(e, 'PROXY_TIMEOUT'));
  const aborted = openSocksBind(proxy, { host: '127.0.0.1', port: 0 }, o);
  await aborted.bound;
  aborted.abort();
  await assert.rejects(aborted.accepted, (e) => isNbtError(e, 'PROXY_ABORTED'));
});

test('SOCKS5 BIND: an HTTP proxy cannot, a dead proxy fails with a code', async () => {
  const http = openSocksBind(
    parseProxyUrl('http://127.0.0.1:1'),
    { host: '0.0.0.0', port: 0 },
    {
      clock: systemClock,
      timeoutMs: 1000,
      acceptTimeoutMs: 1000,
    },
  );
  await assert.rejects(http.bound, (e) => isNbtError(e, 'PROXY_NO_BIND'));
  const dead = openSocksBind(
    parseProxyUrl(`socks5://127.0.0.1:${await freePort()}`),
    { host: '0.0.0.0', port: 0 },
    {
      clock: systemClock,
      timeoutMs: 1000,
      acceptTimeoutMs: 1000,
    },
  );
  await assert.rejects(dead.accepted, (e) => isNbtError(e, 'PROXY_BIND_FAILED'));
});
