/**
 * DhtNode: the I/O layer of the Mainline DHT. Wires the pure parts (KRPC codec, routing table,
 * lookups, tokens, peer store, rate limiter) to a UDP endpoint and an injected Clock. The
 * endpoint is the session's shared UDP socket (src/net/udp-mux.ts) or, for a standalone node,
 * a socket of its own.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import { isNbtError, NbtError, errorMessage } from '../util/errors.js';
import { formatAddress, type PeerAddress } from '../util/compact.js';
import type { UdpEndpoint, UdpSource } from '../net/udp.js';
import { openUdpEndpoint } from '../net/udp-socket.js';
import {
  decodeKrpc,
  encodeKrpc,
  MAX_PACKET_SIZE,
  type KrpcMessage,
  type KrpcQuery,
  type NodeInfo,
  type QueryArgs,
  type ResponseBody,
} from './krpc.js';
import { Lookup } from './lookup.js';
import { assertId, isValidBep42Id, randomNodeId } from './node-id.js';
import { PeerStore, type PeerStoreOptions } from './peer-store.js';
import { SourceRateLimiter, type RateLimitOptions } from './rate-limit.js';
import { RoutingTable } from './routing-table.js';
import { answerQuery } from './server.js';
import { TokenManager } from './tokens.js';
import { TransactionTable } from './transactions.js';
import { parseDhtState, type DhtState } from './state.js';

export const DEFAULT_BOOTSTRAP: readonly PeerAddress[] = [
  { host: 'router.bittorrent.com', port: 6881 },
  { host: 'router.utorrent.com', port: 6881 },
  { host: 'dht.transmissionbt.com', port: 6881 },
];

/** A peer found through the DHT. */
export interface DhtPeer extends PeerAddress {
  source: { kind: 'dht' };
}

export interface DhtNodeOptions {
  /** UDP port of a socket of its own, when listen() is given no endpoint (0 = any). */
  port?: number;
  /** Address to bind then; an IPv6 address makes this an IPv6 (BEP 32) node. Default 0.0.0.0. */
  host?: string;
  /** Address family, when listen() is given an endpoint (default: that of `host`, else 4). */
  family?: 4 | 6;
  nodeId?: Buffer;
  bootstrap?: readonly PeerAddress[];
  /** BEP 43: send 'ro': 1 and answer no queries. */
  readOnly?: boolean;
  clock?: Clock;
  k?: number;
  alpha?: number;
  /** A query is dropped after this long (default 3 s). */
  queryTimeoutMs?: number;
  /** After this long a lookup stops counting a query against alpha and asks another node (default 1 s, at most the query timeout). */
  softTimeoutMs?: number;
  rateLimit?: RateLimitOptions;
  peerStore?: PeerStoreOptions;
  /** BEP 42: keep nodes whose id does not match their IP out of the routing table (default false). */
  enforceNodeIdIp?: boolean;
  /** One routing-table node per IP, one per /24 (/64) per bucket; loopback exempt (default true). */
  restrictRoutingIps?: boolean;
  /** Client version sent as 'v' (BEP 20 style: 2 letters + 2 version bytes; default "NB" 0.1). */
  version?: Buffer;
}

export interface DhtStats {
  nodes: number;
  goodNodes: number;
  questionableNodes: number;
  buckets: number;
  lookups: number;
  activeLookups: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  malformedDropped: number;
  rateLimited: number;
  unmatchedReplies: number;
  queriesAnswered: number;
  storedInfoHashes: number;
}

export interface AnnounceResult {
  peers: DhtPeer[];
  /** Nodes that accepted our announce_peer. */
  announcedTo: number;
}

const MAINTENANCE_MS = 60_000;
const DEFAULT_VERSION = Buffer.from([0x4e, 0x42, 0x00, 0x01]);
/** Distinct responders remembered when voting on our external address (BEP 42 'ip'). */
const MAX_IP_VOTERS = 256;
const MAX_PINGS_PER_TICK = 8;

export class DhtNode extends EventEmitter {
  readonly id: Buffer;
  readonly family: 4 | 6;
  readonly readOnly: boolean;
  readonly table: RoutingTable;
  private readonly clock: Clock;
  private readonly options: DhtNodeOptions;
  private readonly tokens: TokenManager;
  private readonly peers: PeerStore;
  private readonly limiter: SourceRateLimiter;
  private readonly transactions: TransactionTable;
  private endpoint: UdpEndpoint | undefined;
  /** The endpoint was opened by listen() (and is closed with the node). */
  private ownsEndpoint = false;
  private listening = false;
  private offPacket: (() => void) | undefined;
  private maintenance: TimerHandle | undefined;
  private closed = false;
  private activeLookups = 0;
  private readonly version: Buffer;
  private readonly softTimeoutMs: number;
  /** Responder address -> the external address it saw us at. */
  private readonly ipVotes = new Map<string, string>();
  private readonly counters = {
    lookups: 0,
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    malformedDropped: 0,
    rateLimited: 0,
    unmatchedReplies: 0,
    queriesAnswered: 0,
  };

