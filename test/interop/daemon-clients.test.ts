/**
 * Third-party Transmission clients drive the daemon with one script (add, list, info,
 * stop/start, verify, limits, move, remove): the npm client @ctrl/transmission and Debian's
 * python3-transmissionrpc. A client that is not installed skips its test (and says how).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Daemon } from '../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../src/rpc/transmission/server.js';
import { makeFixture, until, type Fixture } from '../unit/client/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

interface Rig {
  daemon: Daemon;
  port: number;
  fx: Fixture;
  root: string;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const dir = await tempDir('nbt-daemon-clients-');
  const fx = await makeFixture(dir.path, {
    files: [
      { path: 'a.bin', size: 150_000 },
      { path: 'b.bin', size: 20_000 },
    ],
  });
  const daemon = await Daemon.open({
    configDir: join(dir.path, 'cfg'),
    downloadDir: fx.dir,
    port: 0,
    client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  const server = new TransmissionRpcServer(daemon, { port: 0, username: 'user', password: 'pw' });
  const port = await server.listen();
  return {
    daemon,
    port,
    fx,
    root: dir.path,
    async close() {
      await server.close();
      await daemon.close();
      await dir.cleanup();
    },
  };
}

/** The part of @ctrl/transmission the script uses. */
interface CtrlTorrent {
  id: string;
  name: string;
  state: string;
  progress: number;
  savePath: string;
  totalSize: number;
}
interface CtrlTransmission {
  addTorrent(
    t: Uint8Array,
    o?: Record<string, unknown>,
  ): Promise<{ arguments: Record<string, { hashString: string }> }>;
  getTorrent(id: string): Promise<CtrlTorrent>;
  getAllData(): Promise<{ torrents: CtrlTorrent[] }>;
  pauseTorrent(id: string): Promise<unknown>;
  resumeTorrent(id: string): Promise<unknown>;
  verifyTorrent(id: string): Promise<unknown>;
  setTorrent(id: string, o: Record<string, unknown>): Promise<unknown>;
  moveTorrent(id: string, location: string): Promise<unknown>;
  renamePath(id: string, o: { path: string; name: string }): Promise<{ result?: string }>;
  removeTorrent(id: string, removeData?: boolean): Promise<unknown>;
  getSession(): Promise<{ arguments: Record<string, unknown> }>;
  listTorrents(
    id?: string,
    fields?: string[],
  ): Promise<{ arguments: { torrents: Record<string, unknown>[] } }>;
}

async function loadCtrl(): Promise<(new (o: Record<string, unknown>) => CtrlTransmission) | undefined> {
  const name = '@ctrl/transmission';
  try {
    return ((await import(name)) as { Transmission: new (o: Record<string, unknown>) => CtrlTransmission })
      .Transmission;
  } catch {
    return undefined;
  }
}

const Ctrl = await loadCtrl();

test(
  '@ctrl/transmission drives the daemon',
  { skip: Ctrl ? false : 'npm install (devDependency @ctrl/transmission)', timeout: 60_000 },
  async () => {
    const r = await rig();
    try {
      const c = new Ctrl!({ baseUrl: `http://127.0.0.1:${r.port}/`, username: 'user', password: 'pw' });
      // Its default download-dir is /downloads: name ours.
      const added = await c.addTorrent(r.fx.torrent, { 'download-dir': r.fx.dir });
      const hash = r.fx.metainfo.infoHashHex;
      assert.equal(added.arguments['torrent-added']!.hashString, hash);
      await until(() => r.daemon.byHash(hash)?.torrent?.state === 'seeding', 10_000, 'seeding');
      const t = await c.getTorrent(hash);
      assert.equal(t.state, 'seeding');
      assert.equal(t.progress, 1);
      assert.equal(t.totalSize, 170_000);
      assert.equal(t.savePath, r.fx.dir);
      assert.deepEqual(
        (await c.getAllData()).torrents.map((x) => x.name),
        [r.fx.name],
      );
      await c.pauseTorrent(hash);
      assert.equal((await c.getTorrent(hash)).state, 'paused');
      await c.resumeTorrent(hash);
      assert.equal((await c.getTorrent(hash)).state, 'seeding');
      await c.verifyTorrent(hash);
      await until(() => r.daemon.byHash(hash)?.torrent?.state === 'seeding', 10_000, 'seeding after verify');
      await c.setTorrent(hash, { downloadLimit: 123, downloadLimited: true, labels: ['movies'] });
      const fields = (await c.listTorrents(hash, ['downloadLimit', 'labels'])).arguments.torrents[0]!;
      assert.equal(fields['downloadLimit'], 123);
      assert.deepEqual(fields['labels'], ['movies']);
      const to = join(r.root, 'moved');
      await c.moveTorrent(hash, to);
      await access(join(to, r.fx.name, 'a.bin'));
      await until(() => r.daemon.byHash(hash)?.torrent?.state === 'seeding', 10_000, 'seeding after move');
      assert.equal((await c.getTorrent(hash)).savePath, to);
      // Rename a file, then the top folder (the torrent's name follows); it keeps seeding.
      await c.renamePath(hash, { path: `${r.fx.name}/b.bin`, name: 'b2.bin' });
      await access(join(to, r.fx.name, 'b2.bin'));
      await assert.rejects(access(join(to, r.fx.name, 'b.bin')));
      await c.renamePath(hash, { path: r.fx.name, name: 'Renamed' });
      await access(join(to, 'Renamed', 'a.bin'));
      assert.equal((await c.getTorrent(hash)).name, 'Renamed');
      const refused = (await c
        .renamePath(hash, { path: 'nothing-here', name: 'x' })
        .catch((e: Error) => e)) as {
        result?: string;
      };
      assert.notEqual(refused.result, 'success');
      await c.verifyTorrent(hash);
      await until(() => r.daemon.byHash(hash)?.torrent?.state === 'seeding', 10_000, 'seeding after rename');
      assert.equal((await c.getTorrent(hash)).progress, 1);
      assert.equal(typeof (await c.getSession()).arguments['rpc-version'], 'number');
      await c.removeTorrent(hash, true);
      assert.deepEqual((await c.getAllData()).torrents, []);
      await assert.rejects(access(join(to, r.fx.name, 'a.bin')));
    } finally {
      await r.close();
    }
  },
);

