/**
 * The qBittorrent Web API v2 on the daemon's RPC server, in one process: login and SID rules,
 * CSRF, body limits and malformed forms, then the endpoints' answers (fields, states, filters,
 * categories and tags kept across a restart, file priorities, limits, sync/maindata diffs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../../src/rpc/transmission/server.js';
import { makeFixture, until, type Fixture } from '../../unit/client/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { QbtClient } from '../../helpers/qbt-client.js';
import { rawPost } from '../../helpers/rpc-client.js';
import { networkInterfaces } from 'node:os';

const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')?.address;

interface Rig {
  daemon: Daemon;
  rpc: TransmissionRpcServer;
  qbt: QbtClient;
  fx: Fixture;
  root: string;
  configDir: string;
  close(keep?: boolean): Promise<void>;
}

async function rig(
  o: { username?: string; password?: string; root?: string; maxBodyBytes?: number; host?: string } = {},
): Promise<Rig> {
  const dir = o.root ? { path: o.root, cleanup: async () => undefined } : await tempDir('nbt-qbt-');
  const fx = await makeFixture(dir.path, {
    files: [
      { path: 'a.bin', size: 200_000 },
      { path: 'b.bin', size: 50_000 },
    ],
  });
  const configDir = join(dir.path, 'cfg');
  const daemon = await Daemon.open({
    configDir,
    downloadDir: fx.dir,
    port: 0,
    client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  const rpc = new TransmissionRpcServer(daemon, {
    port: 0,
    ...(o.host ? { host: o.host } : {}),
    ...(o.username ? { username: o.username, password: o.password! } : {}),
    maxBodyBytes: o.maxBodyBytes ?? 1024 * 1024,
  });
  const port = await rpc.listen();
  return {
    daemon,
    rpc,
    qbt: new QbtClient(port),
    fx,
    root: dir.path,
    configDir,
    async close(keep = false) {
      await rpc.close();
      await daemon.close();
      if (!keep) await dir.cleanup();
    },
  };
}

function torrentForm(fx: Fixture, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  form.append('torrents', new Blob([fx.torrent]), 'x.torrent');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

type Info = Record<string, unknown>;

async function infoOf(q: QbtClient, hash: string): Promise<Info> {
  const list = await q.get<Info[]>('torrents/info', { hashes: hash });
  assert.equal(list.length, 1);
  return list[0]!;
}

async function untilState(q: QbtClient, hash: string, states: string[], what: string): Promise<Info> {
  let last: Info | undefined;
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000) {
    last = await infoOf(q, hash);
    if (states.includes(last['state'] as string)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: state ${String(last?.['state'])}`);
}

test('without credentials: login simply succeeds with an SID cookie, and no cookie is needed', async () => {
  const r = await rig();
  try {
    const res = await r.qbt.request('auth/login', {
      method: 'POST',
      params: { username: 'x', password: 'y' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.text, 'Ok.');
    assert.match(res.headers.get('set-cookie') ?? '', /^SID=[\w-]{16,}; HttpOnly; path=\/; SameSite=Strict$/);
    const anon = new QbtClient(r.qbt.port);
    assert.equal((await anon.request('app/version')).text, 'v4.5.2');
    assert.equal((await anon.request('app/webapiVersion')).text, '2.8.19');
    assert.equal((await anon.request('app/defaultSavePath')).text, r.fx.dir);
    assert.equal((await anon.request('auth/login')).status, 405, 'login is POST only');
  } finally {
    await r.close();
  }
});

test('with credentials: wrong password Fails., no SID is 403, the SID or basic auth is served, logout ends it', async () => {
  const r = await rig({ username: 'admin', password: 'secret' });
  try {
    const q = r.qbt;
    assert.equal((await q.request('torrents/info')).status, 403);
    assert.equal((await q.request('app/version')).status, 403);
    assert.equal(await q.login('admin', 'wrong'), 'Fails.');
    assert.equal(q.sid, undefined);
    assert.equal(await q.login('admin', 'secret'), 'Ok.');
    assert.ok(q.sid);
    assert.deepEqual(await q.get('torrents/info'), []);
    const forged = new QbtClient(q.port);
    forged.sid = 'not-a-session';
    assert.equal((await forged.request('torrents/info')).status, 403);
    const basic = await new QbtClient(q.port).request('torrents/info', {
      headers: { authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}` },
    });
    assert.equal(basic.status, 200);
    assert.equal((await q.request('auth/logout', { method: 'POST' })).status, 200);
    assert.equal((await q.request('torrents/info')).status, 403, 'the SID is gone after logout');
    // The Transmission RPC on the same server keeps its own rule (basic auth).
    const tr = await fetch(`http://127.0.0.1:${q.port}/transmission/rpc`, { method: 'POST', body: '{}' });
    assert.equal(tr.status, 401);
  } finally {
    await r.close();
  }
});

test(
  'a non-loopback client: 403 without credentials configured; with them, 403 until it logs in',
  { skip: external ? false : 'this machine has no non-loopback IPv4 address' },
  async () => {
    const from = { host: external!, localAddress: external!, path: '/api/v2/torrents/info', method: 'GET' };
    let r = await rig({ host: '0.0.0.0' });
    try {
      const res = await rawPost(r.qbt.port, '', {}, from);
      assert.equal(res.status, 403);
      const login = await rawPost(
        r.qbt.port,
        'username=&password=',
        {},
        { ...from, path: '/api/v2/auth/login', method: 'POST' },
      );
      assert.equal(login.status, 403, 'no login either: only loopback clients are served');
    } finally {
      await r.close();
    }
    r = await rig({ host: '0.0.0.0', username: 'admin', password: 'secret' });
    try {
      assert.equal((await rawPost(r.qbt.port, '', {}, from)).status, 403);
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const login = await rawPost(r.qbt.port, 'username=admin&password=secret', form, {
        ...from,
        path: '/api/v2/auth/login',
        method: 'POST',
      });
      assert.equal(login.text, 'Ok.');
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const res = await rawPost(r.qbt.port, '', { cookie }, from);
      assert.equal(res.status, 200);
      assert.equal(res.text, '[]');
    } finally {
      await r.close();
    }
  },
);

test('five failed logins ban the address (403) for an hour', async () => {
  const r = await rig({ username: 'admin', password: 'secret' });
  try {
    for (let i = 0; i < 5; i++) assert.equal(await r.qbt.login('admin', `bad${i}`), 'Fails.');
    const banned = await r.qbt.request('auth/login', {
      method: 'POST',
      params: { username: 'admin', password: 'secret' },
    });
    assert.equal(banned.status, 403);
    assert.match(banned.text, /banned/);
  } finally {
    await r.close();
  }
});

test('cross-origin requests get 401 (Origin or Referer naming another host); same-origin ones are served', async () => {
  const r = await rig();
  try {
    const q = r.qbt;
    const evil = await q.request('torrents/pause', {
      method: 'POST',
      params: { hashes: 'all' },
      headers: { origin: 'http://evil.example' },
    });
    assert.equal(evil.status, 401);
    const ref = await q.request('auth/login', {
      method: 'POST',
      params: {},
      headers: { referer: 'http://evil.example/page' },
    });
    assert.equal(ref.status, 401);
    const nul = await q.request('torrents/info', { headers: { origin: 'null' } });
    assert.equal(nul.status, 401);
    const same = await q.request('torrents/pause', {
      method: 'POST',
      params: { hashes: 'all' },
      headers: { origin: `http://127.0.0.1:${q.port}`, referer: `http://127.0.0.1:${q.port}/x` },
    });
    assert.equal(same.status, 200);
  } finally {
    await r.close();
  }
});

test('bad input: oversized upload 413, malformed multipart 400, bad torrent 415, unknown 404, GET on an action 405', async () => {
  const r = await rig({ maxBodyBytes: 64 * 1024 });
  try {
    const q = r.qbt;
    const big = new FormData();
    big.append('torrents', new Blob([Buffer.alloc(200 * 1024, 1)]), 'big.torrent');
    assert.equal((await q.request('torrents/add', { form: big }).catch(() => ({ status: 413 }))).status, 413);
    const cases: [string, string][] = [
      [
        'multipart/form-data; boundary=xx',
        '--xx\r\nContent-Disposition: form-data; name="urls"\r\n\r\nmagnet',
      ],
      ['multipart/form-data; boundary=xx', 'no boundary here at all'],
      ['multipart/form-data; boundary=xx', '--xx\r\nNoColonHeader\r\n\r\nv\r\n--xx--'],
      [
        'multipart/form-data; boundary=xx',
        '--xx\r\nContent-Disposition: attachment; name="a"\r\n\r\nv\r\n--xx--',
      ],
      ['multipart/form-data; boundary=xx', '--xxjunk'],
      ['multipart/form-data', '--xx\r\n'],
      ['application/json', '{}'],
    ];
    for (const [type, body] of cases) {
      const res = await q.request('torrents/add', { raw: { body, type } });
      assert.equal(res.status, 400, `${type} ${JSON.stringify(body)}: ${res.text}`);
    }
    const bad = new FormData();
    bad.append('torrents', new Blob([Buffer.from('garbage')]), 'g.torrent');
    const res = await q.request('torrents/add', { form: bad });
    assert.equal(res.status, 415);
    assert.equal(res.text, "Error: 'g.torrent' is not a valid torrent file.");
    assert.equal((await q.request('torrents/nothing')).status, 404);
    assert.equal(
      (await q.request('torrents/pause', { method: 'GET', params: { hashes: 'all' } })).status,
      405,
    );
    assert.equal((await q.request('torrents/properties')).status, 400);
    assert.equal(
      (await q.request('torrents/properties', { params: { hash: 'ab'.repeat(20) }, method: 'GET' })).status,
      404,
    );
    // Nothing broke: the server still answers.
    assert.deepEqual(await q.get('torrents/info'), []);
  } finally {
    await r.close();
  }
});

test('add by file (savepath, category, tags, paused), info fields, properties, files, trackers, pieceStates', async () => {
  const r = await rig();
  try {
    const q = r.qbt;
    const hash = r.fx.metainfo.infoHashHex;
    const added = await q.request('torrents/add', {
      form: torrentForm(r.fx, { savepath: r.fx.dir, category: 'tv', tags: 'a, b', paused: 'true' }),
    });
    assert.equal(added.text, 'Ok.');
    const dup = await q.request('torrents/add', { form: torrentForm(r.fx) });
    assert.equal(dup.text, 'Fails.', 'a duplicate is not added');
    await until(() => r.daemon.byHash(hash)?.torrent?.state === 'paused', 10_000, 'checked');
    const t = await untilState(q, hash, ['pausedUP'], 'paused and complete');
    assert.equal(t['hash'], hash);
    assert.equal(t['name'], r.fx.name);
    assert.equal(t['category'], 'tv');
    assert.equal(t['tags'], 'a, b');
    assert.equal(t['size'], 250_000);
    assert.equal(t['total_size'], 250_000);
    assert.equal(t['progress'], 1);
    assert.equal(t['amount_left'], 0);
    assert.equal(t['save_path'], r.fx.dir);
    assert.equal(t['content_path'], join(r.fx.dir, r.fx.name));
    assert.equal(t['eta'], 8_640_000);
    assert.deepEqual(await q.get('torrents/categories'), { tv: { name: 'tv', savePath: '' } });
    assert.deepEqual(await q.get('torrents/tags'), ['a', 'b']);

    const p = await q.get<Info>('torrents/properties', { hash });
    assert.equal(p['save_path'], r.fx.dir);
    assert.equal(p['pieces_num'], r.fx.metainfo.pieceCount);
    assert.equal(p['pieces_have'], r.fx.metainfo.pieceCount);
    assert.equal(p['piece_size'], r.fx.metainfo.pieceLength);
    assert.equal(p['total_size'], 250_000);
    const files = await q.get<Info[]>('torrents/files', { hash });
    assert.deepEqual(
      files.map((f) => [f['index'], f['name'], f['size'], f['priority'], f['progress']]),
      [
        [0, `${r.fx.name}/a.bin`, 200_000, 1, 1],
        [1, `${r.fx.name}/b.bin`, 50_000, 1, 1],
      ],
    );
    assert.equal(files[0]!['is_seed'], true);
    const trackers = await q.get<Info[]>('torrents/trackers', { hash });
    assert.deepEqual(
      trackers.map((x) => x['url']),
      ['** [DHT] **', '** [PeX] **', '** [LSD] **'],
    );
    const pieces = await q.get<number[]>('torrents/pieceStates', { hash });
    assert.deepEqual(pieces, new Array(r.fx.metainfo.pieceCount).fill(2));
    const exported = await fetch(`${q.base}torrents/export?hash=${hash}`);
    assert.equal(exported.headers.get('content-type'), 'application/x-bittorrent');
    assert.deepEqual(Buffer.from(await exported.arrayBuffer()), r.fx.torrent);

    await q.post('torrents/resume', { hashes: hash });
    await untilState(q, hash, ['stalledUP', 'uploading'], 'seeding');
    await q.post('torrents/pause', { hashes: hash });
    assert.equal((await infoOf(q, hash))['state'], 'pausedUP');
    await q.post('torrents/start', { hashes: hash });
    await untilState(q, hash, ['stalledUP'], 'started');
    await q.post('torrents/recheck', { hashes: hash });
    await untilState(q, hash, ['stalledUP'], 'rechecked');
    assert.equal(await q.post('torrents/reannounce', { hashes: hash }), '');
  } finally {
    await r.close();
  }
});

test('add by magnet: metaDL with the magnet name; files empty; filePrio answers 409 until metadata', async () => {
  const r = await rig();
  try {
    const q = r.qbt;
    const hash = 'ab'.repeat(20);
    const text = await q.post('torrents/add', { urls: `magnet:?xt=urn:btih:${hash}&dn=wanted` });
    assert.equal(text, 'Ok.');
    const t = await untilState(q, hash, ['metaDL'], 'fetching metadata');
    assert.equal(t['name'], 'wanted');
    assert.equal(t['total_size'], -1);
    assert.equal(t['progress'], 0);
    assert.deepEqual(await q.get('torrents/files', { hash }), []);
    assert.equal((await q.get<Info>('torrents/properties', { hash }))['pieces_num'], -1);
    const prio = await q.request('torrents/filePrio', {
      method: 'POST',
      params: { hash, id: '0', priority: '0' },
    });
    assert.equal(prio.status, 409);
    // Flood turns super-seeding off after every add: accepted. On is accepted too, but a torrent
    // that is not complete (this one has no metadata yet) does not super-seed.
    const superSeed = (value: string) =>
      q.request('torrents/setSuperSeeding', { method: 'POST', params: { hashes: hash, value } });
    assert.equal((await superSeed('false')).status, 200);
    assert.equal((await superSeed('true')).status, 200);
    const [info] = await q.get<Info[]>('torrents/info', { hashes: hash });
    assert.equal(info?.['super_seeding'], false);
    await q.post('torrents/delete', { hashes: hash, deleteFiles: 'false' });
    assert.deepEqual(await q.get('torrents/info'), []);
  } finally {
    await r.close();
  }
});

test('info filters, category, tag, sort, reverse, limit and offset', async () => {
  const r = await rig();
  try {
    const q = r.qbt;
    const seeded = r.fx.metainfo.infoHashHex;
    await q.request('torrents/add', { form: torrentForm(r.fx, { category: 'tv', tags: 'x' }) });
    await q.post('torrents/add', { urls: `magnet:?xt=urn:btih:${'cd'.repeat(20)}&dn=bbb`, paused: 'true' });
    await q.post('torrents/add', { urls: `magnet:?xt=urn:btih:${'ef'.repeat(20)}&dn=aaa`, tags: 'x,y' });
    await untilState(q, seeded, ['stalledUP'], 'seeding');
    const names = async (p: Record<string, string>): Promise<string[]> =>
      (await q.get<Info[]>('torrents/info', p)).map((t) => t['name'] as string);
    assert.deepEqual(await names({ filter: 'seeding' }), [r.fx.name]);
    assert.deepEqual(await names({ filter: 'completed' }), [r.fx.name]);
    assert.deepEqual(await names({ filter: 'paused' }), ['bbb']);
    assert.deepEqual(await names({ filter: 'stopped' }), ['bbb']);
    assert.deepEqual(await names({ filter: 'downloading', sort: 'name' }), ['aaa', 'bbb']);
    assert.deepEqual(await names({ filter: 'resumed', sort: 'name' }), ['aaa', r.fx.name]);
    assert.deepEqual(await names({ category: 'tv' }), [r.fx.name]);
    assert.deepEqual(await names({ category: '', sort: 'name' }), ['aaa', 'bbb']);
    assert.deepEqual(await names({ tag: 'x', sort: 'name' }), ['aaa', r.fx.name]);
    assert.deepEqual(await names({ tag: '' }), ['bbb']);
    assert.deepEqual(await names({ sort: 'name', reverse: 'true' }), [r.fx.name, 'bbb', 'aaa']);
    assert.deepEqual(await names({ sort: 'name', limit: '2' }), ['aaa', 'bbb']);
    assert.deepEqual(await names({ sort: 'name', limit: '1', offset: '1' }), ['bbb']);
    assert.deepEqual(await names({ sort: 'name', offset: '-1' }), [r.fx.name]);
    assert.deepEqual(await names({ hashes: `${'cd'.repeat(20)}|${seeded}`, sort: 'name' }), [
      'bbb',
      r.fx.name,
    ]);
  } finally {
    await r.close();
  }
});

test('categories, tags, limits, share limits, rename, file priorities, queue; kept across a restart', async () => {
  const dir = await tempDir('nbt-qbt-restart-');
  let r: Rig | undefined;
  try {
    r = await rig({ root: dir.path });
    const q = r.qbt;
    const first = r.daemon;
    const hash = r.fx.metainfo.infoHashHex;
    await q.request('torrents/add', { form: torrentForm(r.fx) });
    await q.post('torrents/add', { urls: `magnet:?xt=urn:btih:${'cd'.repeat(20)}&dn=second` });
    assert.equal(
      await q.post('torrents/createCategory', { category: 'movies', savePath: '/srv/movies' }),
      '',
    );
    const again = await q.request('torrents/createCategory', {
      method: 'POST',
      params: { category: 'movies' },
    });
    assert.equal(again.status, 409);
    const badName = await q.request('torrents/createCategory', {
      method: 'POST',
      params: { category: 'a//b' },
    });
    assert.equal(badName.status, 400);
    const missing = await q.request('torrents/setCategory', {
      method: 'POST',
      params: { hashes: hash, category: 'nope' },
    });
    assert.equal(missing.status, 409);
    await q.post('torrents/setCategory', { hashes: hash, category: 'movies' });
    await q.post('torrents/createTags', { tags: 'unused' });
    await q.post('torrents/addTags', { hashes: hash, tags: 'hd,new' });
    await q.post('torrents/removeTags', { hashes: hash, tags: 'new' });
    await q.post('torrents/setDownloadLimit', { hashes: hash, limit: '123000' });
    await q.post('torrents/setUploadLimit', { hashes: hash, limit: '0' });
    await q.post('torrents/setShareLimits', { hashes: hash, ratioLimit: '1.5', seedingTimeLimit: '60' });
    await q.post('torrents/rename', { hash, name: 'Renamed' });
    await until(() => !!first.byHash(hash)?.torrent?.hasMetadata, 5_000, 'metadata');
    await q.post('torrents/filePrio', { hash, id: '1', priority: '0' });
    const badPrio = await q.request('torrents/filePrio', {
      method: 'POST',
      params: { hash, id: '1', priority: '3' },
    });
    assert.equal(badPrio.status, 400);
    const badId = await q.request('torrents/filePrio', {
      method: 'POST',
      params: { hash, id: '9', priority: '1' },
    });
    assert.equal(badId.status, 409);
    await q.post('torrents/topPrio', { hashes: 'cd'.repeat(20) });
    const renameFile = await q.request('torrents/renameFile', {
      method: 'POST',
      params: { hash, oldPath: `${r.fx.name}/a.bin`, newPath: `${r.fx.name}/c.bin` },
    });
    assert.equal(renameFile.status, 200);
    const namesNow = await q.get<{ name: string }[]>('torrents/files', { hash });
    assert.deepEqual(
      namesNow.map((f) => f.name),
      [`${r.fx.name}/c.bin`, `${r.fx.name}/b.bin`],
    );
    const clash = await q.request('torrents/renameFile', {
      method: 'POST',
      params: { hash, oldPath: `${r.fx.name}/c.bin`, newPath: `${r.fx.name}/b.bin` },
    });
    assert.equal(clash.status, 409);
    // Limits reach the engine's torrent, not only the record.
    assert.equal(first.byHash(hash)!.torrent!.rateLimits.download, 123_000);
    // The Transmission view of the same torrent: tags are its labels.
    assert.deepEqual(r.daemon.byHash(hash)!.record.labels, ['hd']);
    await r.close(true);
    r = undefined;

    r = await rig({ root: dir.path });
    const q2 = r.qbt;
    const t = await untilState(q2, hash, ['stalledUP'], 'seeding after the restart');
    assert.equal(t['category'], 'movies');
    assert.equal(t['tags'], 'hd');
    assert.equal(t['name'], 'Renamed');
    assert.equal(t['dl_limit'], 123_000);
    assert.equal(r.daemon.byHash(hash)!.torrent!.rateLimits.download, 123_000);
    assert.deepEqual(
      (await q2.get<{ name: string }[]>('torrents/files', { hash })).map((f) => f.name),
      [`${r.fx.name}/c.bin`, `${r.fx.name}/b.bin`],
    );
    assert.equal(t['up_limit'], 0);
    assert.equal(t['ratio_limit'], 1.5);
    assert.equal(t['seeding_time_limit'], 60);
    assert.equal(t['size'], 200_000, 'b.bin is skipped');
    assert.equal(t['priority'], 0, 'complete torrents have no queue position');
    assert.equal((await infoOf(q2, 'cd'.repeat(20)))['priority'], 1);
    assert.deepEqual(await q2.get('torrents/categories'), {
      movies: { name: 'movies', savePath: '/srv/movies' },
    });
    // Taking a tag off a torrent keeps the tag (qBittorrent's rule); deleteTags removes it.
    assert.deepEqual(await q2.get('torrents/tags'), ['hd', 'new', 'unused']);
    assert.deepEqual(await q2.get('torrents/downloadLimit', { hashes: hash }), { [hash]: 123_000 });
    const files = await q2.get<Info[]>('torrents/files', { hash });
    assert.deepEqual(
      files.map((f) => f['priority']),
      [1, 0],
    );
    await q2.post('torrents/removeCategories', { categories: 'movies' });
    assert.equal((await infoOf(q2, hash))['category'], '');
    await q2.post('torrents/deleteTags', { tags: 'hd' });
    assert.deepEqual(await q2.get('torrents/tags'), ['new', 'unused']);
  } finally {
    await r?.close(true);
    await dir.cleanup();
  }
});

test('setLocation moves the files; delete with deleteFiles removes them', async () => {
  const r = await rig();
  try {
    const q = r.qbt;
    const hash = r.fx.metainfo.infoHashHex;
    await q.request('torrents/add', { form: torrentForm(r.fx) });
    await untilState(q, hash, ['stalledUP'], 'seeding');
    const to = join(r.root, 'moved');
    await q.post('torrents/setLocation', { hashes: hash, location: to });
    await access(join(to, r.fx.name, 'a.bin'));
    const t = await untilState(q, hash, ['stalledUP'], 'seeding after the move');
    assert.equal(t['save_path'], to);
    await q.post('torrents/delete', { hashes: hash, deleteFiles: 'true' });
    assert.deepEqual(await q.get('torrents/info'), []);
    await assert.rejects(access(join(to, r.fx.name, 'a.bin')));
  } finally {
    await r.close();
  }
});

test('preferences read the session settings; setPreferences changes what maps onto them', async () => {
  const r = await rig();
  try {
    const q = r.qbt;
    const p = await q.get<Info>('app/preferences');
    assert.equal(p['save_path'], r.fx.dir);
    assert.equal(p['dl_limit'], 0);
    assert.equal(p['max_active_downloads'], 5);
    assert.equal(p['web_ui_port'], q.port);
    assert.equal(p['lsd'], true, 'local service discovery is on by default');
    assert.equal(p['max_active_checking_torrents'], 4, "the session's active_checking");
    await q.post('app/setPreferences', {
      json: JSON.stringify({
        dl_limit: 500_000,
        max_active_downloads: 2,
        start_paused_enabled: true,
        unknown_key: 1,
      }),
    });
    const s = r.daemon.settings;
    assert.equal(s['speed-limit-down'], 500);
    assert.equal(s['speed-limit-down-enabled'], true);
    assert.equal(s['download-queue-size'], 2);
    assert.equal(s['start-added-torrents'], false);
    assert.equal((await q.get<Info>('app/preferences'))['dl_limit'], 500_000);
    const bad = await q.request('app/setPreferences', {
      method: 'POST',
      params: { json: '{"dl_limit":"x"}' },
    });
    assert.equal(bad.status, 400);
    const notJson = await q.request('app/setPreferences', { method: 'POST', params: { json: '{' } });
    assert.equal(notJson.status, 400);
    const ti = await q.get<Info>('transfer/info');
    assert.equal(ti['dl_rate_limit'], 500_000);
    assert.equal(ti['connection_status'], 'connected');
  } finally {
    await r.close();
  }
});

test('sync/maindata: full update on rid 0 and unknown rids, then only what changed, torrents_removed', async () => {
  const r = await rig();
  try {
    const q = r.qbt;
    await q.login();
    const hash = r.fx.metainfo.infoHashHex;
    await q.request('torrents/add', { form: torrentForm(r.fx, { category: 'tv' }) });
    await untilState(q, hash, ['stalledUP'], 'seeding');
    const full = await q.get<Info>('sync/maindata', { rid: '0' });
    assert.equal(full['full_update'], true);
    const rid = full['rid'] as number;
    assert.ok(rid > 0);
    const torrents = full['torrents'] as Record<string, Info>;
    assert.equal(torrents[hash]!['name'], r.fx.name);
    assert.equal(torrents[hash]!['hash'], undefined, 'keyed by hash, without the field');
    assert.deepEqual(full['categories'], { tv: { name: 'tv', savePath: '' } });
    assert.equal(typeof (full['server_state'] as Info)['dl_info_speed'], 'number');

    const same = await q.get<Info>('sync/maindata', { rid: String(rid) });
    assert.equal(same['full_update'], undefined);
    assert.equal(same['torrents'], undefined, `nothing changed: ${JSON.stringify(same)}`);

    await q.post('torrents/pause', { hashes: hash });
    await q.post('torrents/createTags', { tags: 'new' });
    await q.post('torrents/createCategory', { category: 'films' });
    const diff = await q.get<Info>('sync/maindata', { rid: String(same['rid']) });
    assert.deepEqual((diff['torrents'] as Record<string, Info>)[hash], { state: 'pausedUP' });
    assert.deepEqual(diff['tags'], ['new']);
    assert.deepEqual(diff['categories'], { films: { name: 'films', savePath: '' } });

    const stale = await q.get<Info>('sync/maindata', { rid: '99999' });
    assert.equal(stale['full_update'], true, 'an unknown rid gets everything');

    await q.post('torrents/delete', { hashes: hash });
    await q.post('torrents/removeCategories', { categories: 'films' });
    const gone = await q.get<Info>('sync/maindata', { rid: String(stale['rid']) });
    assert.deepEqual(gone['torrents_removed'], [hash]);
    assert.deepEqual(gone['categories_removed'], ['films']);
  } finally {
    await r.close();
  }
});

test('skip_checking trusts the data without hashing it; without it an empty directory has nothing', async () => {
  const r = await rig();
  try {
    const q = r.qbt;
    const hash = r.fx.metainfo.infoHashHex;
    const empty = join(r.root, 'empty');
    await q.request('torrents/add', { form: torrentForm(r.fx, { savepath: empty, paused: 'true' }) });
    await until(() => r.daemon.byHash(hash)?.torrent?.state === 'paused', 10_000, 'checked');
    assert.equal((await infoOf(q, hash))['progress'], 0);
    await q.post('torrents/delete', { hashes: hash });
    await q.request('torrents/add', {
      form: torrentForm(r.fx, { savepath: empty, paused: 'true', skip_checking: 'true' }),
    });
    await until(() => r.daemon.byHash(hash)?.torrent?.state === 'paused', 10_000, 'added');
    assert.equal((await infoOf(q, hash))['progress'], 1);
  } finally {
    await r.close();
  }
});

test('sync/torrentPeers lists a connected peer with its address, client, flags and progress', async () => {
  const r = await rig();
  const leech = new Client({ host: '127.0.0.1', port: 0, dht: false, trackers: false, pex: false });
  try {
    const q = r.qbt;
    const hash = r.fx.metainfo.infoHashHex;
    await q.request('torrents/add', { form: torrentForm(r.fx) });
    await untilState(q, hash, ['stalledUP', 'uploading'], 'seeding');
    await leech.listen();
    const t = await leech.addTorrent(r.fx.torrent, { savePath: join(r.root, 'leech') });
    t.addPeer('127.0.0.1', r.daemon.client.port);
    await until(() => t.peers.some((p) => p.state === 'connected'), 10_000, 'connected');
    let peers: Record<string, Info> = {};
    const t0 = Date.now();
    while (Object.keys(peers).length === 0 && Date.now() - t0 < 10_000) {
      peers = (await q.get<Info>('sync/torrentPeers', { hash }))['peers'] as Record<string, Info>;
      await new Promise((res) => setTimeout(res, 50));
    }
    const [key, peer] = Object.entries(peers)[0]!;
    assert.equal(key, `127.0.0.1:${peer['port'] as number}`);
    assert.equal(peer['ip'], '127.0.0.1');
    assert.ok((peer['client'] as string).length > 0, 'the client named from its peer id');
    assert.match(peer['flags'] as string, /I/, 'the leech dialled us');
    assert.equal(typeof peer['progress'], 'number');
    assert.equal((await q.request('sync/torrentPeers')).status, 400);
  } finally {
    await leech.close();
    await r.close();
  }
});
