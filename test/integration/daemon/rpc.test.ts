/**
 * The daemon and its Transmission RPC in one process: the HTTP guards (session id, host
 * whitelist, auth, body limits), the methods' results and error results, and the session
 * remembered across a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon } from '../../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../../src/rpc/transmission/server.js';
import { makeFixture, until, type Fixture } from '../../unit/client/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { rawPost, RpcClient } from '../../helpers/rpc-client.js';

interface Rig {
  daemon: Daemon;
  rpc: TransmissionRpcServer;
  client: RpcClient;
  configDir: string;
  fx: Fixture;
  close(): Promise<void>;
}

async function rig(
  o: { username?: string; password?: string; configDir?: string; fx?: Fixture } = {},
): Promise<Rig> {
  const dir = await tempDir('nbt-daemon-');
  const fx =
    o.fx ??
    (await makeFixture(dir.path, {
      files: [
        { path: 'a.bin', size: 200_000 },
        { path: 'b.bin', size: 50_000 },
      ],
    }));
  const configDir = o.configDir ?? join(dir.path, 'cfg');
  const daemon = await Daemon.open({
    configDir,
    downloadDir: fx.dir,
    port: 0,
    client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  const rpc = new TransmissionRpcServer(daemon, {
    port: 0,
    ...(o.username ? { username: o.username, password: o.password! } : {}),
    maxBodyBytes: 1024 * 1024,
  });
  const port = await rpc.listen();
  const client = new RpcClient(port, '127.0.0.1', o.username ? `${o.username}:${o.password}` : undefined);
  return {
    daemon,
    rpc,
    client,
    configDir,
    fx,
    async close() {
      await rpc.close();
      await daemon.close();
      if (!o.configDir) await dir.cleanup();
    },
  };
}

async function statusOf(c: RpcClient, id: number): Promise<number> {
  const a = await c.ok('torrent-get', { ids: [id], fields: ['status'] });
  return (a['torrents'] as { status: number }[])[0]!.status;
}

test('the session id exchange: 409 with the id, then served; a wrong id is refused again', async () => {
  const r = await rig();
  try {
    const body = JSON.stringify({ method: 'session-get' });
    const first = await rawPost(r.rpc.port, body);
    assert.equal(first.status, 409);
    const sid = String(first.headers['x-transmission-session-id']);
    assert.ok(sid.length >= 16);
    const ok = await rawPost(r.rpc.port, body, { 'x-transmission-session-id': sid });
    assert.equal(ok.status, 200);
    assert.equal((JSON.parse(ok.text) as { result: string }).result, 'success');
    assert.equal((await rawPost(r.rpc.port, body, { 'x-transmission-session-id': 'nope' })).status, 409);
  } finally {
    await r.close();
  }
});

test('guards: a foreign Host name (DNS rebinding), bodies over the limit, malformed JSON, other paths', async () => {
  const r = await rig();
  try {
    const first = await rawPost(r.rpc.port, '{}');
    const sid = { 'x-transmission-session-id': String(first.headers['x-transmission-session-id']) };
    const body = JSON.stringify({ method: 'session-get' });
    assert.equal((await rawPost(r.rpc.port, body, { ...sid, host: 'evil.example.com' })).status, 421);
    assert.equal((await rawPost(r.rpc.port, body, { ...sid, host: 'localhost:9091' })).status, 200);
    assert.equal((await rawPost(r.rpc.port, body, { ...sid, host: '127.0.0.1:9091' })).status, 200);
    const huge = Buffer.alloc(2 * 1024 * 1024, 0x20);
    assert.equal((await rawPost(r.rpc.port, huge, sid).catch(() => ({ status: 413 }))).status, 413);
    assert.equal((await rawPost(r.rpc.port, '{"method": ', sid)).status, 400);
    assert.equal((await rawPost(r.rpc.port, body, sid, { path: '/other' })).status, 404);
    // Still serving after all that.
    assert.equal((await r.client.call('session-get')).result, 'success');
  } finally {
    await r.close();
  }
});

test('with credentials every request needs basic auth', async () => {
  const r = await rig({ username: 'u', password: 'secret' });
  try {
    const body = JSON.stringify({ method: 'session-get' });
    assert.equal((await rawPost(r.rpc.port, body)).status, 401);
    const bad = { authorization: `Basic ${Buffer.from('u:wrong').toString('base64')}` };
    assert.equal((await rawPost(r.rpc.port, body, bad)).status, 401);
    assert.equal((await r.client.call('session-get')).result, 'success');
  } finally {
    await r.close();
  }
});

test('unknown methods and bad arguments get error results, never a crash; tags come back', async () => {
  const r = await rig();
  try {
    const c = r.client;
    assert.equal((await c.call('no-such-method')).result, 'method name not recognized');
    assert.equal((await c.call('')).result, 'no method name');
    assert.equal((await c.call('torrent-get', {})).result, 'no fields specified');
    assert.notEqual((await c.call('torrent-add', { metainfo: 'bm90IGEgdG9ycmVudA==' })).result, 'success');
    assert.notEqual((await c.call('torrent-add', {})).result, 'success');
    assert.notEqual((await c.call('torrent-set', { ids: [1], downloadLimit: 'fast' })).result, 'success');
    assert.notEqual((await c.call('free-space', { path: '/no/such/dir' })).result, 'success');
    assert.notEqual((await c.call('session-set', { 'speed-limit-down': -5 })).result, 'success');
    assert.equal((await c.call('session-get', {}, 42)).tag, 42);
    assert.equal((await c.call('session-stats')).result, 'success');
  } finally {
    await r.close();
  }
});

test('add (base64 metainfo), status numbers, ids by number and hash, stop/start, verify, duplicate, remove with data', async () => {
  const r = await rig();
  try {
    const c = r.client;
    const added = await c.ok('torrent-add', { metainfo: r.fx.torrent.toString('base64') });
    const t = added['torrent-added'] as { id: number; hashString: string; name: string };
    assert.equal(t.hashString, r.fx.metainfo.infoHashHex);
    assert.equal(t.name, r.fx.name);
    // The data is there: checked (2), then seeding (6).
    await until(() => r.daemon.byId(t.id)?.torrent?.state === 'seeding', 10_000, 'seeding');
    assert.equal(await statusOf(c, t.id), 6);
    const dup = await c.ok('torrent-add', { metainfo: r.fx.torrent.toString('base64') });
    assert.equal((dup['torrent-duplicate'] as { id: number }).id, t.id);

    const byHash = await c.ok('torrent-get', {
      ids: [t.hashString],
      fields: ['id', 'totalSize', 'percentDone', 'leftUntilDone', 'files', 'fileStats'],
    });
    const tr = (byHash['torrents'] as Record<string, unknown>[])[0]!;
    assert.equal(tr['id'], t.id);
    assert.equal(tr['totalSize'], 250_000);
    assert.equal(tr['percentDone'], 1);
    assert.equal(tr['leftUntilDone'], 0);
    assert.deepEqual(
      (tr['files'] as { bytesCompleted: number; length: number }[]).map((f) => [f.bytesCompleted, f.length]),
      [
        [200_000, 200_000],
        [50_000, 50_000],
      ],
    );

    await c.ok('torrent-stop', { ids: [t.id] });
    assert.equal(await statusOf(c, t.id), 0);
    await c.ok('torrent-start', { ids: [t.id] });
    assert.equal(await statusOf(c, t.id), 6);
    await c.ok('torrent-verify', { ids: [t.id] });
    await until(() => r.daemon.byId(t.id)?.torrent?.state === 'seeding', 10_000, 'seeding after verify');

    // Unwanted file: sizeWhenDone drops to the wanted one.
    await c.ok('torrent-set', {
      ids: [t.id],
      'files-unwanted': [1],
      labels: ['tv'],
      downloadLimit: 50,
      downloadLimited: true,
      uploadLimit: 20,
      bandwidthPriority: 1,
      honorsSessionLimits: false,
      sequentialDownload: true,
    });
    // The engine's torrent follows: limits in bytes/s (an upload limit without uploadLimited is
    // remembered, not applied), priority, session limits, sequential picking.
    const engine = r.daemon.byId(t.id)!.torrent!;
    assert.deepEqual(engine.rateLimits, {
      download: 50_000,
      upload: 0,
      priority: 'high',
      honorsSessionLimits: false,
    });
    assert.equal(engine.sequential, true);
    await c.ok('torrent-set', { ids: [t.id], uploadLimited: true, bandwidthPriority: -1 });
    assert.equal(engine.rateLimits.upload, 20_000);
    assert.equal(engine.rateLimits.priority, 'low');
    const after = (
      await c.ok('torrent-get', {
        ids: [t.id],
        fields: ['sizeWhenDone', 'wanted', 'labels', 'downloadLimit', 'downloadLimited'],
      })
    )['torrents'] as Record<string, unknown>[];
    assert.deepEqual(after[0], {
      sizeWhenDone: 200_000,
      wanted: [1, 0],
      labels: ['tv'],
      downloadLimit: 50,
      downloadLimited: true,
    });

    const table = await c.ok('torrent-get', { fields: ['id', 'name'], format: 'table' });
    assert.deepEqual(table['torrents'], [
      ['id', 'name'],
      [t.id, r.fx.name],
    ]);

    await c.ok('torrent-remove', { ids: [t.id], 'delete-local-data': true });
    assert.deepEqual((await c.ok('torrent-get', { fields: ['id'] }))['torrents'], []);
    await assert.rejects(access(join(r.fx.dir, r.fx.name, 'a.bin')));
  } finally {
    await r.close();
  }
});

test('the session is remembered: a restart brings back each torrent with its id, state and options', async () => {
  const dir = await tempDir('nbt-daemon-restart-');
  const configDir = join(dir.path, 'cfg');
  const fx = await makeFixture(dir.path, { files: [{ path: 'a.bin', size: 100_000 }] });
  try {
    let r = await rig({ configDir, fx });
    const t = (await r.client.ok('torrent-add', { filename: fx.torrentPath, paused: true, labels: ['x'] }))[
      'torrent-added'
    ] as { id: number };
    await r.client.ok('session-set', { 'speed-limit-down': 77, 'speed-limit-down-enabled': true });
    await r.close();
    const saved = JSON.parse(await readFile(join(configDir, 'session.json'), 'utf8')) as {
      torrents: { id: number }[];
    };
    assert.deepEqual(
      saved.torrents.map((x) => x.id),
      [t.id],
    );

    r = await rig({ configDir, fx });
    try {
      const got = (
        await r.client.ok('torrent-get', { fields: ['id', 'hashString', 'status', 'labels', 'downloadDir'] })
      )['torrents'] as Record<string, unknown>[];
      assert.deepEqual(got, [
        { id: t.id, hashString: fx.metainfo.infoHashHex, status: 0, labels: ['x'], downloadDir: fx.dir },
      ]);
      const s = await r.client.ok('session-get', {
        fields: ['speed-limit-down', 'speed-limit-down-enabled'],
      });
      assert.deepEqual(s, { 'speed-limit-down': 77, 'speed-limit-down-enabled': true });
      // lpd-enabled reports the engine's local service discovery (on by default).
      assert.deepEqual(await r.client.ok('session-get', { fields: ['lpd-enabled', 'dht-enabled'] }), {
        'lpd-enabled': true,
        'dht-enabled': false,
      });
      assert.equal(r.daemon.client.settings().download_rate_limit, 77_000);
      // A new torrent gets a new id, never a reused one.
      await r.client.ok('torrent-remove', { ids: [t.id] });
      const again = (await r.client.ok('torrent-add', { filename: fx.torrentPath }))['torrent-added'] as {
        id: number;
      };
      assert.ok(again.id > t.id);
    } finally {
      await r.close();
    }
  } finally {
    await dir.cleanup();
  }
});

test('queue-move-* reorder, free-space and port-test answer locally', async () => {
  const dir = await tempDir('nbt-daemon-queue-');
  const fxs = [];
  for (const name of ['q1', 'q2', 'q3'])
    fxs.push(
      await makeFixture(dir.path, { name, files: [{ path: 'f', size: 1000 }], seed: name.charCodeAt(1) }),
    );
  const r = await rig({ fx: fxs[0]! });
  try {
    const ids: number[] = [];
    for (const fx of fxs)
      ids.push(
        ((await r.client.ok('torrent-add', { filename: fx.torrentPath }))['torrent-added'] as { id: number })
          .id,
      );
    const order = async (): Promise<number[]> =>
      (
        (await r.client.ok('torrent-get', { fields: ['id', 'queuePosition'] }))['torrents'] as {
          id: number;
          queuePosition: number;
        }[]
      )
        .sort((a, b) => a.queuePosition - b.queuePosition)
        .map((t) => t.id);
    assert.deepEqual(await order(), ids);
    await r.client.ok('queue-move-top', { ids: [ids[2]] });
    assert.deepEqual(await order(), [ids[2], ids[0], ids[1]]);
    await r.client.ok('queue-move-down', { ids: [ids[2]] });
    assert.deepEqual(await order(), [ids[0], ids[2], ids[1]]);
    await r.client.ok('queue-move-bottom', { ids: [ids[0]] });
    assert.deepEqual(await order(), [ids[2], ids[1], ids[0]]);
    await r.client.ok('queue-move-up', { ids: [ids[0]] });
    assert.deepEqual(await order(), [ids[2], ids[0], ids[1]]);
    const fs = await r.client.ok('free-space', { path: dir.path });
    assert.equal(typeof fs['size-bytes'], 'number');
    assert.ok((fs['size-bytes'] as number) > 0);
    assert.deepEqual(await r.client.ok('port-test'), { 'port-is-open': true });
  } finally {
    await r.close();
    await dir.cleanup();
  }
});

test('blocklist-update fetches blocklist-url (gzip DAT), applies it to the IP filter, survives a restart', async () => {
  const { createServer } = await import('node:http');
  const { gzipSync } = await import('node:zlib');
  const list = gzipSync(
    Buffer.from('127.000.000.002 - 127.000.000.009 , 000 , test\nsomething: 10.9.0.0-10.9.255.255\n'),
  );
  let hits = 0;
  const http = createServer((req, res) => {
    hits++;
    if (req.url === '/list.gz') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(list);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as { port: number }).port;
  const dir = await tempDir('nbt-daemon-blocklist-');
  let r = await rig({ configDir: join(dir.path, 'cfg') });
  try {
    const c = r.client;
    await c.ok('session-set', {
      'blocklist-url': `http://127.0.0.1:${port}/missing`,
      'blocklist-enabled': true,
    });
    assert.notEqual((await c.call('blocklist-update')).result, 'success', 'a 404 is an error result');
    await c.ok('session-set', { 'blocklist-url': `http://127.0.0.1:${port}/list.gz` });
    assert.deepEqual(await c.ok('blocklist-update'), { 'blocklist-size': 2 });
    const s = await c.ok('session-get');
    assert.equal(s['blocklist-size'], 2);
    assert.equal(s['blocklist-enabled'], true);
    assert.equal(r.daemon.client.ipFilter.allows('127.0.0.5'), false);
    assert.equal(r.daemon.client.ipFilter.allows('10.9.3.4'), false);
    assert.equal(r.daemon.client.ipFilter.allows('127.0.0.1'), true);
    // Disabled: the filter is empty; enabled again: the saved list comes back without a fetch.
    await c.ok('session-set', { 'blocklist-enabled': false });
    assert.equal(r.daemon.client.ipFilter.allows('127.0.0.5'), true);
    await r.close();
    r = await rig({ configDir: join(dir.path, 'cfg') });
    assert.equal(r.daemon.client.ipFilter.allows('127.0.0.5'), true, 'still disabled after the restart');
    const before = hits;
    await r.client.ok('session-set', { 'blocklist-enabled': true });
    assert.equal(r.daemon.client.ipFilter.allows('127.0.0.5'), false);
    assert.equal((await r.client.ok('session-get'))['blocklist-size'], 2);
    assert.equal(hits, before, 'the saved list, not a new download');
    await r.client.ok('session-set', { 'blocklist-url': 'ftp://example.invalid/list' });
    assert.notEqual((await r.client.call('blocklist-update')).result, 'success');
  } finally {
    await r.close();
    http.close();
    await dir.cleanup();
  }
});

test('blocklist-update takes the one P2P file of a .zip; one that unpacks past the limit is an error result, the old list stays', async () => {
  const { createServer } = await import('node:http');
  const { execFileSync } = await import('node:child_process');
  const { writeFile, readFile: read } = await import('node:fs/promises');
  const dir = await tempDir('nbt-daemon-blockzip-');
  await writeFile(
    join(dir.path, 'bt.p2p'),
    'a:127.0.0.2-127.0.0.9\nb:10.9.0.0-10.9.255.255\nc:10.8.0.1-10.8.0.1\n',
  );
  execFileSync('zip', ['-q', '-X', 'list.zip', 'bt.p2p'], { cwd: dir.path });
  const list = await read(join(dir.path, 'list.zip'));
  // The same archive claiming 200 MiB inside (the blocklist limit is 128 MiB).
  const bomb = Buffer.from(list);
  bomb.writeUInt32LE(200 << 20, bomb.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 24);
  const files: Record<string, Buffer> = { '/list.zip': list, '/bomb.zip': bomb };
  const http = createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (body) res.writeHead(200, { 'content-type': 'application/zip' }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  const port = (http.address() as { port: number }).port;
  const r = await rig({ configDir: join(dir.path, 'cfg') });
  try {
    const c = r.client;
    await c.ok('session-set', {
      'blocklist-url': `http://127.0.0.1:${port}/list.zip`,
      'blocklist-enabled': true,
    });
    assert.deepEqual(await c.ok('blocklist-update'), { 'blocklist-size': 3 });
    assert.equal(r.daemon.client.ipFilter.allows('10.8.0.1'), false);
    assert.equal(r.daemon.client.ipFilter.allows('127.0.0.1'), true);
    await c.ok('session-set', { 'blocklist-url': `http://127.0.0.1:${port}/bomb.zip` });
    assert.match((await c.call('blocklist-update')).result, /over \d+ bytes/);
    assert.equal(r.daemon.client.ipFilter.allows('10.8.0.1'), false, 'the old list stays');
  } finally {
    await r.close();
    http.close();
    await dir.cleanup();
  }
});

test('incomplete-dir: a new torrent downloads there and moves to its download dir when done', async () => {
  const { Client } = await import('../../../src/client/index.js');
  const dir = await tempDir('nbt-daemon-incomplete-');
  const fx = await makeFixture(join(dir.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 400_000 },
      { path: 'sub/b.bin', size: 90_000 },
    ],
  });
  const seed = new Client({ host: '127.0.0.1' });
  const r = await rig({ configDir: join(dir.path, 'cfg'), fx });
  try {
    const seedPort = await seed.listen(0);
    // Slow enough (about 4 s) to see the data in the incomplete directory first.
    const st = await seed.addTorrent(fx.torrent, { savePath: fx.dir, rateLimits: { upload: 120_000 } });
    await until(() => st.state === 'seeding', 5000, 'seed ready');
    const final = join(dir.path, 'done');
    const partial = join(dir.path, 'partial');
    await r.client.ok('session-set', { 'incomplete-dir-enabled': true, 'incomplete-dir': partial });
    const added = await r.client.ok('torrent-add', {
      metainfo: fx.torrent.toString('base64'),
      'download-dir': final,
    });
    const id = (added['torrent-added'] as { id: number }).id;
    const e = r.daemon.byId(id)!;
    await until(() => e.torrent !== undefined, 5000, 'started');
    e.torrent!.addPeer('127.0.0.1', seedPort);
    await until(
      () => (e.torrent?.have.count ?? 0) > 0 && e.record.incompleteDir !== undefined,
      10_000,
      'downloading',
    );
    await access(join(partial, fx.name));
    const fields = await r.client.ok('torrent-get', { ids: [id], fields: ['downloadDir', 'peers'] });
    const row = (fields['torrents'] as { downloadDir: string; peers: Record<string, unknown>[] }[])[0]!;
    assert.equal(row.downloadDir, final);
    // The live peer list, in Transmission's shape.
    assert.equal(row.peers.length, 1);
    const p = row.peers[0]!;
    assert.equal(p['address'], '127.0.0.1');
    assert.equal(p['port'], seedPort);
    assert.match(String(p['clientName']), /^net-bittorrent/);
    assert.equal(p['progress'], 1, 'the seed has everything');
    assert.equal(p['isIncoming'], false);
    assert.equal(typeof p['flagStr'], 'string');
    assert.equal(typeof p['rateToClient'], 'number');
    await until(
      () => e.record.incompleteDir === undefined && e.torrent?.state === 'seeding',
      20_000,
      'moved and seeding',
    );
    for (const f of fx.files)
      assert.deepEqual(
        await readFile(join(final, fx.name, f.path)),
        await readFile(join(fx.dir, fx.name, f.path)),
      );
    await assert.rejects(access(join(partial, fx.name)));
  } finally {
    await r.close();
    await seed.close();
    await dir.cleanup();
  }
});
