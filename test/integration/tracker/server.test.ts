import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createSocket } from 'node:dgram';
import { decode, isDict } from '../../../src/bencode/index.js';
import { TrackerServer } from '../../../src/tracker/server/tracker-server.js';
import { SwarmStore } from '../../../src/tracker/server/swarm.js';
import { ConnectionIds } from '../../../src/tracker/server/connection-id.js';
import { HttpTrackerClient } from '../../../src/tracker/http-client.js';
import { UdpTrackerClient } from '../../../src/tracker/udp-client.js';
import { TorrentTrackers, type AnnounceInfo } from '../../../src/tracker/torrent-trackers.js';
import { TrackerFailure, percentEncodeBytes } from '../../../src/tracker/http-codec.js';
import {
  decodeTrackerResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
} from '../../../src/tracker/udp-codec.js';
import type { AnnounceRequest, TrackerTransport } from '../../../src/tracker/types.js';
import type { PeerAddress } from '../../../src/util/compact.js';

const hashA = Buffer.alloc(20, 0xa1);
const hashB = Buffer.alloc(20, 0xb2);

function req(peer: number, over: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    infoHash: hashA,
    peerId: Buffer.alloc(20, peer),
    port: 40_000 + peer,
    uploaded: 0,
    downloaded: 0,
    left: peer === 2 ? 0 : 1000,
    event: 'started',
    numwant: 50,
    key: peer,
    ...over,
  };
}

async function withServer(
  fn: (s: TrackerServer) => Promise<void>,
  o: ConstructorParameters<typeof TrackerServer>[0] = {},
) {
  const s = new TrackerServer({
    host: '127.0.0.1',
    http: { port: 0 },
    udp: { port: 0 },
    intervalS: 60,
    ...o,
  });
  await s.listen();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

async function swarmScenario(client: TrackerTransport, url: string): Promise<void> {
  const a = await client.announce(url, req(1));
  assert.deepEqual(a.peers, []);
  assert.equal(a.interval, 60);
  const b = await client.announce(url, req(2));
  assert.deepEqual(b.peers, [{ host: '127.0.0.1', port: 40_001 }]);
  assert.equal(b.seeders, 1);
  assert.equal(b.leechers, 1);
  const a2 = await client.announce(url, req(1, { event: 'periodic' }));
  assert.deepEqual(a2.peers, [{ host: '127.0.0.1', port: 40_002 }]);
  let s = await client.scrape(url, [hashA, hashB]);
  assert.deepEqual(s.get(hashA.toString('hex')), { complete: 1, incomplete: 1, downloaded: 0 });
  await client.announce(url, req(1, { event: 'completed', left: 0 }));
  await client.announce(url, req(1, { event: 'completed', left: 0 })); // repeated: counted once
  s = await client.scrape(url, [hashA]);
  assert.deepEqual(s.get(hashA.toString('hex')), { complete: 2, incomplete: 0, downloaded: 1 });
  await client.announce(url, req(2, { event: 'stopped' }));
  s = await client.scrape(url, [hashA]);
  assert.deepEqual(s.get(hashA.toString('hex')), { complete: 1, incomplete: 0, downloaded: 1 });
  const a3 = await client.announce(url, req(1, { event: 'periodic' }));
  assert.deepEqual(a3.peers, [], 'stopped removed the peer');
}

test('our HTTP client and our server: two announcers see each other, scrape counts, completed and stopped', async () => {
  await withServer(async (s) => {
    const client = new HttpTrackerClient();
    await swarmScenario(client, s.announceUrls().http!);
  });
});

test('our UDP client and our server: the same swarm over BEP 15', async () => {
  await withServer(async (s) => {
    const client = new UdpTrackerClient({ baseTimeoutMs: 2000 });
    try {
      await swarmScenario(client, s.announceUrls().udp!);
    } finally {
      client.close();
    }
  });
});

function get(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    })
      .on('error', reject)
      .end();
  });
}

