/**
 * Benchmark plumbing: each bench/*.bench.ts exports `run(report)`; figures are printed as
 * they come and gathered into one JSON summary at the end.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '../src/bencode/index.js';
import { createTorrent } from '../src/metainfo/index.js';
import { seededBytes } from '../test/helpers/tmp.js';

export interface Figure {
  bench: string;
  name: string;
  value: number;
  unit: string;
  /** A target the figure is compared with, e.g. '<= 1.0'. */
  target?: string;
  note?: string;
}

export class Reporter {
  readonly figures: Figure[] = [];
  constructor(private readonly bench: string) {}

  figure(name: string, value: number, unit: string, extra: { target?: string; note?: string } = {}): void {
    const f: Figure = { bench: this.bench, name, value, unit, ...extra };
    this.figures.push(f);
    const v = Number.isInteger(value) ? String(value) : value.toFixed(3);
    const tgt = f.target ? `   (target ${f.target})` : '';
    process.stdout.write(
      `  ${name.padEnd(58)} ${v.padStart(12)} ${unit}${tgt}${f.note ? `  ${f.note}` : ''}\n`,
    );
  }

  note(text: string): void {
    process.stdout.write(`  ${text}\n`);
  }
}

export interface ProcessMeasure {
  code: number | null;
  wallSeconds: number;
  /** user + system CPU seconds of the child and its children. */
  cpuSeconds: number;
  maxRssMB: number;
  stdout: string;
}

/**
 * Runs a command under GNU time (Debian package `time`), which reports the child's wall time,
 * user + system CPU and peak RSS.
 */
export function measureProcess(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<ProcessMeasure> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '__TIME__ %e %U %S %M', cmd, ...args], {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20000)));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      const m = /__TIME__ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({
        code,
        wallSeconds: m ? Number(m[1]) : wall,
        cpuSeconds: m ? Number(m[2]) + Number(m[3]) : NaN,
        maxRssMB: m ? Number(m[4]) / 1024 : NaN,
        stdout: out,
      });
    });
  });
}

/**
 * The benches' seed data: `mb` MiB of seeded bytes in `<seedDir>/data/data.bin` (written 16 MiB
 * at a time) and its torrent (1 MiB pieces, no date) at `torrentPath`; returns the torrent.
 */
export async function writeBenchData(seedDir: string, mb: number, torrentPath: string): Promise<Buffer> {
  await mkdir(join(seedDir, 'data'), { recursive: true });
  const fh = await open(join(seedDir, 'data', 'data.bin'), 'w');
  try {
    for (let i = 0; i < mb; i += 16) await fh.write(seededBytes(Math.min(16, mb - i) << 20, i + 1));
  } finally {
    await fh.close();
  }
  const { torrent } = await createTorrent(join(seedDir, 'data'), { pieceLength: 1 << 20, date: false });
  await writeFile(torrentPath, torrent);
  return torrent;
}

/** Single-file torrents t0000.torrent… over distinct random data files t0000.bin… in dataDir. */
export async function writeSmallTorrents(
  torrentsDir: string,
  dataDir: string,
  n: number,
  bytesEach: number,
  pieceLength: number,
): Promise<void> {
  await mkdir(torrentsDir, { recursive: true });
  await mkdir(dataDir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const name = `t${String(i).padStart(4, '0')}.bin`;
    const bytes = randomBytes(bytesEach);
    const hashes: Buffer[] = [];
    for (let p = 0; p < bytes.length; p += pieceLength)
      hashes.push(
        createHash('sha1')
          .update(bytes.subarray(p, p + pieceLength))
          .digest(),
      );
    await writeFile(join(dataDir, name), bytes);
    const info = { length: bytesEach, name, 'piece length': pieceLength, pieces: Buffer.concat(hashes) };
    await writeFile(join(torrentsDir, name.replace(/\.bin$/, '.torrent')), encode({ info }));
  }
}

/**
 * The calling process's main-thread user + system CPU seconds (worker threads excluded): Linux
 * keeps them per thread in /proc/self/task/<tid>/stat (fields 14 and 15, in ticks of 1/100 s);
 * the main thread's id is the pid. Elsewhere the event loop's busy time stands in.
 */
export function mainThreadCpu(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return performance.eventLoopUtilization().active / 1000;
  }
}
