/**
 * BEP 52 downloads against libtorrent on loopback: the same NBT_BENCH_MB MiB (default 1 GiB, 1 MiB
 * pieces) as a v1, a v2-only and a hybrid torrent, each downloaded from a libtorrent seed by a
 * libtorrent leech and by us, alternating NBT_BENCH_RUNS times (default 3; medians compared).
 * Figures: our wall and CPU against libtorrent's in the same run, against our own v1 figure, and
 * our main thread's own CPU time, which shows where hashing ran.
 * NBT_HASH_OFFLOAD passes hash_offload_utilization to our leech (0 = every piece to the pool),
 * NBT_LEECH_SETTINGS more settings as JSON; NBT_BENCH_VERSIONS (e.g. "v1,hybrid") picks versions.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ltPeerScript, peerInstalled } from '../test/helpers/real-peers.js';
import { median, startSeed, summarise, warmUp, type Runs } from './download.bench.js';
import { HashPool } from '../src/hash/index.js';
import { createTorrent, parseTorrent } from '../src/metainfo/index.js';
import { merklePieces } from '../src/torrent/verification.js';
import {
  mainThreadCpu,
  measureProcess,
  writeBenchData,
  type ProcessMeasure,
  type Reporter,
} from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'leech-child.js');

const VERSIONS = [
  [1, 'v1'],
  [2, 'v2'],
  ['hybrid', 'hybrid'],
] as const;

/** The main thread's CPU seconds our leech printed with its "done" line. */
function mainCpu(m: ProcessMeasure): number {
  const line = m.stdout.split('\n').find((l) => /"event":\s*"done"/.test(l));
  return line ? Number((JSON.parse(line) as { mainCpu?: number }).mainCpu ?? NaN) : NaN;
}