test('non-compact responses list peers as dictionaries; the allow-list refuses other torrents', async () => {
  await withServer(
    async (s) => {
      const url = s.announceUrls().http!;
      const client = new HttpTrackerClient();
      await client.announce(url, req(1));
      const body = decode(
        await get(
          `${url}?info_hash=${percentEncodeBytes(hashA)}&peer_id=${'x'.repeat(20)}&port=9&left=5&compact=0`,
        ),
        { allowUnsorted: true },
      );
      assert.ok(isDict(body));
      assert.ok(Array.isArray(body.peers));
      assert.deepEqual(
        body.peers.map((p) => (isDict(p) ? { ...p } : p)),
        [{ ip: Buffer.from('127.0.0.1'), port: 40_001, 'peer id': Buffer.alloc(20, 1) }],
      );
      await assert.rejects(
        client.announce(url, req(1, { infoHash: hashB })),
        (e: unknown) => e instanceof TrackerFailure,
      );
      const udp = new UdpTrackerClient({ baseTimeoutMs: 2000 });
      try {
        await assert.rejects(
          udp.announce(s.announceUrls().udp!, req(1, { infoHash: hashB })),
          TrackerFailure,
        );
        const r = await udp.scrape(s.announceUrls().udp!, [hashA]);
        assert.equal(r.get(hashA.toString('hex'))?.incomplete, 2, 'peer 1 and the raw announcer');
      } finally {
        udp.close();
      }
      assert.match((await get(`${url}?info_hash=short`)).toString(), /failure reason/);
      assert.match((await get(url.replace('/announce', '/scrape'))).toString(), /full scrape/);
    },
    { allow: [hashA.toString('hex')] },
  );
});

test('UDP announce with a forged connection id gets an error packet, not a peer list', async () => {
  await withServer(async (s) => {
    const sock = createSocket('udp4');
    try {
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      const reply = new Promise<Buffer>((resolve) => sock.once('message', resolve));
      const packet = encodeAnnounceRequest({
        connectionId: Buffer.alloc(8, 0x55),
        transactionId: 99,
        infoHash: hashA,
        peerId: Buffer.alloc(20, 3),
        downloaded: 0,
        left: 0,
        uploaded: 0,
        event: 'started',
        key: 0,
        numwant: 10,
        port: 1234,
      });
      sock.send(packet, s.udpPort!, '127.0.0.1');
      const r = decodeTrackerResponse(await reply);
      assert.equal(r.action, 'error');
      assert.equal(r.transactionId, 99);
      assert.deepEqual(s.store.peersOf(hashA.toString('hex')), []);
    } finally {
      sock.close();
    }
  });
});

test('IPv6 announcers get peers6 over HTTP and 18-byte peers over UDP', async (t) => {
  const s = new TrackerServer({ host: '::1', http: { port: 0 }, udp: { port: 0 }, intervalS: 60 });
  try {
    await s.listen();
  } catch {
    t.skip('no IPv6 loopback');
    return;
  }
  const udp = new UdpTrackerClient({ baseTimeoutMs: 2000 });
  try {
    const urls = s.announceUrls('::1');
    const http = new HttpTrackerClient();
    await http.announce(urls.http!, req(1));
    const r = await http.announce(urls.http!, req(2));
    assert.deepEqual(r.peers, [{ host: '::1', port: 40_001 }]);
    const u = await udp.announce(urls.udp!, req(3));
    assert.deepEqual(new Set(u.peers.map((p) => p.port)), new Set([40_001, 40_002]));
    assert.ok(u.peers.every((p) => p.host === '::1'));
  } finally {
    udp.close();
    await s.close();
  }
});

test('two TorrentTrackers managers find each other through our server (HTTP tier falls through to UDP)', async () => {
  await withServer(async (s) => {
    const urls = s.announceUrls();
    const make = (n: number) =>
      new TorrentTrackers({
        tiers: [['http://127.0.0.1:1/announce'], [n === 1 ? urls.http! : urls.udp!]],
        infoHash: hashA,
        peerId: Buffer.alloc(20, n),
        port: 50_000 + n,
        stats: () => ({ uploaded: 0, downloaded: 0, left: 10 }),
        requestTimeoutMs: 3000,
      });
    const m1 = make(1);
    const m2 = make(2);
    const events: AnnounceInfo[] = [];
    const errors: string[] = [];
    const peers: { peers: PeerAddress[]; url: string }[] = [];
    for (const m of [m1, m2]) {
      m.on('announce', (i) => events.push(i));
      m.on('error', (e) => errors.push(e.code));
    }
    m2.on('peers', (p, src) => peers.push({ peers: p, url: src.url }));
    try {
      const first = new Promise<void>((r) => m1.once('announce', () => r()));
      m1.start();
      await first;
      const second = new Promise<void>((r) => m2.once('announce', () => r()));
      m2.start();
      await second;
      assert.deepEqual(peers, [{ peers: [{ host: '127.0.0.1', port: 50_001 }], url: urls.udp! }]);
      assert.ok(errors.includes('TRACKER_HTTP_ERROR'), 'the dead first tier was reported');
      assert.equal(m2.trackers.find((t) => t.url === urls.udp)?.leechers, 2);
      const scraped = await m1.scrape();
      assert.deepEqual(scraped.find((r) => r.url === urls.http)?.result, {
        complete: 0,
        incomplete: 2,
        downloaded: 0,
      });
    } finally {
      await Promise.all([m1.stop(), m2.stop()]);
    }
    assert.deepEqual(
      events
        .filter((e) => e.event === 'stopped')
        .map((e) => e.url)
        .sort(),
      [urls.http!, urls.udp!].sort(),
    );
    assert.deepEqual(s.store.peersOf(hashA.toString('hex')), [], 'stopped removed both');
  });
});

