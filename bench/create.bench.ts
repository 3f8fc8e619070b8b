/**
 * Torrent creation speed against mktorrent on the same 1 GiB file and piece length, and
 * .torrent parsing throughput for a large multi-file torrent.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../src/bencode/index.js';
import { parseTorrent } from '../src/metainfo/index.js';
import { fastest, measureNbtCreate, writeTestFile } from './create-common.js';
import { measureProcess, type ProcessMeasure, type Reporter } from './harness.js';

const GiB = 1 << 30;

export async function run(report: Reporter): Promise<void> {
  await createVsMktorrent(report);
  await parseThroughput(report);
}

async function createVsMktorrent(report: Reporter): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v mktorrent'], { stdio: 'ignore' }).status !== 0) {
    report.note('mktorrent is not installed: skipping the creation comparison');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'nbt-bench-create-'));
  try {
    const file = join(dir, 'one-gib.bin');
    await writeTestFile(file, GiB);
    const threads = availableParallelism();
    const ours = join(dir, 'ours.torrent');
    const theirs = join(dir, 'theirs.torrent');
    const runOurs = (): Promise<ProcessMeasure> => measureNbtCreate(file, ours, threads, 300_000);
    const runTheirs = async (): Promise<ProcessMeasure> => {
      await rm(theirs, { force: true });
      return measureProcess('mktorrent', ['-l', '20', '-t', String(threads), '-d', '-o', theirs, file], {
        timeoutMs: 300_000,
      });
    };
    // Warm the page cache, then alternate runs and keep each side's best.
    spawnSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=8M'], { stdio: 'ignore' });
    const mine: ProcessMeasure[] = [];
    const mk: ProcessMeasure[] = [];
    for (let i = 0; i < 3; i++) {
      mk.push(await runTheirs());
      mine.push(await runOurs());
    }
    for (const m of [...mine, ...mk])
      if (m.code !== 0) throw new Error(`a creation run failed (exit ${m.code})`);
    const same =
      parseTorrent(await readFile(ours)).infoHashHex === parseTorrent(await readFile(theirs)).infoHashHex;
    if (!same) throw new Error("our info-hash differs from mktorrent's for the same file and piece length");
    const o = fastest(mine);
    const t = fastest(mk);
    report.figure('create 1 GiB, 1 MiB pieces: nbt wall time', o.wallSeconds, 's');
    report.figure('create 1 GiB, 1 MiB pieces: mktorrent wall time', t.wallSeconds, 's', {
      note: `-t ${threads}`,
    });
    report.figure('create 1 GiB: nbt time / mktorrent time', o.wallSeconds / t.wallSeconds, 'x', {
      target: '<= 1.3',
    });
    report.figure('create 1 GiB: nbt CPU time', o.cpuSeconds, 's', {
      note: `mktorrent ${t.cpuSeconds.toFixed(2)} s`,
    });
    report.figure('create 1 GiB: nbt peak RSS', o.maxRssMB, 'MB', {
      note: `mktorrent ${t.maxRssMB.toFixed(0)} MB`,
    });
    report.note(
      `info-hashes identical: ${same}; best of 3 alternating runs each; load average ${loadavg()[0]!.toFixed(1)} on ${threads} CPUs`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function parseThroughput(report: Reporter): Promise<void> {
  const files = Array.from({ length: 10_000 }, (_, i) => ({
    length: 100_000 + i,
    path: ['season ' + String(i % 10), `directory ${i % 97}`, `file number ${i}.dat`],
  }));
  const total = files.reduce((s, f) => s + f.length, 0);
  const pieceLength = 1 << 20;
  const torrent = encode({
    announce: 'http://tracker.example/announce',
    info: {
      files,
      name: 'big collection',
      'piece length': pieceLength,
      pieces: Buffer.alloc(Math.ceil(total / pieceLength) * 20, 1),
    },
  });
  parseTorrent(torrent); // warm up
  let n = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < 3) {
    parseTorrent(torrent);
    n++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const size = `${(torrent.length / 1024).toFixed(0)} KiB each`;
  report.figure('parse a 10k-file torrent (wall)', n / elapsed, 'torrents/s', { note: size });
  // Other processes share the machine; CPU time shows our own cost.
  report.figure('parse a 10k-file torrent (CPU)', n / cpuSeconds, 'torrents/CPU-s');
  await Promise.resolve();
}
