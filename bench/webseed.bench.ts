/**
 * Web seed download from nginx alone (NBT_BENCH_WEBSEED_MB, default 256 MiB, one file in 1 MiB
 * pieces, loopback), one run each in one process run so the ratios compare like with like:
 *  - our client, no peers, from the torrent's url-list: wall, CPU, peak RSS;
 *  - aria2c -x4 -s4 fetching the same URL as a plain HTTP download: our wall / its wall;
 *  - a libtorrent leech from the same web seed: our wall / its wall.
 */
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent } from '../src/metainfo/index.js';
import { ltPeerScript, peerInstalled } from '../test/helpers/real-peers.js';
import { shareWithNginx, startNginx } from '../test/helpers/nginx.js';
import { writeBenchData, measureProcess, type ProcessMeasure, type Reporter } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'leech-child.js');

function doneSeconds(m: ProcessMeasure): number {
  const line = m.stdout.split('\n').find((l) => l.includes('"done"'));
  const s = line ? (JSON.parse(line) as { seconds?: number }).seconds : undefined;
  return typeof s === 'number' ? s : m.wallSeconds;
}

export async function run(report: Reporter): Promise<void> {
  if (!peerInstalled('nginx') || !peerInstalled('aria2')) {
    report.note('nginx or aria2 is not installed: skipped');
    return;
  }
  const mb = Number(process.env.NBT_BENCH_WEBSEED_MB ?? 256);
  const root = join(tmpdir(), `nbt-bench-webseed-${process.pid}`);
  const seedDir = join(root, 'seed');
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    await writeBenchData(seedDir, mb, join(root, 'plain.torrent'));
    await shareWithNginx([root, seedDir, join(seedDir, 'data')]);
    nginx = await startNginx({ root: seedDir });
    const url = `${nginx.origin}/data/data.bin`;
    const { torrent } = await createTorrent(join(seedDir, 'data', 'data.bin'), {
      pieceLength: 1 << 20,
      date: false,
      webSeeds: [url],
    });
    const torrentPath = join(root, 'webseed.torrent');
    await writeFile(torrentPath, torrent);
    report.note(`${mb} MiB in 1 MiB pieces from nginx on loopback (${url}), one run each`);

    const ours = await measureProcess(
      process.execPath,
      [child, torrentPath, join(root, 'ours'), 'disabled'],
      {
        timeoutMs: 600_000,
      },
    );
    if (ours.code !== 0) throw new Error(`our client failed: ${ours.stdout.slice(-2000)}`);
    await rm(join(root, 'ours'), { recursive: true, force: true });
    const ourSecs = doneSeconds(ours);
    report.figure('webseed: our download time', ourSecs, 's', { note: `${(mb / ourSecs).toFixed(0)} MiB/s` });
    report.figure('webseed: our CPU', ours.cpuSeconds, 's');
    report.figure('webseed: our peak RSS', ours.maxRssMB, 'MB');

    const aria = await measureProcess(
      'aria2c',
      [
        '-x4',
        '-s4',
        '-q',
        '--file-allocation=none',
        '--allow-overwrite=true',
        '-d',
        join(root, 'aria2'),
        '-o',
        'data.bin',
        url,
      ],
      { timeoutMs: 600_000 },
    );
    if (aria.code !== 0) throw new Error(`aria2c failed (${aria.code})`);
    await rm(join(root, 'aria2'), { recursive: true, force: true });
    report.figure('webseed: aria2c -x4 time (plain HTTP)', aria.wallSeconds, 's');
    report.figure('webseed: our time / aria2c -x4', ourSecs / aria.wallSeconds, 'x', { target: '<= 1.5' });

    if (peerInstalled('libtorrent')) {
      const lt = await measureProcess(
        '/usr/bin/python3',
        [ltPeerScript, 'leech', torrentPath, join(root, 'lt'), '--enc', 'disabled', '--timeout', '600'],
        { timeoutMs: 620_000 },
      );
      await rm(join(root, 'lt'), { recursive: true, force: true });
      if (lt.code === 0) {
        const ltSecs = doneSeconds(lt);
        report.figure('webseed: libtorrent leech time (same web seed)', ltSecs, 's');
        report.figure('webseed: our time / libtorrent', ourSecs / ltSecs, 'x', { target: '<= 1.0' });
      } else report.note(`libtorrent leech failed (${lt.code})`);
    }
  } finally {
    await nginx?.stop();
    await rm(root, { recursive: true, force: true });
  }
}
