/**
 * The same qBittorrent Web API requests against a real qbittorrent-nox (Debian's 4.5) and our
 * daemon: the answers have the same keys and JSON types (torrents/info, properties, files,
 * trackers, pieceStates, transfer/info, sync/maindata, categories, tags; app/preferences for the
 * keys we report), and the values the tools read agree for the same torrent in the same state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../src/rpc/transmission/server.js';
import { makeFixture, type Fixture } from '../unit/client/fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { QbtClient } from '../helpers/qbt-client.js';
import { QBITTORRENT_NOX, QbittorrentNox } from '../helpers/qbittorrent-nox.js';

const MAGNET_HASH = 'ab'.repeat(20);
const MAGNET = `magnet:?xt=urn:btih:${MAGNET_HASH}&dn=wanted`;

type Json = Record<string, unknown>;

/** Keys and JSON types, recursively; arrays by their elements. */
function shape(v: unknown): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.map(shape);
  if (typeof v === 'object') {
    const o = v as Json;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, shape(o[k])]),
    );
  }
  return typeof v;
}

function pick(o: Json, keys: string[]): Json {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

interface Answers {
  version: string;
  webapi: string;
  info: Json[];
  properties: Json;
  magnetProperties: Json;
  files: Json[];
  trackers: Json[];
  pieces: number[];
  transfer: Json;
  maindata: Json;
  categories: Json;
  tags: string[];
  preferences: Json;
}

/** The management script, the same for both servers. */
async function script(q: QbtClient, fx: Fixture): Promise<Answers> {
  assert.equal(await q.login('admin', 'adminadmin'), 'Ok.');
  const hash = fx.metainfo.infoHashHex;
  assert.equal(await q.post('torrents/createCategory', { category: 'tv', savePath: '' }), '');
  const form = new FormData();
  form.append('torrents', new Blob([fx.torrent]), 'x.torrent');
  form.append('savepath', fx.dir);
  form.append('category', 'tv');
  form.append('tags', 'a,b');
  assert.equal((await q.request('torrents/add', { form })).text, 'Ok.');
  assert.equal(await q.post('torrents/add', { urls: MAGNET, paused: 'true' }), 'Ok.');
  const t0 = Date.now();
  for (;;) {
    const list = await q.get<Json[]>('torrents/info', { hashes: hash });
    if (['stalledUP', 'uploading'].includes(list[0]?.['state'] as string)) break;
    if (Date.now() - t0 > 20_000) throw new Error(`not seeding: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    version: (await q.request('app/version')).text,
    webapi: (await q.request('app/webapiVersion')).text,
    info: await q.get<Json[]>('torrents/info', { sort: 'name' }),
    properties: await q.get<Json>('torrents/properties', { hash }),
    magnetProperties: await q.get<Json>('torrents/properties', { hash: MAGNET_HASH }),
    files: await q.get<Json[]>('torrents/files', { hash }),
    trackers: await q.get<Json[]>('torrents/trackers', { hash }),
    pieces: await q.get<number[]>('torrents/pieceStates', { hash }),
    transfer: await q.get<Json>('transfer/info'),
    maindata: await q.get<Json>('sync/maindata', { rid: '0' }),
    categories: await q.get<Json>('torrents/categories'),
    tags: await q.get<string[]>('torrents/tags'),
    preferences: await q.get<Json>('app/preferences'),
  };
}

const hasNox = await access(QBITTORRENT_NOX).then(
  () => true,
  () => false,
);

test(
  'same keys, JSON types and tool-read values as qbittorrent-nox',
  { skip: hasNox ? false : 'apt-get install qbittorrent-nox', timeout: 90_000 },
  async () => {
    const dir = await tempDir('nbt-qbt-parity-');
    const fx = await makeFixture(dir.path, {
      files: [
        { path: 'a.bin', size: 300_000 },
        { path: 'b.bin', size: 1_000 },
      ],
    });
    // One default save path for both: the magnet lands there.
    const nox = await QbittorrentNox.start(join(dir.path, 'nox'), join(dir.path, 'downloads'));
    const daemon = await Daemon.open({
      configDir: join(dir.path, 'cfg'),
      downloadDir: join(dir.path, 'downloads'),
      port: 0,
      client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
    });
    const server = new TransmissionRpcServer(daemon, { port: 0 });
    try {
      const theirs = await script(new QbtClient(nox.port), fx);
      const ours = await script(new QbtClient(await server.listen()), fx);

      assert.match(theirs.version, /^v4\.5\./);
      assert.equal(ours.version, 'v4.5.2');
      assert.equal(ours.webapi.split('.')[0], theirs.webapi.split('.')[0]);

      assert.deepEqual(shape(ours.info), shape(theirs.info), 'torrents/info');
      const infoKeys = [
        'name',
        'hash',
        'size',
        'total_size',
        'progress',
        'amount_left',
        'completed',
        'category',
        'tags',
        'save_path',
        'content_path',
        'state',
        'eta',
        'priority',
        'ratio',
        'ratio_limit',
        'seeding_time_limit',
        'max_ratio',
        'max_seeding_time',
        'dl_limit',
        'up_limit',
        'num_seeds',
        'num_leechs',
        'num_complete',
        'num_incomplete',
        'seq_dl',
        'f_l_piece_prio',
        'force_start',
        'super_seeding',
        'auto_tmm',
        'infohash_v1',
        'infohash_v2',
        'download_path',
        'magnet_uri',
      ];
      assert.deepEqual(
        ours.info.map((t) => pick(t, infoKeys)),
        theirs.info.map((t) => pick(t, infoKeys)),
      );

      assert.deepEqual(shape(ours.properties), shape(theirs.properties), 'properties');
      const propKeys = [
        'save_path',
        'total_size',
        'piece_size',
        'pieces_num',
        'pieces_have',
        'is_private',
        'comment',
        'created_by',
        'creation_date',
        'dl_limit',
        'up_limit',
        'eta',
        'hash',
        'name',
        'share_ratio',
      ];
      assert.deepEqual(pick(ours.properties, propKeys), pick(theirs.properties, propKeys));
      assert.deepEqual(shape(ours.magnetProperties), shape(theirs.magnetProperties), 'magnet properties');
      const magnetKeys = [
        'total_size',
        'piece_size',
        'pieces_num',
        'completion_date',
        'creation_date',
        'name',
      ];
      assert.deepEqual(pick(ours.magnetProperties, magnetKeys), pick(theirs.magnetProperties, magnetKeys));

      assert.deepEqual(shape(ours.files), shape(theirs.files), 'files');
      const fileKeys = ['index', 'name', 'size', 'priority', 'progress', 'piece_range', 'is_seed'];
      assert.deepEqual(
        ours.files.map((f) => pick(f, fileKeys)),
        theirs.files.map((f) => pick(f, fileKeys)),
      );
      assert.deepEqual(shape(ours.trackers), shape(theirs.trackers), 'trackers');
      assert.deepEqual(
        ours.trackers.map((t) => [t['url'], t['tier']]),
        theirs.trackers.map((t) => [t['url'], t['tier']]),
      );
      assert.deepEqual(ours.pieces, theirs.pieces, 'pieceStates');
      assert.deepEqual(shape(ours.transfer), shape(theirs.transfer), 'transfer/info');

      const md = (a: Answers): Json => ({ ...a.maindata, rid: 0 });
      assert.deepEqual(shape(md(ours)), shape(md(theirs)), 'sync/maindata');
      assert.deepEqual(ours.maindata['categories'], theirs.maindata['categories']);
      // qBittorrent lists tags in its hash set's order.
      const sorted = (v: unknown): string[] => [...(v as string[])].sort();
      assert.deepEqual(sorted(ours.maindata['tags']), sorted(theirs.maindata['tags']));
      assert.deepEqual(ours.categories, theirs.categories);
      assert.deepEqual(sorted(ours.tags), sorted(theirs.tags));

      for (const [k, v] of Object.entries(ours.preferences)) {
        assert.ok(k in theirs.preferences, `preferences: qBittorrent has no ${k}`);
        assert.deepEqual(shape(v), shape(theirs.preferences[k]), `preferences.${k}`);
      }
    } finally {
      await server.close();
      await daemon.close();
      await nox.stop();
      await dir.cleanup();
    }
  },
);