test('swarm store: expiry after the TTL, eviction of the least recently seen, numwant cap, torrent cap', () => {
  const store = new SwarmStore({
    intervalS: 10,
    maxPeersPerTorrent: 3,
    numwantMax: 2,
    maxTorrents: 2,
    random: () => 0,
  });
  const ann = (peer: number, now: number, hash = hashA) =>
    store.announce(
      {
        infoHash: hash,
        peerId: Buffer.alloc(20, peer),
        host: '10.0.0.1',
        port: peer,
        event: 'periodic',
        left: 1,
        numwant: 100,
      },
      now,
    );
  ann(1, 0);
  ann(2, 5_000);
  ann(3, 10_000);
  assert.equal(ann(4, 10_000).peers.length, 2, 'numwant capped at 2');
  assert.deepEqual(
    store.peersOf(hashA.toString('hex')).map((p) => p.port),
    [2, 3, 4],
    'peer 1 evicted',
  );
  store.expire(25_001); // TTL 20 s: peer 2 (seen at 5 s) is gone
  assert.deepEqual(
    store.peersOf(hashA.toString('hex')).map((p) => p.port),
    [3, 4],
  );
  ann(1, 25_001, hashB);
  assert.throws(() => ann(1, 25_001, Buffer.alloc(20, 9)), { code: 'TRACKER_FULL' });
  store.expire(100_000);
  assert.equal(store.torrentCount, 0);
});

test('connection ids are stateless, bound to the address and valid for two to three minutes', () => {
  const ids = new ConnectionIds(Buffer.alloc(32, 7));
  const id = ids.issue('1.2.3.4', 5, 59_999);
  assert.equal(id.length, 8);
  assert.ok(ids.valid(id, '1.2.3.4', 5, 59_999 + 120_000));
  assert.ok(!ids.valid(id, '1.2.3.4', 5, 180_000));
  assert.ok(!ids.valid(id, '1.2.3.4', 6, 60_000));
  assert.ok(!ids.valid(id, '1.2.3.5', 5, 60_000));
  assert.ok(!new ConnectionIds(Buffer.alloc(32, 8)).valid(id, '1.2.3.4', 5, 60_000), 'secret matters');
});

test('downloads count once per peer: completed, or a leecher that stops with nothing left', () => {
  const store = new SwarmStore();
  const ann = (peer: number, event: 'started' | 'completed' | 'stopped' | 'periodic', left: number) =>
    store.announce(
      {
        infoHash: hashA,
        peerId: Buffer.alloc(20, peer),
        host: '10.0.0.1',
        port: 1000 + peer,
        event,
        left,
        numwant: 10,
      },
      0,
    );
  ann(1, 'started', 5);
  ann(1, 'completed', 0);
  ann(1, 'completed', 0);
  ann(2, 'started', 5);
  ann(2, 'stopped', 0); // aria2 with --seed-time=0 skips `completed`
  ann(3, 'started', 0); // a seed from the start is not a download
  ann(3, 'stopped', 0);
  ann(4, 'completed', 0); // unknown peer says completed
  assert.deepEqual(store.scrape([hashA]), [{ complete: 2, incomplete: 0, downloaded: 3 }]);
});

