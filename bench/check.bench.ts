/**
 * Hash check of 1 GiB (1 MiB pieces, warm page cache): ours (FileStorage + checkStorage on the
 * worker pool, run as a child process for CPU and RSS figures) against libtorrent 2.0's check,
 * measured in the same run on the same files. Target: ours <= 0.8 x libtorrent's time.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '../src/bencode/index.js';
import { measureProcess, type Reporter } from './harness.js';
import { tempDir } from '../test/helpers/tmp.js';
import { ltPeerScript, peerInstalled } from '../test/helpers/real-peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const SIZE = Number(process.env.NBT_CHECK_BENCH_BYTES ?? 1 << 30);
const PIECE = 1 << 20;

export async function run(report: Reporter): Promise<void> {
  const dir = await tempDir('nbt-bench-check-');
  try {
    const name = 'data.bin';
    const fh = await open(join(dir.path, name), 'w');
    const hashes: Buffer[] = [];
    const chunk = Buffer.allocUnsafe(64 << 20);
    for (let off = 0; off < SIZE; off += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, SIZE - off));
      randomFillSync(part);
      for (let p = 0; p < part.length; p += PIECE)
        hashes.push(
          createHash('sha1')
            .update(part.subarray(p, p + PIECE))
            .digest(),
        );
      await fh.write(part, 0, part.length, off);
    }
    await fh.close();
    const torrent = join(dir.path, 'bench.torrent');
    await writeFile(
      torrent,
      encode({ info: { length: SIZE, name, 'piece length': PIECE, pieces: Buffer.concat(hashes) } }),
    );
    const pieces = hashes.length;
    report.note(`${(SIZE / 2 ** 30).toFixed(2)} GiB, ${pieces} pieces of 1 MiB, warm page cache`);

    // Best of two runs each, alternating, so neither side pays for a cold cache.
    let lt: number | undefined;
    let ours: { seconds: number; cpu: number; rss: number } | undefined;
    for (let round = 0; round < 2; round++) {
      if (peerInstalled('libtorrent')) {
        const m = await measureProcess('/usr/bin/python3', [ltPeerScript, 'check', torrent, dir.path], {
          timeoutMs: 120_000,
        });
        const done = parseDone(m.stdout);
        if (done && (lt === undefined || done.seconds < lt)) lt = done.seconds;
      }
      const m = await measureProcess(process.execPath, [join(here, 'check-child.js'), torrent, dir.path], {
        timeoutMs: 120_000,
      });
      const done = parseDone(m.stdout);
      if (!done || done.good !== pieces) throw new Error(`our check failed: ${m.stdout}`);
      if (!ours || done.seconds < ours.seconds)
        ours = { seconds: done.seconds, cpu: m.cpuSeconds, rss: m.maxRssMB };
    }
    report.figure('check 1 GiB: ours', ours!.seconds, 's');
    report.figure('check 1 GiB: ours, CPU (user+sys)', ours!.cpu, 's');
    report.figure('check 1 GiB: ours, peak RSS', ours!.rss, 'MB');
    report.figure('check 1 GiB: ours, throughput', SIZE / 2 ** 20 / ours!.seconds, 'MiB/s');
    if (lt !== undefined) {
      report.figure('check 1 GiB: libtorrent 2.0', lt, 's');
      report.figure('check 1 GiB: ours / libtorrent', ours!.seconds / lt, 'x', { target: '<= 0.8' });
    } else report.note('libtorrent not installed: no comparison');
  } finally {
    await dir.cleanup();
  }
}

function parseDone(stdout: string): { seconds: number; good?: number } | undefined {
  for (const line of stdout.split('\n')) {
    try {
      const e = JSON.parse(line) as { event?: string; seconds?: number; good?: number };
      if (e.event === 'done' && typeof e.seconds === 'number') return { seconds: e.seconds, good: e.good };
    } catch {
      // not JSON
    }
  }
  return undefined;
}
