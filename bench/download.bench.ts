/**
 * The engine against libtorrent on loopback, 1 GiB in 1 MiB pieces:
 *  - download from a libtorrent seed: our process vs a libtorrent leech (wall, CPU, peak RSS);
 *  - the same with RC4 forced on both sides;
 *  - seeding to a libtorrent leech: its time when we seed vs when libtorrent seeds.
 * Each downloader is a separate process measured with GNU time. The two sides alternate
 * NBT_BENCH_RUNS times (default 3) and medians are compared, since a shared 2-core machine is
 * noisy. NBT_BENCH_MB sets the size.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ltPeerScript, peerInstalled } from '../test/helpers/real-peers.js';
import { writeBenchData, measureProcess, type ProcessMeasure, type Reporter } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'leech-child.js');

interface Seed {
  port: number;
  stop: () => Promise<void>;
}

/** Starts a long-running seed process and waits for its {"event":"listening"} line. */
export function startSeed(cmd: string, args: string[]): Promise<Seed> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  const stop = async (): Promise<void> => {
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`seed ${cmd} did not start`));
    }, 120_000);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /"event":\s*"listening".*"port":\s*(\d+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve({ port: Number(m[1]), stop });
    });
    proc.on('exit', () => reject(new Error(`seed ${cmd} exited`)));
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Runs {
  wall: number;
  cpu: number;
  rss: number;
  transfer: number;
}

export function summarise(ms: ProcessMeasure[]): Runs {
  return {
    wall: median(ms.map((m) => m.wallSeconds)),
    cpu: median(ms.map((m) => m.cpuSeconds)),
    rss: Math.max(...ms.map((m) => m.maxRssMB)),
    transfer: median(ms.map(doneSeconds)),
  };
}

/**
 * One leech run not counted: the first download from a freshly started libtorrent seed took
 * 4.2–6.5 s against 2.5–4.3 s for the later ones (its storage warming up), and the leech that
 * went first, always libtorrent's, paid for it.
 */
export async function warmUp(
  leech: () => Promise<ProcessMeasure>,
  clean: () => Promise<unknown>,
): Promise<void> {
  doneSeconds(await leech());
  await clean();
}

export function doneSeconds(m: ProcessMeasure): number {
  const line = m.stdout.split('\n').find((l) => /"event":\s*"done"/.test(l));
  if (!line || m.code !== 0) throw new Error(`downloader failed (exit ${m.code}): ${m.stdout.slice(-500)}`);
  return Number((JSON.parse(line) as { seconds: number }).seconds);
}

export async function run(report: Reporter): Promise<void> {
  if (!peerInstalled('libtorrent')) {
    report.note('libtorrent is not installed: skipped');
    return;
  }
  const mb = Number(process.env.NBT_BENCH_MB ?? 1024);
  const runs = Math.max(1, Number(process.env.NBT_BENCH_RUNS ?? 3));
  const root = join(tmpdir(), `nbt-bench-download-${process.pid}`);
  const seedDir = join(root, 'seed');
  const torrentPath = join(root, 'data.torrent');
  try {
    await writeBenchData(seedDir, mb, torrentPath);
    report.note(
      `${mb} MiB in 1 MiB pieces, loopback, median of ${runs} alternating runs after a warm-up run`,
    );

    const py = '/usr/bin/python3';
    const ltLeech = (dir: string, port: number, enc: string): Promise<ProcessMeasure> =>
      measureProcess(
        py,
        [ltPeerScript, 'leech', torrentPath, join(root, dir), '--enc', enc, '--connect', `127.0.0.1:${port}`],
        {
          timeoutMs: 600_000,
        },
      );
    const ours = (dir: string, port: number, enc: string): Promise<ProcessMeasure> =>
      measureProcess(process.execPath, [child, torrentPath, join(root, dir), enc, String(port)], {
        timeoutMs: 600_000,
        env: { NBT_TRANSPORT: 'tcp' },
      });
    const clean = (...dirs: string[]): Promise<void[]> =>
      Promise.all(dirs.map((d) => rm(join(root, d), { recursive: true, force: true })));

    for (const [label, ltEnc, ourEnc] of [
      ['plaintext', 'disabled', 'disabled'],
      ['RC4 forced', 'forced', 'required'],
    ] as const) {
      const seed = await startSeed(py, [ltPeerScript, 'seed', torrentPath, seedDir, '--enc', ltEnc]);
      try {
        const ltRuns: ProcessMeasure[] = [];
        const myRuns: ProcessMeasure[] = [];
        await warmUp(
          () => ltLeech('lt', seed.port, ltEnc),
          () => clean('lt'),
        );
        for (let i = 0; i < runs; i++) {
          ltRuns.push(await ltLeech('lt', seed.port, ltEnc));
          await clean('lt');
          myRuns.push(await ours('ours', seed.port, ourEnc));
          await clean('ours');
        }
        const lt = summarise(ltRuns);
        const me = summarise(myRuns);
        const ltSecs = lt.transfer;
        const tag = label === 'plaintext' ? '' : ` (${label})`;
        const all = (ms: ProcessMeasure[]): string => ms.map((m) => m.wallSeconds.toFixed(2)).join(' ');
        report.figure(`download${tag}: libtorrent leech wall`, lt.wall, 's', { note: `runs ${all(ltRuns)}` });
        report.figure(`download${tag}: our wall`, me.wall, 's', { note: `runs ${all(myRuns)}` });
        report.figure(`download${tag}: our wall / libtorrent wall`, me.wall / lt.wall, 'x', {
          target: '<= 1.0',
        });
        report.figure(`download${tag}: libtorrent CPU`, lt.cpu, 's');
        report.figure(`download${tag}: our CPU`, me.cpu, 's');
        report.figure(`download${tag}: our CPU / libtorrent CPU`, me.cpu / lt.cpu, 'x', { target: '<= 1.2' });
        report.figure(`download${tag}: our peak RSS`, me.rss, 'MB', { target: '<= 150' });
        if (label === 'plaintext') {
          // Seeding: the same libtorrent leech, fed by libtorrent (above) and then by us.
          await seed.stop();
          const mine = await startSeed(process.execPath, [child, torrentPath, seedDir, 'disabled', '--seed']);
          try {
            const fedRuns: number[] = [];
            await warmUp(
              () => ltLeech('lt2', mine.port, 'disabled'),
              () => clean('lt2'),
            );
            for (let i = 0; i < runs; i++) {
              fedRuns.push(doneSeconds(await ltLeech('lt2', mine.port, 'disabled')));
              await clean('lt2');
            }
            const fedSecs = median(fedRuns);
            report.figure('seed: libtorrent leech time, libtorrent seeding', ltSecs, 's', {
              note: 'median transfer',
            });
            report.figure('seed: libtorrent leech time, us seeding', fedSecs, 's', {
              note: `runs ${fedRuns.map((x) => x.toFixed(2)).join(' ')}`,
            });
            report.figure('seed: leech time with us / with libtorrent', fedSecs / ltSecs, 'x', {
              target: '<= 1.0',
            });
          } finally {
            await mine.stop();
          }
        }
      } finally {
        await seed.stop();
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
