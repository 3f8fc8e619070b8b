/**
 * Our HTTP and UDP tracker clients against opentracker (a real tracker): two of our announcers
 * see each other, and scrape counts seeders and leechers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../helpers/real-peers.js';
import { freePort } from '../helpers/tmp.js';
import { OpenTracker } from '../helpers/opentracker.js';
import { HttpTrackerClient } from '../../src/tracker/http-client.js';
import { UdpTrackerClient } from '../../src/tracker/udp-client.js';
import { TorrentTrackers } from '../../src/tracker/torrent-trackers.js';
import type { AnnounceRequest, TrackerTransport } from '../../src/tracker/types.js';

const httpHash = Buffer.alloc(20, 0x11);
const udpHash = Buffer.alloc(20, 0x22);
const managerHash = Buffer.alloc(20, 0x33);

function req(infoHash: Buffer, peer: number, over: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    infoHash,
    peerId: Buffer.from(`-NB0010-${String(peer).padStart(12, '0')}`),
    port: 41_000 + peer,
    uploaded: 0,
    downloaded: 0,
    left: peer === 1 ? 0 : 4096,
    event: 'started',
    numwant: 50,
    key: peer,
    ...over,
  };
}

async function scenario(client: TrackerTransport, url: string, hash: Buffer): Promise<void> {
  await client.announce(url, req(hash, 1));
  const r2 = await client.announce(url, req(hash, 2));
  assert.ok(
    r2.peers.some((p) => p.host === '127.0.0.1' && p.port === 41_001),
    `announcer 2 sees announcer 1: ${JSON.stringify(r2.peers)}`,
  );
  assert.ok(r2.interval > 0);
  const r1 = await client.announce(url, req(hash, 1, { event: 'periodic' }));
  assert.ok(
    r1.peers.some((p) => p.port === 41_002),
    `announcer 1 sees announcer 2: ${JSON.stringify(r1.peers)}`,
  );
  const s = await client.scrape(url, [hash]);
  assert.deepEqual(
    { ...s.get(hash.toString('hex')), downloaded: undefined },
    { complete: 1, incomplete: 1, downloaded: undefined },
  );
  await client.announce(url, req(hash, 2, { event: 'completed', left: 0 }));
  const after = (await client.scrape(url, [hash])).get(hash.toString('hex'));
  assert.equal(after?.complete, 2);
  assert.equal(after?.downloaded, 1);
  await client.announce(url, req(hash, 2, { event: 'stopped', left: 0 }));
  assert.equal((await client.scrape(url, [hash])).get(hash.toString('hex'))?.complete, 1);
}

test('our HTTP and UDP tracker clients against opentracker', async (t) => {
  if (!requirePeer(t, 'opentracker')) return;
  const port = await freePort();
  const ot = new OpenTracker(
    port,
    [httpHash, udpHash, managerHash].map((h) => h.toString('hex')),
  );
  t.after(() => ot.kill());
  await ot.ready();
  // opentracker loads its whitelist after it starts listening: wait until a hash is authorised
  // (a `stopped` announce leaves no state behind).
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await new HttpTrackerClient().announce(ot.announceUrl, req(managerHash, 99, { event: 'stopped' }));
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await t.test('HTTP', () => scenario(new HttpTrackerClient({ timeoutMs: 5000 }), ot.announceUrl, httpHash));
  await t.test('UDP', async () => {
    const udp = new UdpTrackerClient({ baseTimeoutMs: 2000, maxRetransmits: 2 });
    try {
      await scenario(udp, `udp://127.0.0.1:${port}/announce`, udpHash);
    } finally {
      udp.close();
    }
  });
  await t.test('not whitelisted: a failure reason, over both protocols', async () => {
    const other = Buffer.alloc(20, 0x44);
    await assert.rejects(new HttpTrackerClient().announce(ot.announceUrl, req(other, 1)), {
      code: 'TRACKER_FAILURE',
    });
    const udp = new UdpTrackerClient({ baseTimeoutMs: 2000, maxRetransmits: 1 });
    try {
      await assert.rejects(udp.announce(`udp://127.0.0.1:${port}`, req(other, 1)), (e: { code?: string }) => {
        t.diagnostic(`opentracker UDP refusal surfaces as ${e.code}`);
        return typeof e.code === 'string' && e.code.startsWith('TRACKER_');
      });
    } finally {
      udp.close();
    }
  });
  await t.test('TorrentTrackers: UDP tier first, peers from the other manager', async () => {
    const make = (n: number) =>
      new TorrentTrackers({
        tiers: [[`udp://127.0.0.1:${port}/announce`], [ot.announceUrl]],
        infoHash: managerHash,
        peerId: req(managerHash, n).peerId,
        port: 42_000 + n,
        stats: () => ({ uploaded: 0, downloaded: 0, left: 100 }),
        requestTimeoutMs: 5000,
      });
    const a = make(1);
    const b = make(2);
    try {
      const first = new Promise((r) => a.once('announce', r));
      a.start();
      await first;
      const peers = new Promise<[string, number[]]>((r) =>
        b.once('peers', (p, src) => r([src.url, p.map((x) => x.port)])),
      );
      b.start();
      const [url, ports] = await peers;
      assert.equal(url, `udp://127.0.0.1:${port}/announce`);
      assert.ok(ports.includes(42_001));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    assert.equal(
      (await new HttpTrackerClient().scrape(ot.announceUrl, [managerHash])).get(managerHash.toString('hex'))
        ?.incomplete,
      0,
    );
  });
});
