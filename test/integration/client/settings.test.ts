/**
 * The settings registry on a Client: ClientOptions map onto it, settings() is plain data,
 * applySettings validates the whole pack before applying anything, and the runtime settings
 * take effect on the running session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { DisconnectReason } from '../../../src/peer/disconnect.js';
import {
  defaultSettings,
  settingDefinitions,
  settingNames,
  SettingsError,
  type SettingsPack,
} from '../../../src/settings/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';

const quiet = { host: '127.0.0.1', dht: false, trackers: false } as const;

function invalid(setting: string, code = 'SETTINGS_INVALID') {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SettingsError, `not a SettingsError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.setting, setting);
    assert.match(e.message, new RegExp(setting));
    return true;
  };
}

test('every setting has a default that passes its own validation, and a description', () => {
  const d = defaultSettings();
  assert.deepEqual(Object.keys(d), settingNames);
  for (const name of settingNames) {
    const spec = settingDefinitions[name];
    assert.ok(spec.description.length > 10, name);
    if (spec.type === 'int' || spec.type === 'number') {
      assert.ok((d[name] as number) >= spec.min && (d[name] as number) <= spec.max, name);
    }
  }
  const c = new Client({ ...quiet, settings: {} });
  // Defaults round-trip: a snapshot is plain JSON and may be applied back unchanged.
  const snap = JSON.parse(JSON.stringify(c.settings())) as SettingsPack;
  assert.deepEqual(snap, { ...d, trackers_enabled: false, dht_enabled: false, listen_host: '127.0.0.1' });
  c.applySettings(snap);
  void c.close();
});

test('ClientOptions map onto the registry; options.settings wins', async () => {
  const c = new Client({
    ...quiet,
    port: [7000, 7009],
    encryption: 'required',
    limits: { maxConnections: 50, maxPerHost: 3, unchokeSlots: 2 },
    uploadRateLimit: 1000,
    resumeInterval: 5000,
    pex: { intervalMs: 1234 },
    maxMetadataSize: 2048,
    settings: { half_open_limit: 2, connections_limit: 60 },
  });
  const s = c.settings();
  assert.equal(s.listen_port, 7000);
  assert.equal(s.listen_port_range, 9);
  assert.equal(s.encryption, 'required');
  assert.equal(s.connections_limit, 60);
  assert.equal(s.connections_per_host_limit, 3);
  assert.equal(s.unchoke_slots_limit, 2);
  assert.equal(s.half_open_limit, 2);
  assert.equal(s.upload_rate_limit, 1000);
  assert.equal(s.resume_interval, 5000);
  assert.equal(s.pex_interval, 1234);
  assert.equal(s.max_metadata_size, 2048);
  assert.equal(s.trackers_enabled, false);
  assert.equal(s.dht_enabled, false);
  assert.equal(c.options.limits.maxConnections, 60);
  assert.deepEqual(c.options.port, [7000, 7009]);
  assert.equal(c.upload.rate, 1000);
  await c.close();
  assert.throws(() => new Client({ ...quiet, limits: { maxHalfOpen: 0 } }), invalid('half_open_limit'));
});

test('applySettings: an unknown name or bad value names the setting and applies nothing', async () => {
  const c = new Client(quiet);
  const before = c.settings();
  const bad: [SettingsPack | Record<string, unknown>, string][] = [
    [{ connections_limit: 10, no_such_setting: 1 }, 'no_such_setting'],
    [{ connections_limit: 10, upload_rate_limit: -1 }, 'upload_rate_limit'],
    [{ connections_limit: 10, half_open_limit: 1.5 }, 'half_open_limit'],
    [{ connections_limit: 10, encryption: 'sometimes' }, 'encryption'],
    [{ connections_limit: 10, fsync: 'yes' }, 'fsync'],
    [{ connections_limit: 10, alert_categories: ['status', 'nonsense'] }, 'alert_categories'],
    [{ connections_limit: 10, save_path: 'x'.repeat(5000) }, 'save_path'],
    [{ connections_limit: 10, request_queue_time: Number.NaN }, 'request_queue_time'],
  ];
  for (const [pack, name] of bad) {
    assert.throws(() => c.applySettings(pack as SettingsPack), invalid(name));
    assert.deepEqual(c.settings(), before);
  }
  assert.throws(() => c.applySettings({ dht_enabled: true }), invalid('dht_enabled', 'SETTINGS_READ_ONLY'));
  c.applySettings({ dht_enabled: false }); // its current value: fine
  const changes: string[][] = [];
  c.on('settings-changed', (names) => changes.push(names));
  c.applySettings({ connections_limit: 10, encryption: 'disabled', save_path: '/tmp/x' });
  assert.deepEqual(changes, [['connections_limit', 'encryption', 'save_path']]);
  assert.equal(c.options.encryption, 'disabled');
  assert.equal(c.options.savePath, '/tmp/x');
  c.applySettings({ connections_limit: 10 });
  assert.equal(changes.length, 1, 'no change, no event');
  await c.close();
});

test('rate limits and unchoke slots take effect on the running session', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'f.bin', size: 40_000 }], pieceLength: 16384 });
  const c = new Client(quiet);
  try {
    const shared = await c.addTorrent(fx.torrent, { savePath: fx.dir, skipCheck: true });
    await until(() => shared.state === 'seeding', 5000, 'seeding');
    c.applySettings({ download_rate_limit: 50_000, upload_rate_limit: 20_000, unchoke_slots_limit: 7 });
    assert.equal(c.download.rate, 50_000);
    assert.equal(c.upload.rate, 20_000);
    assert.equal(shared.unchokeSlots, 7);
    c.setRateLimits({ upload: 0 });
    assert.equal(c.settings().upload_rate_limit, 0);
    assert.equal(c.upload.rate, 0);
    assert.throws(() => c.setRateLimits({ download: -5 }), invalid('download_rate_limit'));
    await c.removeTorrent(shared);
    const own = await c.addTorrent(fx.torrent, { savePath: fx.dir, skipCheck: true, unchokeSlots: 1 });
    c.applySettings({ unchoke_slots_limit: 3 });
    assert.equal(own.unchokeSlots, 1, 'a torrent added with its own slots keeps them');
  } finally {
    await c.close();
    await tmp.cleanup();
  }
});

test('connections_limit applies to the next incoming connection', async () => {
  const c = new Client(quiet);
  const reasons: DisconnectReason[] = [];
  c.on('peer-disconnect', (_p, info) => reasons.push(info.reason));
  const port = await c.listen(0);
  const dial = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = new Socket();
      s.once('error', reject);
      s.connect(port, '127.0.0.1', () => resolve(s));
    });
  try {
    c.applySettings({ connections_limit: 0 });
    const first = await dial();
    await until(() => reasons.length === 1, 5000, 'refusal');
    assert.deepEqual(reasons, [DisconnectReason.TOO_MANY]);
    first.destroy();
    c.applySettings({ connections_limit: 5 });
    const second = await dial();
    await until(() => c.connectionCount === 1, 5000, 'accepted');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(reasons.length, 1, 'accepted under the raised limit');
    second.destroy();
  } finally {
    await c.close();
  }
});

test('resume_interval restarts the periodic save at once', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'f.bin', size: 20_000 }], pieceLength: 16384 });
  const clock = new FakeClock();
  const c = new Client({ ...quiet, clock, resumeDir: `${tmp.path}/resume`, resumeInterval: 60_000 });
  let saves = 0;
  c.on('resume-saved', () => saves++);
  try {
    const t = await c.addTorrent(fx.torrent, { savePath: fx.dir, skipCheck: true });
    await until(() => t.state === 'seeding', 5000, 'seeding');
    c.applySettings({ resume_interval: 1000 });
    clock.advance(1000);
    await until(() => saves === 1, 5000, 'a save within the new interval');
    // Resume files are rewritten only when something changed: an idle seed is not saved again.
    for (let i = 0; i < 3; i++) clock.advance(1000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(saves, 1);
  } finally {
    await c.close();
    await tmp.cleanup();
  }
});

test('on a running seed: unchoke_slots_limit rechokes at once; encryption applies to the next connection', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'f.bin', size: 3_000_000 }], pieceLength: 32768 });
  // Slow upload, so that the leechers stay interested for the whole test.
  const seeder = new Client({
    ...quiet,
    uploadRateLimit: 30_000,
    settings: { connections_per_host_limit: 10 },
  });
  const leechers = [new Client(quiet), new Client(quiet), new Client(quiet)];
  try {
    const port = await seeder.listen(0);
    const seed = await seeder.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => seed.state === 'seeding', 10_000, 'seed ready');
    leechers[2]!.applySettings({ encryption: 'disabled' });
    for (const [i, l] of leechers.entries()) {
      const t = await l.addTorrent(fx.torrent, { savePath: join(tmp.path, `leech${i}`) });
      t.addPeer('127.0.0.1', port);
    }
    const unchoked = (): number => seed.peers.filter((p) => !p.amChoking).length;
    await until(
      () => seed.peers.length === 3 && seed.peers.every((p) => p.peerInterested) && unchoked() === 3,
      10_000,
      'three interested, unchoked leechers',
    );
    assert.deepEqual(seed.peers.map((p) => p.encryption).sort(), ['none', 'rc4', 'rc4']);
    seeder.applySettings({ unchoke_slots_limit: 0 });
    assert.equal(unchoked(), 1, 'only the optimistic unchoke is left, at once');
    seeder.applySettings({ unchoke_slots_limit: 1 });
    assert.equal(unchoked(), 2);
  } finally {
    for (const l of leechers) await l.close();
    await seeder.close();
    await tmp.cleanup();
  }
});