export async function run(report: Reporter): Promise<void> {
  if (!peerInstalled('libtorrent')) {
    report.note('libtorrent is not installed: skipped');
    return;
  }
  const mb = Number(process.env.NBT_BENCH_MB ?? 1024);
  const runs = Math.max(1, Number(process.env.NBT_BENCH_RUNS ?? 3));
  const offload = process.env.NBT_HASH_OFFLOAD;
  const only = process.env.NBT_BENCH_VERSIONS?.split(',');
  const root = join(tmpdir(), `nbt-bench-download-v2-${process.pid}`);
  const seedDir = join(root, 'seed');
  const py = '/usr/bin/python3';
  try {
    await writeBenchData(seedDir, mb, join(root, 'dir.torrent'));
    // All three of the one file (a v2 torrent of a directory holding one file is a single-file
    // torrent, so the v1 one is made the same way for a like-for-like comparison).
    for (const [version, tag] of VERSIONS) {
      const file = join(seedDir, 'data', 'data.bin');
      const { torrent } = await createTorrent(file, { pieceLength: 1 << 20, date: false, version });
      await writeFile(join(root, `${tag}.torrent`), torrent);
    }
    report.note(
      `${mb} MiB in 1 MiB pieces, loopback, plaintext, median of ${runs} alternating runs after a warm-up run` +
        (offload !== undefined ? `, hash_offload_utilization ${offload}` : ''),
    );
    await verifyOffMainThread(report, join(root, 'v2.torrent'), join(seedDir, 'data', 'data.bin'));
    const clean = (d: string): Promise<void> => rm(join(root, d), { recursive: true, force: true });
    let v1: (Runs & { mainCpu: number }) | undefined;
    for (const [, tag] of VERSIONS) {
      if (only && !only.includes(tag)) continue;
      const torrentPath = join(root, `${tag}.torrent`);
      const seed = await startSeed(py, [
        ltPeerScript,
        'seed',
        torrentPath,
        join(seedDir, 'data'),
        '--enc',
        'disabled',
      ]);
      const ltRuns: ProcessMeasure[] = [];
      const myRuns: ProcessMeasure[] = [];
      const ltLeech = (): Promise<ProcessMeasure> =>
        measureProcess(
          py,
          [
            ltPeerScript,
            'leech',
            torrentPath,
            join(root, 'lt'),
            '--enc',
            'disabled',
            '--connect',
            `127.0.0.1:${seed.port}`,
          ],
          { timeoutMs: 600_000 },
        );
      try {
        await warmUp(ltLeech, () => clean('lt'));
        for (let i = 0; i < runs; i++) {
          ltRuns.push(await ltLeech());
          await clean('lt');
          myRuns.push(
            await measureProcess(
              process.execPath,
              [child, torrentPath, join(root, 'ours'), 'disabled', String(seed.port)],
              {
                timeoutMs: 600_000,
                env: {
                  NBT_TRANSPORT: 'tcp',
                  ...(offload !== undefined ? { NBT_HASH_OFFLOAD: offload } : {}),
                },
              },
            ),
          );
          await clean('ours');
        }
      } finally {
        await seed.stop();
      }
      const lt = summarise(ltRuns);
      const me = { ...summarise(myRuns), mainCpu: median(myRuns.map(mainCpu)) };
      const all = (ms: ProcessMeasure[]): string => ms.map((m) => m.wallSeconds.toFixed(2)).join(' ');
      const name = (s: string): string => `download ${tag}: ${s}`;
      report.figure(name('libtorrent leech wall'), lt.wall, 's', { note: `runs ${all(ltRuns)}` });
      report.figure(name('our wall'), me.wall, 's', { note: `runs ${all(myRuns)}` });
      report.figure(name('our wall / libtorrent wall'), me.wall / lt.wall, 'x', { target: '<= 1.0' });
      report.figure(name('libtorrent CPU'), lt.cpu, 's');
      report.figure(name('our CPU'), me.cpu, 's');
      report.figure(name('our CPU / libtorrent CPU'), me.cpu / lt.cpu, 'x', { target: '<= 1.2' });
      report.figure(name('our main-thread CPU'), me.mainCpu, 's', { note: 'hash workers excluded' });
      report.figure(name('our peak RSS'), me.rss, 'MB', { target: '<= 150' });
      if (!v1) {
        v1 = me;
        continue;
      }
      report.figure(name('our wall / our v1 wall'), me.wall / v1.wall, 'x');
      report.figure(name('our CPU / our v1 CPU'), me.cpu / v1.cpu, 'x');
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * What verifying the v2 pieces costs the main thread: every piece hashed here (incrementally,
 * the default while the main thread has room) vs handed to the worker pool (Merkle jobs, what
 * hash_offload_utilization sends there), measured in this process.
 */
async function verifyOffMainThread(report: Reporter, torrentPath: string, file: string): Promise<void> {
  const m = parseTorrent(await readFile(torrentPath));
  const v = merklePieces(m);
  // In shared memory, as the downloader's piece buffers are whenever the pool may hash them.
  const bytes = await readFile(file);
  const data = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(data);
  const pool = new HashPool();
  try {
    pool.warmUp();
    const piece = (i: number): Buffer => data.subarray(i * m.pieceLength, (i + 1) * m.pieceLength);
    let c0 = mainThreadCpu();
    for (let i = 0; i < m.pieceCount; i++) {
      const h = v.hasher(i);
      h.update(piece(i));
      if (!v.matches(i, h.digest())) throw new Error(`piece ${i} failed`);
    }
    const here = mainThreadCpu() - c0;
    c0 = mainThreadCpu();
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < m.pieceCount; i++)
      jobs.push(
        v.poolDigest(pool, i, piece(i)).then((d) => {
          if (!v.matches(i, d)) throw new Error(`piece ${i} failed in the pool`);
        }),
      );
    await Promise.all(jobs);
    const pooled = mainThreadCpu() - c0;
    report.figure('verify v2 pieces: main-thread CPU hashing here', here, 's', {
      note: `${m.pieceCount} pieces`,
    });
    report.figure('verify v2 pieces: main-thread CPU with the pool', pooled, 's', {
      note: 'shared buffers: hand-off only',
    });
  } finally {
    await pool.close();
  }
}