  constructor(options: DhtNodeOptions = {}) {
    super();
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.family = options.family ?? (options.host && isIP(options.host) === 6 ? 6 : 4);
    this.readOnly = options.readOnly ?? false;
    this.version = options.version ?? DEFAULT_VERSION;
    this.softTimeoutMs = Math.min(options.softTimeoutMs ?? 1000, options.queryTimeoutMs ?? 3000);
    this.id = options.nodeId ? Buffer.from(options.nodeId) : randomNodeId();
    assertId(this.id);
    this.table = new RoutingTable(this.id, this.clock, {
      k: options.k ?? 8,
      enforceNodeIdIp: options.enforceNodeIdIp ?? false,
      restrictIps: options.restrictRoutingIps ?? true,
    });
    this.tokens = new TokenManager(this.clock);
    this.peers = new PeerStore(this.clock, options.peerStore);
    this.limiter = new SourceRateLimiter(this.clock, options.rateLimit);
    this.transactions = new TransactionTable(this.clock, options.queryTimeoutMs ?? 3000, 2048, (p) => {
      if (p.nodeId) this.table.failed(p.nodeId);
    });
  }

  /** A node with the id and routing table of a saved state; call listen() and bootstrap() as usual. */
  static restore(state: unknown, options: DhtNodeOptions = {}): DhtNode {
    const s = parseDhtState(state);
    const node = new DhtNode({ ...options, nodeId: s.id });
    for (const n of s.nodes) node.table.heard(n, 'unverified');
    return node;
  }

  /** The routing table to save (JSON-safe); restore with DhtNode.restore. */
  toJSON(): DhtState {
    return {
      id: this.id.toString('hex'),
      nodes: this.table.all().map((n) => ({ id: n.id.toString('hex'), host: n.host, port: n.port })),
    };
  }

  get state(): DhtState {
    return this.toJSON();
  }

  get stats(): DhtStats {
    const c = this.table.counts();
    return {
      ...this.counters,
      nodes: this.table.size,
      goodNodes: c.good,
      questionableNodes: c.questionable,
      buckets: this.table.bucketCount,
      activeLookups: this.activeLookups,
      storedInfoHashes: this.peers.infoHashCount,
    };
  }

  /**
   * Our address as most responders report it (BEP 42 'ip' field), once at least two agree:
   * what a BEP 42 node id would be derived from.
   */
  get externalAddress(): PeerAddress | undefined {
    const counts = new Map<string, number>();
    for (const v of this.ipVotes.values()) counts.set(v, (counts.get(v) ?? 0) + 1);
    let best: [string, number] | undefined;
    for (const e of counts) if (!best || e[1] > best[1]) best = e;
    if (!best || best[1] < 2) return undefined;
    const cut = best[0].lastIndexOf(':');
    return { host: best[0].slice(0, cut), port: Number(best[0].slice(cut + 1)) };
  }

  /** Bound address, once listening. */
  address(): PeerAddress | undefined {
    const e = this.endpoint;
    if (!e || this.closed || e.localPort === 0) return undefined;
    return { host: e.localHost, port: e.localPort };
  }

  /**
   * Starts the node on `endpoint` (the session's shared UDP socket; it stays open when the node
   * closes) or, without one, on a socket of its own bound to the `port` and `host` options.
   */
  async listen(endpoint?: UdpEndpoint): Promise<PeerAddress> {
    if (this.closed) throw new NbtError('DHT_CLOSED', 'DHT node is closed');
    if (this.listening) throw new NbtError('DHT_ALREADY_LISTENING', 'DHT node is already listening');
    if (endpoint && endpoint.family !== this.family)
      throw new NbtError(
        'DHT_FAMILY_MISMATCH',
        `an IPv${this.family} node cannot use an IPv${endpoint.family} endpoint`,
      );
    if (endpoint && endpoint.localPort === 0) throw new NbtError('DHT_CLOSED', 'the endpoint is closed');
    this.listening = true;
    let ep = endpoint;
    if (!ep) {
      try {
        ep = await openUdpEndpoint(
          this.options.port ?? 0,
          this.options.host ?? (this.family === 6 ? '::' : '0.0.0.0'),
          {
            onError: (e) => this.emit('warning', e),
          },
        );
      } catch (e) {
        this.listening = false;
        throw e;
      }
      if (this.closed) {
        await ep.close();
        throw new NbtError('DHT_CLOSED', 'DHT node closed while binding');
      }
      this.ownsEndpoint = true;
    }
    this.endpoint = ep;
    this.offPacket = ep.onPacket((msg, from) => this.onPacket(msg, from));
    this.maintenance = this.clock.setInterval(() => this.maintain(), MAINTENANCE_MS);
    const addr = this.address()!;
    this.emit('listening', addr);
    return addr;
  }

