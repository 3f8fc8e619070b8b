/**
 * Every tuning, timeout, limit and policy of a session, named flat (snake_case, as libtorrent's
 * settings_pack), typed, with its default and when a change takes effect. The table is data:
 * src/settings/registry.ts validates against it, the Client maps it onto its parts, and
 * docs/engine.md shows it (scripts/settings-table.mjs prints the table).
 */
import { proxySettingDefinitions } from './proxy-definitions.js';
import { chokeSettingDefinitions } from './choke-definitions.js';

/** When a changed value takes effect on a running Client. */
export type SettingApplies =
  /** Immediately, on every torrent and connection. */
  | 'now'
  /** On connections opened from now on. */
  | 'new-connections'
  /** On torrents added from now on. */
  | 'new-torrents'
  /** At the next `listen()`. */
  | 'listen'
  /** Fixed when the Client is constructed: `applySettings` refuses to change it. */
  | 'construction';

interface SpecBase {
  readonly description: string;
  readonly applies: SettingApplies;
}

/** An integer in [min, max]. */
export interface IntSpec extends SpecBase {
  readonly type: 'int';
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** A finite number in [min, max]. */
export interface NumberSpec extends SpecBase {
  readonly type: 'number';
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

export interface BoolSpec extends SpecBase {
  readonly type: 'bool';
  readonly default: boolean;
}

/** One of `values`. */
export interface EnumSpec extends SpecBase {
  readonly type: 'enum';
  readonly values: readonly string[];
  readonly default: string;
}

export interface StringSpec extends SpecBase {
  readonly type: 'string';
  readonly default: string;
  /** Longest accepted value (bad input must not grow memory). */
  readonly maxLength: number;
}

/** A set of `values` (an array without duplicates). */
export interface FlagsSpec extends SpecBase {
  readonly type: 'flags';
  readonly values: readonly string[];
  readonly default: readonly string[];
}

export type SettingSpec = IntSpec | NumberSpec | BoolSpec | EnumSpec | StringSpec | FlagsSpec;

const KiB = 1024;
const MiB = 1024 * 1024;
/** Rates and sizes: anything a double holds exactly. */
const HUGE = Number.MAX_SAFE_INTEGER;
/** Timeouts and intervals: up to a day (ms). */
const DAY_MS = 24 * 3600 * 1000;

/** The alert categories (src/client/alerts.ts); `alert_categories` selects among them. */
export const ALERT_CATEGORIES = [
  'status',
  'peer',
  'piece',
  'tracker',
  'storage',
  'error',
  'dht',
  'stats',
] as const;

export const settingDefinitions = {
  // ---- connections ---------------------------------------------------------------------------
  connections_limit: {
    type: 'int',
    default: 200,
    min: 0,
    max: 1_000_000,
    applies: 'now',
    description: 'Connections of the whole session (incoming, outgoing and half-open).',
  },
  peers_per_torrent_limit: {
    type: 'int',
    default: 80,
    min: 0,
    max: 1_000_000,
    applies: 'now',
    description: 'Connections per torrent.',
  },
  half_open_limit: {
    type: 'int',
    default: 8,
    min: 1,
    max: 10_000,
    applies: 'now',
    description: 'Outgoing connection attempts in progress at once; the rest wait in the candidate lists.',
  },
  connections_per_host_limit: {
    type: 'int',
    default: 1,
    min: 1,
    max: 10_000,
    applies: 'now',
    description: 'Connections to one IP address (tests on loopback raise it).',
  },
  choking_algorithm: {
    type: 'enum',
    values: ['fixed_slots', 'rate_based'],
    default: 'fixed_slots',
    applies: 'now',
    description:
      "'fixed_slots': unchoke_slots_limit regular slots; 'rate_based': slots grow while each extra peer still gets a useful share (libtorrent's rate-based choker).",
  },
  unchoke_slots_limit: {
    type: 'int',
    default: 8,
    min: 0,
    max: 10_000,
    applies: 'now',
    description:
      'Regular upload slots per torrent (plus one optimistic); torrents added with their own unchokeSlots keep it.',
  },
  download_rate_limit: {
    type: 'int',
    default: 0,
    min: 0,
    max: HUGE,
    applies: 'now',
    description: 'Session-wide payload download limit, bytes/s (0 = unlimited).',
  },
  upload_rate_limit: {
    type: 'int',
    default: 0,
    min: 0,
    max: HUGE,
    applies: 'now',
    description: 'Session-wide payload upload limit, bytes/s (0 = unlimited).',
  },
  dial_interval: {
    type: 'int',
    default: 2000,
    min: 10,
    max: DAY_MS,
    applies: 'construction',
    description:
      'Period of the dialing round that opens outgoing connections (ms); events trigger extra rounds.',
  },
  // ---- peer connections ----------------------------------------------------------------------
  encryption: {
    type: 'enum',
    values: ['disabled', 'enabled', 'required'],
    default: 'enabled',
    applies: 'new-connections',
    description:
      "MSE/PE: 'enabled' offers it and accepts plaintext, 'required' refuses plaintext, 'disabled' never encrypts.",
  },
  peer_connect_timeout: {
    type: 'int',
    default: 15_000,
    min: 1,
    max: DAY_MS,
    applies: 'new-connections',
    description: 'TCP connect deadline (ms; CONNECT_TIMEOUT).',
  },
  transport_race_delay: {
    type: 'int',
    default: 500,
    min: 0,
    max: 60_000,
    applies: 'new-connections',
    description:
      'An outgoing uTP attempt that has not connected after this long is raced by TCP; the first to connect wins (ms; 0: TCP only after uTP gives up).',
  },
  handshake_timeout: {
    type: 'int',
    default: 30_000,
    min: 1,
    max: DAY_MS,
    applies: 'new-connections',
    description: "From connect/accept until the remote's handshake is complete (ms; TIMEOUT_HANDSHAKE).",
  },
  keepalive_interval: {
    type: 'int',
    default: 120_000,
    min: 1,
    max: DAY_MS,
    applies: 'new-connections',
    description: 'A keep-alive is sent when nothing was sent for this long (ms).',
  },
  inactivity_timeout: {
    type: 'int',
    default: 180_000,
    min: 1,
    max: DAY_MS,
    applies: 'new-connections',
    description: 'Close a peer that sent nothing for this long (ms; IDLE_TIMEOUT).',
  },
  useless_peer_timeout: {
    type: 'int',
    default: 180_000,
    min: 0,
    max: DAY_MS,
    applies: 'new-connections',
    description: 'Close when neither side is interested for this long (ms; USELESS_PEER); 0 disables.',
  },
  max_allowed_in_request_queue: {
    type: 'int',
    default: 500,
    min: 1,
    max: 100_000,
    applies: 'new-connections',
    description: 'Requests a peer may have outstanding with us (`reqq` of our extension handshake).',
  },
  send_buffer_watermark: {
    type: 'int',
    default: 1 * MiB,
    min: 16 * KiB,
    max: 1024 * MiB,
    applies: 'new-connections',
    description: "Write-buffer bytes above which a peer counts as congested (uploads wait for 'drain').",
  },
  max_write_buffer: {
    type: 'int',
    default: 16 * MiB,
    min: 64 * KiB,
    max: 4096 * MiB,
    applies: 'new-connections',
    description:
      'A peer that does not read what we send is closed above this many buffered bytes (WRITE_BUFFER_FULL); at least 4 × send_buffer_watermark is used.',
  },
  reuse_read_buffer: {
    type: 'bool',
    default: true,
    applies: 'new-connections',
    description:
      "Outgoing connections read into one shared buffer: piece blocks seen in a Peer's 'message' events are valid only during the event.",
  },
  super_seeding: {
    type: 'bool',
    default: false,
    applies: 'new-torrents',
    description:
      'Torrents added from now on super-seed (BEP 16) when their check finds them complete: the bitfield hidden, one rare piece offered per peer at a time. A torrent that is not complete turns it off; per torrent: addTorrent superSeeding, Torrent.setSuperSeeding.',
  },
  // ---- downloading ---------------------------------------------------------------------------
  request_queue_time: {
    type: 'number',
    default: 3,
    min: 0.1,
    max: 600,
    applies: 'new-torrents',
    description: "Seconds of transfer a peer's request pipeline should cover (bandwidth × delay).",
  },
  max_request_pipeline: {
    type: 'int',
    default: 2000,
    min: 1,
    max: 100_000,
    applies: 'new-torrents',
    description: 'Deepest request pipeline per peer, whatever its reqq says.',
  },
  initial_request_pipeline: {
    type: 'int',
    default: 4,
    min: 1,
    max: 100_000,
    applies: 'new-torrents',
    description: 'Pipeline depth a new peer starts with (slow start adds one per block).',
  },
  snub_timeout: {
    type: 'int',
    default: 30_000,
    min: 1,
    max: DAY_MS,
    applies: 'new-torrents',
    description: 'No block for this long while requests are outstanding: the peer is snubbed (ms).',
  },
  request_timeout: {
    type: 'int',
    default: 20_000,
    min: 1,
    max: DAY_MS,
    applies: 'new-torrents',
    description:
      'A request older than this (and than 8 round trips) while later ones are answered is taken as lost (ms).',
  },
  max_buffered_piece_bytes: {
    type: 'int',
    default: 64 * MiB,
    min: 1 * MiB,
    max: HUGE,
    applies: 'new-torrents',
    description:
      'Bytes of pieces held in memory (assembling or waiting for the disk) before requesting pauses.',
  },
  max_unrequested_blocks: {
    type: 'int',
    default: 64,
    min: 0,
    max: 1_000_000,
    applies: 'new-torrents',
    description: 'Unrequested blocks tolerated from a peer before disconnecting it (UNREQUESTED_PIECE).',
  },
  hash_fail_strike_limit: {
    type: 'int',
    default: 3,
    min: 1,
    max: 1000,
    applies: 'new-torrents',
    description:
      'Ignored (kept so settings files still load): a peer is banned only on evidence, never for taking part in failed pieces.',
  },
  worker_hash_min_piece: {
    type: 'int',
    default: 256 * KiB,
    min: 0,
    max: HUGE,
    applies: 'new-torrents',
    description:
      'Pieces at least this long may be hashed by the worker pool; smaller ones on the main thread.',
  },
  hash_offload_utilization: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    applies: 'new-torrents',
    description:
      'Event-loop utilisation above which new pieces are hashed by the worker pool (1 = never, 0 = always).',
  },
  split_hybrid_hashing: {
    type: 'bool',
    default: true,
    applies: 'new-torrents',
    description:
      'Hybrid torrents: a piece hashed on the main thread has only its SHA-1 computed there and its Merkle root by one pool worker while it keeps up (false: both on the main thread).',
  },
  read_cache_size: {
    type: 'int',
    default: 16 * MiB,
    min: 0,
    max: HUGE,
    applies: 'new-torrents',
    description: 'Read-cache budget per torrent for uploading (bytes).',
  },
  // ---- storage and resume ------------------------------------------------------------------
  save_path: {
    type: 'string',
    default: '.',
    maxLength: 4096,
    applies: 'new-torrents',
    description: 'Default save directory of addTorrent.',
  },
  fsync: {
    type: 'bool',
    default: false,
    applies: 'new-torrents',
    description:
      'fsync written files when a torrent completes, stops or the client closes, and before each resume save.',
  },
  file_pool_size: {
    type: 'int',
    default: 128,
    min: 1,
    max: 1_000_000,
    applies: 'now',
    description:
      'Files kept open at once across all torrents (least recently used closed first; each torrent also keeps at most 64).',
  },
  active_checking: {
    type: 'int',
    default: 4,
    min: 1,
    max: 10_000,
    applies: 'now',
    description:
      'Torrents reading their files for a hash check at once; the others wait in the order they were added (their state is checking).',
  },
  disk_write_mode: {
    type: 'enum',
    values: ['auto', 'sync', 'async'],
    default: 'auto',
    applies: 'new-torrents',
    description:
      "Where piece writes run: 'auto' on the engine's thread while they stay quick (page-cache copies), on the thread pool for a while once one blocks; 'sync' or 'async' always.",
  },
  resume_interval: {
    type: 'int',
    default: 30_000,
    min: 100,
    max: DAY_MS,
    applies: 'now',
    description: 'Period of resume-data saves while running (ms; with a resumeDir).',
  },
  // ---- listening -----------------------------------------------------------------------------
  listen_host: {
    type: 'string',
    default: '0.0.0.0',
    maxLength: 256,
    applies: 'listen',
    description: 'Address the listen socket binds.',
  },
  listen_port: {
    type: 'int',
    default: 0,
    min: 0,
    max: 65535,
    applies: 'listen',
    description: 'Listen port (0 = any free port).',
  },
  listen_port_range: {
    type: 'int',
    default: 0,
    min: 0,
    max: 65535,
    applies: 'listen',
    description: 'Further ports tried in order after listen_port when it is taken.',
  },
  // ---- discovery and extensions ------------------------------------------------------------
  trackers_enabled: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description: "Announce to the torrents' trackers.",
  },
  tracker_numwant: {
    type: 'int',
    default: 0,
    min: 0,
    max: 1000,
    applies: 'construction',
    description: 'Peers asked for per announce (0 = min(50, peers_per_torrent_limit)).',
  },
  tracker_request_timeout: {
    type: 'int',
    default: 30_000,
    min: 1,
    max: DAY_MS,
    applies: 'construction',
    description: 'Deadline of one announce or scrape (ms).',
  },
  tracker_stop_timeout: {
    type: 'int',
    default: 5_000,
    min: 1,
    max: DAY_MS,
    applies: 'construction',
    description: "Bound on 'stopped' announces when a torrent stops or the client closes (ms).",
  },
  tracker_low_peers: {
    type: 'int',
    default: 10,
    min: 0,
    max: 100_000,
    applies: 'construction',
    description: 'A downloading torrent with fewer connected + known peers re-announces early.',
  },
  dht_enabled: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description: 'Run a mainline DHT node shared by the public torrents (BEP 5).',
  },
  dht_port: {
    type: 'int',
    default: 0,
    min: 0,
    max: 65535,
    applies: 'construction',
    description:
      "0: the DHT shares the session's UDP socket on the listen port (with UDP trackers); another port: a socket of its own there (deprecated).",
  },
  dht_announce_interval: {
    type: 'int',
    default: 15 * 60_000,
    min: 1000,
    max: DAY_MS,
    applies: 'construction',
    description: 'DHT search and announce period per torrent (ms).',
  },
  dht_low_peers: {
    type: 'int',
    default: 10,
    min: 0,
    max: 100_000,
    applies: 'construction',
    description: 'A downloading torrent with fewer connected + known peers searches the DHT again early.',
  },
  dht_min_search_interval: {
    type: 'int',
    default: 60_000,
    // Loopback swarms and tests search every half second; never a busy loop.
    min: 100,
    max: DAY_MS,
    applies: 'construction',
    description: 'Shortest time between two DHT searches of one torrent (ms).',
  },
  enable_outgoing_utp: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description:
      'Dial uTP first, then TCP (BEP 29). Off by default with a custom `network` unless set explicitly.',
  },
  enable_incoming_utp: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description:
      'Accept uTP connections on the shared UDP port. Off by default with a custom `network` unless set explicitly.',
  },
  recv_socket_buffer_size: {
    type: 'int',
    default: 4 * 1024 * 1024,
    min: 0,
    max: 256 * 1024 * 1024,
    applies: 'construction',
    description:
      "SO_RCVBUF of the session's UDP socket, bytes (0: the system's ~200 KiB, which a fast uTP seed overflows); capped by rmem_max.",
  },
  send_socket_buffer_size: {
    type: 'int',
    default: 4 * 1024 * 1024,
    min: 0,
    max: 256 * 1024 * 1024,
    applies: 'construction',
    description:
      "SO_SNDBUF of the session's UDP socket, bytes (0: the system's); capped by net.core.wmem_max.",
  },
  enable_outgoing_tcp: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description: 'Dial TCP (after uTP when that is on).',
  },
  enable_incoming_tcp: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description: 'Accept TCP connections on the listen port.',
  },
  pex_enabled: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description: 'Exchange peers with peers (ut_pex, BEP 11) on public torrents.',
  },
  pex_interval: {
    type: 'int',
    default: 60_000,
    min: 100,
    max: DAY_MS,
    applies: 'construction',
    description: 'Period of our ut_pex messages (ms).',
  },
  enable_lsd: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description:
      'Local service discovery (BEP 14): multicast announces of public torrents on the LAN, and peers from those heard. Off by default with a custom `network` unless set explicitly.',
  },
  lsd_announce_interval: {
    type: 'int',
    default: 5 * 60_000,
    min: 1000,
    max: DAY_MS,
    applies: 'construction',
    description: 'Shortest time between two LSD announces of one torrent (ms).',
  },
  enable_upnp: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description:
      'Map the listen ports on the gateway with UPnP IGD (SSDP discovery, WANIPConnection). Off by default with a custom `network` unless set explicitly; never with a loopback listen address.',
  },
  enable_natpmp: {
    type: 'bool',
    default: true,
    applies: 'construction',
    description:
      'Map the listen ports on the gateway with NAT-PMP (RFC 6886; the gateway of the default route). Off by default with a custom `network` unless set explicitly.',
  },
  upnp_lease_duration: {
    type: 'int',
    default: 3600,
    // Low enough for tests against a real gateway to see renewals; renewals are at most 1/s.
    min: 4,
    max: 7 * 24 * 3600,
    applies: 'construction',
    description:
      'Lease asked for port mappings (seconds, UPnP and NAT-PMP); each is renewed at half its granted lease.',
  },
  max_metadata_size: {
    type: 'int',
    default: 8 * MiB,
    min: 1 * KiB,
    max: 1024 * MiB,
    applies: 'construction',
    description: 'Largest info dictionary accepted from peers for a magnet link (bytes).',
  },
  // ---- choker timings, metadata timeout (./choke-definitions.ts) ------------------------------
  ...chokeSettingDefinitions,
  // ---- proxies and interfaces (./proxy-definitions.ts) ---------------------------------------
  ...proxySettingDefinitions,
  // ---- alerts --------------------------------------------------------------------------------
  alert_categories: {
    type: 'flags',
    values: ALERT_CATEGORIES,
    default: ALERT_CATEGORIES,
    applies: 'now',
    description: "Alert categories posted to 'alert' listeners and alert iterators.",
  },
  alert_queue_size: {
    type: 'int',
    default: 1000,
    min: 1,
    max: 1_000_000,
    applies: 'now',
    description:
      'Alerts an iterator buffers for a slow consumer; beyond it the oldest are dropped (and counted).',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof settingDefinitions;

type ValueOf<S> = S extends { type: 'int' | 'number' }
  ? number
  : S extends { type: 'bool' }
    ? boolean
    : S extends { type: 'enum'; values: readonly (infer V)[] }
      ? V
      : S extends { type: 'flags'; values: readonly (infer V)[] }
        ? V[]
        : string;

/** Every setting with its value: a plain, JSON-serialisable object. */
export type Settings = { [K in SettingName]: ValueOf<(typeof settingDefinitions)[K]> };

/** What `applySettings` takes: any subset. */
export type SettingsPack = Partial<Settings>;
