/**
 * The options every command that runs a Client shares (download, seed, demo), parsed in this
 * one place: add session-wide flags (DHT, rate limits, ...) to `sessionOptionSpec` and map
 * them in `parseSessionOptions`.
 */
import type { ClientOptions } from '../../client/index.js';
import { parseProxyUrl } from '../../proxy/index.js';
import { errorMessage } from '../../util/errors.js';
import { parseAddress, type PeerAddress } from '../../util/compact.js';
import { UsageError } from '../args.js';
import { parseSize } from '../format.js';

export const sessionOptionSpec = {
  port: { type: 'string' },
  encryption: { type: 'string' },
  peer: { type: 'string', multiple: true },
  'resume-dir': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'dht-port': { type: 'string' },
  'dht-bootstrap': { type: 'string', multiple: true },
  'no-dht': { type: 'boolean' },
  'no-lsd': { type: 'boolean' },
  'no-upnp': { type: 'boolean' },
  'no-natpmp': { type: 'boolean' },
  'max-connections': { type: 'string' },
  'max-peers': { type: 'string' },
  'max-per-host': { type: 'string' },
  'unchoke-slots': { type: 'string' },
  'download-limit': { type: 'string' },
  'upload-limit': { type: 'string' },
  'web-seed': { type: 'string', multiple: true },
  'no-web-seeds': { type: 'boolean' },
  'no-utp': { type: 'boolean' },
  'no-tcp': { type: 'boolean' },
  proxy: { type: 'string' },
  'proxy-only': { type: 'boolean' },
  'bind-outgoing': { type: 'string' },
} as const;

export const sessionOptionHelp = `  --port N                  listen port (default: first free of 6881-6889; 0 = any)
  --encryption MODE         disabled | enabled (default: MSE offered, plaintext accepted) | required
  --peer HOST:PORT          connect to this peer too (repeatable)
  --resume-dir DIR          where resume data is kept (default: <save dir>/.nbt-resume)
  --json                    JSON lines on stdout (progress, peer connect/disconnect, summary)
  -q, --quiet               only errors and the final summary line
  --dht-port N              DHT on a UDP port of its own (default: the listen port, shared with UDP trackers)
  --dht-bootstrap HOST:PORT DHT bootstrap node (repeatable; default: the public routers)
  --no-dht                  do not use the DHT (private torrents never do)
  --no-lsd                  no local service discovery (LAN multicast; private torrents never use it)
  --no-upnp                 do not map the listen port on the gateway with UPnP IGD
  --no-natpmp               do not map the listen port on the gateway with NAT-PMP
  --max-connections N       connections of the whole session (default 200)
  --max-peers N             connections per torrent (default 80)
  --max-per-host N          connections to one IP address (default 1)
  --unchoke-slots N|auto    upload slots per torrent, plus one optimistic (default 8); auto:
                            as many as the upload rate supports
  --download-limit RATE     bytes/s for the session, e.g. 500K or 2M (default: unlimited)
  --upload-limit RATE       bytes/s for the session, e.g. 500K or 2M (default: unlimited)
  --web-seed URL            download from this HTTP(S) web seed too (repeatable; BEP 19: a URL
                            ending in / is a directory holding the torrent's name)
  --no-web-seeds            do not use web seeds (the torrent's url-list, a magnet's ws=)
  --no-utp                  TCP only: no uTP connections either way (default: uTP dialled first)
  --no-tcp                  uTP only: no TCP connections either way
  --proxy URL               peers, trackers and web seeds through socks5://[user:pass@]host:port
                            (UDP too, by UDP ASSOCIATE) or http://[user:pass@]host:port (CONNECT)
  --proxy-only              never a direct connection: no listening, no LSD; DHT, uTP and UDP
                            trackers only through a socks5 proxy (else off, with a warning)
  --bind-outgoing ADDR      outgoing connections and the UDP socket from this local address or
                            interface name
`;

export interface SessionValues {
  port?: string | undefined;
  encryption?: string | undefined;
  peer?: string[] | undefined;
  'resume-dir'?: string | undefined;
  json?: boolean | undefined;
  quiet?: boolean | undefined;
  'dht-port'?: string | undefined;
  'dht-bootstrap'?: string[] | undefined;
  'no-dht'?: boolean | undefined;
  'no-lsd'?: boolean | undefined;
  'no-upnp'?: boolean | undefined;
  'no-natpmp'?: boolean | undefined;
  'max-connections'?: string | undefined;
  'max-peers'?: string | undefined;
  'max-per-host'?: string | undefined;
  'unchoke-slots'?: string | undefined;
  'download-limit'?: string | undefined;
  'upload-limit'?: string | undefined;
  'web-seed'?: string[] | undefined;
  'no-web-seeds'?: boolean | undefined;
  'no-utp'?: boolean | undefined;
  'no-tcp'?: boolean | undefined;
  proxy?: string | undefined;
  'proxy-only'?: boolean | undefined;
  'bind-outgoing'?: string | undefined;
}

export interface SessionSettings {
  client: ClientOptions;
  peers: PeerAddress[];
  /** --web-seed URLs, added to the torrent besides its own. */
  webSeeds: string[];
  resumeDir: string | undefined;
  json: boolean;
  quiet: boolean;
}

export function parsePort(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError(`--port needs 0..65535, got "${text}"`);
  return n;
}

export function parseEncryption(text: string | undefined): 'disabled' | 'enabled' | 'required' {
  if (text === undefined) return 'enabled';
  if (text === 'disabled' || text === 'enabled' || text === 'required') return text;
  throw new UsageError(`--encryption must be disabled, enabled or required (got "${text}")`);
}

