import type { AddressInfo } from 'node:net';
import { NbtError } from '../../util/errors.js';
import { filePath } from '../../stream/index.js';
import type { Torrent } from '../../torrent/index.js';
import { parseCommandArgs, positionals, UsageError } from '../args.js';
import { sessionOptionHelp, sessionOptionSpec, parseSessionOptions, parsePort } from '../swarm/options.js';
import { SwarmReporter } from '../swarm/reporter.js';
import { untilAborted } from '../swarm/run.js';
import { openDownloadSession } from '../swarm/download-session.js';
import type { Command } from '../types.js';

const usage = `Usage: nbt stream <file.torrent | magnet-link> [--port N] [--file I] [-o DIR] [options]

Serves the torrent's files over HTTP while they download: point a player or a browser at the
printed URL and seek anywhere; the pieces it reads are fetched first. The index page at / links
every file; /playlist.m3u lists them. Serves until Ctrl-C (resume data is saved).

Options:
  --port N                  HTTP port (default 8000; 0 = any)
  --host ADDR               HTTP address (default 127.0.0.1: this machine only)
  --file I                  print this file's URL (0-based, torrent order, pad files not counted) and
                            skip the other files (they are still served, fetched on demand)
  --cors ORIGIN             send Access-Control-Allow-Origin: ORIGIN ('*' for any)
  -o, --output DIR          save directory (default: the current directory)
${sessionOptionHelp.replace(/^ {2}--port N .*\n/m, '  --listen-port N           BitTorrent listen port (default: first free of 6881-6889)\n')}
Exit codes: 0 stopped by Ctrl-C, 1 failure, 2 usage error.
`;

export const streamCommand: Command = {
  name: 'stream',
  summary: 'serve a torrent over HTTP while it downloads (seek anywhere)',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, {
      ...sessionOptionSpec,
      'listen-port': { type: 'string' },
      host: { type: 'string' },
      file: { type: 'string' },
      cors: { type: 'string' },
      output: { type: 'string', short: 'o' },
    });
    const [source] = positionals(pos, ['file.torrent|magnet']);
    const httpPort = parsePort(values.port, 8000);
    const fileIndex = values.file === undefined ? undefined : Number(values.file);
    if (fileIndex !== undefined && !(Number.isInteger(fileIndex) && fileIndex >= 0))
      throw new UsageError(`--file needs a file index (0, 1, ...), got "${values.file}"`);
    const settings = parseSessionOptions({ ...values, port: values['listen-port'] });
    const { client, input, savePath } = await openDownloadSession(settings, source!, values.output);
    const mode = settings.json ? 'json' : settings.quiet ? 'quiet' : 'text';
    let reporter: SwarmReporter | undefined;
    const server = client.createServer({
      host: values.host ?? '127.0.0.1',
      ...(values.cors ? { cors: values.cors } : {}),
    });
    try {
      const port = await client.listen(settings.client.port);
      const torrent = await client.addTorrent(input, { savePath, peers: settings.peers });
      await new Promise<void>((ok, fail) => {
        server.once('error', (e: NodeJS.ErrnoException) =>
          fail(new NbtError('CLI_LISTEN', `cannot serve HTTP on port ${httpPort}: ${e.code ?? e.message}`)),
        );
        server.listen(httpPort, ok);
      });
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const origin = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`;
      reporter = new SwarmReporter(io.stdout, client, torrent, { mode, verbose: io.verbose });
      reporter.event(
        'start',
        { name: torrent.metainfo.name, infoHash: torrent.infoHashHex, savePath, port, url: `${origin}/` },
        `streaming ${torrent.metainfo.name} (${torrent.infoHashHex}) to ${savePath}, listening on port ${port}\n` +
          `index: ${origin}/`,
      );
      const announce = (t: Torrent): void => {
        const files = t.files;
        if (fileIndex !== undefined) {
          const f = files[fileIndex];
          if (!f) {
            reporter?.event(
              'error',
              { message: `no file ${fileIndex}` },
              `no file ${fileIndex} (${files.length} files)`,
            );
            return;
          }
          t.setFilePriorities(t.metainfo.files.map((_, i) => (i === f.index ? 1 : 0)));
          const url = origin + filePath(t, f);
          reporter?.event('serving', { file: f.path, length: f.length, url }, `serving ${f.path} at ${url}`);
          return;
        }
        for (const f of files)
          reporter?.event(
            'serving',
            { file: f.path, length: f.length, url: origin + filePath(t, f) },
            `  ${origin}${filePath(t, f)}`,
          );
      };
      if (torrent.hasMetadata) announce(torrent);
      else torrent.once('metadata', () => announce(torrent));
      reporter.start();
      await untilAborted(io.signal);
      reporter.stopProgress();
      await new Promise((r) => {
        server.close(r);
        server.closeAllConnections();
      });
      await client.close();
      reporter.printSummary(reporter.summary('stopped'));
      return 0;
    } finally {
      reporter?.stop();
      if (server.listening) server.close();
      server.closeAllConnections();
      await client.close();
    }
  },
};
