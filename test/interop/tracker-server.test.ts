/**
 * Our tracker server used by real clients: a libtorrent seed and an aria2 seed announce to it
 * (over HTTP and UDP), our server records them, and our client gets their addresses from it.
 * The .torrent is built here with the bencode encoder (no dependency on src/metainfo).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '../../src/bencode/index.js';
import { sha1 } from '../../src/util/sha1.js';
import { TrackerServer } from '../../src/tracker/server/tracker-server.js';
import { HttpTrackerClient } from '../../src/tracker/http-client.js';
import { UdpTrackerClient } from '../../src/tracker/udp-client.js';
import type { PeerAddress } from '../../src/util/compact.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { Aria2Peer } from '../helpers/aria2.js';
import { freePort, seededBytes, tempDir } from '../helpers/tmp.js';

interface TestTorrent {
  path: string;
  dataDir: string;
  infoHash: Buffer;
}

/** A single-file torrent over seeded content, announcing to `tiers` (BEP 12 announce-list). */
async function buildTorrent(dir: string, tiers: string[][], size = 1 << 20): Promise<TestTorrent> {
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const content = seededBytes(size, 42);
  const name = 'tracked.bin';
  await writeFile(join(dataDir, name), content);
  const pieceLength = 1 << 16;
  const hashes: Buffer[] = [];
  for (let o = 0; o < size; o += pieceLength) hashes.push(sha1(content.subarray(o, o + pieceLength)));
  const info = { length: size, name, 'piece length': pieceLength, pieces: Buffer.concat(hashes) };
  const path = join(dir, `${name}.torrent`);
  await writeFile(path, encode({ announce: tiers[0]![0]!, 'announce-list': tiers, info }));
  return { path, dataDir, infoHash: sha1(encode(info)) };
}

async function startServer(t: TestContext): Promise<TrackerServer> {
  const server = new TrackerServer({ host: '127.0.0.1', http: { port: 0 }, udp: { port: 0 }, intervalS: 30 });
  await server.listen();
  t.after(() => server.close());
  return server;
}

