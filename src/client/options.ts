/** Client options, their defaults, and our peer id. */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { PACKAGE_VERSION, azureusVersionCode } from '../util/version.js';
import type { HashPool } from '../hash/pool.js';
import type { Network } from '../net/transport.js';
import { tcpNetwork } from '../net/tcp.js';
import type { IpFilterHook } from './ip-filter.js';
import type { TrackerServiceOptions } from './tracker-service.js';
import type { DhtServiceOptions } from './dht-service.js';
import type { LsdServiceOptions } from './lsd-service.js';
import type { PortMappingOptions } from './port-mapping-service.js';
import type { Settings, SettingsPack } from '../settings/index.js';
import { parseProxyUrl, type ProxyConfig } from '../proxy/index.js';

import type { EncryptionPolicy } from '../peer/types.js';
import type { WebSeedTuning } from '../torrent/web-seed.js';

/** 'enabled' offers MSE and accepts both; 'required' refuses plaintext; 'disabled' never encrypts. */
export type { EncryptionPolicy };

export interface ConnectionLimits {
  /** All connections of the client (default 200). */
  maxConnections: number;
  /** Connections per torrent (default 80). */
  maxPeersPerTorrent: number;
  /** Outgoing connection attempts in progress at once; the rest wait in a queue (default 8). */
  maxHalfOpen: number;
  /** Connections to one IP address (default 1; tests on loopback raise it). */
  maxPerHost: number;
  /**
   * Incoming connections still before their handshake, in their own pool apart from
   * `maxConnections` (default min(50, maxConnections)); the oldest is evicted when full.
   */
  maxPendingIncoming?: number;
  /** Of those, from one IP address (default 4 × maxPerHost). */
  maxPendingPerHost?: number;
  /**
   * Unchoke slots per torrent (default 8, as libtorrent's, plus one optimistic), or 'auto': as
   * many as our upload rate supports (libtorrent's rate-based choker).
   */
  unchokeSlots: number | 'auto';
}

