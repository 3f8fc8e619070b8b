import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { createTorrent } from '../../metainfo/index.js';
import { NbtError } from '../../util/errors.js';
import { parseCommandArgs, positionals, UsageError } from '../args.js';
import { formatBytes } from '../format.js';
import { ProgressBar } from '../progress.js';
import type { Command } from '../types.js';
import { takeHashPool } from './create-pool.js';

const usage = `Usage: nbt create <path> [-o <file.torrent>] [options]

Creates a .torrent for a file or a directory (all regular files, hidden ones included,
sorted by path like mktorrent; the info-hash matches mktorrent's for the same settings).
With --v2 or --hybrid (BEP 52) the files are laid out as libtorrent's create_torrent does,
and the info-hashes match libtorrent's.

Options:
  -o, --output FILE         where to write (default: <name>.torrent)
  -l, --piece-length N      piece size: bytes (262144, 256K, 1M) or a power of two exponent
                            as in mktorrent -l (18 = 256 KiB); default: automatic
  -p, --private             set the private flag (BEP 27)
  -t, --tracker URL[,URL]   tracker; a comma list is one tier; repeat for more tiers
  -w, --web-seed URL        web seed (BEP 19); repeatable
  -c, --comment TEXT        comment
  -n, --name NAME           torrent name (default: the base name of <path>)
      --v2                  BitTorrent v2 only: per-file Merkle trees (BEP 52), no SHA-1 pieces
      --hybrid              v1 and v2 in one torrent (pad files align every file to a piece)
      --no-date             leave out the creation date (reproducible output)
      --threads N           hashing threads (default: CPU count)
  -f, --force               overwrite the output file
`;

export function parsePieceLength(text: string): number {
  let n: number;
  if (/^\d{1,2}$/.test(text)) n = 2 ** Number(text);
  else {
    const m = /^(\d+)\s*([km]?)(?:i?b)?$/i.exec(text);
    if (!m) throw new UsageError(`--piece-length "${text}" is not a size`);
    n = Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1024 : m[2]?.toLowerCase() === 'm' ? 1024 ** 2 : 1);
  }
  if (n < 16384 || n > 256 * 1024 * 1024 || (n & (n - 1)) !== 0)
    throw new UsageError(`--piece-length must be a power of two from 16 KiB to 256 MiB (got ${text})`);
  return n;
}

export const createCommand: Command = {
  name: 'create',
  summary: 'make a .torrent from a file or directory',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, {
      output: { type: 'string', short: 'o' },
      'piece-length': { type: 'string', short: 'l' },
      private: { type: 'boolean', short: 'p' },
      tracker: { type: 'string', short: 't', multiple: true },
      'web-seed': { type: 'string', short: 'w', multiple: true },
      comment: { type: 'string', short: 'c' },
      name: { type: 'string', short: 'n' },
      'no-date': { type: 'boolean' },
      threads: { type: 'string' },
      force: { type: 'boolean', short: 'f' },
      v2: { type: 'boolean' },
      hybrid: { type: 'boolean' },
    });
    if (values.v2 && values.hybrid) throw new UsageError('--v2 and --hybrid exclude each other');
    const version = values.v2 ? 2 : values.hybrid ? 'hybrid' : 1;
    const [path] = positionals(pos, ['path']);
    const pieceLength =
      values['piece-length'] === undefined ? undefined : parsePieceLength(values['piece-length']);
    let threads: number | undefined;
    if (values.threads !== undefined) {
      threads = Number(values.threads);
      if (!Number.isInteger(threads) || threads < 1 || threads > 256)
        throw new UsageError(`--threads must be 1..256`);
    }
    const name = values.name ?? basename(resolve(path!));
    const output = values.output ?? `${name}.torrent`;
    const trackers = (values.tracker ?? []).map((t) =>
      t
        .split(',')
        .map((u) => u.trim())
        .filter((u) => u !== ''),
    );

    const pool = await takeHashPool(threads);
    let bar: ProgressBar | undefined;
    try {
      const { torrent, metainfo } = await createTorrent(
        path!,
        {
          name,
          version,
          pieceLength,
          private: values.private ?? false,
          trackers,
          webSeeds: values['web-seed'] ?? [],
          comment: values.comment,
          createdBy: `net-bittorrent ${io.version}`,
          date: values['no-date'] ? false : undefined,
          pool,
        },
        (p) => {
          bar ??= new ProgressBar(io.stdout, 'hashing', p.totalBytes);
          bar.update(p.hashedBytes);
          if (io.signal.aborted) throw new NbtError('CLI_ABORTED', 'interrupted');
        },
      );
      bar?.done();
      await writeFile(output, torrent, { flag: values.force ? 'w' : 'wx' }).catch(
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'EEXIST')
            throw new NbtError('CLI_EXISTS', `${output} already exists (use --force to overwrite)`);
          throw new NbtError('CLI_WRITE', `cannot write ${output}: ${e.message}`);
        },
      );
      const files = metainfo.files.filter((f) => !f.pad).length;
      const { v1, v2 } = metainfo.infoHashes;
      io.stdout.write(
        `${output}: ${metainfo.name}, ${files} file${files === 1 ? '' : 's'}, ` +
          `${formatBytes(metainfo.length)}, ${metainfo.pieceCount} pieces of ${formatBytes(metainfo.pieceLength)}\n` +
          (v1 ? `info-hash ${v1.toString('hex')}\n` : '') +
          (v2 ? `info-hash v2 ${v2.toString('hex')}\n` : ''),
      );
      return 0;
    } finally {
      await pool.close();
    }
  },
};
