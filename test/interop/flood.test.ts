/**
 * Flood (npm `flood`, a third-party web UI) against our daemon: once through the qBittorrent Web
 * API, once through the Transmission RPC. Flood runs as its own process with `--auth none` and
 * the client given by flags; through Flood's own HTTP API the test checks the connection, adds
 * a torrent by file (its data is already there, so it completes after the check) and one by
 * magnet (paused), lists them, stops and starts one, and removes both (one with its data).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon/daemon.js';
import { buildMagnet, createTorrent } from '../../src/metainfo/index.js';
import { TransmissionRpcServer } from '../../src/rpc/transmission/server.js';
import { floodEntry, requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';
import { until } from '../unit/client/fixtures.js';

interface FloodTorrent {
  hash: string;
  name: string;
  percentComplete: number | null;
  sizeBytes: number;
  status: string[];
  directory: string;
}

/** Starts Flood on a free port; resolves with its URL once it listens. */
async function startFlood(
  args: string[],
  rundir: string,
): Promise<{ url: string; child: ChildProcess; log: string[] }> {
  const child = spawn(
    process.execPath,
    [floodEntry, '--auth', 'none', '--host', '127.0.0.1', '--port', '0', '--rundir', rundir, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Flood did not start: ${log.join('\n')}`)), 90_000);
    const onLine = (line: string): void => {
      if (log.length < 200) log.push(line);
      const m = /Server listening at (http:\/\/[^"\s]+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Flood exited (${code}): ${log.join('\n')}`));
    });
  });
  return { url, child, log };
}

/** Flood's HTTP API with the session cookie it hands out in auth=none mode. */
class FloodApi {
  private cookie = '';
  constructor(private readonly url: string) {}

  async login(): Promise<void> {
    const res = await fetch(`${this.url}/api/auth/verify`);
    assert.equal(res.status, 200, await res.text());
    const jwt = res.headers.getSetCookie().find((c) => c.startsWith('jwt='));
    assert.ok(jwt, 'Flood hands out its session cookie');
    this.cookie = jwt.split(';')[0]!;
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { headers: { Cookie: this.cookie } });
    const text = await res.text();
    assert.equal(res.status, 200, `${path}: ${text}`);
    return JSON.parse(text) as T;
  }

  async post(path: string, body: unknown): Promise<number> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { Cookie: this.cookie, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.status < 300, `${path}: ${res.status} ${text}`);
    return res.status;
  }

  async torrents(): Promise<Record<string, FloodTorrent>> {
    return (await this.get<{ torrents: Record<string, FloodTorrent> }>('/api/torrents')).torrents;
  }

  /** Polls Flood's list (it polls the client itself) until `pred` holds. */
  async waitFor(
    pred: (t: Record<string, FloodTorrent>) => boolean,
    what: string,
  ): Promise<Record<string, FloodTorrent>> {
    let last: Record<string, FloodTorrent> = {};
    for (let i = 0; i < 150; i++) {
      last = await this.torrents();
      if (pred(last)) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`${what}: Flood lists ${JSON.stringify(last)}`);
  }
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

