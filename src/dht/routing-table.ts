/**
 * BEP 5 routing table: k-buckets over the full 160-bit id space. Bucket i (i < last) holds
 * nodes sharing exactly i leading bits with our id; the last bucket holds everything closer,
 * and only it splits, which is the BEP's "split the bucket our own id falls in". Pure: time
 * comes from the injected clock's `now()`; the I/O layer does the pinging it asks for.
 *
 * Node ids cost nothing to invent, so addresses are what the table rations (as libtorrent's
 * `dht_restrict_routing_ips`): one node per endpoint always, and by default one per IP in the
 * whole table and one per /24 (IPv6: /64) in each bucket; loopback addresses are exempt from
 * the last two (every loopback node is this machine). With `enforceNodeIdIp`, ids that do not
 * match their IP (BEP 42) never enter.
 */
import type { Clock } from '../util/clock.js';
import type { PeerAddress } from '../util/compact.js';
import { formatAddress, ipv4Bytes, ipv6Bytes } from '../util/compact.js';
import {
  ID_BITS,
  assertId,
  commonPrefixLength,
  compareDistance,
  isValidBep42Id,
  randomIdWithPrefix,
} from './node-id.js';
import type { NodeInfo } from './krpc.js';

export const K = 8;
/** A node is good for 15 minutes after it last answered us (or queried us, having answered before). */
export const NODE_GOOD_MS = 15 * 60_000;
export const BUCKET_REFRESH_MS = 15 * 60_000;
/** Unanswered queries in a row that make a node bad ("try once more before discarding"). */
export const MAX_FAILURES = 2;

export type NodeState = 'good' | 'questionable' | 'bad';

export interface RoutingNode extends NodeInfo {
  /** When it last answered one of our queries (undefined: never). */
  lastResponse: number | undefined;
  /** When it last sent us a query. */
  lastQuery: number | undefined;
  /** Unanswered queries in a row. */
  failures: number;
  addedAt: number;
}

interface Bucket {
  nodes: RoutingNode[];
  /** Candidates for when a node in the bucket goes bad, newest first. */
  replacements: RoutingNode[];
  lastChanged: number;
}

export interface InsertResult {
  added: boolean;
  /** Questionable nodes the caller should ping so a full bucket can make room. */
  ping: RoutingNode[];
}

export interface RoutingTableOptions {
  k?: number;
  /**
   * One node per IP in the table and one per /24 (IPv6 /64) per bucket, loopback exempt
   * (default true). One node per IP and port holds regardless.
   */
  restrictIps?: boolean;
  /** BEP 42: refuse nodes whose id does not match their IP (exempt ranges aside; default false). */
  enforceNodeIdIp?: boolean;
}

export class RoutingTable {
  readonly id: Buffer;
  readonly k: number;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly restrictIps: boolean;
  private readonly enforceNodeIdIp: boolean;
  private buckets: Bucket[];
  /** Nodes in buckets (not replacements) by "host:port", and how many per host. */
  private readonly byEndpoint = new Map<string, RoutingNode>();
  private readonly perHost = new Map<string, number>();

  constructor(id: Buffer, clock: Pick<Clock, 'now'>, options: RoutingTableOptions = {}) {
    assertId(id);
    this.id = Buffer.from(id);
    this.clock = clock;
    this.k = options.k ?? K;
    this.restrictIps = options.restrictIps ?? true;
    this.enforceNodeIdIp = options.enforceNodeIdIp ?? false;
    this.buckets = [this.newBucket()];
  }

  get bucketCount(): number {
    return this.buckets.length;
  }

  get size(): number {
    return this.byEndpoint.size;
  }

  stateOf(node: RoutingNode): NodeState {
    if (node.failures >= MAX_FAILURES) return 'bad';
    const now = this.clock.now();
    if (node.lastResponse !== undefined) {
      if (now - node.lastResponse < NODE_GOOD_MS) return 'good';
      if (node.lastQuery !== undefined && now - node.lastQuery < NODE_GOOD_MS) return 'good';
    }
    return 'questionable';
  }

  /** Counts of nodes by state. */
  counts(): Record<NodeState, number> {
    const c = { good: 0, questionable: 0, bad: 0 };
    for (const n of this.all()) c[this.stateOf(n)]++;
    return c;
  }

  all(): RoutingNode[] {
    return this.buckets.flatMap((b) => b.nodes);
  }

  get(id: Uint8Array): RoutingNode | undefined {
    if (id.length !== this.id.length) return undefined;
    return this.bucketFor(id).nodes.find((n) => n.id.equals(id));
  }