export interface ClientOptions {
  /** 20 bytes; default PEER_ID_PREFIX ('-NB0100-' for 0.1.0) + 12 random characters. */
  peerId?: Buffer | string;
  /** Listen host (default '0.0.0.0'). */
  host?: string;
  /** Listen port, or [from, to] to try in order; 0 = any (default 0). */
  port?: number | [number, number];
  encryption?: EncryptionPolicy;
  limits?: Partial<ConnectionLimits>;
  /** Global payload rate limits in bytes/s (0 or absent = unlimited). */
  downloadRateLimit?: number;
  uploadRateLimit?: number;
  clock?: Clock;
  hashPool?: HashPool;
  /** Directory where resume files are kept (one <infohash>.resume per torrent); none = no resume. */
  resumeDir?: string;
  /** How often resume data is saved while running (ms, default 30 s). */
  resumeInterval?: number;
  /** Return false to block an address (incoming and outgoing). */
  ipFilter?: IpFilterHook;
  /** Default save directory for addTorrent (default the current directory). */
  savePath?: string;
  /**
   * fsync written files when a torrent completes, stops or the client closes, and before each
   * resume save (default false, like libtorrent). Without it a kill -9 is still safe; with it a
   * power loss is too.
   */
  fsync?: boolean;
  /** Tracker announces for every torrent (src/client/tracker-service.ts); false turns them off. */
  trackers?: TrackerServiceOptions | false;
  /**
   * Mainline DHT shared by public torrents (src/client/dht-service.ts): default on, with the
   * public routers as bootstrap; false (or `enabled: false`) turns it off.
   */
  dht?: DhtServiceOptions | false;
  /**
   * Local service discovery (BEP 14, src/client/lsd-service.ts): multicast announces on the LAN
   * for public torrents; default on (off with a custom `network` unless `enable_lsd` is set);
   * false (or `enabled: false`) turns it off.
   */
  lsd?: LsdServiceOptions | false;
  /**
   * Port mapping on the gateway (UPnP IGD and NAT-PMP, src/client/port-mapping-service.ts):
   * default on (off with a custom `network` unless asked for, and with a loopback listen
   * address); false turns both off, `{ upnp: false }` / `{ natpmp: false }` one of them.
   */
  portMapping?: PortMappingOptions | false;
  /** ut_pex (src/torrent/pex-exchange.ts): default on (60 s interval); false turns it off. */
  pex?: { intervalMs?: number } | false;
  /** ut_metadata (magnet links): largest info dict accepted from peers (default 8 MiB). */
  maxMetadataSize?: number;
  /**
   * Outgoing connections read into one shared buffer (see PeerCommonOptions.reuseReadBuffer):
   * piece blocks seen in a Peer's 'message' events are then valid only during the event.
   * Default true; false gives every read its own buffer.
   */
  reuseReadBuffer?: boolean;
  /**
   * Where peer connections come from: dialing and the listen socket (src/net/transport.ts).
   * Default TCP (`tcpNetwork`); the test suite's simulated network is another. Trackers and the
   * DHT do not use it.
   */
  network?: Network;
  /**
   * Any setting of the registry (src/settings/definitions.ts) by name; wins over the options
   * above that map onto the same setting.
   */
  settings?: SettingsPack;
  /**
   * uTP (BEP 29) over the session's UDP socket: incoming and outgoing each (default both on
   * with the default network, off with a custom `network`); false turns it off. Outgoing
   * connections try uTP first, then TCP, unless a previous attempt showed the peer lacks uTP.
   */
  utp?: { incoming?: boolean; outgoing?: boolean; maxHalfOpen?: number } | false;
  /** TCP peer connections, incoming and outgoing each (default both on). */
  tcp?: { incoming?: boolean; outgoing?: boolean };
  /**
   * Web seeds (BEP 19 `url-list`, magnet `ws=`): default on; false never uses them. The numbers
   * tune each seed (transfers in flight, run size, back-off) and the HTTP client (redirects
   * followed, stall timeout).
   */
  webSeeds?: (Partial<WebSeedTuning> & { maxRedirects?: number; stallTimeoutMs?: number }) | false;
  /**
   * A proxy for peer connections, HTTP trackers and web seeds (and, for SOCKS5, UDP: DHT, uTP,
   * UDP trackers through UDP ASSOCIATE): `socks5://user:pass@host:port`, `http://host:port`, or
   * the parts (the `proxy_*` settings).
   */
  proxy?: string | ProxyConfig;
  /** Never a direct connection (the `proxy_only` setting; docs/engine.md). */
  proxyOnly?: boolean;
  /** Local address or interface name outgoing connections bind (the `outgoing_interface` setting). */
  outgoingInterface?: string;
}

/** The `proxy_*` settings of a proxy option. */
function proxySettings(p: string | ProxyConfig | undefined): SettingsPack {
  if (p === undefined) return {};
  const c = typeof p === 'string' ? parseProxyUrl(p) : p;
  return {
    proxy_type: c.type,
    proxy_hostname: c.host,
    proxy_port: c.port,
    proxy_username: c.username ?? '',
    proxy_password: c.password ?? '',
  };
}

/** Which transports the session accepts and dials with. */
export interface TransportSettings {
  utpIncoming: boolean;
  utpOutgoing: boolean;
  tcpIncoming: boolean;
  tcpOutgoing: boolean;
  /** Accepted uTP connections that have not sent data yet (the SYN-flood budget). */
  utpMaxHalfOpen: number;
}

/** '-NB' + the package version as 4 Azureus digits + '-' ('-NB0100-' for 0.1.0). */
export const PEER_ID_PREFIX = `-NB${azureusVersionCode(PACKAGE_VERSION)}-`;

const ID_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** An Azureus-style peer id: PEER_ID_PREFIX and 12 random alphanumerics. */
export function makePeerId(prefix = PEER_ID_PREFIX): Buffer {
  const rnd = randomBytes(20 - prefix.length);
  let tail = '';
  for (const b of rnd) tail += ID_CHARS[b % ID_CHARS.length];
  return Buffer.from(prefix + tail, 'latin1');
}

