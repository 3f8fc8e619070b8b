/**
 * Child process for bench/scale.bench.ts, the same modes as test/peers/lt_scale.py:
 *   session TORRENTS_DIR DATA_DIR RESUME_DIR IDLE_S  full check of every torrent, RSS, idle CPU,
 *                                                    then close (saves resume data)
 *   restart TORRENTS_DIR DATA_DIR RESUME_DIR         the same torrents from resume data
 *   parse TORRENT ROUNDS                             metainfo parse time
 *   seed TORRENT DIR                                 seeds on 127.0.0.1, prints its port and pid
 *   bare                                             a plain net server answering any handshake
 *                                                    with 68 bytes: Node's own cost per socket
 * Prints one JSON object per line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// The package as users import it (dist/bundle, scripts/bundle.mjs).
import { Client, parseTorrent } from 'net-bittorrent';

const [mode, ...args] = process.argv.slice(2);
const say = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify(o) + '\n');
const rssMB = (): number => process.memoryUsage().rss / 2 ** 20;
const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sleeps `seconds` and prints the CPU (all threads) and RSS of that window as `event`. */
async function idleWindow(event: string, seconds: number): Promise<void> {
  const c0 = cpuSeconds();
  const w0 = performance.now();
  await sleep(seconds * 1000);
  say({ event, cpu_seconds: cpuSeconds() - c0, window: (performance.now() - w0) / 1000, rss_mb: rssMB() });
}

function session(resumeDir: string | undefined, savePath: string, maxPerHost = 1): Client {
  return new Client({
    host: '127.0.0.1',
    dht: false,
    trackers: false,
    savePath,
    // Batches of 100 handshakes at once: a pending pool of 50 would evict some of them.
    limits: { maxConnections: 20_000, maxPeersPerTorrent: 20_000, maxPerHost, maxPendingIncoming: 20_000 },
    ...(resumeDir ? { resumeDir } : {}),
  });
}

/** Adds every torrent and resolves once all seed (seconds from the first add). */
async function addAll(c: Client, torrentsDir: string): Promise<number> {
  const files = readdirSync(torrentsDir)
    .filter((f) => f.endsWith('.torrent'))
    .sort();
  const t0 = performance.now();
  let seeding = 0;
  const all = new Promise<void>((resolve) =>
    c.on('torrent-state', (_t, s) => {
      if (s === 'seeding' && ++seeding === files.length) resolve();
    }),
  );
  // Added concurrently, as libtorrent's add_torrent queues them all at once.
  await Promise.all(files.map((f) => c.addTorrent(join(torrentsDir, f))));
  await all;
  return (performance.now() - t0) / 1000;
}

if (mode === 'parse') {
  const [path, rounds] = args as [string, string];
  const data = readFileSync(path);
  let files = parseTorrent(data).files.length; // warm up
  const times: number[] = [];
  for (let i = 0; i < Number(rounds); i++) {
    const t0 = performance.now();
    files = parseTorrent(data).files.length;
    times.push(performance.now() - t0);
  }
  // The median: one parse is short enough for a busy machine's hiccups to swing a mean.
  times.sort((a, b) => a - b);
  say({ event: 'parsed', ms_per_parse: times[times.length >> 1], min_ms: times[0], files });
} else if (mode === 'bare') {
  const { createServer } = await import('node:net');
  const held: unknown[] = [];
  const server = createServer((s) => {
    held.push(s);
    s.once('data', () => s.write(Buffer.alloc(68)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  say({
    event: 'listening',
    port: typeof address === 'object' && address ? address.port : 0,
    pid: process.pid,
  });
} else if (mode === 'seed') {
  const [torrent, dir] = args as [string, string];
  // The per-host limit's ceiling (every bench connection comes from 127.0.0.1).
  const c = session(undefined, dir, 10_000);
  const port = await c.listen(0);
  const t = await c.addTorrent(torrent);
  if (t.state !== 'seeding') await new Promise((r) => t.on('state', (s) => s === 'seeding' && r(s)));
  say({ event: 'listening', port, pid: process.pid });
} else {
  const [torrentsDir, dataDir, resumeDir] = args as [string, string, string];
  const idle = args[args.indexOf('--idle') + 1];
  const c = session(resumeDir, dataDir);
  await c.listen(0);
  const baseline = rssMB();
  const saved = new Set<string>();
  const expected = readdirSync(torrentsDir).filter((f) => f.endsWith('.torrent')).length;
  const firstSaves = new Promise<void>((resolve) =>
    c.on('resume-saved', (t) => {
      saved.add(t.infoHashHex);
      if (saved.size === expected) resolve();
    }),
  );
  const seconds = await addAll(c, torrentsDir);
  if (mode === 'restart') {
    say({ event: 'restarted', seconds, rss_mb: rssMB(), baseline_mb: baseline, torrents: c.torrents.length });
  } else {
    await sleep(2000);
    say({ event: 'checked', seconds, rss_mb: rssMB(), baseline_mb: baseline, torrents: c.torrents.length });
    // Every torrent's first resume file (due after a full check) is written within one resume
    // interval; idle means after that.
    await firstSaves;
    await idleWindow('idle', Number(idle ?? 30));
    // The same again: steady state, after V8's one-off shrinking of the heap the check grew
    // (its memory reducer starts ~8 s after allocation slows, inside the first window).
    await idleWindow('steady', Number(idle ?? 30));
  }
  await c.close();
  await c.hashPool.close();
  say({ event: 'saved' });
}
