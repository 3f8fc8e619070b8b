import { resolve } from 'node:path';
import { Client } from '../../client/index.js';
import { NbtError } from '../../util/errors.js';
import { parseCommandArgs, positionals } from '../args.js';
import { sessionOptionHelp, sessionOptionSpec, parseSessionOptions } from '../swarm/options.js';
import { SwarmReporter } from '../swarm/reporter.js';
import { printable } from '../format.js';
import { interruptedCode, loadTorrentFile, untilAbortedOrError } from '../swarm/run.js';
import type { Command } from '../types.js';

const seedOptionSpec = { ...sessionOptionSpec, 'super-seed': { type: 'boolean' } } as const;

const usage = `Usage: nbt seed <file.torrent> <DIR> [options]

Checks the torrent's data under DIR (the directory that holds the file, or the torrent's
top folder), then seeds it until Ctrl-C. Fails (exit 1) if the data does not match.

Options:
${sessionOptionHelp}  --super-seed              super-seed (BEP 16): hide the bitfield and hand each peer one rare
                            piece at a time, the next once another peer has it; for an initial
                            seed with little upload, about one copy is sent in all
  -v, --verbose             a line per peer connect/disconnect

Storage problems while seeding (a file truncated, changed or unreadable) are reported on
stderr; changed pieces are checked again and fetched from peers. The summary's status is
"seeded", "incomplete" (data lost and not yet fetched again) or "error" (with the message).

Exit codes: 0 stopped by Ctrl-C/SIGTERM after seeding, 1 failure (data does not match, data
lost while seeding and not fetched again, or a storage error stopped the torrent), 2 usage
error, 130/143 interrupted during the check.
`;

export const seedCommand: Command = {
  name: 'seed',
  summary: 'check data against a torrent and seed it',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, seedOptionSpec);
    const [file, dir] = positionals(pos, ['file.torrent', 'DIR']);
    const settings = parseSessionOptions(values);
    const { bytes } = await loadTorrentFile(file!);
    const savePath = resolve(dir!);
    // No resume data: seeding always starts from a full check, so stale data is never served.
    const client = new Client({ ...settings.client, savePath });
    const mode = settings.json ? 'json' : settings.quiet ? 'quiet' : 'text';
    let reporter: SwarmReporter | undefined;
    try {
      const port = await client.listen(settings.client.port);
      const superSeeding = values['super-seed'] === true;
      const torrent = await client.addTorrent(bytes, { savePath, peers: settings.peers, superSeeding });
      reporter = new SwarmReporter(io.stdout, client, torrent, {
        mode,
        verbose: io.verbose,
        errors: io.stderr,
      });
      reporter.event(
        'start',
        {
          name: torrent.metainfo.name,
          infoHash: torrent.infoHashHex,
          length: torrent.metainfo.length,
          savePath,
          port,
        },
        `checking ${printable(torrent.metainfo.name)} (${torrent.infoHashHex}) in ${savePath}`,
      );
      reporter.start();
      const checked = await new Promise<'ok' | 'mismatch' | 'interrupted' | Error>((done) => {
        const onState = (): void => {
          if (torrent.state === 'seeding') done('ok');
          else if (torrent.state === 'downloading') done('mismatch');
        };
        torrent.on('state', onState);
        torrent.on('error', (e) => done(e));
        io.signal.addEventListener('abort', () => done('interrupted'), { once: true });
        if (io.signal.aborted) done('interrupted');
      });
      reporter.progress(true);
      if (checked instanceof Error) throw new NbtError('CLI_TORRENT_ERROR', checked.message);
      if (checked === 'interrupted') {
        reporter.stopProgress();
        await client.close();
        reporter.printSummary(reporter.summary('interrupted'));
        return interruptedCode(io);
      }
      if (checked === 'mismatch') {
        const s = torrent.stats();
        throw new NbtError(
          'CLI_DATA_MISMATCH',
          `the data in ${savePath} does not match ${file}: ${s.pieces.have} of ${s.pieces.total} pieces verified`,
        );
      }
      reporter.event(
        'seeding',
        { port, superSeeding: torrent.superSeeding },
        `data verified (${torrent.metainfo.pieceCount} pieces); ${torrent.superSeeding ? 'super-seeding' : 'seeding'} on port ${port} until Ctrl-C`,
      );
      // Seeding ends with Ctrl-C, or at once when the torrent fails (a storage error).
      await untilAbortedOrError(torrent, io.signal);
      reporter.stopProgress();
      const failed = torrent.state === 'error';
      // Data lost on disk while seeding (and not yet fetched again) is not "seeded".
      const status = failed ? 'error' : torrent.complete ? 'seeded' : 'incomplete';
      await client.close();
      reporter.printSummary(reporter.summary(status));
      return status === 'seeded' ? 0 : 1;
    } finally {
      reporter?.stop();
      await client.close();
    }
  },
};
