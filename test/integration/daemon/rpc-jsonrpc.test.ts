/**
 * The JSON-RPC 2.0 form (Transmission 4.1) over HTTP on the daemon's /transmission/rpc: the
 * same guards as the legacy form, snake_case results, error objects with Transmission's codes,
 * batches, and notifications answered with 204 and no body.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Daemon } from '../../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../../src/rpc/transmission/server.js';
import { torrentFieldNames } from '../../../src/rpc/transmission/torrent-fields.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';
import { rawPost, type RawReply } from '../../helpers/rpc-client.js';

interface Reply {
  jsonrpc: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: { error_string?: string } };
  id: unknown;
}

async function withDaemon(
  fn: (post: (body: unknown) => Promise<RawReply>, d: Daemon, torrent: Buffer) => Promise<void>,
): Promise<void> {
  const dir = await tempDir('nbt-jsonrpc-');
  const fx = await makeFixture(dir.path, {
    files: [
      { path: 'a.bin', size: 100_000 },
      { path: 'b.bin', size: 3_000 },
    ],
  });
  const daemon = await Daemon.open({
    configDir: join(dir.path, 'cfg'),
    downloadDir: fx.dir,
    port: 0,
    client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  const rpc = new TransmissionRpcServer(daemon, { port: 0, maxBodyBytes: 1024 * 1024 });
  const port = await rpc.listen();
  let sid = '';
  const post = async (body: unknown): Promise<RawReply> => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    let r = await rawPost(port, text, { 'x-transmission-session-id': sid });
    if (r.status === 409) {
      sid = String(r.headers['x-transmission-session-id']);
      r = await rawPost(port, text, { 'x-transmission-session-id': sid });
    }
    return r;
  };
  try {
    await fn(post, daemon, fx.torrent);
  } finally {
    await rpc.close();
    await daemon.close();
    await dir.cleanup();
  }
}

function parse(r: RawReply): Reply {
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['content-type']), /application\/json/);
  return JSON.parse(r.text) as Reply;
}

function allSnake(v: unknown, path = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => allSnake(x, `${path}[${i}]`));
  if (!v || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => [
    ...(/^[a-z0-9_]+$/.test(k) ? [] : [`${path}.${k}`]),
    ...allSnake(x, `${path}.${k}`),
  ]);
}

test('JSON-RPC over HTTP: add, get (snake_case), set, errors with codes, the 409 exchange still applies', async () => {
  await withDaemon(async (post, d, torrent) => {
    // Without the session id: 409, as for the legacy form.
    const added = parse(
      await post({
        jsonrpc: '2.0',
        method: 'torrent_add',
        params: { metainfo: torrent.toString('base64'), labels: ['tv'] },
        id: 1,
      }),
    );
    assert.equal(added.jsonrpc, '2.0');
    assert.equal(added.id, 1);
    const t = added.result!['torrent_added'] as { id: number; hash_string: string };
    assert.equal(typeof t.id, 'number');
    assert.match(t.hash_string, /^[0-9a-f]{40}$/);
    await until(() => d.byId(t.id)?.torrent?.state === 'seeding', 10_000, 'seeding');

    const got = parse(
      await post({
        jsonrpc: '2.0',
        method: 'torrent_get',
        params: {
          ids: [t.id],
          fields: ['id', 'hash_string', 'download_dir', 'left_until_done', 'status', 'labels', 'wanted'],
        },
        id: 'q',
      }),
    );
    assert.equal(got.id, 'q');
    const tr = (got.result!['torrents'] as Record<string, unknown>[])[0]!;
    assert.deepEqual(Object.keys(tr).sort(), [
      'download_dir',
      'hash_string',
      'id',
      'labels',
      'left_until_done',
      'status',
      'wanted',
    ]);
    assert.equal(tr['status'], 6);
    assert.equal(tr['left_until_done'], 0);
    assert.deepEqual(tr['labels'], ['tv']);
    assert.deepEqual(tr['wanted'], [true, true]);

    // Every field, and the whole session, come back in snake_case.
    const every = parse(
      await post({ jsonrpc: '2.0', method: 'torrent_get', params: { fields: torrentFieldNames }, id: 2 }),
    );
    assert.deepEqual(allSnake(every.result), []);
    const session = parse(await post({ jsonrpc: '2.0', method: 'session_get', id: 3 }));
    assert.deepEqual(allSnake(session.result), []);
    assert.equal(typeof session.result!['download_dir'], 'string');
    assert.equal(typeof session.result!['rpc_version'], 'number');
    assert.deepEqual(
      allSnake(parse(await post({ jsonrpc: '2.0', method: 'session_stats', id: 4 })).result),
      [],
    );

    const set = parse(
      await post({
        jsonrpc: '2.0',
        method: 'torrent_set',
        params: { ids: [t.id], upload_limit: 7, upload_limited: true },
        id: 5,
      }),
    );
    assert.deepEqual(set.result, {});
    assert.equal(d.byId(t.id)!.torrent!.rateLimits.upload, 7_000);
    const sset = parse(
      await post({
        jsonrpc: '2.0',
        method: 'session_set',
        params: { speed_limit_down: 11, encryption: 'allowed' },
        id: 6,
      }),
    );
    assert.ok(sset.result);
    assert.equal(d.settings['speed-limit-down'], 11);
    assert.equal(d.settings.encryption, 'tolerated');
    const again = parse(
      await post({
        jsonrpc: '2.0',
        method: 'session_get',
        params: { fields: ['encryption', 'speed_limit_down'] },
        id: 7,
      }),
    );
    assert.deepEqual(again.result, { encryption: 'allowed', speed_limit_down: 11 });

    // Errors: JSON-RPC error objects with Transmission 4.1's codes, never a crash.
    const err = async (body: unknown, code: number): Promise<Reply> => {
      const r = parse(await post(body));
      assert.equal(r.result, undefined, JSON.stringify(r));
      assert.equal(r.error!.code, code, JSON.stringify(r));
      assert.equal(typeof r.error!.message, 'string');
      return r;
    };
    await err({ jsonrpc: '2.0', method: 'no_such_method', id: 8 }, -32601);
    await err({ jsonrpc: '2.0', method: 'torrent-get', params: { fields: ['id'] }, id: 8 }, -32601);
    const badField = await err({ jsonrpc: '2.0', method: 'torrent_get', params: {}, id: 9 }, -32602);
    assert.equal(badField.id, 9);
    assert.equal(badField.error!.data?.error_string, 'no fields specified');
    await err(
      { jsonrpc: '2.0', method: 'torrent_add', params: { metainfo: 'bm90IGEgdG9ycmVudA==' }, id: 10 },
      9,
    );
    await err(
      { jsonrpc: '2.0', method: 'torrent_set', params: { ids: [t.id], files_wanted: [99] }, id: 11 },
      6,
    );
    await err({ jsonrpc: '2.0', method: 'free_space', params: { path: '/no/such/dir' }, id: 12 }, 5);
    await err({ jsonrpc: '1.0', method: 'session_get', id: 13 }, -32600);
    await err({ jsonrpc: '2.0', method: 'session_get', id: { nested: true } }, -32600);
    const parseErr = await err('{"jsonrpc":"2.0","method":', -32700);
    assert.equal(parseErr.id, null);
    // The legacy form on the same endpoint is unchanged.
    const legacy = JSON.parse(
      (await post({ method: 'session-get', arguments: { fields: ['rpc-version'] }, tag: 5 })).text,
    ) as {
      result: string;
      tag: number;
      arguments: Record<string, unknown>;
    };
    assert.equal(legacy.result, 'success');
    assert.equal(legacy.tag, 5);
    assert.equal(typeof legacy.arguments['rpc-version'], 'number');
    assert.equal((await post('{not json')).status, 400);
  });
});

test('JSON-RPC batches run in order; notifications get no body (204), and read-only ones do not run', async () => {
  await withDaemon(async (post, d, torrent) => {
    const add = parse(
      await post({
        jsonrpc: '2.0',
        method: 'torrent_add',
        params: { metainfo: torrent.toString('base64') },
        id: 1,
      }),
    );
    const id = (add.result!['torrent_added'] as { id: number }).id;
    await until(() => d.byId(id)?.torrent?.state === 'seeding', 10_000, 'seeding');

    // A notification with a side effect runs, and nothing is answered.
    const note = await post({ jsonrpc: '2.0', method: 'torrent_stop', params: { ids: [id] } });
    assert.equal(note.status, 204);
    assert.equal(note.text, '');
    assert.equal(d.byId(id)!.record.stopped, true);
    const quiet = await post({ jsonrpc: '2.0', method: 'session_get' });
    assert.equal(quiet.status, 204);

    const r = await post([
      { jsonrpc: '2.0', method: 'torrent_start', params: { ids: [id] } },
      { jsonrpc: '2.0', method: 'torrent_get', params: { ids: [id], fields: ['status'] }, id: 'after' },
      { jsonrpc: '2.0', method: 'nope', id: 2 },
      5,
      { jsonrpc: '2.0', method: 'session_stats', id: 3 },
    ]);
    assert.equal(r.status, 200);
    const replies = JSON.parse(r.text) as Reply[];
    assert.deepEqual(
      replies.map((x) => x.id),
      ['after', 2, null, 3],
    );
    const status = (replies[0]!.result!['torrents'] as { status: number }[])[0]!.status;
    assert.notEqual(status, 0, 'the notification before it started the torrent');
    assert.equal(replies[1]!.error!.code, -32601);
    assert.equal(replies[2]!.error!.code, -32600);
    assert.equal(typeof replies[3]!.result!['torrent_count'], 'number');

    // A batch of notifications only: 204.
    const none = await post([{ jsonrpc: '2.0', method: 'torrent_stop', params: { ids: [id] } }]);
    assert.equal(none.status, 204);
    const empty = parse(await post([]));
    assert.equal(empty.error!.code, -32600);
  });
});