  /** Fills the routing table: a lookup of our own id from known nodes and the bootstrap routers. */
  async bootstrap(): Promise<{ nodes: number }> {
    const routers = await this.resolve(this.options.bootstrap ?? DEFAULT_BOOTSTRAP);
    const known = this.table.closest(this.id, this.table.k * 2, () => true);
    await this.runLookup(this.id, 'find_node', [...known, ...routers]);
    this.emit('ready', { nodes: this.table.size });
    return { nodes: this.table.size };
  }

  /** Peers for an info-hash (get_peers lookup); each new batch is also emitted as 'peers'. */
  async lookup(infoHash: Buffer, onPeers?: (peers: DhtPeer[]) => void): Promise<DhtPeer[]> {
    assertId(infoHash, 'info-hash');
    const l = await this.runLookup(infoHash, 'get_peers', [], onPeers);
    return l.peers.map(toDhtPeer);
  }

  /** get_peers lookup, then announce_peer (with the tokens received) to the closest nodes that answered. */
  async announce(infoHash: Buffer, port: number, impliedPort = false): Promise<AnnounceResult> {
    assertId(infoHash, 'info-hash');
    const l = await this.runLookup(infoHash, 'get_peers', []);
    const targets = l.closest().filter((n) => n.token);
    const results = await Promise.allSettled(
      targets.map((n) =>
        this.query(n, 'announce_peer', { id: this.id, infoHash, port, token: n.token!, impliedPort }, n.id),
      ),
    );
    return {
      peers: l.peers.map(toDhtPeer),
      announcedTo: results.filter((r) => r.status === 'fulfilled').length,
    };
  }

  /** find_node lookup for any target; resolves with the closest nodes that answered. */
  async findNode(target: Buffer): Promise<NodeInfo[]> {
    assertId(target, 'target');
    const l = await this.runLookup(target, 'find_node', []);
    return l.closest().map(({ id, host, port }) => ({ id, host, port }));
  }