/** The Client's options with defaults applied: a view of the settings plus the non-setting ones. */
export interface ResolvedOptions {
  peerId: Buffer;
  host: string;
  port: number | [number, number];
  encryption: EncryptionPolicy;
  limits: ConnectionLimits;
  downloadRateLimit: number;
  uploadRateLimit: number;
  clock: Clock;
  hashPool: HashPool | undefined;
  resumeDir: string | undefined;
  resumeInterval: number;
  savePath: string;
  fsync: boolean;
  reuseReadBuffer: boolean;
  network: Network;
  transports: TransportSettings;
}

export const defaultLimits: ConnectionLimits = {
  maxConnections: 200,
  maxPeersPerTorrent: 80,
  maxHalfOpen: 8,
  maxPerHost: 1,
  unchokeSlots: 8,
};

/** The settings the options name (undefined where they say nothing), then `o.settings` on top. */
export function settingsFromOptions(o: ClientOptions): SettingsPack {
  const l = o.limits ?? {};
  const [from, to] = Array.isArray(o.port) ? o.port : [o.port, undefined];
  const trackers = o.trackers === false ? undefined : o.trackers;
  const dht = o.dht === false ? undefined : o.dht;
  const pack: SettingsPack = {
    listen_host: o.host,
    listen_port: from,
    listen_port_range: to !== undefined && from !== undefined ? to - from : undefined,
    encryption: o.encryption,
    connections_limit: l.maxConnections,
    peers_per_torrent_limit: l.maxPeersPerTorrent,
    half_open_limit: l.maxHalfOpen,
    connections_per_host_limit: l.maxPerHost,
    unchoke_slots_limit: typeof l.unchokeSlots === 'number' ? l.unchokeSlots : undefined,
    choking_algorithm:
      l.unchokeSlots === undefined ? undefined : l.unchokeSlots === 'auto' ? 'rate_based' : 'fixed_slots',
    download_rate_limit: o.downloadRateLimit,
    upload_rate_limit: o.uploadRateLimit,
    resume_interval: o.resumeInterval,
    save_path: o.savePath,
    fsync: o.fsync,
    reuse_read_buffer: o.reuseReadBuffer,
    trackers_enabled: o.trackers === false ? false : undefined,
    tracker_numwant: trackers?.numwant,
    tracker_request_timeout: trackers?.requestTimeoutMs,
    tracker_stop_timeout: trackers?.stopTimeoutMs,
    tracker_low_peers: trackers?.lowPeers,
    dht_enabled: o.dht === false || o.dht?.enabled === false ? false : undefined,
    dht_port: dht?.port,
    dht_announce_interval: dht?.intervalMs,
    dht_low_peers: dht?.lowPeers,
    dht_min_search_interval: dht?.minIntervalMs,
    enable_outgoing_utp: o.utp === false ? false : o.utp?.outgoing,
    enable_incoming_utp: o.utp === false ? false : o.utp?.incoming,
    enable_outgoing_tcp: o.tcp?.outgoing,
    enable_incoming_tcp: o.tcp?.incoming,
    enable_lsd: o.lsd === false || o.lsd?.enabled === false ? false : undefined,
    lsd_announce_interval: o.lsd === false ? undefined : o.lsd?.intervalMs,
    enable_upnp: o.portMapping === false ? false : o.portMapping?.upnp,
    enable_natpmp: o.portMapping === false ? false : o.portMapping?.natpmp,
    upnp_lease_duration: o.portMapping === false ? undefined : o.portMapping?.leaseSec,
    pex_enabled: o.pex === false ? false : undefined,
    pex_interval: o.pex === false ? undefined : o.pex?.intervalMs,
    max_metadata_size: o.maxMetadataSize,
    ...proxySettings(o.proxy),
    proxy_only: o.proxyOnly,
    outgoing_interface: o.outgoingInterface,
  };
  return { ...pack, ...o.settings };
}

