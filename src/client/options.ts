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

import type { EncryptionPolicy } from '../peer/types.js';

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
  /** Unchoke slots per torrent (default 4, plus one optimistic). */
  unchokeSlots: number;
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
   * uTP (BEP 29) over the session's UDP socket: incoming and outgoing each (default both on
   * with the default network, off with a custom `network`); false turns it off. Outgoing
   * connections try uTP first, then TCP, unless a previous attempt showed the peer lacks uTP.
   */
  utp?: { incoming?: boolean; outgoing?: boolean; maxHalfOpen?: number } | false;
  /** TCP peer connections, incoming and outgoing each (default both on). */
  tcp?: { incoming?: boolean; outgoing?: boolean };
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
  unchokeSlots: 4,
};

export function resolveOptions(o: ClientOptions): ResolvedOptions {
  const peerId = o.peerId === undefined ? makePeerId() : Buffer.from(o.peerId as string | Buffer);
  if (peerId.length !== 20) throw new RangeError(`peer id must be 20 bytes, got ${peerId.length}`);
  return {
    peerId,
    host: o.host ?? '0.0.0.0',
    port: o.port ?? 0,
    encryption: o.encryption ?? 'enabled',
    limits: { ...defaultLimits, ...o.limits },
    downloadRateLimit: o.downloadRateLimit ?? 0,
    uploadRateLimit: o.uploadRateLimit ?? 0,
    clock: o.clock ?? systemClock,
    hashPool: o.hashPool,
    resumeDir: o.resumeDir,
    resumeInterval: o.resumeInterval ?? 30_000,
    savePath: o.savePath ?? '.',
    fsync: o.fsync ?? false,
    reuseReadBuffer: o.reuseReadBuffer ?? true,
    network: o.network ?? tcpNetwork,
    transports: resolveTransports(o),
  };
}

function resolveTransports(o: ClientOptions): TransportSettings {
  const utp = o.utp === false ? { incoming: false, outgoing: false } : (o.utp ?? {});
  const utpDefault = o.network === undefined;
  return {
    utpIncoming: utp.incoming ?? utpDefault,
    utpOutgoing: utp.outgoing ?? utpDefault,
    tcpIncoming: o.tcp?.incoming ?? true,
    tcpOutgoing: o.tcp?.outgoing ?? true,
    utpMaxHalfOpen: (o.utp !== false && o.utp?.maxHalfOpen) || 32,
  };
}
