/**
 * BEP 52 creation speed against libtorrent's create_torrent (test/peers/lt_create.py) on the
 * same NBT_BENCH_MB MiB file (default 1 GiB) with 1 MiB pieces, v2-only and hybrid: `nbt create
 * --v2 / --hybrid` as a process vs the Python script as a process, best of NBT_BENCH_RUNS
 * (default 3) alternating runs each. The info-hashes must agree.
 */
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTorrent } from '../src/metainfo/index.js';
import { peerInstalled, peersDir } from '../test/helpers/real-peers.js';
import { fastest, measureNbtCreate, writeTestFile } from './create-common.js';
import { measureProcess, type ProcessMeasure, type Reporter } from './harness.js';

const ltCreate = join(peersDir, 'lt_create.py');

export async function run(report: Reporter): Promise<void> {
  if (!peerInstalled('libtorrent')) {
    report.note('libtorrent is not installed: skipped');
    return;
  }
  const mb = Number(process.env.NBT_BENCH_MB ?? 1024);
  const runs = Math.max(1, Number(process.env.NBT_BENCH_RUNS ?? 3));
  const dir = await mkdtemp(join(tmpdir(), 'nbt-bench-create-v2-'));
  try {
    const file = join(dir, 'data.bin');
    await writeTestFile(file, mb << 20);
    spawnSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=8M'], { stdio: 'ignore' }); // page cache warm
    const threads = availableParallelism();
    for (const [flag, version] of [
      ['--v2', '2'],
      ['--hybrid', 'hybrid'],
    ] as const) {
      const ours = join(dir, `ours-${version}.torrent`);
      const theirs = join(dir, `lt-${version}.torrent`);
      const mine: ProcessMeasure[] = [];
      const lt: ProcessMeasure[] = [];
      for (let i = 0; i < runs; i++) {
        lt.push(
          await measureProcess(
            '/usr/bin/python3',
            [ltCreate, 'create', file, theirs, '--version', version, '--piece-length', String(1 << 20)],
            { timeoutMs: 600_000 },
          ),
        );
        mine.push(await measureNbtCreate(file, ours, threads, 600_000, [flag]));
      }
      for (const m of [...mine, ...lt]) if (m.code !== 0) throw new Error(`a ${version} creation run failed`);
      const a = parseTorrent(await readFile(ours));
      const b = parseTorrent(await readFile(theirs));
      const hex = (m: ReturnType<typeof parseTorrent>): string =>
        `${m.infoHashes.v1?.toString('hex') ?? '-'} ${m.infoHashes.v2?.toString('hex') ?? '-'}`;
      const same = hex(a) === hex(b);
      if (!same) throw new Error(`our ${version} info-hash differs from libtorrent's for the same file`);
      const o = fastest(mine);
      const t = fastest(lt);
      const tag = version === '2' ? 'v2' : 'hybrid';
      report.figure(`create ${mb} MiB ${tag}: nbt wall time`, o.wallSeconds, 's', {
        note: `--threads ${threads}`,
      });
      report.figure(`create ${mb} MiB ${tag}: libtorrent wall time`, t.wallSeconds, 's');
      report.figure(`create ${tag}: nbt time / libtorrent time`, o.wallSeconds / t.wallSeconds, 'x', {
        target: '<= 1.0',
      });
      report.figure(`create ${tag}: nbt CPU time`, o.cpuSeconds, 's', {
        note: `libtorrent ${t.cpuSeconds.toFixed(2)} s`,
      });
      report.figure(`create ${tag}: nbt peak RSS`, o.maxRssMB, 'MB', {
        note: `libtorrent ${t.maxRssMB.toFixed(0)} MB`,
      });
    }
    report.note(
      `info-hashes identical to libtorrent's; best of ${runs} alternating runs; load average ${loadavg()[0]!.toFixed(1)} on ${threads} CPUs`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
