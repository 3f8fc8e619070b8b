/**
 * The client's tracker wiring with a scripted tracker transport (no tracker process): which
 * events are announced when, with which numbers; peers from announces reach the torrent tagged
 * with the tracker; private torrents refuse DHT/PEX/LSD peers; magnet trackers; events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { UNKNOWN_LEFT } from '../../../src/client/tracker-service.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import type {
  AnnounceRequest,
  AnnounceResponse,
  ScrapeResult,
  TrackerTransport,
} from '../../../src/tracker/index.js';
import type { PeerAddress } from '../../../src/util/compact.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { until } from '../../unit/client/fixtures.js';

const URL_A = 'http://tracker-a.test/announce';
const URL_B = 'http://tracker-b.test/announce';

interface Sent {
  url: string;
  req: AnnounceRequest;
}

/** A tracker that answers at once with whatever `peers()` says; records every announce. */
class ScriptedTracker implements TrackerTransport {
  readonly sent: Sent[] = [];
  peers: () => PeerAddress[] = () => [];
  fail: string | undefined;
  scrapes = 0;
  announce(url: string, req: AnnounceRequest): Promise<AnnounceResponse> {
    this.sent.push({ url, req: { ...req } });
    if (this.fail) return Promise.reject(new Error(this.fail));
    return Promise.resolve({
      interval: 1800,
      seeders: 3,
      leechers: 4,
      warning: url === URL_B ? 'be nice' : undefined,
      peers: req.event === 'stopped' ? [] : this.peers(),
    });
  }
  scrape(_url: string, hashes: readonly Uint8Array[]): Promise<ScrapeResult> {
    this.scrapes++;
    return Promise.resolve(
      new Map([[Buffer.from(hashes[0]!).toString('hex'), { complete: 3, incomplete: 4, downloaded: 9 }]]),
    );
  }
  events(url?: string): string[] {
    return this.sent.filter((s) => !url || s.url === url).map((s) => s.req.event);
  }
}

async function fixture(
  dir: string,
  o: { private?: boolean; trackers?: string[][]; size?: number } = {},
): Promise<{ torrent: Buffer; dataDir: string }> {
  const dataDir = join(dir, 'seed');
  await mkdir(dataDir, { recursive: true });
  const file = join(dataDir, 'x.bin');
  await writeFile(file, seededBytes(o.size ?? 600_000, 3));
  const { torrent } = await createTorrent(file, {
    trackers: o.trackers ?? [[URL_A]],
    pieceLength: 1 << 15,
    date: false,
    ...(o.private ? { private: true } : {}),
  });
  return { torrent, dataDir };
}

