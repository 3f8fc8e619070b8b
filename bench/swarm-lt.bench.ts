/**
 * One of our clients as one of 8 leechers (the other 7 libtorrent) around a libtorrent seed
 * (upload-limited, so leechers must trade), all meeting through opentracker on loopback:
 * our finish time over the libtorrent leechers' median, and what we uploaded while leeching
 * over their median. NBT_BENCH_MB sets the size (default 64), NBT_BENCH_SEED_RATE the seed's
 * upload limit in bytes/s (default 8 MB/s), NBT_BENCH_SLOTS our unchoke slots (N or auto).
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { Client } from '../src/client/index.js';
import { LtPeer, peerInstalled } from '../test/helpers/real-peers.js';
import { OpenTracker } from '../test/helpers/opentracker.js';
import { makeTorrent } from '../test/helpers/mktorrent.js';
import { freePort, tempDir } from '../test/helpers/tmp.js';
import { until, waitAuthorised } from '../test/interop/tracker-swarm.js';
import type { Reporter } from './harness.js';

const LT_LEECHERS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function run(report: Reporter): Promise<void> {
  for (const p of ['libtorrent', 'opentracker', 'mktorrent'] as const)
    if (!peerInstalled(p)) {
      report.note(`${p} not installed: skipped`);
      return;
    }
  const mb = Number(process.env.NBT_BENCH_MB ?? 64);
  const seedRate = Number(process.env.NBT_BENCH_SEED_RATE ?? 8_000_000);
  const tmp = await tempDir('nbt-bench-swarm-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/announce`;
  const made = await makeTorrent(tmp.path, { announce: url, size: mb << 20, pieceLog2: 18 });
  const ot = new OpenTracker(port, [made.infoHashHex]);
  const lts: LtPeer[] = [];
  let client: Client | undefined;
  try {
    await ot.ready();
    await waitAuthorised(ot.announceUrl, made.metainfo.infoHash);
    const seed = new LtPeer('seed', made.torrentPath, made.dataDir, { uploadLimit: seedRate });
    lts.push(seed);
    await seed.port();
    await ot.waitForSeeders(made.infoHashHex, 1, 20_000);

    const t0 = Date.now();
    const ltDone: { seconds: number; up: number }[] = [];
    const leeches = await Promise.all(
      Array.from({ length: LT_LEECHERS }, async (_, i) => {
        const dir = join(tmp.path, `lt${i}`);
        await mkdir(dir, { recursive: true });
        const l = new LtPeer('leech', made.torrentPath, dir, { timeout: 600 });
        lts.push(l);
        return l;
      }),
    );
    const slots = process.env.NBT_BENCH_SLOTS;
    client = new Client({
      host: '127.0.0.1',
      dht: false,
      limits: {
        maxPerHost: 64,
        ...(slots ? { unchokeSlots: slots === 'auto' ? ('auto' as const) : Number(slots) } : {}),
      },
    });
    await client.listen(0);
    const ours = await client.addTorrent(made.torrentPath, { savePath: join(tmp.path, 'ours') });
    let ourSeconds = 0;
    let ourUp = 0;
    ours.on('state', (s) => {
      if (s !== 'seeding' || ourSeconds) return;
      ourSeconds = (Date.now() - t0) / 1000;
      ourUp = ours.stats().sessionUploaded;
    });
    await Promise.all(
      leeches.map(async (l) => {
        const e = await l.waitFor('done', 600_000);
        ltDone.push({ seconds: (Date.now() - t0) / 1000, up: Number(e.total_up) });
      }),
    );
    await until(() => ourSeconds > 0, 600_000, 'our leech done');
    const ltTime = median(ltDone.map((d) => d.seconds));
    const ltUp = median(ltDone.map((d) => d.up));
    const rank = ltDone.filter((d) => d.seconds < ourSeconds).length + 1;
    report.figure('8-leecher swarm: our finish time / libtorrent median', ourSeconds / ltTime, 'x', {
      target: '<= 1.0',
      note: `${ourSeconds.toFixed(1)} s vs ${ltTime.toFixed(1)} s, we finished ${rank} of 8, ${mb} MiB`,
    });
    report.figure('8-leecher swarm: our upload / libtorrent median upload', ourUp / ltUp, 'x', {
      target: '>= 0.8',
      note: `${(ourUp / 2 ** 20).toFixed(1)} MiB vs ${(ltUp / 2 ** 20).toFixed(1)} MiB`,
    });
  } finally {
    await client?.close();
    await Promise.all(lts.map((l) => l.kill()));
    await ot.kill();
    await tmp.cleanup();
  }
}
