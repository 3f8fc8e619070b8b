/**
 * Third-party qBittorrent Web API clients drive the daemon (credentials configured, so they log
 * in and use the SID cookie) with one management script: add by file and by magnet, list,
 * properties, files, category and tags, pause/resume, recheck, sync, delete. The npm client
 * @ctrl/qbittorrent (a devDependency) and Python's qbittorrent-api (PyPI; see the README for why
 * it may be missing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Daemon } from '../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../src/rpc/transmission/server.js';
import { makeFixture, until, type Fixture } from '../unit/client/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const MAGNET_HASH = 'ab'.repeat(20);
const MAGNET = `magnet:?xt=urn:btih:${MAGNET_HASH}&dn=wanted`;

interface Rig {
  daemon: Daemon;
  port: number;
  fx: Fixture;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const dir = await tempDir('nbt-qbt-clients-');
  const fx = await makeFixture(dir.path, {
    files: [
      { path: 'a.bin', size: 150_000 },
      { path: 'b.bin', size: 20_000 },
    ],
  });
  const daemon = await Daemon.open({
    configDir: join(dir.path, 'cfg'),
    downloadDir: join(dir.path, 'downloads'),
    port: 0,
    client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  const server = new TransmissionRpcServer(daemon, { port: 0, username: 'admin', password: 'secret' });
  const port = await server.listen();
  return {
    daemon,
    port,
    fx,
    async close() {
      await server.close();
      await daemon.close();
      await dir.cleanup();
    },
  };
}

interface CtrlTorrent {
  id: string;
  name: string;
  state: string;
  progress: number;
  label?: string;
  tags: string[];
  savePath: string;
  totalSize: number;
  raw: Record<string, unknown>;
}
interface CtrlQbt {
  login(): Promise<boolean>;
  getAppVersion(): Promise<string>;
  getApiVersion(): Promise<string>;
  createCategory(name: string, savePath?: string): Promise<boolean>;
  getCategories(): Promise<Record<string, { name: string; savePath: string }>>;
  addTorrent(t: Uint8Array, o?: Record<string, string>): Promise<boolean>;
  addMagnet(urls: string, o?: Record<string, string>): Promise<boolean>;
  listTorrents(o?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  getTorrent(hash: string): Promise<CtrlTorrent>;
  getAllData(): Promise<{ torrents: CtrlTorrent[] }>;
  torrentProperties(hash: string): Promise<Record<string, unknown>>;
  torrentFiles(hash: string): Promise<Record<string, unknown>[]>;
  torrentTrackers(hash: string): Promise<Record<string, unknown>[]>;
  setTorrentCategory(hashes: string, category: string): Promise<boolean>;
  addTorrentTags(hashes: string, tags: string): Promise<boolean>;
  getTags(): Promise<string[]>;
  pauseTorrent(hashes: string): Promise<boolean>;
  resumeTorrent(hashes: string): Promise<boolean>;
  recheckTorrent(hashes: string): Promise<boolean>;
  getSyncMainData(rid?: number): Promise<Record<string, unknown>>;
  removeTorrent(hashes: string, deleteFiles?: boolean): Promise<boolean>;
}

async function loadCtrl(): Promise<(new (o: Record<string, unknown>) => CtrlQbt) | undefined> {
  const name = '@ctrl/qbittorrent';
  try {
    return ((await import(name)) as { QBittorrent: new (o: Record<string, unknown>) => CtrlQbt }).QBittorrent;
  } catch {
    return undefined;
  }
}

const Ctrl = await loadCtrl();

test(
  '@ctrl/qbittorrent drives the daemon',
  { skip: Ctrl ? false : 'npm install (devDependency @ctrl/qbittorrent)', timeout: 60_000 },
  async () => {
    const r = await rig();
    try {
      const c = new Ctrl!({ baseUrl: `http://127.0.0.1:${r.port}/`, username: 'admin', password: 'secret' });
      await c.login();
      assert.equal(await c.getAppVersion(), 'v4.5.2');
      assert.equal(await c.getApiVersion(), '2.8.19');
      const hash = r.fx.metainfo.infoHashHex;
      await c.createCategory('tv', '');
      await c.addTorrent(r.fx.torrent, { savepath: r.fx.dir, category: 'tv', tags: 'a,b' });
      await c.addMagnet(MAGNET, { paused: 'true' });
      await until(() => r.daemon.byHash(hash)?.torrent?.state === 'seeding', 10_000, 'seeding');
      const t = await c.getTorrent(hash);
      assert.equal(t.name, r.fx.name);
      assert.equal(t.state, 'seeding');
      assert.equal(t.progress, 1);
      assert.equal(t.label, 'tv');
      assert.deepEqual(t.tags, ['a', 'b']);
      assert.equal(t.savePath, r.fx.dir);
      assert.equal(t.totalSize, 170_000);
      const magnet = await c.getTorrent(MAGNET_HASH);
      assert.equal(magnet.name, 'wanted');
      assert.equal(magnet.state, 'paused');
      assert.deepEqual(
        (await c.getAllData()).torrents.map((x) => x.name).sort(),
        [r.fx.name, 'wanted'].sort(),
      );
      assert.deepEqual(
        (await c.listTorrents({ category: 'tv' })).map((x) => x['hash']),
        [hash],
      );
      const p = await c.torrentProperties(hash);
      assert.equal(p['pieces_num'], r.fx.metainfo.pieceCount);
      const files = await c.torrentFiles(hash);
      assert.deepEqual(
        files.map((f) => f['name']),
        [`${r.fx.name}/a.bin`, `${r.fx.name}/b.bin`],
      );
      assert.ok((await c.torrentTrackers(hash)).length >= 3);
      await c.createCategory('movies', '');
      await c.setTorrentCategory(hash, 'movies');
      await c.addTorrentTags(hash, 'c');
      assert.equal((await c.getTorrent(hash)).label, 'movies');
      assert.deepEqual((await c.getTorrent(hash)).tags, ['a', 'b', 'c']);
      assert.deepEqual(await c.getTags(), ['a', 'b', 'c']);
      assert.deepEqual(Object.keys(await c.getCategories()).sort(), ['movies', 'tv']);
      await c.pauseTorrent(hash);
      // @ctrl counts a paused complete torrent as seeding; the raw state says paused.
      assert.equal((await c.getTorrent(hash)).raw['state'], 'pausedUP');
      await c.resumeTorrent(hash);
      assert.equal((await c.getTorrent(hash)).state, 'seeding');
      await c.recheckTorrent(hash);
      await until(() => r.daemon.byHash(hash)?.torrent?.state === 'seeding', 10_000, 'seeding after recheck');
      const md = await c.getSyncMainData(0);
      assert.equal(md['full_update'], true);
      assert.equal(Object.keys(md['torrents'] as object).length, 2);
      await c.removeTorrent(hash, false);
      await c.removeTorrent(MAGNET_HASH, true);
      assert.deepEqual(await c.listTorrents(), []);
    } finally {
      await r.close();
    }
  },
);

const PYTHON = '/usr/bin/python3';
const hasPythonApi = await run(PYTHON, ['-c', 'import qbittorrentapi']).then(
  () => true,
  () => false,
);

/** The same script with Python's qbittorrent-api; one JSON line per step. */
const PY_SCRIPT = `
import json, sys, time, qbittorrentapi
port, torrent, savepath, magnet, mhash = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
c = qbittorrentapi.Client(host='127.0.0.1', port=port, username='admin', password='secret',
                          REQUESTS_ARGS={'timeout': 10}, RAISE_NOTIMPLEMENTEDERROR_FOR_UNIMPLEMENTED_API_ENDPOINTS=False)
def out(step, **kw): print(json.dumps(dict(step=step, **kw)), flush=True)
def wait(h, states, secs=15):
    end = time.time() + secs
    while time.time() < end:
        t = c.torrents_info(torrent_hashes=h)[0]
        if t.state in states: return t
        time.sleep(0.1)
    raise Exception('timeout waiting for %s: %s' % (states, c.torrents_info(torrent_hashes=h)[0].state))
c.auth_log_in()
out('version', app=c.app.version, api=c.app.web_api_version)
c.torrents_create_category(name='tv', save_path='')
out('add-file', answer=c.torrents_add(torrent_files=torrent, save_path=savepath, category='tv', tags='a,b'))
out('add-magnet', answer=c.torrents_add(urls=magnet, is_paused=True))
h = [t.hash for t in c.torrents_info() if t.hash != mhash][0]
t = wait(h, ['stalledUP', 'uploading'])
out('info', name=t.name, progress=t.progress, category=t.category, tags=t.tags, size=t.size, state=t.state)
out('list', names=sorted(x.name for x in c.torrents_info()), magnet_state=c.torrents_info(torrent_hashes=mhash)[0].state)
p = c.torrents_properties(torrent_hash=h)
out('properties', save_path=p.save_path, pieces_num=p.pieces_num, total_size=p.total_size)
out('files', names=[f.name for f in c.torrents_files(torrent_hash=h)], prios=[f.priority for f in c.torrents_files(torrent_hash=h)])
c.torrents_create_category(name='movies', save_path='')
c.torrents_set_category(category='movies', torrent_hashes=h)
c.torrents_add_tags(tags='c', torrent_hashes=h)
t = c.torrents_info(torrent_hashes=h)[0]
out('labels', category=t.category, tags=t.tags, all_tags=list(c.torrents_tags()), categories=sorted(c.torrents_categories().keys()))
c.torrents_pause(torrent_hashes=h); out('paused', state=c.torrents_info(torrent_hashes=h)[0].state)
c.torrents_resume(torrent_hashes=h); wait(h, ['stalledUP', 'uploading']); out('resumed')
c.torrents_recheck(torrent_hashes=h); wait(h, ['stalledUP', 'uploading']); out('rechecked')
md = c.sync_maindata(rid=0)
out('sync', full=md.full_update, torrents=len(md.torrents), rid=md.rid)
md2 = c.sync_maindata(rid=md.rid)
out('sync2', full=md2.get('full_update', False))
c.torrents_delete(delete_files=False, torrent_hashes='all')
out('deleted', left=len(c.torrents_info()))
c.auth_log_out()
`;