  /**
   * Records that a node answered a query ('response'), sent us one ('query') or was learnt
   * some other way ('unverified', e.g. restored state or a PORT message). Inserts it when
   * there is room, splitting our own bucket or replacing a bad node as the BEP says.
   */
  heard(contact: NodeInfo, how: 'response' | 'query' | 'unverified'): InsertResult {
    const none: InsertResult = { added: false, ping: [] };
    if (contact.id.length !== this.id.length || contact.id.equals(this.id)) return none;
    const now = this.clock.now();
    const bucket = this.bucketFor(contact.id);
    const existing = bucket.nodes.find((n) => n.id.equals(contact.id));
    if (existing) {
      // An id seen from a different address is not moved: that would let anyone hijack entries.
      if (existing.host !== contact.host || existing.port !== contact.port) return none;
      this.touch(existing, how, now);
      if (how !== 'unverified') bucket.lastChanged = now;
      return none;
    }
    if (!this.admissible(contact)) return none;
    const node = this.newNode(contact, how, now);
    for (;;) {
      const b = this.bucketFor(node.id);
      if (this.subnetTaken(b.nodes, node)) return none;
      if (b.nodes.length < this.k) {
        b.nodes.push(node);
        this.track(node);
        b.lastChanged = now;
        this.dropReplacement(b, node.id);
        return { added: true, ping: [] };
      }
      if (b === this.buckets[this.buckets.length - 1] && this.buckets.length < ID_BITS) {
        this.split();
        continue;
      }
      const bad = b.nodes.findIndex((n) => this.stateOf(n) === 'bad');
      if (bad >= 0 && how !== 'unverified') {
        this.untrack(b.nodes[bad]!);
        b.nodes[bad] = node;
        this.track(node);
        b.lastChanged = now;
        return { added: true, ping: [] };
      }
      if (!this.subnetTaken(b.replacements, node)) this.addReplacement(b, node);
      const questionable = b.nodes
        .filter((n) => this.stateOf(n) === 'questionable')
        .sort((x, y) => lastSeen(x) - lastSeen(y));
      return { added: false, ping: questionable.slice(0, 1) };
    }
  }

  /** A query to this node went unanswered; a node that turns bad gives way to a replacement. */
  failed(id: Uint8Array): void {
    const bucket = this.bucketFor(id);
    const idx = bucket.nodes.findIndex((n) => n.id.equals(id));
    if (idx < 0) return;
    const node = bucket.nodes[idx]!;
    node.failures++;
    if (this.stateOf(node) !== 'bad') return;
    // The first replacement that still fits the address rules (the table changed since).
    this.untrack(node);
    for (let replacement; (replacement = bucket.replacements.shift());) {
      if (!this.admissible(replacement)) continue;
      const others = bucket.nodes.filter((n) => n !== node);
      if (this.subnetTaken(others, replacement)) continue;
      bucket.nodes[bucket.nodes.indexOf(node)] = replacement;
      this.track(replacement);
      bucket.lastChanged = this.clock.now();
      return;
    }
    this.track(node);
  }

  remove(id: Uint8Array): boolean {
    const bucket = this.bucketFor(id);
    const node = bucket.nodes.find((n) => n.id.equals(id));
    if (!node) return false;
    bucket.nodes = bucket.nodes.filter((n) => n !== node);
    this.untrack(node);
    return true;
  }

  /** The `count` non-bad nodes closest to `target`, closest first. */
  closest(target: Uint8Array, count = this.k, filter?: (n: RoutingNode) => boolean): RoutingNode[] {
    return this.all()
      .filter((n) => this.stateOf(n) !== 'bad' && (!filter || filter(n)))
      .sort((a, b) => compareDistance(target, a.id, b.id))
      .slice(0, count);
  }

  /** Random targets inside each bucket that has not changed for 15 minutes (to find_node). */
  refreshTargets(): Buffer[] {
    const now = this.clock.now();
    const out: Buffer[] = [];
    this.buckets.forEach((b, i) => {
      if (now - b.lastChanged >= BUCKET_REFRESH_MS) {
        out.push(randomIdWithPrefix(this.id, i, i < this.buckets.length - 1));
        b.lastChanged = now;
      }
    });
    return out;
  }

  /** Questionable nodes not heard from for 15 minutes: ping them to learn whether they live. */
  stale(): RoutingNode[] {
    return this.all().filter((n) => this.stateOf(n) === 'questionable');
  }

  /** The node at this address, if any. */
  findByAddress(a: PeerAddress): RoutingNode | undefined {
    return this.byEndpoint.get(formatAddress(a));
  }

