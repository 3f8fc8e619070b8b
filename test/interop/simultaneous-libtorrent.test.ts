/**
 * We and libtorrent dial each other at the same moment, both on 127.0.0.1 with our default
 * limits (one connection per host). libtorrent uses a fresh peer id per connection, so only the
 * address and the listen endpoint tell the two connections are the same peer; both sides must
 * end with the same single connection. libtorrent's dial reaches us through a small proxy that
 * holds it for 300 ms: at the moment it arrives we dial back, so the handshakes cross.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture, until } from '../unit/client/fixtures.js';

test('simultaneous dials between us and libtorrent leave one connection on both sides', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'f.bin', size: 12_000_000 }],
    pieceLength: 65536,
  });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled', trackers: false, dht: false });
  const reasons: string[] = [];
  let connects = 0;
  client.on('peer-disconnect', (_p, info) => reasons.push(info.name));
  client.on('peer-connect', () => connects++);
  const sockets: Socket[] = [];
  let dialBack: (() => void) | undefined;
  const proxy = createServer((inbound) => {
    sockets.push(inbound);
    inbound.pause();
    dialBack?.();
    const upstream = connect(ourPort, '127.0.0.1');
    sockets.push(upstream);
    for (const s of [inbound, upstream]) s.on('error', () => undefined);
    setTimeout(() => {
      inbound.pipe(upstream);
      upstream.pipe(inbound);
      inbound.resume();
    }, 300);
  });
  let ourPort = 0;
  let seed: LtPeer | undefined;
  try {
    ourPort = await client.listen(0);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxyPort = (proxy.address() as { port: number }).port;
    const torrent = await client.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    await until(() => torrent.state === 'downloading', 10_000, 'leech started');
    // Rate-limited so the transfer outlasts the duplicate resolution.
    seed = new LtPeer('seed', fx.torrentPath, fx.dir, {
      enc: 'disabled',
      connect: [`127.0.0.1:${proxyPort}`],
      uploadLimit: 1_500_000,
    });
    const ltPort = await seed.port();
    dialBack = () => torrent.addPeer('127.0.0.1', ltPort);
    await until(
      () => connects >= 2,
      10_000,
      `both connections attached (${connects}, ${JSON.stringify(reasons)})`,
    );
    await until(() => reasons.length >= 1, 5000, 'one duplicate closed');
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(torrent.peerCount, 1, `our side: ${JSON.stringify(reasons)}`);
    assert.equal(reasons.length, 1, JSON.stringify(reasons));
    // libtorrent's side, from its last progress report.
    const last = [...seed.events].reverse().find((e) => e.event === 'progress');
    assert.equal(last?.peers, 1, JSON.stringify(seed.events.slice(-3)));
    await until(() => torrent.state === 'seeding', 30_000, 'download done');
  } finally {
    await seed?.kill();
    await client.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => proxy.close(r));
    await tmp.cleanup();
  }
});
