/**
 * What the session does with the proxy and interface settings, on real sockets but without a
 * proxy server: the bound address is the one servers see (TCP dials, HTTP trackers, a Client's
 * peer dial), proxy-only refuses what would go direct, and bad configurations fail up front.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '../../../src/client/index.js';
import { boundTcpConnector } from '../../../src/net/tcp.js';
import { httpAgents } from '../../../src/proxy/index.js';
import { HttpTrackerClient, UdpTrackerClient } from '../../../src/tracker/index.js';
import { parseSessionOptions } from '../../../src/cli/swarm/options.js';
import { UsageError } from '../../../src/cli/args.js';
import { systemClock } from '../../../src/util/clock.js';
import { NbtError } from '../../../src/util/errors.js';

const code = (c: string) => (e: unknown) => e instanceof NbtError && e.code === c;

/** A TCP server on 127.0.0.1 that reports the address each connection came from. */
async function addressEcho(): Promise<{ port: number; next: Promise<string>; close(): void }> {
  let resolve!: (a: string) => void;
  const next = new Promise<string>((r) => (resolve = r));
  const server = createServer((s: Socket) => {
    resolve(s.remoteAddress ?? '');
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, next, close: () => server.close() };
}

test('outgoing bind: TCP dials leave from the bound address', async () => {
  const echo = await addressEcho();
  try {
    const t = boundTcpConnector('127.0.0.2').connect('127.0.0.1', echo.port);
    t.on('error', () => undefined);
    assert.equal(await echo.next, '127.0.0.2');
    t.destroy();
  } finally {
    echo.close();
  }
});

test('outgoing bind: HTTP tracker requests leave from the bound address', async () => {
  let from = '';
  const server = createHttpServer((req, res) => {
    from = req.socket.remoteAddress ?? '';
    res.end('d8:intervali60e5:peers0:e');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agents = httpAgents({ clock: systemClock, localAddress: '127.0.0.3' });
  try {
    const c = new HttpTrackerClient({ agents });
    const r = await c.announce(`http://127.0.0.1:${port}/announce`, {
      infoHash: Buffer.alloc(20, 1),
      peerId: Buffer.alloc(20, 2),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 0,
      event: 'started',
      numwant: 10,
      key: 1,
    });
    assert.equal(r.interval, 60);
    assert.equal(from, '127.0.0.3');
  } finally {
    agents.http.destroy();
    server.close();
  }
});

test('outgoing bind: a Client dials peers from outgoing_interface', async () => {
  const echo = await addressEcho();
  const client = new Client({
    host: '127.0.0.1',
    dht: false,
    lsd: false,
    utp: false,
    outgoingInterface: '127.0.0.4',
  });
  try {
    await client.listen(0);
    const { createTorrent } = await import('../../../src/metainfo/index.js');
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'nbt-bind-'));
    try {
      await writeFile(join(dir, 'f.bin'), Buffer.alloc(40_000, 7));
      const { torrent } = await createTorrent(join(dir, 'f.bin'), { pieceLength: 16384, date: false });
      const t = await client.addTorrent(torrent, { savePath: join(dir, 'leech') });
      t.addPeer('127.0.0.1', echo.port);
      assert.equal(await echo.next, '127.0.0.4');
    } finally {
      await client.close();
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    echo.close();
  }
});

test('proxy-only with an HTTP proxy: nothing listens, no DHT/LSD/uTP, and a warning says why', async () => {
  const client = new Client({ host: '127.0.0.1', proxy: 'http://127.0.0.1:9', proxyOnly: true });
  const warnings: string[] = [];
  client.on('warning', (e) => warnings.push((e as NbtError).code));
  try {
    assert.equal(client.dht, undefined);
    assert.equal(client.lsd, undefined);
    assert.equal(await client.listen(0), 0);
    assert.equal(client.utp, undefined);
    assert.equal(client.udp.port, undefined, 'no UDP socket was bound');
    assert.ok(warnings.includes('PROXY_NO_UDP'), warnings.join());
  } finally {
    await client.close();
  }
});

test('bad proxy configurations fail when the Client is made', () => {
  assert.throws(() => new Client({ proxyOnly: true }), code('PROXY_BAD_CONFIG'));
  assert.throws(() => new Client({ settings: { proxy_type: 'socks5' } }), code('PROXY_BAD_CONFIG'));
  assert.throws(() => new Client({ proxy: 'gopher://x:1' }), code('PROXY_BAD_URL'));
  assert.throws(() => new Client({ outgoingInterface: 'no-such-if0' }), code('BIND_NO_INTERFACE'));
});

test('UDP trackers in a proxy-only session: no socket of their own, no local DNS', async () => {
  const c = new UdpTrackerClient({ ownSockets: false, resolveNames: false, endpoint: () => undefined });
  const req = {
    infoHash: Buffer.alloc(20, 1),
    peerId: Buffer.alloc(20, 2),
    port: 0,
    uploaded: 0,
    downloaded: 0,
    left: 0,
    event: 'started' as const,
    numwant: 10,
    key: 1,
  };
  try {
    await assert.rejects(c.announce('udp://127.0.0.1:6969/announce', req), code('TRACKER_NO_ROUTE'));
    await assert.rejects(c.announce('udp://tracker.invalid:6969/announce', req), code('TRACKER_NO_ROUTE'));
  } finally {
    await c.close();
  }
});

test('CLI: --proxy, --proxy-only and --bind-outgoing', () => {
  const s = parseSessionOptions({
    proxy: 'socks5://u:p@10.0.0.1:1081',
    'proxy-only': true,
    'bind-outgoing': 'eth0',
  });
  assert.deepEqual(s.client.proxy, {
    type: 'socks5',
    host: '10.0.0.1',
    port: 1081,
    username: 'u',
    password: 'p',
  });
  assert.equal(s.client.proxyOnly, true);
  assert.equal(s.client.outgoingInterface, 'eth0');
  assert.throws(() => parseSessionOptions({ 'proxy-only': true }), UsageError);
  assert.throws(() => parseSessionOptions({ proxy: 'ftp://x' }), UsageError);
  assert.throws(() => parseSessionOptions({ 'bind-outgoing': ' ' }), UsageError);
});
