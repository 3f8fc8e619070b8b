/**
 * `nbt daemon`: many torrents, remembered across restarts (src/daemon), driven over
 * Transmission's RPC (src/rpc/transmission) by transmission-remote, Sonarr and the like, and
 * over qBittorrent's Web API v2 (src/rpc/qbittorrent) on the same port.
 * Runs until SIGTERM/SIGINT or session-close, then saves everything and exits 0.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ClientOptions } from '../../client/index.js';
import { Daemon } from '../../daemon/daemon.js';
import { streamLogger } from '../../daemon/log.js';
import { TransmissionRpcServer } from '../../rpc/transmission/server.js';
import { parseCommandArgs, positionals, UsageError } from '../args.js';
import { DEFAULT_PORTS, parsePort, portMappingOption } from '../swarm/options.js';
import { untilAborted } from '../swarm/run.js';
import type { Command } from '../types.js';

const usage = `Usage: nbt daemon [options]

Runs torrents in the background, remembered in the config directory across restarts, and
serves Transmission's RPC (transmission-remote, Sonarr, ...) on http://127.0.0.1:9091, and
qBittorrent's Web API v2 (Sonarr, Radarr, cross-seed, ...) under /api/v2/ on the same port,
and a web UI at / (with credentials: a login page).

Options:
  --config-dir DIR          session, .torrent copies and resume data (default ~/.config/nbt-daemon)
  --download-dir DIR        where new torrents are saved (default <config-dir>/downloads)
  --port N                  peer listen port (default: first free of 6881-6889; 0 = any)
  --rpc-port N              RPC port (default 9091; 0 = any)
  --rpc-bind ADDR           RPC address (default 127.0.0.1)
  --rpc-username U          require HTTP basic auth (with --rpc-password) from every client, or
  --rpc-password P          a qBittorrent or web UI login; without them only loopback clients are served
  --rpc-host-whitelist H    host names accepted in the Host header besides IPs and localhost (repeatable)
  --no-dht                  do not use the DHT
  --no-lsd                  no local service discovery (LAN multicast)
  --no-upnp                 do not map the peer port on the gateway with UPnP IGD
  --no-natpmp               do not map the peer port on the gateway with NAT-PMP
  --json                    log JSON lines on stderr

The config directory may hold daemon.json with "rpc-username", "rpc-password",
"rpc-host-whitelist" (flags win over them) and "engine": engine settings by name.
`;

const spec = {
  'config-dir': { type: 'string' },
  'download-dir': { type: 'string' },
  port: { type: 'string' },
  'rpc-port': { type: 'string' },
  'rpc-bind': { type: 'string' },
  'rpc-username': { type: 'string' },
  'rpc-password': { type: 'string' },
  'rpc-host-whitelist': { type: 'string', multiple: true },
  'no-dht': { type: 'boolean' },
  'no-lsd': { type: 'boolean' },
  'no-upnp': { type: 'boolean' },
  'no-natpmp': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

interface FileConfig {
  'rpc-username'?: string;
  'rpc-password'?: string;
  'rpc-host-whitelist'?: string[];
  /** Engine settings by name (src/settings/definitions.ts), e.g. connections_per_host_limit. */
  engine?: ClientOptions['settings'];
}

async function readConfig(dir: string): Promise<FileConfig> {
  let text: string;
  try {
    text = await readFile(join(dir, 'daemon.json'), 'utf8');
  } catch {
    return {};
  }
  try {
    const v = JSON.parse(text) as FileConfig;
    return v && typeof v === 'object' ? v : {};
  } catch (e) {
    throw new UsageError(`${join(dir, 'daemon.json')}: ${(e as Error).message}`);
  }
}

export const daemonCommand: Command = {
  name: 'daemon',
  summary: 'run torrents in the background, driven over the Transmission RPC',
  usage,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommandArgs(argv, spec);
    positionals(pos, []);
    const configDir = resolve(
      values['config-dir'] ??
        join(process.env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), 'nbt-daemon'),
    );
    const file = await readConfig(configDir);
    const username = values['rpc-username'] ?? file['rpc-username'];
    const password = values['rpc-password'] ?? file['rpc-password'];
    if ((username === undefined) !== (password === undefined))
      throw new UsageError('--rpc-username and --rpc-password go together');
    const log = streamLogger(io.stderr, values.json ?? false);
    const daemon = await Daemon.open({
      configDir,
      ...(values['download-dir'] ? { downloadDir: values['download-dir'] } : {}),
      port: values.port === undefined ? DEFAULT_PORTS : parsePort(values.port, 0),
      client: {
        ...(values['no-dht'] ? { dht: false } : {}),
        ...(values['no-lsd'] ? { lsd: false } : {}),
        ...portMappingOption(values),
        ...(file.engine ? { settings: file.engine } : {}),
      },
      log,
    });
    const closeRequested = new AbortController();
    const rpc = new TransmissionRpcServer(daemon, {
      port: parsePort(values['rpc-port'], 9091),
      host: values['rpc-bind'] ?? '127.0.0.1',
      ...(username !== undefined ? { username, password: password! } : {}),
      hostWhitelist: values['rpc-host-whitelist'] ?? file['rpc-host-whitelist'] ?? [],
      onClose: () => closeRequested.abort(),
    });
    try {
      const rpcPort = await rpc.listen();
      log.info('rpc listening', {
        address: values['rpc-bind'] ?? '127.0.0.1',
        port: rpcPort,
        auth: username !== undefined,
        webui: `http://${hostForUrl(values['rpc-bind'] ?? '127.0.0.1')}:${rpcPort}/`,
      });
      await Promise.race([untilAborted(io.signal), untilAborted(closeRequested.signal)]);
      log.info('shutting down', { reason: io.signal.aborted ? String(io.signal.reason) : 'session-close' });
    } finally {
      await rpc.close();
      await daemon.close();
    }
    return 0;
  },
};

/** An address as the host part of a URL (IPv6 in brackets; the wildcard as loopback). */
function hostForUrl(address: string): string {
  if (address === '0.0.0.0' || address === '::') return '127.0.0.1';
  return address.includes(':') ? `[${address}]` : address;
}
