/**
 * The queue and seed-limit policy: the pure decision (src/daemon/policy.ts), then the daemon
 * acting on it with a FakeClock (download-wait / seed-wait status, queue moves, ratio and idle
 * limits stopping a finished torrent, isFinished).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decide, type PolicyTorrent } from '../../../src/daemon/policy.js';
import { defaultSettings } from '../../../src/daemon/settings.js';
import { Daemon, type DaemonTorrent } from '../../../src/daemon/daemon.js';
import { torrentObject } from '../../../src/rpc/transmission/torrent-fields.js';
import { FakeClock } from '../../../src/util/clock.js';
import { makeFixture, until } from '../client/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

const base: Omit<PolicyTorrent, 'id' | 'queuePosition'> = {
  stopped: false,
  finished: false,
  busy: false,
  forceStart: false,
  ratio: 0,
  idleSeconds: 0,
  stalledSeconds: 0,
  seedRatioMode: 0,
  seedRatioLimit: 2,
  seedIdleMode: 0,
  seedIdleLimit: 30,
};
const t = (id: number, o: Partial<PolicyTorrent> = {}): PolicyTorrent => ({
  ...base,
  id,
  queuePosition: id,
  ...o,
});
const settings = { ...defaultSettings('/tmp'), 'download-queue-size': 2 };

test('decide: the download queue runs the first N by position; stopped, busy and start-now ones are outside it', () => {
  const d = decide([t(3), t(1), t(2), t(4, { stopped: true }), t(5, { busy: true })], settings);
  assert.deepEqual([...d.run].sort(), [1, 2, 5]);
  assert.deepEqual([...d.queued], [3]);
  const forced = decide([t(1), t(2), t(3, { forceStart: true })], { ...settings, 'download-queue-size': 1 });
  assert.ok(forced.run.has(3));
  assert.deepEqual([...forced.queued].sort(), [2]);
  const off = decide([t(1), t(2), t(3)], { ...settings, 'download-queue-enabled': false });
  assert.equal(off.queued.size, 0);
});

test('decide: seed queue; ratio limits by mode (global, own, unlimited); idle limit in minutes', () => {
  const seeds = decide([t(1, { finished: true }), t(2, { finished: true })], {
    ...settings,
    'seed-queue-enabled': true,
    'seed-queue-size': 1,
  });
  assert.deepEqual([...seeds.queued], [2]);
  const g = { ...settings, seedRatioLimited: true, seedRatioLimit: 1.5 };
  const r = decide(
    [
      t(1, { finished: true, ratio: 1.5 }),
      t(2, { finished: true, ratio: 1.4 }),
      t(3, { finished: true, ratio: 0.5, seedRatioMode: 1, seedRatioLimit: 0.5 }),
      t(4, { finished: true, ratio: 9, seedRatioMode: 2 }),
      t(5, { finished: false, ratio: 9 }),
    ],
    g,
  );
  assert.deepEqual([...r.limitReached].sort(), [1, 3]);
  const idle = decide(
    [
      t(1, { finished: true, idleSeconds: 599, seedIdleMode: 1, seedIdleLimit: 10 }),
      t(2, { finished: true, idleSeconds: 600, seedIdleMode: 1, seedIdleLimit: 10 }),
    ],
    settings,
  );
  assert.deepEqual([...idle.limitReached], [2]);
});

test('the daemon queues downloads (status 3), follows queue moves, and stops a seed at its ratio or idle limit', async () => {
  const dir = await tempDir('nbt-daemon-policy-');
  const clock = new FakeClock();
  const fxs = [];
  for (const name of ['p1', 'p2', 'p3'])
    fxs.push(
      await makeFixture(join(dir.path, 'src'), {
        name,
        files: [{ path: 'f', size: 40_000 }],
        seed: name.charCodeAt(1),
      }),
    );
  const seedFx = await makeFixture(join(dir.path, 'dl'), {
    name: 'seed',
    files: [{ path: 'f', size: 30_000 }],
  });
  const daemon = await Daemon.open({
    configDir: join(dir.path, 'cfg'),
    downloadDir: join(dir.path, 'dl'),
    port: 0,
    client: { clock, dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  try {
    await daemon.setSettings({ 'download-queue-size': 1 });
    const entries: DaemonTorrent[] = [];
    for (const fx of fxs) entries.push((await daemon.add({ metainfo: fx.torrent })).entry);
    await until(
      () => entries.every((e) => ['downloading', 'paused'].includes(e.torrent?.state ?? '')),
      10_000,
      'checked',
    );
    clock.advance(5_000);
    const status = (): number[] =>
      entries.map((e) => torrentObject(daemon, e, ['status'])['status'] as number);
    assert.deepEqual(status(), [4, 3, 3]);
    assert.equal(entries[1]!.torrent!.state, 'paused');
    await daemon.moveInQueue(entries[2]!, 0);
    assert.deepEqual(status(), [3, 3, 4]);
    await daemon.start(entries[1]!, true); // start-now skips the queue
    assert.deepEqual(status(), [3, 4, 4]);
    await daemon.stop(entries[2]!);
    assert.deepEqual(status(), [3, 4, 0]);

    // A seed with a ratio limit of 0 stops at once; one with an idle limit after a minute idle.
    const seed = (await daemon.add({ metainfo: seedFx.torrent })).entry;
    await until(() => seed.torrent?.state === 'seeding', 10_000, 'seeding');
    seed.record.seedIdleMode = 1;
    seed.record.seedIdleLimit = 1;
    await daemon.saveRecord();
    assert.equal(torrentObject(daemon, seed, ['status'])['status'], 6);
    clock.advance(55_000);
    assert.equal(seed.record.stopped, false, 'not idle long enough');
    clock.advance(10_000);
    await until(() => seed.record.stopped, 5_000, 'stopped at the idle limit');
    assert.deepEqual(torrentObject(daemon, seed, ['status', 'isFinished']), { status: 0, isFinished: true });
    await daemon.start(seed);
    assert.equal(torrentObject(daemon, seed, ['isFinished'])['isFinished'], false);
    seed.record.seedRatioMode = 1;
    seed.record.seedRatioLimit = 0;
    await daemon.saveRecord();
    await until(() => seed.record.stopped, 5_000, 'stopped at the ratio limit');
  } finally {
    await daemon.close();
    await dir.cleanup();
  }
});

test('decide: a stalled download keeps running but holds no slot; stalls off: it does', () => {
  const stalled = { stalledSeconds: 30 * 60 };
  const d = decide([t(1, stalled), t(2), t(3)], { ...settings, 'download-queue-size': 1 });
  assert.deepEqual([...d.run].sort(), [1, 2]);
  assert.deepEqual([...d.queued], [3]);
  const young = decide([t(1, { stalledSeconds: 30 * 60 - 1 }), t(2)], {
    ...settings,
    'download-queue-size': 1,
  });
  assert.deepEqual([...young.queued], [2]);
  const off = decide([t(1, stalled), t(2)], {
    ...settings,
    'download-queue-size': 1,
    'queue-stalled-enabled': false,
  });
  assert.deepEqual([...off.queued], [2]);
  // Seeds are never "stalled" for the download queue.
  const seed = decide([t(1, { ...stalled, finished: true }), t(2)], {
    ...settings,
    'download-queue-size': 1,
  });
  assert.equal(seed.queued.size, 0);
});

test('the daemon lets the next queued download run when the one ahead stalls (FakeClock)', async () => {
  const dir = await tempDir('nbt-daemon-stalled-');
  const clock = new FakeClock();
  const fxs = [];
  for (const name of ['s1', 's2', 's3'])
    fxs.push(
      await makeFixture(join(dir.path, 'src'), {
        name,
        files: [{ path: 'f', size: 40_000 }],
        seed: name.charCodeAt(1),
      }),
    );
  const daemon = await Daemon.open({
    configDir: join(dir.path, 'cfg'),
    downloadDir: join(dir.path, 'dl'),
    port: 0,
    client: { clock, dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  try {
    await daemon.setSettings({ 'download-queue-size': 1, 'queue-stalled-minutes': 1 });
    const entries: DaemonTorrent[] = [];
    for (const fx of fxs) entries.push((await daemon.add({ metainfo: fx.torrent })).entry);
    await until(
      () => entries.every((e) => ['downloading', 'paused'].includes(e.torrent?.state ?? '')),
      10_000,
      'checked',
    );
    const status = (): number[] =>
      entries.map((e) => torrentObject(daemon, e, ['status'])['status'] as number);
    clock.advance(5_000);
    assert.deepEqual(status(), [4, 3, 3]);
    // Nobody has the data: after a minute without payload the first stops holding its slot.
    for (let i = 0; i < 12; i++) clock.advance(5_000);
    await until(() => status()[1] === 4, 5_000, 'the second runs');
    assert.deepEqual(status(), [4, 4, 3]);
    for (let i = 0; i < 13; i++) clock.advance(5_000);
    await until(() => status()[2] === 4, 5_000, 'the third runs');
  } finally {
    await daemon.close();
    await dir.cleanup();
  }
});
