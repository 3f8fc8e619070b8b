import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/index.js';
import { createTorrent } from '../../metainfo/index.js';
import type { Torrent } from '../../torrent/index.js';
import { TrackerServer } from '../../tracker/index.js';
import { NbtError } from '../../util/errors.js';
import { UsageError, parseCommandArgs, positionals } from '../args.js';
import { formatBytes, formatDuration, formatRate, parseSize } from '../format.js';
import { demoLayout, sameTree, writeDemoData } from '../swarm/demo-data.js';
import { parseEncryption } from '../swarm/options.js';
import { SwarmReporter, type OutputMode } from '../swarm/reporter.js';
import { interruptedCode, untilComplete } from '../swarm/run.js';
import type { CliIO, Command } from '../types.js';

const usage = `Usage: nbt demo [--size N] [--leechers N] [--encryption MODE] [--json] [--keep]

A whole swarm on loopback, to see the engine work: generates seeded data in a temporary
directory, makes a torrent, starts our tracker (HTTP and UDP, free ports), a seeding client
and N downloading clients that find each other through the tracker, shows the download,
checks every downloaded file byte for byte, and removes everything again.

Options:
  --size N              data size: bytes or 16M, 1G (default 96M; 1M..4G)
  --leechers N          downloading clients (default 2; 1..8)
  --piece-length N      piece size (default: about 512 pieces, 64K..4M)
  --encryption MODE     disabled | enabled (default) | required
  --timeout SECONDS     give up after SECONDS (default 60)
  --json                JSON lines (progress, peer connect/disconnect, summary)
  -q, --quiet           only the summary
  --keep                keep the temporary directory and print its path

Exit codes: 0 verified, 1 failure (not complete in time or not identical), 2 usage error,
130 interrupted.
`;

const SIZE_DEFAULT = 96 << 20;