const PYTHON = '/usr/bin/python3';
const hasPythonRpc = await run(PYTHON, ['-c', 'import transmissionrpc']).then(
  () => true,
  () => false,
);

/** The same script in Python, with Debian's transmissionrpc (0.11); prints one JSON line per step. */
const PY_SCRIPT = `
import json, sys, time, transmissionrpc
port, torrent, move_to = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = transmissionrpc.Client('127.0.0.1', port=port, user='user', password='pw')
def out(step, **kw): print(json.dumps(dict(step=step, **kw)), flush=True)
def wait(tid, status, secs=15):
    end = time.time() + secs
    while time.time() < end:
        t = c.get_torrent(tid)
        if t.status == status: return t
        time.sleep(0.1)
    raise Exception('timeout waiting for %s: %s' % (status, c.get_torrent(tid).status))
t = c.add_torrent(torrent)
t = wait(t.id, 'seeding')
out('added', id=t.id, name=t.name, hash=t.hashString, progress=t.progress, dir=t.downloadDir)
out('list', names=[x.name for x in c.get_torrents()])
c.stop_torrent(t.id); out('stopped', status=c.get_torrent(t.id).status)
c.start_torrent(t.id); wait(t.id, 'seeding'); out('started')
c.verify_torrent(t.id); wait(t.id, 'seeding'); out('verified')
c.change_torrent(t.id, downloadLimit=77, downloadLimited=True)
t2 = c.get_torrent(t.id); out('limits', limit=t2.downloadLimit, limited=t2.downloadLimited)
c.move_torrent_data(t.id, move_to); wait(t.id, 'seeding'); out('moved', dir=c.get_torrent(t.id).downloadDir)
c.rename_torrent_path(t.id, t.name, 'Renamed'); out('renamed', name=c.get_torrent(t.id).name, files=sorted(f['name'] for f in c.get_files(t.id)[t.id].values()))
s = c.get_session(); out('session', version=s.rpc_version)
c.remove_torrent(t.id, delete_data=True); out('removed', left=len(c.get_torrents()))
`;

test(
  'python3 transmissionrpc (Debian) drives the daemon',
  { skip: hasPythonRpc ? false : 'apt-get install python3-transmissionrpc', timeout: 60_000 },
  async () => {
    const r = await rig();
    try {
      const to = join(r.root, 'moved');
      const { stdout } = await run(PYTHON, ['-c', PY_SCRIPT, String(r.port), r.fx.torrentPath, to], {
        timeout: 50_000,
      });
      const steps = Object.fromEntries(
        stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .map((l) => [l['step'], l]),
      );
      assert.deepEqual(steps['added'], {
        step: 'added',
        id: 1,
        name: r.fx.name,
        hash: r.fx.metainfo.infoHashHex,
        progress: 100,
        dir: r.fx.dir,
      });
      assert.deepEqual(steps['list'], { step: 'list', names: [r.fx.name] });
      assert.equal(steps['stopped']!['status'], 'stopped');
      assert.deepEqual(steps['limits'], { step: 'limits', limit: 77, limited: true });
      assert.equal(steps['moved']!['dir'], to);
      assert.deepEqual(steps['renamed'], {
        step: 'renamed',
        name: 'Renamed',
        files: ['Renamed/a.bin', 'Renamed/b.bin'],
      });
      await access(join(to, 'Renamed', 'a.bin'));
      assert.equal(steps['session']!['version'], 17);
      assert.equal(steps['removed']!['left'], 0);
    } finally {
      await r.close();
    }
  },
);