/** Polls our server's store until a peer shows up for the torrent. */
async function waitForPeer(
  server: TrackerServer,
  infoHash: Buffer,
  timeoutMs = 15_000,
): Promise<PeerAddress[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const peers = server.store.peersOf(infoHash.toString('hex'));
    if (peers.length) return peers;
    if (Date.now() > deadline) throw new Error('no peer announced to our tracker');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ourRequest = (infoHash: Buffer) => ({
  infoHash,
  peerId: Buffer.from('-NB0010-interoptest1'),
  port: 43_210,
  uploaded: 0,
  downloaded: 0,
  left: 1 << 20,
  event: 'started' as const,
  numwant: 50,
  key: 7,
});

for (const protocol of ['http', 'udp'] as const) {
  test(`a libtorrent seed announces to our tracker over ${protocol}; our client gets its address`, async (t) => {
    if (!requirePeer(t, 'libtorrent')) return;
    const tmp = await tempDir();
    t.after(() => tmp.cleanup());
    const server = await startServer(t);
    const url = server.announceUrls()[protocol]!;
    const torrent = await buildTorrent(tmp.path, [[url]]);
    const lt = new LtPeer('seed', torrent.path, torrent.dataDir);
    t.after(() => lt.kill());
    const ltPort = await lt.port();
    const seen = await waitForPeer(server, torrent.infoHash);
    assert.deepEqual(seen, [{ host: '127.0.0.1', port: ltPort }]);
    const client =
      protocol === 'http' ? new HttpTrackerClient() : new UdpTrackerClient({ baseTimeoutMs: 2000 });
    try {
      const r = await client.announce(url, ourRequest(torrent.infoHash));
      assert.deepEqual(r.peers, [{ host: '127.0.0.1', port: ltPort }]);
      assert.equal(r.seeders, 1);
      assert.equal(r.leechers, 1);
      const s = await client.scrape(url, [torrent.infoHash]);
      assert.deepEqual(s.get(torrent.infoHash.toString('hex')), {
        complete: 1,
        incomplete: 1,
        downloaded: 0,
      });
    } finally {
      client.close();
    }
    // libtorrent says `stopped` when it shuts down cleanly; a SIGKILL leaves it to expiry.
  });
}

for (const protocol of ['http', 'udp'] as const) {
  test(`an aria2 seed announces to our tracker over ${protocol}; our client gets its address`, async (t) => {
    if (!requirePeer(t, 'aria2')) return;
    const tmp = await tempDir();
    t.after(() => tmp.cleanup());
    const server = await startServer(t);
    const url = server.announceUrls()[protocol]!;
    const torrent = await buildTorrent(tmp.path, [[url]]);
    // aria2 sends UDP tracker packets through its DHT socket, so UDP trackers need DHT on
    // (no bootstrap nodes are given, so it stays on loopback with an empty routing table).
    const extraArgs =
      protocol === 'udp' ? ['--enable-dht=true', `--dht-listen-port=${await freePort()}`] : [];
    const aria = await Aria2Peer.seed(torrent.path, torrent.dataDir, { extraArgs });
    t.after(() => aria.kill());
    await aria.waitSeeding(15_000);
    const seen = await waitForPeer(server, torrent.infoHash);
    assert.deepEqual(seen, [{ host: '127.0.0.1', port: aria.port }]);
    const client =
      protocol === 'http' ? new HttpTrackerClient() : new UdpTrackerClient({ baseTimeoutMs: 2000 });
    try {
      const r = await client.announce(url, ourRequest(torrent.infoHash));
      assert.deepEqual(r.peers, [{ host: '127.0.0.1', port: aria.port }]);
      assert.equal(r.seeders, 1);
    } finally {
      client.close();
    }
  });
}

test('a real swarm through our tracker: aria2 leeches from a libtorrent seed (HTTP), libtorrent from aria2 (UDP)', async (t) => {
  if (!requirePeer(t, 'libtorrent') || !requirePeer(t, 'aria2')) return;
  const tmp = await tempDir();
  t.after(() => tmp.cleanup());
  const server = await startServer(t);
  const urls = server.announceUrls();
  await t.test('libtorrent seed → aria2 leech over HTTP', async (st) => {
    const torrent = await buildTorrent(join(tmp.path, 'a'), [[urls.http!]], 2 << 20);
    const seed = new LtPeer('seed', torrent.path, torrent.dataDir);
    st.after(() => seed.kill());
    await seed.port();
    await waitForPeer(server, torrent.infoHash);
    const leech = await Aria2Peer.leech(torrent.path, join(tmp.path, 'a-leech'));
    st.after(() => leech.kill());
    await leech.waitDone(20_000);
    // aria2 announces `completed` just after it finishes; give it a moment.
    const deadline = Date.now() + 5_000;
    while (server.store.scrape([torrent.infoHash])[0]!.downloaded === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.store.scrape([torrent.infoHash])[0]!.downloaded, 1, 'aria2 announced completed');
  });
  await t.test('aria2 seed → libtorrent leech over UDP', async (st) => {
    const torrent = await buildTorrent(join(tmp.path, 'b'), [[urls.udp!]], 2 << 20);
    const extraArgs = ['--enable-dht=true', `--dht-listen-port=${await freePort()}`];
    const seed = await Aria2Peer.seed(torrent.path, torrent.dataDir, { extraArgs });
    st.after(() => seed.kill());
    await seed.waitSeeding(15_000);
    await waitForPeer(server, torrent.infoHash);
    const leech = new LtPeer('leech', torrent.path, join(tmp.path, 'b-leech'), { timeout: 20 });
    st.after(() => leech.kill());
    await leech.waitFor('done', 20_000);
  });
});
