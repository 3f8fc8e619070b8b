/**
 * The daemon with many seeding torrents, `nbt daemon` against a real transmission-daemon
 * (Debian's) holding the same torrents over the same files:
 *  (a) start-up from saved state until the RPC reports every torrent seeding;
 *  (b) RSS once they are;
 *  (c) CPU used over an idle window (no RPC calls, no peers);
 *  (d) `torrent-get` latency (p50/p99) for every torrent with the fields Sonarr asks for.
 * Each is reported for both sides and as ours / transmission's. Both daemons are set up once
 * (torrents added over the RPC with their data in place, verified, then stopped with SIGTERM so
 * they save), then restarted for the measurement, one at a time, best of NBT_DAEMON_ROUNDS.
 * NBT_DAEMON_TORRENTS, NBT_DAEMON_IDLE_S and NBT_DAEMON_GETS shrink it.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Reporter } from './harness.js';
import { writeSmallTorrents } from './harness.js';
import { NbtDaemon } from '../test/helpers/nbt-daemon.js';
import { RpcClient } from '../test/helpers/rpc-client.js';
import { TransmissionPeer, TR_STATUS_SEEDING } from '../test/helpers/transmission.js';
import { tempDir } from '../test/helpers/tmp.js';

/** NBT_DAEMON_NODE_FLAGS: Node flags for our daemon (space-separated), e.g. `--max-semi-space-size=2`. */
const NODE_FLAGS = (process.env.NBT_DAEMON_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const TORRENTS = Number(process.env.NBT_DAEMON_TORRENTS ?? 1000);
const IDLE_S = Number(process.env.NBT_DAEMON_IDLE_S ?? 30);
const GETS = Number(process.env.NBT_DAEMON_GETS ?? 200);
const ROUNDS = Number(process.env.NBT_DAEMON_ROUNDS ?? 2);
const TORRENT_BYTES = 1 << 20;
const PIECE = 1 << 18;
/** Generous: Transmission verifies one torrent at a time. */
const SETUP_TIMEOUT_MS = 30 * 60_000;
const START_TIMEOUT_MS = 10 * 60_000;

/** What Sonarr's Transmission client (TransmissionProxy.GetTorrents) asks for on every poll. */
export const SONARR_FIELDS = [
  'id',
  'hashString',
  'name',
  'downloadDir',
  'totalSize',
  'leftUntilDone',
  'isFinished',
  'eta',
  'status',
  'secondsDownloading',
  'secondsSeeding',
  'errorString',
  'uploadedEver',
  'downloadedEver',
  'seedRatioLimit',
  'seedRatioMode',
  'seedIdleLimit',
  'seedIdleMode',
  'fileCount',
  'labels',
];

/** The RPC of either daemon, reduced to what the bench needs. */
interface Side {
  pid: number;
  rpc(method: string, args?: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

interface Measure {
  startupSeconds: number;
  rssMB: number;
  idleCpuPercent: number;
  p50ms: number;
  p99ms: number;
}

export async function run(report: Reporter): Promise<void> {
  const haveTransmission = commandExists('transmission-daemon');
  if (!haveTransmission) report.note('transmission-daemon not installed: our figures only, no ratios');
  const dir = await tempDir('nbt-bench-daemon-');
  try {
    const torrents = join(dir.path, 'torrents');
    const data = join(dir.path, 'data');
    await writeSmallTorrents(torrents, data, TORRENTS, TORRENT_BYTES, PIECE);
    report.note(
      `${TORRENTS} torrents of ${TORRENT_BYTES >> 10} KiB seeding, idle ${IDLE_S} s, ${GETS} torrent-get calls`,
    );
    const oursCfg = join(dir.path, 'config-ours');
    const trCfg = join(dir.path, 'config-transmission');
    await mkdir(oursCfg, { recursive: true });
    await mkdir(trCfg, { recursive: true });
    const files = (await readdir(torrents)).filter((f) => f.endsWith('.torrent')).sort();
    const metainfo = await Promise.all(
      files.map(async (f) => (await readFile(join(torrents, f))).toString('base64')),
    );

    await setUp(await startOurs(oursCfg, data), metainfo, data);
    if (haveTransmission) await setUp(await startTransmission(trCfg), metainfo, data);

    let ours: Measure | undefined;
    let ref: Measure | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      ours = best(ours, await measure(() => startOurs(oursCfg, data)));
      if (haveTransmission) ref = best(ref, await measure(() => startTransmission(trCfg)));
    }
    const side = (label: string, m: Measure): void => {
      report.figure(`${label}: start-up to all ${TORRENTS} seeding`, m.startupSeconds, 's');
      report.figure(`${label}: RSS with all seeding`, m.rssMB, 'MB');
      report.figure(`${label}: CPU idle (${IDLE_S} s window)`, m.idleCpuPercent, '%');
      report.figure(`${label}: torrent-get all (Sonarr fields) p50`, m.p50ms, 'ms');
      report.figure(`${label}: torrent-get all (Sonarr fields) p99`, m.p99ms, 'ms');
    };
    side('ours', ours!);
    if (!ref) return;
    side('transmission', ref);
    const o = ours!;
    report.figure('start-up: ours / transmission', o.startupSeconds / ref.startupSeconds, 'x');
    report.figure('RSS: ours / transmission', o.rssMB / ref.rssMB, 'x');
    // A floor of 0.1 % of a core keeps the ratio meaningful when Transmission uses next to nothing.
    report.figure(
      'idle CPU: ours / transmission',
      o.idleCpuPercent / Math.max(ref.idleCpuPercent, 0.1),
      'x',
      {
        note: '(transmission floored at 0.1 % of a core)',
      },
    );
    report.figure('torrent-get p50: ours / transmission', o.p50ms / ref.p50ms, 'x');
    report.figure('torrent-get p99: ours / transmission', o.p99ms / ref.p99ms, 'x');
  } finally {
    await dir.cleanup();
  }
}

/** Adds every torrent (data in place, started), waits until all are verified and seeding, stops. */
async function setUp(side: Side, metainfo: string[], data: string): Promise<void> {
  try {
    for (const m of metainfo) {
      const a = await side.rpc('torrent-add', { metainfo: m, 'download-dir': data, paused: false });
      if (!a['torrent-added'] && !a['torrent-duplicate'])
        throw new Error(`torrent-add: ${JSON.stringify(a)}`);
    }
    await allSeeding(side, metainfo.length, SETUP_TIMEOUT_MS);
  } finally {
    await side.stop();
  }
}

async function measure(start: () => Promise<Side>): Promise<Measure> {
  const t0 = process.hrtime.bigint();
  const side = await start();
  try {
    await allSeeding(side, TORRENTS, START_TIMEOUT_MS);
    const startupSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await sleep(2000);
    const rssMB = rssKB(side.pid) / 1024;
    const cpu0 = cpuSeconds(side.pid);
    await sleep(IDLE_S * 1000);
    const idleCpuPercent = (100 * (cpuSeconds(side.pid) - cpu0)) / IDLE_S;
    const times: number[] = [];
    for (let i = 0; i < GETS; i++) {
      const t = process.hrtime.bigint();
      const a = await side.rpc('torrent-get', { fields: SONARR_FIELDS });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      const n = (a['torrents'] as unknown[] | undefined)?.length;
      if (n !== TORRENTS) throw new Error(`torrent-get returned ${n} torrents, not ${TORRENTS}`);
    }
    times.sort((x, y) => x - y);
    return {
      startupSeconds,
      rssMB,
      idleCpuPercent,
      p50ms: quantile(times, 0.5),
      p99ms: quantile(times, 0.99),
    };
  } finally {
    await side.stop();
  }
}

/** Per figure, the better of two rounds (the machine is shared; neither side pays for a busy moment). */
function best(a: Measure | undefined, b: Measure): Measure {
  if (!a) return b;
  return {
    startupSeconds: Math.min(a.startupSeconds, b.startupSeconds),
    rssMB: Math.min(a.rssMB, b.rssMB),
    idleCpuPercent: Math.min(a.idleCpuPercent, b.idleCpuPercent),
    p50ms: Math.min(a.p50ms, b.p50ms),
    p99ms: Math.min(a.p99ms, b.p99ms),
  };
}

async function allSeeding(side: Side, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await side.rpc('torrent-get', { fields: ['id', 'status', 'percentDone'] });
    const list = (a['torrents'] ?? []) as { status: number; percentDone: number }[];
    const seeding = list.filter((t) => t.status === TR_STATUS_SEEDING && t.percentDone === 1).length;
    if (list.length === n && seeding === n) return;
    if (Date.now() > deadline) throw new Error(`only ${seeding} of ${n} torrents seeding in ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function startOurs(configDir: string, downloadDir: string): Promise<Side> {
  const d = await NbtDaemon.start(configDir, downloadDir, ['--no-lsd'], START_TIMEOUT_MS, NODE_FLAGS);
  const client = new RpcClient(d.rpcPort);
  return {
    pid: d.proc.pid!,
    rpc: (method, args = {}) => client.ok(method, args),
    stop: async () => {
      const { code } = await d.kill('SIGTERM');
      if (code !== 0) throw new Error(`nbt daemon exited ${code}: ${JSON.stringify(d.log.slice(-5))}`);
    },
  };
}

async function startTransmission(configDir: string): Promise<Side> {
  const t = await TransmissionPeer.start({ configDir });
  return {
    pid: t.proc.pid!,
    rpc: (method, args = {}) => t.rpc(method, args),
    stop: () => t.terminate(),
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function rssKB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no RSS for ${pid}`);
  return Number(m[1]);
}

/** utime + stime of a process from /proc (clock ticks of 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function commandExists(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