test('swarm store: one address cannot fill the tracker (per torrent, over all torrents, in total)', () => {
  const store = new SwarmStore({ maxPeersPerAddress: 300, maxPeers: 1000, random: () => 0 });
  const ann = (host: string, id: number, hash: Buffer, now = 0) =>
    store.announce(
      {
        infoHash: hash,
        peerId: Buffer.from(id.toString(16).padStart(40, '0'), 'hex'),
        host,
        port: 6881,
        event: 'started',
        left: 1,
        numwant: 10,
      },
      now,
    );
  ann('10.9.9.9', 1, hashA); // a real peer, from its own address
  for (let i = 0; i < 20_000; i++) ann('10.6.6.6', 1000 + i, hashA, 1 + i);
  const hosts = store.peersOf(hashA.toString('hex')).map((p) => p.host);
  assert.equal(hosts.filter((h) => h === '10.6.6.6').length, 8, 'eight ids per address per torrent');
  assert.ok(hosts.includes('10.9.9.9'), 'the real peer was not evicted');
  // Over many torrents: the address's least recently seen entries go; empty swarms with them.
  for (let i = 0; i < 5_000; i++)
    ann(
      '10.6.6.6',
      50_000 + i,
      Buffer.alloc(20, 0)
        .fill(i & 0xff, 0, 1)
        .fill(i >> 8, 1, 2),
    );
  assert.equal(store.peerCount, 300 + 1);
  assert.ok(store.torrentCount <= 302, `${store.torrentCount} torrents`);
  assert.ok(store.peersOf(hashA.toString('hex')).some((p) => p.host === '10.9.9.9'));
  // IPv6 counts by /64: inventing interface ids does not help.
  for (let i = 0; i < 100; i++) ann(`2001:db8:1:2::${i.toString(16)}`, 90_000 + i, hashB);
  assert.equal(store.peersOf(hashB.toString('hex')).length, 8);
  // In total: many addresses, at most maxPeers entries, the least recently seen evicted.
  for (let i = 0; i < 3_000; i++) ann(`10.1.${i >> 8}.${i & 0xff}`, 100_000 + i, Buffer.alloc(20, 0x77));
  assert.equal(store.peerCount, 1000);
  assert.ok(!store.peersOf(hashA.toString('hex')).some((p) => p.host === '10.9.9.9'), 'oldest went first');
  // Counts stay right through all the evictions.
  const [scrape] = store.scrape([Buffer.alloc(20, 0x77)]);
  assert.equal(scrape!.incomplete, store.peersOf(Buffer.alloc(20, 0x77).toString('hex')).length);
});

test('UDP flood from one address with invented peer ids: the store stays bounded', async () => {
  await withServer(
    async (s) => {
      const sock = createSocket('udp4');
      try {
        await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
        const replies: Buffer[] = [];
        let wake: (() => void) | undefined;
        sock.on('message', (m: Buffer) => {
          replies.push(m);
          wake?.();
        });
        const until = async (n: number): Promise<void> => {
          const deadline = Date.now() + 10_000;
          while (replies.length < n && Date.now() < deadline)
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 50);
            });
        };
        sock.send(encodeConnectRequest(1), s.udpPort!, '127.0.0.1');
        await until(1);
        const conn = decodeTrackerResponse(replies[0]!);
        assert.equal(conn.action, 'connect');
        const connectionId = (conn as { connectionId: Buffer }).connectionId;
        let sent = 0;
        for (let batch = 0; batch < 20; batch++) {
          for (let i = 0; i < 250; i++, sent++) {
            const id = Buffer.alloc(20);
            id.writeUInt32BE(sent);
            const hash = Buffer.alloc(20, 0xc3);
            hash.writeUInt16BE(sent % 1000);
            sock.send(
              encodeAnnounceRequest({
                connectionId,
                transactionId: sent,
                infoHash: sent % 2 ? hashA : hash,
                peerId: id,
                downloaded: 0,
                left: 1,
                uploaded: 0,
                event: 'started',
                key: 0,
                numwant: 5,
                port: 7000,
              }),
              s.udpPort!,
              '127.0.0.1',
            );
          }
          await until(1 + sent); // let the server keep up (loopback drops past the buffer)
        }
        assert.ok(replies.length > 4000, `${replies.length} replies`);
        assert.ok(s.store.peerCount <= 500, `${s.store.peerCount} peers stored from one address`);
        assert.equal(s.store.peersOf(hashA.toString('hex')).length, 8);
      } finally {
        sock.close();
      }
    },
    { maxPeersPerAddress: 500 },
  );
});