test('started with real numbers, completed exactly once, stopped on close; the seed never sends completed', async () => {
  const tmp = await tempDir();
  const { torrent, dataDir } = await fixture(tmp.path, { trackers: [[URL_A], [URL_B]] });
  const tracker = new ScriptedTracker();
  const mk = (): Client =>
    new Client({ host: '127.0.0.1', limits: { maxPerHost: 4 }, trackers: { http: tracker, numwant: 33 } });
  const seedClient = mk();
  const leechClient = mk();
  const clientEvents: string[] = [];
  try {
    const seedPort = await seedClient.listen(0);
    const leechPort = await leechClient.listen(0);
    leechClient.on('tracker-announce', (_t, info) =>
      clientEvents.push(`announce ${info.event} ${info.peers}`),
    );
    leechClient.on('tracker-warning', (_t, info) => clientEvents.push(`warning ${info.message}`));
    const seed = await seedClient.addTorrent(torrent, { savePath: dataDir });
    await until(() => tracker.sent.length === 1, 5_000, 'the seed to announce');
    assert.equal(seed.state, 'seeding');
    const first = tracker.sent[0]!;
    assert.equal(first.url, URL_A);
    assert.equal(first.req.event, 'started');
    assert.equal(first.req.left, 0);
    assert.equal(first.req.port, seedPort);
    assert.ok(Buffer.from(first.req.peerId).equals(seedClient.peerId));
    assert.ok(Buffer.from(first.req.infoHash).equals(seed.infoHash));
    assert.equal(first.req.numwant, 33);

    // The tracker hands the leech the seed's address.
    tracker.peers = () => [{ host: '127.0.0.1', port: seedPort }];
    const leech = await leechClient.addTorrent(torrent, { savePath: join(tmp.path, 'leech') });
    const sources: string[] = [];
    leech.on('peers', (_a, source) => sources.push(`${source.kind} ${source.url ?? ''}`));
    await until(() => leech.complete, 10_000, 'the leech to finish');
    await until(() => tracker.events().includes('completed'), 5_000, 'completed');
    const leechSent = tracker.sent.filter((s) => s.req.port === leechPort);
    assert.equal(leechSent[0]!.req.event, 'started');
    assert.equal(leechSent[0]!.req.left, 600_000);
    assert.equal(leechSent[0]!.req.downloaded, 0);
    const completed = leechSent.find((s) => s.req.event === 'completed')!;
    assert.equal(completed.req.left, 0);
    assert.ok(completed.req.downloaded >= 600_000, `downloaded ${completed.req.downloaded}`);
    assert.ok(sources.length >= 1);
    for (const src of sources) assert.equal(src, `tracker ${URL_A}`);
    assert.equal(leech.peers[0]?.source?.url ?? URL_A, URL_A);

    // Pausing keeps announcing (connections stay); stop/start announces stopped then started again.
    leech.pause();
    leech.resume();
    await leech.stop();
    await until(() => tracker.events().filter((e) => e === 'stopped').length === 1, 5_000, 'stopped');
    leech.start();
    await until(() => tracker.sent.filter((s) => s.req.port === leechPort).length === 4, 5_000, 'restarted');
    assert.deepEqual(
      tracker.sent.filter((s) => s.req.port === leechPort).map((s) => s.req.event),
      ['started', 'completed', 'stopped', 'started'],
    );

    // Status, scrape and events.
    const status = leech.trackers;
    assert.deepEqual(
      status.map((s) => [s.url, s.tier]),
      [
        [URL_A, 0],
        [URL_B, 1],
      ],
    );
    assert.equal(status[0]!.seeders, 3);
    assert.ok(status[0]!.lastAnnounce !== undefined);
    const scraped = await leech.scrape();
    assert.deepEqual(scraped[0]!.result, { complete: 3, incomplete: 4, downloaded: 9 });
    assert.ok(clientEvents.includes('announce started 1'), clientEvents.join());
    assert.ok(clientEvents.includes('announce completed 1'));

    await Promise.all([seedClient.close(), leechClient.close()]);
    assert.equal(tracker.events().filter((e) => e === 'completed').length, 1, tracker.events().join());
    // The seed: started, then stopped at close; never completed.
    assert.deepEqual(
      tracker.sent.filter((s) => s.req.port === seedPort).map((s) => s.req.event),
      ['started', 'stopped'],
    );
    assert.deepEqual(
      tracker.sent.filter((s) => s.req.port === leechPort).map((s) => s.req.event),
      ['started', 'completed', 'stopped', 'started', 'stopped'],
    );
  } finally {
    await Promise.all([seedClient.close(), leechClient.close()]);
    await tmp.cleanup();
  }
});

