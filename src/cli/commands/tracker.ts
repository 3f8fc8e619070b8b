import { TrackerServer, type TrackerServerOptions } from '../../tracker/index.js';
import { UsageError, parseCommandArgs, positionals } from '../args.js';
import type { Command } from '../types.js';

const usage = `Usage: nbt tracker [--port N] [--http] [--udp] [--host ADDR] [--allow INFOHASH]... [--interval SECONDS] [--json]

Runs a BitTorrent tracker (HTTP announce/scrape and UDP BEP 15) until Ctrl-C.
Without --http or --udp both run, on the same port number.

Options:
  --port N              port for HTTP (TCP) and UDP (default 6969; 0 = any)
  --http                serve HTTP (announce at /announce, scrape at /scrape)
  --udp                 serve UDP
  --host ADDR           address to bind (default 0.0.0.0)
  --allow INFOHASH      track only these 40-hex info-hashes (repeatable; default: any torrent)
  --interval SECONDS    announce interval told to clients (default 1800; min interval is half)
  --max-peers N         peers kept per torrent (default 2000)
  --json                JSON lines instead of text
`;

export const trackerCommand: Command = {
  name: 'tracker',
  summary: 'run a BitTorrent tracker (HTTP and UDP)',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, {
      port: { type: 'string' },
      http: { type: 'boolean' },
      udp: { type: 'boolean' },
      host: { type: 'string' },
      allow: { type: 'string', multiple: true },
      interval: { type: 'string' },
      'max-peers': { type: 'string' },
      json: { type: 'boolean' },
    });
    positionals(pos, []);
    const port = values.port === undefined ? 6969 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port needs 0..65535, got "${values.port}"`);
    const interval = values.interval === undefined ? 1800 : Number(values.interval);
    if (!Number.isInteger(interval) || interval < 1)
      throw new UsageError('--interval needs a whole number of seconds');
    const maxPeers = values['max-peers'] === undefined ? 2000 : Number(values['max-peers']);
    if (!Number.isInteger(maxPeers) || maxPeers < 1)
      throw new UsageError('--max-peers needs a positive number');
    for (const h of values.allow ?? [])
      if (!/^[0-9a-fA-F]{40}$/.test(h)) throw new UsageError(`--allow needs a 40-hex info-hash, got "${h}"`);
    const both = !values.http && !values.udp;
    const host = values.host ?? '0.0.0.0';
    const options: TrackerServerOptions = {
      host,
      http: both || values.http ? { port } : false,
      udp: both || values.udp ? { port } : false,
      intervalS: interval,
      maxPeersPerTorrent: maxPeers,
    };
    if (values.allow) options.allow = values.allow;
    const server = new TrackerServer(options);
    await server.listen();
    // With port 0 and both protocols, UDP gets its own free port; report what was bound.
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const urls = server.announceUrls(shown);
    const print = (event: string, data: Record<string, unknown>, text: string): void => {
      io.stdout.write(values.json ? JSON.stringify({ event, ...data }) + '\n' : text + '\n');
    };
    print(
      'listening',
      { ...urls, httpPort: server.httpPort, udpPort: server.udpPort, open: !values.allow },
      `Tracker listening${urls.http ? `\n  ${urls.http}` : ''}${urls.udp ? `\n  ${urls.udp}` : ''}\n  ${
        values.allow ? `tracking ${values.allow.length} info-hash(es)` : 'open: tracking any torrent'
      }, interval ${interval} s`,
    );
    try {
      await new Promise<void>((resolve) => {
        if (io.signal.aborted) resolve();
        else io.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await server.close();
    }
    print(
      'stopped',
      { torrents: server.store.torrentCount },
      `Tracker stopped (${server.store.torrentCount} torrents)`,
    );
    return 0;
  },
};
