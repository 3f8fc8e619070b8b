import { open } from 'node:fs/promises';
import { MAX_TORRENT_BYTES, parseMagnet, parseTorrent } from '../../metainfo/index.js';
import {
  HttpTrackerClient,
  UdpTrackerClient,
  type ScrapeEntry,
  type TrackerTransport,
} from '../../tracker/index.js';
import { systemClock } from '../../util/clock.js';
import { NbtError, errorMessage } from '../../util/errors.js';
import { UsageError, parseCommandArgs, positionals } from '../args.js';
import { printable } from '../format.js';
import type { Command } from '../types.js';

const usage = `Usage: nbt scrape <file.torrent | magnet-link> [--json] [--timeout SECONDS]

Asks every tracker of the torrent how many seeders, leechers and completed downloads it knows
(HTTP trackers by the BEP 48 scrape URL, UDP trackers by BEP 15 scrape), all in parallel.

Options:
  --timeout SECONDS   give up on a tracker after SECONDS (default 15)
  --json              one JSON document: { infoHash, trackers: [{ url, tier, complete, incomplete, downloaded } | { url, tier, error }] }
`;

const MAX_TORRENT = MAX_TORRENT_BYTES;

interface Target {
  infoHash: Buffer;
  tiers: string[][];
}

async function loadTarget(arg: string): Promise<Target> {
  if (/^magnet:/i.test(arg)) {
    const m = parseMagnet(arg);
    return { infoHash: m.infoHash, tiers: m.trackers.map((t) => [t]) };
  }
  const fh = await open(arg, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new NbtError('CLI_READ', `cannot read ${arg}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  });
  try {
    if ((await fh.stat()).size > MAX_TORRENT)
      throw new NbtError('METAINFO_TOO_LARGE', `${arg} is too large for a .torrent`);
    const m = parseTorrent(await fh.readFile());
    return { infoHash: m.infoHash, tiers: m.announce };
  } finally {
    await fh.close();
  }
}

type Row = { url: string; tier: number } & ({ result: ScrapeEntry } | { error: string });

export const scrapeCommand: Command = {
  name: 'scrape',
  summary: "ask a torrent's trackers for seeders, leechers and downloads",
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, {
      json: { type: 'boolean' },
      timeout: { type: 'string' },
    });
    const [arg] = positionals(pos, ['file.torrent|magnet']);
    const timeoutS = values.timeout === undefined ? 15 : Number(values.timeout);
    if (!(timeoutS > 0)) throw new UsageError('--timeout needs a positive number of seconds');
    const target = await loadTarget(arg!);
    const hex = target.infoHash.toString('hex');
    const urls = target.tiers.flatMap((tier, i) => tier.map((url) => ({ url, tier: i })));
    if (urls.length === 0) throw new NbtError('CLI_NO_TRACKERS', 'the torrent names no trackers');
    const http = new HttpTrackerClient({ timeoutMs: timeoutS * 1000 });
    const udp = new UdpTrackerClient({
      baseTimeoutMs: Math.min(15_000, (timeoutS * 1000) / 3),
      maxRetransmits: 1,
    });
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    io.signal.addEventListener('abort', onAbort, { once: true });
    const deadline = systemClock.setTimeout(onAbort, timeoutS * 1000);
    try {
      const rows = await Promise.all(
        urls.map(async ({ url, tier }): Promise<Row> => {
          const client: TrackerTransport | undefined = /^udp:/i.test(url)
            ? udp
            : /^https?:/i.test(url)
              ? http
              : undefined;
          if (!client) return { url, tier, error: 'unsupported tracker URL scheme' };
          try {
            const entry = (await client.scrape(url, [target.infoHash], stop.signal)).get(hex);
            return entry
              ? { url, tier, result: entry }
              : { url, tier, error: 'tracker did not report this torrent' };
          } catch (e) {
            const timedOut = stop.signal.aborted && !io.signal.aborted;
            return { url, tier, error: timedOut ? `no answer within ${timeoutS} s` : errorMessage(e) };
          }
        }),
      );
      if (values.json) {
        const trackers = rows.map((r) => ('result' in r ? { url: r.url, tier: r.tier, ...r.result } : r));
        io.stdout.write(JSON.stringify({ infoHash: hex, trackers }, null, 2) + '\n');
      } else {
        io.stdout.write(`Info-hash ${hex}\n`);
        io.stdout.write(
          `${'seeders'.padStart(8)} ${'leechers'.padStart(8)} ${'downloads'.padStart(9)}  tracker\n`,
        );
        for (const r of rows) {
          if ('result' in r)
            io.stdout.write(
              `${String(r.result.complete).padStart(8)} ${String(r.result.incomplete).padStart(8)} ${String(r.result.downloaded).padStart(9)}  ${printable(r.url)}\n`,
            );
          else
            io.stdout.write(
              `${'-'.padStart(8)} ${'-'.padStart(8)} ${'-'.padStart(9)}  ${printable(r.url)}  (${printable(r.error)})\n`,
            );
        }
      }
      return rows.some((r) => 'result' in r) ? 0 : 1;
    } finally {
      deadline.cancel();
      io.signal.removeEventListener('abort', onAbort);
      udp.close();
    }
  },
};
