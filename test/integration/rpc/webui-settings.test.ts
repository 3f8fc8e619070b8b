/**
 * The web UI's settings editor endpoint over real sockets: GET /api/nbt/settings lists every
 * engine setting with its spec and current value; POST applies a pack as a whole or answers 400
 * naming the setting at fault; the daemon remembers what was applied across a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon } from '../../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../../src/rpc/transmission/server.js';
import { settingNames } from '../../../src/settings/index.js';
import { tempDir } from '../../helpers/tmp.js';

interface Answer {
  status: number;
  body: string;
}

function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

interface SettingRow {
  name: string;
  spec: { type: string; default: unknown; description: string; applies: string };
  value: unknown;
  editable: boolean;
  note?: string;
}

async function open(
  configDir: string,
  downloadDir: string,
): Promise<{ daemon: Daemon; rpc: TransmissionRpcServer; port: number }> {
  const daemon = await Daemon.open({
    configDir,
    downloadDir,
    port: 0,
    client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  const rpc = new TransmissionRpcServer(daemon, { port: 0 });
  return { daemon, rpc, port: await rpc.listen() };
}

test('settings editor: lists every setting, rejects bad packs naming the setting, remembers good ones', async () => {
  const dir = await tempDir('nbt-webui-settings-');
  const cfg = join(dir.path, 'cfg');
  const dl = join(dir.path, 'dl');
  let s = await open(cfg, dl);
  try {
    const origin = `http://127.0.0.1:${s.port}`;
    const list = JSON.parse((await call(s.port, 'GET', '/api/nbt/settings')).body) as {
      settings: SettingRow[];
    };
    assert.deepEqual(
      list.settings.map((r) => r.name),
      settingNames,
    );
    const byName = new Map(list.settings.map((r) => [r.name, r]));
    const timeout = byName.get('request_timeout')!;
    assert.equal(timeout.spec.type, 'int');
    assert.equal(timeout.spec.default, 20_000);
    assert.equal(timeout.value, 20_000);
    assert.equal(timeout.editable, true);
    assert.match(timeout.spec.description, /lost/);
    assert.equal(byName.get('trackers_enabled')!.value, false, 'current values, not defaults');
    assert.equal(byName.get('trackers_enabled')!.editable, false, 'construction-only');
    assert.equal(byName.get('download_rate_limit')!.editable, false);
    assert.match(byName.get('download_rate_limit')!.note ?? '', /speed-limit-down/);

    const { token } = JSON.parse((await call(s.port, 'GET', '/api/nbt/session')).body) as { token: string };
    const post = (body: string, headers: Record<string, string> = { Origin: origin, 'X-Nbt-Token': token }) =>
      call(s.port, 'POST', '/api/nbt/settings', { 'Content-Type': 'application/json', ...headers }, body);
    const good = JSON.stringify({ request_timeout: 15_000, alert_categories: ['status', 'error'] });
    // The CSRF rules of every other state change.
    assert.equal((await post(good, { Origin: origin })).status, 403);
    assert.equal((await post(good, { Origin: 'http://evil.example', 'X-Nbt-Token': token })).status, 403);
    assert.equal((await post(good, { 'X-Nbt-Token': token })).status, 403);
    assert.equal(s.daemon.client.settings().request_timeout, 20_000);

    const refused = async (body: string, setting: string, code: string, message: RegExp): Promise<void> => {
      const a = await post(body);
      assert.equal(a.status, 400, a.body);
      const e = JSON.parse(a.body) as { error: string; code: string; setting: string };
      assert.equal(e.setting, setting);
      assert.equal(e.code, code);
      assert.match(e.error, message);
    };
    // One bad value rejects the whole pack: request_timeout stays as it was.
    await refused(
      JSON.stringify({ request_timeout: 15_000, snub_timeout: 0 }),
      'snub_timeout',
      'SETTINGS_INVALID',
      /snub_timeout must be in 1\.\./,
    );
    await refused(
      JSON.stringify({ request_timeout: '15000' }),
      'request_timeout',
      'SETTINGS_INVALID',
      /integer/,
    );
    await refused(JSON.stringify({ no_such: 1 }), 'no_such', 'SETTINGS_INVALID', /unknown setting/);
    await refused(
      JSON.stringify({ trackers_enabled: true }),
      'trackers_enabled',
      'SETTINGS_READ_ONLY',
      /constructed/,
    );
    await refused(
      JSON.stringify({ download_rate_limit: 1000 }),
      'download_rate_limit',
      'SETTINGS_READ_ONLY',
      /speed-limit-down/,
    );
    await refused('[1]', '', 'SETTINGS_INVALID', /object/);
    await refused('{not json', '', 'SETTINGS_INVALID', /JSON/);
    assert.equal((await post(`{"save_path":"${'x'.repeat(70_000)}"}`)).status, 413);
    assert.equal(s.daemon.client.settings().request_timeout, 20_000);
    assert.equal(s.daemon.client.settings().snub_timeout, 30_000);

    const ok = await post(good);
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(JSON.parse(ok.body), { changed: ['request_timeout', 'alert_categories'] });
    assert.equal(s.daemon.client.settings().request_timeout, 15_000);
    const saved = JSON.parse(await readFile(join(cfg, 'session.json'), 'utf8')) as { engine: unknown };
    assert.deepEqual(saved.engine, { request_timeout: 15_000, alert_categories: ['status', 'error'] });
    const again = JSON.parse((await call(s.port, 'GET', '/api/nbt/settings')).body) as {
      settings: SettingRow[];
    };
    assert.equal(again.settings.find((r) => r.name === 'request_timeout')!.value, 15_000);
  } finally {
    await s.rpc.close();
    await s.daemon.close();
  }
  // Remembered across a restart.
  s = await open(cfg, dl);
  try {
    assert.equal(s.daemon.client.settings().request_timeout, 15_000);
    assert.deepEqual(s.daemon.client.settings().alert_categories, ['status', 'error']);
  } finally {
    await s.rpc.close();
    await s.daemon.close();
    await dir.cleanup();
  }
});

test('saved engine settings that are no longer valid are dropped at start, not fatal', async () => {
  const dir = await tempDir('nbt-webui-settings-');
  const cfg = join(dir.path, 'cfg');
  let s = await open(cfg, join(dir.path, 'dl'));
  await s.daemon.setEngineSettings({ snub_timeout: 12_000 });
  await s.rpc.close();
  await s.daemon.close();
  const path = join(cfg, 'session.json');
  const file = JSON.parse(await readFile(path, 'utf8')) as { engine: Record<string, unknown> };
  file.engine['gone_setting'] = 3;
  file.engine['request_timeout'] = -1;
  file.engine['download_rate_limit'] = 5;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, JSON.stringify(file));
  s = await open(cfg, join(dir.path, 'dl'));
  try {
    assert.equal(s.daemon.client.settings().snub_timeout, 12_000);
    assert.equal(s.daemon.client.settings().request_timeout, 20_000);
    assert.equal(s.daemon.client.settings().download_rate_limit, 0);
  } finally {
    await s.rpc.close();
    await s.daemon.close();
    await dir.cleanup();
  }
});

test('with credentials the settings need a live session like the rest of /api/nbt/', async () => {
  const dir = await tempDir('nbt-webui-settings-');
  const daemon = await Daemon.open({
    configDir: join(dir.path, 'cfg'),
    downloadDir: join(dir.path, 'dl'),
    port: 0,
    client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  const rpc = new TransmissionRpcServer(daemon, { port: 0, username: 'admin', password: 'secret' });
  const port = await rpc.listen();
  try {
    assert.equal((await call(port, 'GET', '/api/nbt/settings')).status, 401);
    const body = JSON.stringify({ request_timeout: 15_000 });
    const post = await call(
      port,
      'POST',
      '/api/nbt/settings',
      { Origin: `http://127.0.0.1:${port}`, 'Content-Type': 'application/json' },
      body,
    );
    assert.equal(post.status, 401);
    assert.equal(daemon.client.settings().request_timeout, 20_000);
  } finally {
    await rpc.close();
    await daemon.close();
    await dir.cleanup();
  }
});
