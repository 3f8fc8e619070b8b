import { parseCommandArgs, positionals } from '../args.js';
import { sessionOptionHelp, sessionOptionSpec, parseSessionOptions } from '../swarm/options.js';
import { SwarmReporter } from '../swarm/reporter.js';
import { printable } from '../format.js';
import { interruptedCode, untilAbortedOrError, untilComplete } from '../swarm/run.js';
import { openDownloadSession } from '../swarm/download-session.js';
import type { Command } from '../types.js';

const usage = `Usage: nbt download <file.torrent | magnet-link> [-o DIR] [options]

Downloads a torrent into DIR and exits 0 once every piece is verified and written (with
--seed it keeps seeding until Ctrl-C). Peers come from the torrent's trackers, the DHT, PEX
and --peer; pieces also from its web seeds (url-list, a magnet's ws=, --web-seed); a magnet link first fetches the torrent's metadata from peers (kept beside the
resume data, so a restart need not fetch it again).
Ctrl-C saves resume data and exits 130; running the same command again continues where it
stopped (verified pieces are not downloaded again).

Options:
  -o, --output DIR          save directory (default: the current directory)
      --seed                keep seeding after the download completes, until Ctrl-C
${sessionOptionHelp}  -v, --verbose             a line per peer connect/disconnect

Exit codes: 0 complete, 1 failure, 2 usage error, 130 interrupted (143 on SIGTERM).
`;

export const downloadCommand: Command = {
  name: 'download',
  summary: 'download a torrent or magnet link (optionally keep seeding)',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, {
      ...sessionOptionSpec,
      output: { type: 'string', short: 'o' },
      seed: { type: 'boolean' },
    });
    const [source] = positionals(pos, ['file.torrent|magnet']);
    const settings = parseSessionOptions(values);
    const { client, input, savePath } = await openDownloadSession(settings, source!, values.output);
    const mode = settings.json ? 'json' : settings.quiet ? 'quiet' : 'text';
    let reporter: SwarmReporter | undefined;
    try {
      const port = await client.listen(settings.client.port);
      const torrent = await client.addTorrent(input, { savePath, peers: settings.peers });
      for (const url of settings.webSeeds) torrent.addWebSeed(url);
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
          pieces: torrent.metainfo.pieceCount,
          savePath,
          port,
        },
        `downloading ${printable(torrent.metainfo.name)} (${torrent.infoHashHex}) to ${savePath}, listening on port ${port}`,
      );
      torrent.on('metadata', (m) =>
        reporter?.event(
          'metadata',
          { name: m.name, length: m.length, pieces: m.pieceCount },
          `metadata received: ${printable(m.name)}, ${m.length} bytes in ${m.pieceCount} pieces`,
        ),
      );
      reporter.start();
      const result = await untilComplete(torrent, io.signal);
      reporter.progress(true);
      let status = result.outcome === 'complete' ? 'complete' : result.outcome;
      if (status === 'complete' && values.seed) {
        reporter.event('seeding', {}, 'download complete; seeding until Ctrl-C');
        await untilAbortedOrError(torrent, io.signal);
        status = torrent.state === 'error' ? 'error' : torrent.complete ? 'seeded' : 'incomplete';
      }
      if (status === 'error') {
        // The reporter already wrote the error to stderr; the summary carries it too.
        reporter.stopProgress();
        await client.close();
        reporter.printSummary(reporter.summary('error'));
        return 1;
      }
      reporter.stopProgress();
      await client.close(); // saves resume data; peers close with CLIENT_CLOSED
      reporter.printSummary(reporter.summary(status));
      return status === 'interrupted' ? interruptedCode(io) : 0;
    } finally {
      reporter?.stop();
      await client.close();
    }
  },
};
