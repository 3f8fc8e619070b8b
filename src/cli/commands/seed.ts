import { resolve } from 'node:path';
import { Client } from '../../client/index.js';
import { NbtError } from '../../util/errors.js';
import { parseCommandArgs, positionals } from '../args.js';
import { sessionOptionHelp, sessionOptionSpec, parseSessionOptions } from '../swarm/options.js';
import { SwarmReporter } from '../swarm/reporter.js';
import { printable } from '../format.js';
import { interruptedCode, loadTorrentFile, untilAborted } from '../swarm/run.js';
import type { Command } from '../types.js';

const usage = `Usage: nbt seed <file.torrent> <DIR> [options]

Checks the torrent's data under DIR (the directory that holds the file, or the torrent's
top folder), then seeds it until Ctrl-C. Fails (exit 1) if the data does not match.

Options:
${sessionOptionHelp}  -v, --verbose             a line per peer connect/disconnect

Exit codes: 0 stopped by Ctrl-C/SIGTERM after seeding, 1 failure (data does not match),
2 usage error, 130/143 interrupted during the check.
`;

export const seedCommand: Command = {
  name: 'seed',
  summary: 'check data against a torrent and seed it',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, sessionOptionSpec);
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
      const torrent = await client.addTorrent(bytes, { savePath, peers: settings.peers });
      reporter = new SwarmReporter(io.stdout, client, torrent, { mode, verbose: io.verbose });
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
        { port },
        `data verified (${torrent.metainfo.pieceCount} pieces); seeding on port ${port} until Ctrl-C`,
      );
      await untilAborted(io.signal);
      reporter.stopProgress();
      await client.close();
      reporter.printSummary(reporter.summary('seeded'));
      return 0;
    } finally {
      reporter?.stop();
      await client.close();
    }
  },
};