  /**
   * Whether a new node may enter at all: its id matches its IP when BEP 42 is enforced, no
   * other node holds its endpoint (a bad one there makes way unless `keepBad`), and,
   * restricted, its IP has no node yet.
   */
  private admissible(c: NodeInfo, keepBad = false): boolean {
    if (this.enforceNodeIdIp && !isValidBep42Id(c.id, c.host)) return false;
    const holder = this.byEndpoint.get(formatAddress(c));
    if (holder && !holder.id.equals(c.id)) {
      if (keepBad || this.stateOf(holder) !== 'bad') return false;
      this.remove(holder.id);
    }
    return !(this.restrictIps && !isLoopback(c.host) && (this.perHost.get(c.host) ?? 0) > 0);
  }

  /** Restricted: another node of `list` shares the /24 (IPv6 /64) of `c` (loopback exempt). */
  private subnetTaken(list: readonly RoutingNode[], c: NodeInfo): boolean {
    if (!this.restrictIps || isLoopback(c.host)) return false;
    const net = subnetOf(c.host);
    return net !== undefined && list.some((n) => !n.id.equals(c.id) && subnetOf(n.host) === net);
  }

  private track(n: RoutingNode): void {
    this.byEndpoint.set(formatAddress(n), n);
    this.perHost.set(n.host, (this.perHost.get(n.host) ?? 0) + 1);
  }

  private untrack(n: RoutingNode): void {
    const key = formatAddress(n);
    if (this.byEndpoint.get(key) === n) this.byEndpoint.delete(key);
    const left = (this.perHost.get(n.host) ?? 1) - 1;
    if (left > 0) this.perHost.set(n.host, left);
    else this.perHost.delete(n.host);
  }

  private bucketFor(id: Uint8Array): Bucket {
    const cpl = commonPrefixLength(this.id, id);
    return this.buckets[Math.min(cpl, this.buckets.length - 1)]!;
  }

  private split(): void {
    const last = this.buckets[this.buckets.length - 1]!;
    const depth = this.buckets.length - 1;
    const far = this.newBucket(last.lastChanged);
    const near = this.newBucket(last.lastChanged);
    for (const n of last.nodes) (commonPrefixLength(this.id, n.id) === depth ? far : near).nodes.push(n);
    for (const n of last.replacements) {
      const b = commonPrefixLength(this.id, n.id) === depth ? far : near;
      // (No removals mid-split: a bad node holding the endpoint keeps it.)
      if (b.nodes.length < this.k && this.admissible(n, true) && !this.subnetTaken(b.nodes, n)) {
        b.nodes.push(n);
        this.track(n);
      } else b.replacements.push(n);
    }
    this.buckets.splice(depth, 1, far, near);
  }

  private touch(node: RoutingNode, how: 'response' | 'query' | 'unverified', now: number): void {
    if (how === 'response') {
      node.lastResponse = now;
      node.failures = 0;
    } else if (how === 'query') node.lastQuery = now;
  }

  private newNode(c: NodeInfo, how: 'response' | 'query' | 'unverified', now: number): RoutingNode {
    const node: RoutingNode = {
      id: Buffer.from(c.id),
      host: c.host,
      port: c.port,
      lastResponse: undefined,
      lastQuery: undefined,
      failures: 0,
      addedAt: now,
    };
    this.touch(node, how, now);
    return node;
  }

  private addReplacement(b: Bucket, node: RoutingNode): void {
    this.dropReplacement(b, node.id);
    b.replacements.unshift(node);
    if (b.replacements.length > this.k) b.replacements.length = this.k;
  }

  private dropReplacement(b: Bucket, id: Buffer): void {
    b.replacements = b.replacements.filter((n) => !n.id.equals(id));
  }

  private newBucket(lastChanged = this.clock.now()): Bucket {
    return { nodes: [], replacements: [], lastChanged };
  }
}

function isLoopback(host: string): boolean {
  return ipv4Bytes(host)?.[0] === 127 || host === '::1';
}

/** The /24 of an IPv4 address or the /64 of an IPv6 one, as a string key. */
function subnetOf(host: string): string | undefined {
  const v4 = ipv4Bytes(host);
  if (v4) return v4.subarray(0, 3).join('.');
  return ipv6Bytes(host)?.subarray(0, 8).toString('hex');
}

function lastSeen(n: RoutingNode): number {
  return Math.max(n.lastResponse ?? -Infinity, n.lastQuery ?? -Infinity, n.addedAt);
}