/** --dht-port / --dht-bootstrap / --no-dht as the Client's `dht` option (absent: DHT on, defaults). */
function dhtOption(values: SessionValues): Pick<ClientOptions, 'dht'> {
  if (values['no-dht']) return { dht: false };
  const bootstrap = (values['dht-bootstrap'] ?? []).map((b) => {
    try {
      return parseAddress(b);
    } catch {
      throw new UsageError(`--dht-bootstrap needs HOST:PORT, got "${b}"`);
    }
  });
  if (values['dht-port'] === undefined && bootstrap.length === 0) return {};
  return {
    dht: {
      ...(values['dht-port'] !== undefined ? { port: parsePort(values['dht-port'], 0) } : {}),
      ...(bootstrap.length > 0 ? { bootstrap } : {}),
    },
  };
}

function parseCount(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name} needs a whole number of at least ${min}, got "${text}"`);
  return n;
}

function parseRate(name: string, text: string): number {
  const n = parseSize(text);
  if (n === undefined) throw new UsageError(`--${name} needs bytes/s such as 500K or 2M, got "${text}"`);
  return n;
}

/** --max-connections / --max-peers / --max-per-host / --unchoke-slots and the rate limits. */
function limitOptions(
  values: SessionValues,
): Pick<ClientOptions, 'limits' | 'downloadRateLimit' | 'uploadRateLimit'> {
  const limits: NonNullable<ClientOptions['limits']> = {};
  const count = (name: 'max-connections' | 'max-peers' | 'max-per-host', min: number): number | undefined =>
    values[name] === undefined ? undefined : parseCount(name, values[name], min);
  const maxConnections = count('max-connections', 1);
  const maxPeersPerTorrent = count('max-peers', 1);
  const maxPerHost = count('max-per-host', 1);
  if (maxConnections !== undefined) limits.maxConnections = maxConnections;
  if (maxPeersPerTorrent !== undefined) limits.maxPeersPerTorrent = maxPeersPerTorrent;
  if (maxPerHost !== undefined) limits.maxPerHost = maxPerHost;
  const slots = values['unchoke-slots'];
  if (slots !== undefined)
    limits.unchokeSlots = slots === 'auto' ? 'auto' : parseCount('unchoke-slots', slots, 0);
  const down = values['download-limit'];
  const up = values['upload-limit'];
  return {
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(down !== undefined ? { downloadRateLimit: parseRate('download-limit', down) } : {}),
    ...(up !== undefined ? { uploadRateLimit: parseRate('upload-limit', up) } : {}),
  };
}

function webSeedUrls(urls: readonly string[]): string[] {
  for (const u of urls) {
    let ok = false;
    try {
      const p = new URL(u).protocol;
      ok = p === 'http:' || p === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) throw new UsageError(`--web-seed needs an http:// or https:// URL, got "${u}"`);
  }
  return [...urls];
}

/** --no-utp / --no-tcp (not both: nothing would connect). */
function transportOptions(values: SessionValues): Pick<ClientOptions, 'utp' | 'tcp'> {
  if (values['no-utp'] && values['no-tcp'])
    throw new UsageError('--no-utp and --no-tcp together leave no transport');
  return {
    ...(values['no-utp'] ? { utp: false as const } : {}),
    ...(values['no-tcp'] ? { tcp: { incoming: false, outgoing: false } } : {}),
  };
}

/** --no-upnp / --no-natpmp: one of the two off, or port mapping off altogether. */
export function portMappingOption(values: {
  'no-upnp'?: boolean | undefined;
  'no-natpmp'?: boolean | undefined;
}): Pick<ClientOptions, 'portMapping'> {
  const upnp = !values['no-upnp'];
  const natpmp = !values['no-natpmp'];
  if (upnp && natpmp) return {};
  return { portMapping: upnp || natpmp ? { upnp, natpmp } : false };
}

/** --proxy / --proxy-only / --bind-outgoing. */
function routeOptions(
  values: SessionValues,
): Pick<ClientOptions, 'proxy' | 'proxyOnly' | 'outgoingInterface'> {
  const url = values.proxy;
  if (values['proxy-only'] && url === undefined) throw new UsageError('--proxy-only needs --proxy URL');
  let proxy: ClientOptions['proxy'];
  if (url !== undefined) {
    try {
      proxy = parseProxyUrl(url);
    } catch (e) {
      throw new UsageError(`--proxy: ${errorMessage(e)}`);
    }
  }
  const bind = values['bind-outgoing'];
  if (bind !== undefined && bind.trim() === '')
    throw new UsageError('--bind-outgoing needs an address or interface');
  return {
    ...(proxy ? { proxy } : {}),
    ...(values['proxy-only'] ? { proxyOnly: true } : {}),
    ...(bind !== undefined ? { outgoingInterface: bind } : {}),
  };
}

/** Without --port the first free port of 6881-6889 is used, like mainstream clients. */
export const DEFAULT_PORTS: [number, number] = [6881, 6889];

export function parseSessionOptions(values: SessionValues): SessionSettings {
  const peers = (values.peer ?? []).map((p) => {
    try {
      return parseAddress(p);
    } catch {
      throw new UsageError(`--peer needs HOST:PORT, got "${p}"`);
    }
  });
  return {
    client: {
      port: values.port === undefined ? DEFAULT_PORTS : parsePort(values.port, 0),
      encryption: parseEncryption(values.encryption),
      ...dhtOption(values),
      ...(values['no-lsd'] ? { lsd: false } : {}),
      ...portMappingOption(values),
      ...limitOptions(values),
      ...(values['no-web-seeds'] ? { webSeeds: false as const } : {}),
      ...transportOptions(values),
      ...routeOptions(values),
    },
    peers,
    webSeeds: webSeedUrls(values['web-seed'] ?? []),
    resumeDir: values['resume-dir'],
    json: values.json ?? false,
    quiet: values.quiet ?? false,
  };
}
