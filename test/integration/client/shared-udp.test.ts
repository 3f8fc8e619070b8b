/**
 * The session's one UDP socket: a Client announces to a UDP tracker (our TrackerServer) and runs
 * the DHT on the port it listens on, and both work side by side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { TrackerServer } from '../../../src/tracker/server/index.js';
import { decodeKrpc, encodeKrpc, type KrpcMessage } from '../../../src/dht/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { until } from '../../unit/client/fixtures.js';

/** A raw KRPC ping from a socket of its own; resolves with the answer (or undefined after 1 s). */
function ping(port: number): Promise<KrpcMessage | undefined> {
  const sock = createSocket('udp4');
  const q = encodeKrpc({ y: 'q', t: Buffer.from('pp'), q: 'ping', a: { id: seededBytes(20, 77) } });
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), 1000);
    const done = (m: KrpcMessage | undefined): void => {
      clearTimeout(timer);
      sock.close();
      resolve(m);
    };
    sock.on('message', (msg) => done(decodeKrpc(msg)));
    sock.bind(0, '127.0.0.1', () => sock.send(q, port, '127.0.0.1'));
  });
}

test('one UDP port: announces to a UDP tracker and DHT answers both use the listen port', async (t) => {
  const tmp = await tempDir();
  const tracker = new TrackerServer({ http: false, udp: { port: 0 }, host: '127.0.0.1' });
  await tracker.listen();
  const requests: { protocol: string; port: number }[] = [];
  tracker.on('request', (r) => requests.push(r));
  const dataDir = join(tmp.path, 'seed');
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, 'x.bin'), seededBytes(100_000, 4));
  const { torrent } = await createTorrent(join(dataDir, 'x.bin'), {
    trackers: [[tracker.announceUrls().udp!]],
    pieceLength: 1 << 15,
    date: false,
  });
  const c = new Client({ host: '127.0.0.1', pex: false, dht: { bootstrap: [] } });
  t.after(async () => {
    await c.close();
    await tracker.close();
    await tmp.cleanup();
  });
  const port = await c.listen(0);
  await c.dht!.ready;
  assert.equal(c.udp.port, port, 'the UDP socket has the TCP port number');
  assert.equal(c.dht!.port, port, 'the DHT runs on it');

  const announced: number[] = [];
  c.on('tracker-announce', (_t, info) => announced.push(info.peers));
  const tor = await c.addTorrent(torrent, { savePath: dataDir });
  await until(() => tor.state === 'seeding' && announced.length > 0, 10_000, 'announced as a seed');
  const udp = requests.filter((r) => r.protocol === 'udp');
  assert.ok(udp.length >= 2, 'connect + announce');
  assert.deepEqual(
    [...new Set(udp.map((r) => r.port))],
    [port],
    'every tracker request came from the session port',
  );
  assert.deepEqual(tracker.store.peersOf(tor.infoHashHex), [{ host: '127.0.0.1', port }]);

  const answer = await ping(port);
  assert.ok(answer && answer.y === 'r', 'the DHT answered on the same port');
  assert.deepEqual(answer.r.id, c.dht!.node.id);
  const stats = c.udp.stats!;
  assert.ok(stats.tracker >= 2 && stats.dht >= 1, JSON.stringify(stats));
  assert.equal(c.dht!.node.stats.malformedDropped, 0, 'no tracker reply reached the DHT');
});

test('dht.port (deprecated) still gives the DHT a socket of its own', async (t) => {
  const c = new Client({ host: '127.0.0.1', pex: false, trackers: false, dht: { port: 0, bootstrap: [] } });
  t.after(() => c.close());
  const port = await c.listen(0);
  await c.dht!.ready;
  assert.ok(c.dht!.port && c.dht!.port !== port);
  const answer = await ping(c.dht!.port);
  assert.equal(answer?.y, 'r');
  assert.equal(c.udp.stats!.dht, 0);
});

test('a client closed before it listens ends its DHT quietly', async () => {
  const c = new Client({ host: '127.0.0.1', pex: false, trackers: false, dht: { bootstrap: [] } });
  const warnings: Error[] = [];
  c.on('warning', (e) => warnings.push(e));
  await c.close();
  await c.dht!.ready;
  assert.equal(c.dht!.port, undefined);
  assert.deepEqual(warnings, []);
});

test("host '::': one dual-stack socket; the DHT answers over IPv4 and an IPv6 tracker sees the session port", async (t) => {
  const tracker = new TrackerServer({ http: false, udp: { port: 0 }, host: '::1' });
  const bound = await tracker.listen().then(
    () => true,
    () => false,
  );
  if (!bound) return t.skip('no IPv6 loopback');
  const requests: { protocol: string; port: number }[] = [];
  tracker.on('request', (r) => requests.push(r));
  const tmp = await tempDir();
  const dataDir = join(tmp.path, 'seed');
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, 'y.bin'), seededBytes(50_000, 5));
  const { torrent } = await createTorrent(join(dataDir, 'y.bin'), {
    trackers: [[tracker.announceUrls('::1').udp!]],
    pieceLength: 1 << 15,
    date: false,
  });
  const c = new Client({ host: '::', pex: false, dht: { bootstrap: [] } });
  t.after(async () => {
    await c.close();
    await tracker.close();
    await tmp.cleanup();
  });
  const port = await c.listen(0);
  await c.dht!.ready;
  assert.equal(c.dht!.node.family, 4, "'::' keeps an IPv4 DHT node");
  const answer = await ping(port);
  assert.equal(answer?.y, 'r', 'answered over IPv4 on the dual-stack socket');
  const announced: number[] = [];
  c.on('tracker-announce', () => announced.push(1));
  await c.addTorrent(torrent, { savePath: dataDir });
  await until(() => announced.length > 0, 10_000, 'announced over IPv6');
  assert.deepEqual([...new Set(requests.map((r) => r.port))], [port]);
});