  /** Pings an address (from a torrent's `nodes` or a peer's PORT message); true when it answered and was added. */
  async addNode(addr: PeerAddress): Promise<boolean> {
    const [resolved] = await this.resolve([addr]);
    if (!resolved) return false;
    try {
      await this.query(resolved, 'ping', { id: this.id });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.maintenance?.cancel();
    this.transactions.cancelAll();
    this.offPacket?.();
    if (this.endpoint && this.ownsEndpoint) await this.endpoint.close();
    this.emit('close');
  }

  // ---- internals ----

  private async resolve(addrs: readonly PeerAddress[]): Promise<PeerAddress[]> {
    const out = await Promise.all(
      addrs.map(async (a) => {
        if (isIP(a.host)) return a;
        try {
          const r = await dnsLookup(a.host, { family: this.family });
          return { host: r.address, port: a.port };
        } catch {
          return undefined;
        }
      }),
    );
    return out.filter((a): a is PeerAddress => a !== undefined && isIP(a.host) === this.family);
  }

  private runLookup(
    target: Buffer,
    method: 'find_node' | 'get_peers',
    extraSeeds: readonly (NodeInfo | PeerAddress)[],
    onPeers?: (peers: DhtPeer[]) => void,
  ): Promise<Lookup> {
    const seeds = [...this.table.closest(target, this.table.k * 2), ...extraSeeds];
    const lookup = new Lookup(target, seeds, {
      k: this.table.k,
      alpha: this.options.alpha ?? 3,
      selfId: this.id,
    });
    this.counters.lookups++;
    this.activeLookups++;
    return new Promise((resolve) => {
      let finished = false;
      const pump = (): void => {
        if (finished) return;
        if (!this.closed) {
          for (const addr of lookup.next()) {
            const args: QueryArgs =
              method === 'find_node' ? { id: this.id, target } : { id: this.id, infoHash: target };
            const soft = this.clock.setTimeout(() => {
              lookup.stalled(addr);
              pump();
            }, this.softTimeoutMs);
            this.query(addr, method, args).then(
              (r) => {
                soft.cancel();
                const nodes = (this.family === 4 ? r.nodes : r.nodes6) ?? [];
                const fresh = lookup.answered(addr, r.id, nodes, r.values, r.token).map(toDhtPeer);
                if (fresh.length > 0) {
                  onPeers?.(fresh);
                  this.emit('peers', target, fresh);
                }
                pump();
              },
              () => {
                soft.cancel();
                lookup.failed(addr);
                pump();
              },
            );
          }
        }
        if (this.closed || lookup.done) {
          finished = true;
          this.activeLookups--;
          resolve(lookup);
        }
      };
      pump();
    });
  }

  /** Sends one query; resolves with the response body. The responder enters the routing table. */
  private async query(
    addr: PeerAddress,
    method: KrpcQuery['q'],
    args: QueryArgs,
    nodeId?: Buffer,
  ): Promise<ResponseBody> {
    if (this.closed || !this.endpoint) throw new NbtError('DHT_CLOSED', 'DHT node is not listening');
    const { t, reply } = this.transactions.open(addr, method, nodeId ?? this.table.findByAddress(addr)?.id);
    const msg: KrpcQuery = { y: 'q', t, q: method, a: args };
    if (this.readOnly) msg.ro = true;
    msg.v = this.version;
    this.send(msg, addr);
    const res = await reply;
    if (res.ip) this.voteIp(addr, res.ip);
    this.learn({ id: res.r.id, host: addr.host, port: addr.port }, 'response');
    return res.r;
  }

  private voteIp(voter: PeerAddress, seen: PeerAddress): void {
    const key = formatAddress(voter);
    if (!this.ipVotes.has(key) && this.ipVotes.size >= MAX_IP_VOTERS)
      this.ipVotes.delete(this.ipVotes.keys().next().value as string);
    this.ipVotes.set(key, `${seen.host}:${seen.port}`);
  }

  private send(msg: KrpcMessage, to: PeerAddress): void {
    const endpoint = this.endpoint;
    if (!endpoint || this.closed) return;
    const buf = encodeKrpc(msg);
    this.counters.packetsOut++;
    this.counters.bytesOut += buf.length;
    endpoint.send(buf, to.port, to.host, (e) => {
      if (e) this.emit('warning', e);
    });
  }

  private learn(node: NodeInfo, how: 'response' | 'query'): void {
    if (this.options.enforceNodeIdIp && !isValidBep42Id(node.id, node.host)) return;
    const before = this.table.size;
    const { ping } = this.table.heard(node, how);
    if (this.table.size > before) this.emit('node', { id: node.id, host: node.host, port: node.port });
    for (const q of ping) this.query(q, 'ping', { id: this.id }, q.id).catch(() => undefined);
  }

  private onPacket(buf: Buffer, source: UdpSource): void {
    this.counters.packetsIn++;
    this.counters.bytesIn += buf.length;
    const from: PeerAddress = { host: source.host, port: source.port };
    let msg: KrpcMessage;
    try {
      if (buf.length > MAX_PACKET_SIZE) throw new NbtError('KRPC_TOO_LARGE', `packet of ${buf.length} bytes`);
      msg = decodeKrpc(buf);
    } catch (e) {
      this.counters.malformedDropped++;
      if (!isNbtError(e)) this.emit('warning', new NbtError('DHT_INTERNAL', errorMessage(e), { cause: e }));
      return;
    }
    if (msg.y !== 'q') {
      if (!this.transactions.settle(msg, from)) this.counters.unmatchedReplies++;
      return;
    }
    if (!this.limiter.allow(from.host)) {
      this.counters.rateLimited++;
      return;
    }
    // BEP 43: read-only nodes do not answer, and read-only senders do not enter our table.
    if (this.readOnly) return;
    if (!msg.ro) this.learn({ id: msg.a.id, host: from.host, port: from.port }, 'query');
    const { reply, announced } = answerQuery(msg, from, {
      id: this.id,
      table: this.table,
      family: this.family,
      tokens: this.tokens,
      peers: this.peers,
    });
    reply.v = this.version;
    this.counters.queriesAnswered++;
    this.send(reply, from);
    if (announced) this.emit('announce', announced.infoHash, toDhtPeer(announced.peer));
  }

  private maintain(): void {
    if (this.closed) return;
    this.peers.purge();
    // A node that lost (or never had) its table tries the bootstrap routers again.
    if (this.table.size < this.table.k) void this.bootstrap().catch((e: unknown) => this.emit('warning', e));
    for (const target of this.table.refreshTargets()) void this.runLookup(target, 'find_node', []);
    for (const n of this.table.stale().slice(0, MAX_PINGS_PER_TICK)) {
      this.query(n, 'ping', { id: this.id }, n.id).catch(() => undefined);
    }
  }
}

function toDhtPeer(p: PeerAddress): DhtPeer {
  return { host: p.host, port: p.port, source: { kind: 'dht' } };
}