/** The validated peer id (given or random). */
export function resolvePeerId(o: ClientOptions): Buffer {
  const peerId = o.peerId === undefined ? makePeerId() : Buffer.from(o.peerId as string | Buffer);
  if (peerId.length !== 20) throw new RangeError(`peer id must be 20 bytes, got ${peerId.length}`);
  return peerId;
}

/** The ResolvedOptions view of the settings (kept in step by syncOptions when they change). */
export function resolveOptions(o: ClientOptions, s: Settings): ResolvedOptions {
  const out: ResolvedOptions = {
    peerId: resolvePeerId(o),
    host: '',
    port: 0,
    encryption: 'enabled',
    // The pending-pool bounds are options only (no setting carries them): kept from `o.limits`.
    limits: { ...defaultLimits, ...pendingLimits(o.limits) },
    downloadRateLimit: 0,
    uploadRateLimit: 0,
    clock: o.clock ?? systemClock,
    hashPool: o.hashPool,
    resumeDir: o.resumeDir,
    resumeInterval: 0,
    savePath: '.',
    fsync: false,
    reuseReadBuffer: true,
    network: o.network ?? tcpNetwork,
    transports: resolveTransports(o, s),
  };
  syncOptions(out, s);
  return out;
}

/** `maxPendingIncoming` / `maxPendingPerHost` where the options give them. */
function pendingLimits(l: Partial<ConnectionLimits> | undefined): Partial<ConnectionLimits> {
  return {
    ...(l?.maxPendingIncoming !== undefined ? { maxPendingIncoming: l.maxPendingIncoming } : {}),
    ...(l?.maxPendingPerHost !== undefined ? { maxPendingPerHost: l.maxPendingPerHost } : {}),
  };
}

/**
 * The transport settings. uTP runs over the session's real UDP socket, so with a custom
 * `network` (the simulator) it is off unless turned on explicitly (option or setting).
 */
function resolveTransports(o: ClientOptions, s: Settings): TransportSettings {
  const explicit = (
    name: 'enable_outgoing_utp' | 'enable_incoming_utp',
    option: boolean | undefined,
  ): boolean => option !== undefined || o.settings?.[name] !== undefined;
  const utp = o.utp === false ? undefined : o.utp;
  const allowed = (
    name: 'enable_outgoing_utp' | 'enable_incoming_utp',
    option: boolean | undefined,
  ): boolean => s[name] && (o.network === undefined || o.utp === false || explicit(name, option));
  return {
    utpOutgoing: allowed('enable_outgoing_utp', utp?.outgoing),
    utpIncoming: allowed('enable_incoming_utp', utp?.incoming),
    tcpIncoming: s.enable_incoming_tcp,
    tcpOutgoing: s.enable_outgoing_tcp,
    utpMaxHalfOpen: utp?.maxHalfOpen || 32,
  };
}

/** Copies the settings into the fields of the options view (the `limits` object stays the same). */
export function syncOptions(r: ResolvedOptions, s: Settings): void {
  r.host = s.listen_host;
  r.port = s.listen_port_range > 0 ? [s.listen_port, s.listen_port + s.listen_port_range] : s.listen_port;
  r.encryption = s.encryption;
  r.limits.maxConnections = s.connections_limit;
  r.limits.maxPeersPerTorrent = s.peers_per_torrent_limit;
  r.limits.maxHalfOpen = s.half_open_limit;
  r.limits.maxPerHost = s.connections_per_host_limit;
  r.limits.unchokeSlots = s.choking_algorithm === 'rate_based' ? 'auto' : s.unchoke_slots_limit;
  r.downloadRateLimit = s.download_rate_limit;
  r.uploadRateLimit = s.upload_rate_limit;
  r.resumeInterval = s.resume_interval;
  r.savePath = s.save_path;
  r.fsync = s.fsync;
  r.reuseReadBuffer = s.reuse_read_buffer;
}