test('a failing tracker falls through to the next tier and is reported; removeTorrent announces stopped', async () => {
  const tmp = await tempDir();
  const { torrent, dataDir } = await fixture(tmp.path, { trackers: [[URL_A], [URL_B]] });
  const a = new ScriptedTracker();
  a.fail = 'connection refused';
  const b = new ScriptedTracker();
  const route: TrackerTransport = {
    announce: (url, req) => (url === URL_A ? a : b).announce(url, req),
    scrape: (url, h) => (url === URL_A ? a : b).scrape(url, h),
  };
  const client = new Client({ host: '127.0.0.1', trackers: { http: route } });
  const errors: string[] = [];
  const warnings: string[] = [];
  try {
    await client.listen(0);
    client.on('tracker-error', (_t, e) => errors.push(`${e.url} ${e.event} ${e.message}`));
    const t = await client.addTorrent(torrent, { savePath: dataDir });
    t.on('tracker-warning', (w) => warnings.push(w.message));
    await until(() => b.sent.length === 1, 5_000, 'tier 2');
    assert.deepEqual(errors, [`${URL_A} started connection refused`]);
    assert.deepEqual(warnings, ['be nice']);
    assert.equal(t.trackers[0]!.failures, 1);
    assert.equal(t.trackers[0]!.lastError, 'connection refused');
    await client.removeTorrent(t);
    await until(() => b.events().includes('stopped'), 5_000, 'stopped');
    assert.deepEqual(b.events(), ['started', 'stopped']);
    assert.deepEqual(a.events(), ['started']);
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});

test('a private torrent takes tracker and user peers but no DHT, PEX or LSD peers (BEP 27)', async () => {
  const tmp = await tempDir();
  const priv = await fixture(join(tmp.path, 'p'), { private: true });
  const pub = await fixture(join(tmp.path, 'q'), { size: 500_000 });
  const client = new Client({ host: '127.0.0.1', trackers: false });
  try {
    assert.equal(client.trackerService, undefined);
    const p = await client.addTorrent(priv.torrent, { savePath: join(tmp.path, 'pl'), paused: true });
    const q = await client.addTorrent(pub.torrent, { savePath: join(tmp.path, 'ql'), paused: true });
    for (const [i, kind] of (['dht', 'pex', 'lsd'] as const).entries()) {
      p.addPeers([{ host: '10.0.0.1', port: 1000 + i }], { kind });
      q.addPeers([{ host: '10.0.0.1', port: 1000 + i }], { kind });
    }
    assert.equal(p.candidates.size, 0);
    assert.equal(q.candidates.size, 3);
    p.addPeers([{ host: '10.0.0.2', port: 1 }], { kind: 'tracker', url: URL_A });
    p.addPeer('10.0.0.3', 2);
    assert.equal(p.candidates.size, 2);
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});

test('magnet trackers: announced before metadata with an unknown size, then become tiers of the torrent', async () => {
  const tmp = await tempDir();
  const { torrent, dataDir } = await fixture(tmp.path);
  const tracker = new ScriptedTracker();
  tracker.peers = () => [{ host: '10.1.2.3', port: 6881 }];
  const client = new Client({ host: '127.0.0.1', trackers: { http: tracker } });
  try {
    await client.listen(0);
    const svc = client.trackerService!;
    const infoHash = Buffer.alloc(20, 7);
    const got: string[] = [];
    const m = svc.announceMagnet(infoHash, [URL_B], (peers, src) =>
      got.push(`${peers[0]!.host} ${src.kind} ${src.url}`),
    );
    await until(() => got.length === 1, 5_000, 'magnet peers');
    assert.deepEqual(got, [`10.1.2.3 tracker ${URL_B}`]);
    assert.equal(tracker.sent[0]!.req.left, UNKNOWN_LEFT);
    assert.equal(tracker.sent[0]!.req.event, 'started');
    await m.stop();
    assert.deepEqual(tracker.events(URL_B), ['started', 'stopped']);

    // tr= trackers of a magnet join the torrent (their own tier) once it is added.
    const { parseTorrent } = await import('../../../src/metainfo/index.js');
    svc.addTrackers(parseTorrent(torrent).infoHashHex, [URL_B, URL_A]);
    const t = await client.addTorrent(torrent, { savePath: dataDir });
    assert.deepEqual(
      t.trackers.map((s) => s.url),
      [URL_A, URL_B],
    );
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});

test('short of peers while downloading: the torrent asks its trackers again within the min interval', async () => {
  const tmp = await tempDir();
  const { torrent, dataDir } = await fixture(tmp.path);
  const tracker = new ScriptedTracker();
  // Upload-limited so the leech is still downloading when we look.
  const seedClient = new Client({
    host: '127.0.0.1',
    uploadRateLimit: 100_000,
    trackers: { http: tracker, lowPeers: 3 },
  });
  const client = new Client({ host: '127.0.0.1', trackers: { http: tracker, lowPeers: 3 } });
  try {
    const seedPort = await seedClient.listen(0);
    tracker.peers = () => [{ host: '127.0.0.1', port: seedPort }];
    const seed = await seedClient.addTorrent(torrent, { savePath: dataDir });
    await until(() => seed.trackers[0]!.lastAnnounce !== undefined, 5_000, 'seed started');
    await client.listen(0);
    const t = await client.addTorrent(torrent, { savePath: join(tmp.path, 'l') });
    await until(() => t.trackers[0]!.lastAnnounce !== undefined, 5_000, 'leech started');
    await new Promise((r) => setImmediate(r));
    // The seed is complete: not short, next announce at the tracker's interval (1800 s).
    const s = seed.trackers[0]!;
    assert.ok(
      s.nextAnnounce! - s.lastAnnounce! >= 1_799_000,
      `seed next in ${s.nextAnnounce! - s.lastAnnounce!}`,
    );
    // The leech knows one peer (< 3): it re-announces after the 60 s floor instead.
    const l = t.trackers[0]!;
    assert.ok(!t.complete);
    assert.ok(
      l.nextAnnounce! - l.lastAnnounce! <= 60_000,
      `leech next in ${l.nextAnnounce! - l.lastAnnounce!}`,
    );
  } finally {
    await Promise.all([seedClient.close(), client.close()]);
    await tmp.cleanup();
  }
});
