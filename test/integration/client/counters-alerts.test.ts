/**
 * Session counters and the alert stream over a real download: one Client seeds, another
 * downloads on loopback; the numbers must match the torrent and the events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client, type Alert } from '../../../src/client/index.js';
import { DisconnectReason, type DisconnectInfo } from '../../../src/peer/disconnect.js';
import { AlertHub, type AlertCategory } from '../../../src/client/alerts.js';
import { makeAlert } from '../../../src/client/alert-records.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

const quiet = { host: '127.0.0.1', dht: false, trackers: false, pex: false } as const;

test('counters and alerts of a download: payload = torrent size, closes by reason, every event has its alert', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 300_000 },
      { path: 'b.bin', size: 123_457 },
    ],
    pieceLength: 32768,
  });
  const seeder = new Client(quiet);
  const leecher = new Client(quiet);
  const seedCloses: DisconnectInfo[] = [];
  const leechCloses: DisconnectInfo[] = [];
  seeder.on('peer-disconnect', (_p, i) => seedCloses.push(i));
  leecher.on('peer-disconnect', (_p, i) => leechCloses.push(i));
  const alerts: Alert[] = [];
  leecher.on('alert', (a) => alerts.push(a));
  const iterated: Alert[] = [];
  const sub = leecher.alerts();
  const reading = (async () => {
    for await (const a of sub) iterated.push(a);
  })();
  const events: string[] = [];
  leecher.on('piece-hash-pass', () => events.push('piece-hash-pass'));
  leecher.on('torrent-state', () => events.push('torrent-state'));
  leecher.on('peer-connect', () => events.push('peer-connect'));
  leecher.on('torrent-done', () => events.push('torrent-done'));
  try {
    const port = await seeder.listen(0);
    await leecher.listen(0);
    const seed = await seeder.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 5000, 'seed ready');
    const t = await leecher.addTorrent(fx.torrent, { savePath: join(tmp.path, 'leech') });
    t.addPeer('127.0.0.1', port);
    await until(() => t.state === 'seeding', 20_000, 'download');
    // Both seeds: the connection closes with SEED on both sides.
    await until(() => seedCloses.length === 1 && leechCloses.length === 1, 5000, 'SEED closes');
    assert.deepEqual(await sameFiles(fx, join(tmp.path, 'leech')), []);

    const L = leecher.counters();
    const S = seeder.counters();
    const size = fx.metainfo.length;
    assert.equal(L.payloadDownloaded, size);
    assert.equal(S.payloadUploaded, size);
    assert.equal(L.payloadUploaded, 0);
    assert.equal(L.wastedBytes, 0);
    assert.equal(L.hashFailedBytes, 0);
    assert.equal(L.piecesPassed, fx.metainfo.pieceCount);
    assert.equal(L.piecesFailed, 0);
    assert.equal(S.piecesPassed, 0, 'the seed verified nothing new (its check is not a pass)');
    // Handshakes, bitfields, requests: more than nothing, far less than the payload.
    assert.ok(L.protocolDownloaded > 68 && L.protocolDownloaded < size / 10, `${L.protocolDownloaded}`);
    assert.ok(L.protocolUploaded > 68, `${L.protocolUploaded}`);
    assert.equal(L.connectionsOpened.user, 1);
    assert.equal(L.connectionsJoined.user, 1);
    assert.equal(S.connectionsOpened.incoming, 1);
    assert.equal(S.connectionsJoined.incoming, 1);
    const byReason = (closes: DisconnectInfo[]): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const c of closes) out[String(c.reason)] = (out[String(c.reason)] ?? 0) + 1;
      return out;
    };
    assert.deepEqual(L.connectionsClosed, byReason(leechCloses));
    assert.deepEqual(S.connectionsClosed, byReason(seedCloses));
    assert.equal(leechCloses[0]!.reason, DisconnectReason.SEED);
    assert.equal(L.connectionsOpen, 0);
    // Serialisable, and the same numbers as a session-stats alert.
    assert.deepEqual(JSON.parse(JSON.stringify(L)), L);
    leecher.postSessionStats();
    const stats = alerts.at(-1);
    assert.ok(stats?.type === 'session-stats' && stats.category === 'stats');
    assert.equal(stats.payloadDownloaded, size);
    assert.deepEqual(stats.connectionsClosed, L.connectionsClosed);

    // Every alert is plain JSON data, and every typed event has its alert.
    for (const a of alerts) assert.deepEqual(JSON.parse(JSON.stringify(a)), a, a.type);
    const count = (type: string): number => alerts.filter((a) => a.type === type).length;
    for (const e of new Set(events))
      assert.equal(count(e), events.filter((x) => x === e).length, `alerts of ${e}`);
    const pass = alerts.find((a) => a.type === 'piece-hash-pass');
    assert.equal(pass?.infoHash, fx.metainfo.infoHashHex);
    assert.equal(pass?.category, 'piece');
    const close = alerts.find((a) => a.type === 'peer-disconnect');
    assert.ok(close && close.type === 'peer-disconnect');
    assert.equal(close.reason, DisconnectReason.SEED);
    assert.equal(close.name, 'SEED');
    assert.equal(close.peer, `127.0.0.1:${port}`);
    assert.equal(close.source, 'user');
    assert.ok(alerts.some((a) => a.type === 'peers-added' && a.source === 'user'));
    assert.ok(alerts.some((a) => a.type === 'torrent-finished'));
    const states = alerts
      .filter((a) => a.type === 'torrent-state')
      .map((a) => a.type === 'torrent-state' && a.state);
    assert.deepEqual(states, ['checking', 'downloading', 'seeding']);
  } finally {
    await seeder.close();
    await leecher.close();
    await tmp.cleanup();
  }
  // The iterator saw the same alerts and ended when the client closed.
  await reading;
  assert.deepEqual(
    iterated.map((a) => a.type),
    alerts.map((a) => a.type),
  );
  assert.equal(sub.dropped, 0);
});

test('alert_categories masks alerts at runtime', async () => {
  const c = new Client(quiet);
  const seen: string[] = [];
  c.on('alert', (a) => seen.push(a.category));
  c.applySettings({ alert_categories: ['error'] });
  await c.listen(0); // a status alert: masked
  c.emit('warning', new Error('w'));
  assert.deepEqual(seen, ['error']);
  c.applySettings({ alert_categories: ['status', 'error'] });
  assert.deepEqual(seen, ['error', 'status'], 'settings-changed is a status alert');
  await c.close();
});

test('a slow alert consumer: the queue stays bounded, the oldest are dropped and counted', async () => {
  let size = 10;
  const hub = new AlertHub(
    ['status'] as AlertCategory[],
    size,
    () => false,
    () => undefined,
  );
  const sub = hub.subscribe();
  assert.equal(hub.wants('listening'), true);
  assert.equal(hub.wants('peer-connect'), false, 'masked category');
  for (let i = 0; i < 100_000; i++) hub.post(makeAlert('listening', { time: i }, { port: i }));
  assert.equal(sub.pending, 10);
  assert.equal(sub.dropped, 99_990);
  const first = await sub.next();
  assert.equal(first.done, false);
  assert.equal(first.value.type === 'listening' && first.value.port, 99_990);
  size = 3;
  hub.configure(['status'], size);
  hub.post(makeAlert('listening', { time: 0 }, { port: 1 }));
  assert.equal(sub.pending, 3);
  // A waiting consumer gets the next alert directly.
  const drained: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await sub.next();
    if (!r.done && r.value.type === 'listening') drained.push(r.value.port);
  }
  assert.deepEqual(drained, [99_998, 99_999, 1]);
  const waiting = sub.next();
  hub.post(makeAlert('listening', { time: 0 }, { port: 42 }));
  const r = await waiting;
  assert.equal(!r.done && r.value.type === 'listening' && r.value.port, 42);
  sub.close();
  hub.post(makeAlert('listening', { time: 0 }, { port: 43 }));
  assert.equal((await sub.next()).done, true);
});