test(
  'Flood manages torrents on our daemon through the qBittorrent API and the Transmission RPC',
  { timeout: 360_000 },
  async (t) => {
    if (!requirePeer(t, 'flood')) return;
    const tmp = await tempDir('nbt-flood-');
    const downloads = join(tmp.path, 'downloads');
    await mkdir(downloads, { recursive: true });
    const daemon = await Daemon.open({
      configDir: join(tmp.path, 'cfg'),
      downloadDir: downloads,
      port: 0,
      client: { dht: false, pex: false, lsd: false, trackers: false, host: '127.0.0.1' },
    });
    const server = new TransmissionRpcServer(daemon, { port: 0 });
    const port = await server.listen();
    const clients: [string, string[]][] = [
      ['qBittorrent', ['--qburl', `http://127.0.0.1:${port}`, '--qbuser', 'admin', '--qbpass', 'unused']],
      [
        'Transmission',
        ['--trurl', `http://127.0.0.1:${port}/transmission/rpc`, '--truser', 'a', '--trpass', 'b'],
      ],
    ];
    try {
      for (const [n, [api, flags]] of clients.entries()) {
        await t.test(`through the ${api} API`, async () => {
          // Data already in the download directory: the file torrent completes after its check.
          const name = `flood-${n}.bin`;
          const data = seededBytes(300_000 + n, 10 + n);
          await writeFile(join(downloads, name), data);
          const made = await createTorrent(join(downloads, name), { pieceLength: 16384, date: false });
          const fileHash = made.metainfo.infoHashHex;
          const magnetHash = String(n).repeat(40);
          const magnet = buildMagnet({ infoHash: Buffer.from(magnetHash, 'hex'), name: `paused-${n}` });
          const flood = await startFlood(flags, join(tmp.path, `flood-${n}`));
          try {
            const f = new FloodApi(flood.url);
            await f.login();
            const test = await f.get<{ isConnected: boolean }>('/api/client/connection-test');
            assert.equal(test.isConnected, true, `Flood connects to our daemon (${api})`);
            assert.deepEqual(await f.torrents(), {}, 'nothing there yet');

            await f.post('/api/torrents/add-files', {
              files: [Buffer.from(made.torrent).toString('base64')],
              destination: downloads,
              start: true,
            });
            await f.post('/api/torrents/add-urls', { urls: [magnet], destination: downloads, start: false });
            await until(
              () => daemon.byHash(fileHash) !== undefined && daemon.byHash(magnetHash) !== undefined,
              20_000,
              'both added',
            );
            assert.equal(daemon.byHash(magnetHash)!.record.stopped, true, 'the magnet is added paused');
            assert.equal(daemon.byHash(fileHash)!.record.savePath, downloads);

            const key = (h: string): string => h.toUpperCase();
            const listed = await f.waitFor(
              (l) => l[key(fileHash)]?.percentComplete === 100 && l[key(magnetHash)] !== undefined,
              'the file torrent complete, the magnet listed',
            );
            const file = listed[key(fileHash)]!;
            assert.equal(file.name, name);
            assert.equal(file.sizeBytes, data.length);
            assert.equal(file.directory, downloads);
            assert.ok(file.status.includes('complete'), JSON.stringify(file.status));
            assert.ok(
              listed[key(magnetHash)]!.status.includes('stopped'),
              JSON.stringify(listed[key(magnetHash)]),
            );

            // Stop and start through Flood.
            await f.post('/api/torrents/stop', { hashes: [key(fileHash)] });
            await until(() => daemon.byHash(fileHash)?.record.stopped === true, 10_000, 'stopped');
            await f.waitFor(
              (l) => l[key(fileHash)]?.status.includes('stopped') ?? false,
              'Flood shows it stopped',
            );
            await f.post('/api/torrents/start', { hashes: [key(fileHash)] });
            await until(() => daemon.byHash(fileHash)?.record.stopped === false, 10_000, 'started');

            // Remove: the magnet (nothing to delete), the file torrent with its data.
            await f.post('/api/torrents/delete', { hashes: [key(magnetHash)], deleteData: false });
            await until(() => daemon.byHash(magnetHash) === undefined, 10_000, 'magnet removed');
            await f.post('/api/torrents/delete', { hashes: [key(fileHash)], deleteData: true });
            await until(() => daemon.byHash(fileHash) === undefined, 10_000, 'file torrent removed');
            for (let i = 0; i < 50 && (await exists(join(downloads, name))); i++)
              await new Promise((r) => setTimeout(r, 100));
            assert.ok(!(await exists(join(downloads, name))), 'its data is deleted');
            await f.waitFor((l) => Object.keys(l).length === 0, 'Flood lists nothing');
          } finally {
            flood.child.kill();
            // A failure leaves nothing behind for the next client.
            for (const e of daemon.list()) await daemon.remove(e, true);
          }
        });
      }
    } finally {
      await server.close();
      await daemon.close();
      await tmp.cleanup();
    }
  },
);