function count(text: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} needs ${min}..${max}`);
  return n;
}

interface Member {
  name: string;
  client: Client;
  torrent: Torrent;
  reporter: SwarmReporter;
  savePath: string;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'a complete swarm on loopback: tracker, seed, leechers, verified download',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, {
      size: { type: 'string' },
      leechers: { type: 'string' },
      encryption: { type: 'string' },
      timeout: { type: 'string' },
      'piece-length': { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      keep: { type: 'boolean' },
    });
    positionals(pos, []);
    const size = values.size === undefined ? SIZE_DEFAULT : parseSize(values.size);
    if (size === undefined || size < 1 << 20 || size > 4 * 1024 ** 3)
      throw new UsageError(`--size needs 1M..4G, got "${values.size}"`);
    const leecherCount = count(values.leechers, 'leechers', 2, 1, 8);
    const timeoutS = count(values.timeout, 'timeout', 60, 1, 3600);
    const encryption = parseEncryption(values.encryption);
    let pieceLength: number | undefined;
    if (values['piece-length'] !== undefined) {
      pieceLength = parseSize(values['piece-length']);
      if (pieceLength === undefined || pieceLength < 16384 || (pieceLength & (pieceLength - 1)) !== 0)
        throw new UsageError('--piece-length needs a power of two of at least 16K');
    }
    const mode: OutputMode = values.json ? 'json' : values.quiet ? 'quiet' : 'text';
    return runDemo(io, {
      size,
      pieceLength,
      leecherCount,
      timeoutS,
      encryption,
      mode,
      keep: values.keep ?? false,
    });
  },
};

interface DemoSettings {
  size: number;
  pieceLength: number | undefined;
  leecherCount: number;
  timeoutS: number;
  encryption: 'disabled' | 'enabled' | 'required';
  mode: OutputMode;
  keep: boolean;
}

async function runDemo(io: CliIO, s: DemoSettings): Promise<number> {
  const started = Date.now();
  const say = (event: string, data: Record<string, unknown>, text: string): void => {
    if (s.mode === 'json') io.stdout.write(`${JSON.stringify({ event, ...data })}\n`);
    else if (s.mode === 'text') io.stdout.write(`${text}\n`);
  };
  const tmp = await mkdtemp(join(tmpdir(), 'nbt-demo-'));
  const cleanups: (() => Promise<unknown>)[] = [];
  const members: Member[] = [];
  try {
    // 1. Tracker on loopback, HTTP and UDP on free ports.
    const tracker = new TrackerServer({
      host: '127.0.0.1',
      http: { port: 0 },
      udp: { port: 0 },
      intervalS: 30,
    });
    await tracker.listen();
    cleanups.push(() => tracker.close());
    const urls = tracker.announceUrls('127.0.0.1');
    say('tracker', { ...urls }, `tracker: ${urls.http} and ${urls.udp}`);

    // 2. Data and torrent. One tier with both URLs: each client picks one at random (BEP 12).
    const files = demoLayout(s.size);
    const content = join(tmp, 'seed', 'nbt-demo');
    await writeDemoData(content, files, 1);
    const { torrent: torrentBytes, metainfo } = await createTorrent(content, {
      trackers: [[urls.http!, urls.udp!]],
      createdBy: `net-bittorrent ${io.version} demo`,
      // ~512 pieces: small pieces cost per-piece overhead, large ones make the swarm coarse.
      pieceLength:
        s.pieceLength ?? Math.min(4 << 20, Math.max(64 << 10, 2 ** Math.ceil(Math.log2(s.size / 512)))),
    });
    await writeFile(join(tmp, 'nbt-demo.torrent'), torrentBytes);
    say(
      'torrent',
      {
        infoHash: metainfo.infoHashHex,
        length: metainfo.length,
        files: files.length,
        pieceLength: metainfo.pieceLength,
        pieces: metainfo.pieceCount,
        dir: tmp,
      },
      `data: ${formatBytes(metainfo.length)} in ${files.length} files, ${metainfo.pieceCount} pieces of ` +
        `${formatBytes(metainfo.pieceLength)}, info-hash ${metainfo.infoHashHex}`,
    );

    // 3. The seed, then the leechers; they learn about each other only from the tracker.
    const join_ = async (name: string, savePath: string, seed: boolean): Promise<Member> => {
      const client = new Client({
        host: '127.0.0.1',
        encryption: s.encryption,
        limits: { maxPerHost: 16 }, // everyone is 127.0.0.1
        trackers: { stopTimeoutMs: 1_000, requestTimeoutMs: 5_000 },
        // Loopback only, and peers come from the tracker alone: no DHT (public routers), no PEX, no LSD.
        dht: false,
        pex: false,
        lsd: false,
      });
      cleanups.push(() => client.close());
      await client.listen(0, '127.0.0.1');
      const torrent = await client.addTorrent(torrentBytes, { savePath, skipCheck: seed });
      const announced = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new NbtError('DEMO_TRACKER', `${name}: no tracker answer in 10 s`)),
          10_000,
        );
        client.once('tracker-announce', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const reporter = new SwarmReporter(io.stdout, client, torrent, {
        mode: s.mode,
        verbose: io.verbose && name === 'leecher1',
        label: name,
      });
      const m = { name, client, torrent, reporter, savePath };
      members.push(m);
      await announced;
      return m;
    };
    await join_('seed', join(tmp, 'seed'), true);
    const leechers: Member[] = [];
    for (let i = 1; i <= s.leecherCount; i++)
      leechers.push(await join_(`leecher${i}`, join(tmp, `leecher${i}`), false));
    say(
      'swarm',
      { seeds: 1, leechers: s.leecherCount },
      `swarm: 1 seed, ${s.leecherCount} leecher(s), all on 127.0.0.1`,
    );

    // 4. Watch the first leecher on screen; everyone reports in JSON mode.
    if (s.mode === 'json') for (const l of leechers) l.reporter.start();
    else if (s.mode === 'text') leechers[0]!.reporter.start();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort('timeout'), s.timeoutS * 1000);
    const stop = AbortSignal.any([io.signal, deadline.signal]);
    const results = await Promise.all(leechers.map((l) => untilComplete(l.torrent, stop)));
    clearTimeout(timer);
    // A final line at the finish, so even a swarm faster than the progress interval reports 100%.
    if (s.mode === 'json') for (const l of leechers) l.reporter.progress(true);
    else if (s.mode === 'text') leechers[0]!.reporter.progress(true);

    // 5. Verify, summarise, clean up.
    const complete = results.every((r) => r.outcome === 'complete');
    const identical = complete
      ? await Promise.all(leechers.map((l) => sameTree(content, join(l.savePath, 'nbt-demo'), files)))
      : [];
    const verified = complete && identical.every(Boolean);
    const elapsedMs = Date.now() - started;
    for (const m of members) m.reporter.stopProgress();
    await Promise.all(members.map((m) => m.client.close()));
    const downloaded = leechers.reduce((sum, l) => sum + l.torrent.stats().sessionDownloaded, 0);
    leechers.forEach((l, i) => {
      const same = identical[i] ?? false;
      const sum: Record<string, unknown> = {
        ...l.reporter.summary(results[i]!.outcome),
        event: 'leecher-summary',
        identical: same,
      };
      if (s.mode !== 'quiet')
        l.reporter.printSummary(sum, [
          same ? 'files identical to the seed' : 'files NOT identical to the seed',
        ]);
    });
    const interrupted = io.signal.aborted;
    const status = verified ? 'verified' : interrupted ? 'interrupted' : complete ? 'mismatch' : 'timeout';
    const summary = {
      event: 'summary',
      status,
      verified,
      elapsedMs,
      length: metainfo.length,
      pieces: metainfo.pieceCount,
      leechers: s.leecherCount,
      downloaded,
      verifiedPieces: leechers.map((l) => l.torrent.stats().pieces.have),
      averageRate: Math.round((downloaded * 1000) / s.leecherCount / Math.max(1, elapsedMs)),
      trackerDownloads: tracker.store.scrape([metainfo.infoHash])[0]?.downloaded ?? 0,
      ...(s.keep ? { dir: tmp } : {}),
    };
    if (s.mode === 'json') io.stdout.write(`${JSON.stringify(summary)}\n`);
    else
      io.stdout.write(
        `demo ${status}: ${s.leecherCount} leecher(s) × ${formatBytes(metainfo.length)} in ${formatDuration(elapsedMs / 1000)}` +
          ` (${formatRate(summary.averageRate)} each), ${summary.verifiedPieces.join('+')} of ${metainfo.pieceCount} pieces verified` +
          `${verified ? ', files byte-identical' : ''}${s.keep ? `; kept ${tmp}` : ''}\n`,
      );
    if (interrupted) return interruptedCode(io);
    if (!verified)
      throw new NbtError(
        'DEMO_FAILED',
        complete
          ? 'downloaded files differ from the seed'
          : `the download did not finish within ${s.timeoutS} s`,
      );
    return 0;
  } finally {
    for (const m of members) m.reporter.stop();
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    if (!s.keep) await rm(tmp, { recursive: true, force: true });
  }
}