test(
  "Python's qbittorrent-api drives the daemon",
  { skip: hasPythonApi ? false : 'pip install qbittorrent-api (PyPI)', timeout: 60_000 },
  async () => {
    const r = await rig();
    try {
      const { stdout } = await run(
        PYTHON,
        ['-c', PY_SCRIPT, String(r.port), r.fx.torrentPath, r.fx.dir, MAGNET, MAGNET_HASH],
        { timeout: 50_000 },
      );
      const steps = Object.fromEntries(
        stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .map((l) => [l['step'], l]),
      );
      assert.deepEqual(steps['version'], { step: 'version', app: 'v4.5.2', api: '2.8.19' });
      assert.deepEqual(steps['add-file'], { step: 'add-file', answer: 'Ok.' });
      assert.deepEqual(steps['add-magnet'], { step: 'add-magnet', answer: 'Ok.' });
      assert.deepEqual(steps['info'], {
        step: 'info',
        name: r.fx.name,
        progress: 1,
        category: 'tv',
        tags: 'a, b',
        size: 170_000,
        state: 'stalledUP',
      });
      assert.deepEqual(steps['list'], {
        step: 'list',
        names: [r.fx.name, 'wanted'].sort(),
        magnet_state: 'pausedDL',
      });
      assert.deepEqual(steps['properties'], {
        step: 'properties',
        save_path: r.fx.dir,
        pieces_num: r.fx.metainfo.pieceCount,
        total_size: 170_000,
      });
      assert.deepEqual(steps['files'], {
        step: 'files',
        names: [`${r.fx.name}/a.bin`, `${r.fx.name}/b.bin`],
        prios: [1, 1],
      });
      assert.deepEqual(steps['labels'], {
        step: 'labels',
        category: 'movies',
        tags: 'a, b, c',
        all_tags: ['a', 'b', 'c'],
        categories: ['movies', 'tv'],
      });
      assert.equal(steps['paused']!['state'], 'pausedUP');
      assert.ok(steps['resumed'] && steps['rechecked']);
      assert.equal(steps['sync']!['full'], true);
      assert.equal(steps['sync']!['torrents'], 2);
      assert.equal(steps['sync2']!['full'], false);
      assert.equal(steps['deleted']!['left'], 0);
    } finally {
      await r.close();
    }
  },
);
