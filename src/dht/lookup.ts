/**
 * Iterative Kademlia lookup as a pure state machine. The caller asks `next()` for nodes to
 * query (at most `alpha` in flight, closest first), and reports each answer or failure. The
 * lookup ends when the `k` closest nodes that did not fail have all answered, i.e. no closer
 * node is left to ask. get_peers lookups also gather peers and the write tokens of the nodes
 * that answered, for the announce_peer that follows.
 */
import { formatAddress, type PeerAddress } from '../util/compact.js';
import { compareDistance } from './node-id.js';
import type { NodeInfo } from './krpc.js';

export interface LookupOptions {
  k?: number;
  alpha?: number;
  /** Hard cap on queries, so a lookup always ends even if nodes keep inventing closer ids. */
  maxQueries?: number;
  /** Most candidates kept (the farthest are forgotten). */
  maxCandidates?: number;
  /** Our own id and address are never queried. */
  selfId?: Buffer;
}

/** 'stalled': still awaited, but slow enough that its slot went to another node. */
type CandidateState = 'new' | 'pending' | 'stalled' | 'answered' | 'failed';

interface Candidate {
  /** The id a node claims (or was claimed for it); undefined for bootstrap addresses. */
  id: Buffer | undefined;
  addr: PeerAddress;
  key: string;
  state: CandidateState;
  token?: Buffer;
}

export interface AnsweredNode extends NodeInfo {
  token: Buffer | undefined;
}

export class Lookup {
  readonly target: Buffer;
  readonly k: number;
  readonly alpha: number;
  private readonly maxQueries: number;
  private readonly maxCandidates: number;
  private readonly selfId: Buffer | undefined;
  private candidates: Candidate[] = [];
  private readonly seen = new Set<string>();
  private readonly peerKeys = new Set<string>();
  private queries = 0;
  readonly peers: PeerAddress[] = [];

  constructor(target: Buffer, seeds: readonly (NodeInfo | PeerAddress)[], options: LookupOptions = {}) {
    this.target = target;
    this.k = options.k ?? 8;
    this.alpha = options.alpha ?? 3;
    this.maxQueries = options.maxQueries ?? 200;
    this.maxCandidates = options.maxCandidates ?? 128;
    this.selfId = options.selfId;
    for (const s of seeds) this.addCandidate('id' in s ? (s as NodeInfo).id : undefined, s);
  }

  get inFlight(): number {
    return this.candidates.filter((c) => c.state === 'pending').length;
  }

  get queriesSent(): number {
    return this.queries;
  }

  /** Nodes to query now; marks them pending. */
  next(): PeerAddress[] {
    const out: PeerAddress[] = [];
    let inFlight = this.inFlight;
    for (const c of this.window()) {
      if (inFlight >= this.alpha || this.queries >= this.maxQueries) break;
      if (c.state !== 'new') continue;
      c.state = 'pending';
      inFlight++;
      this.queries++;
      out.push(c.addr);
    }
    return out;
  }

  /** A queried node answered with its id, closer nodes, and (get_peers) peers and a token. */
  answered(
    addr: PeerAddress,
    id: Buffer,
    nodes: readonly NodeInfo[],
    values: readonly PeerAddress[] = [],
    token?: Buffer,
  ): PeerAddress[] {
    const c = this.find(addr);
    if (!c || (c.state !== 'pending' && c.state !== 'stalled')) return [];
    c.state = 'answered';
    c.id = id;
    if (token) c.token = token;
    for (const n of nodes) this.addCandidate(n.id, n);
    const fresh: PeerAddress[] = [];
    for (const p of values) {
      const key = formatAddress(p);
      if (this.peerKeys.has(key) || this.peerKeys.size >= 10_000) continue;
      this.peerKeys.add(key);
      this.peers.push(p);
      fresh.push(p);
    }
    this.resort();
    return fresh;
  }

  failed(addr: PeerAddress): void {
    const c = this.find(addr);
    if (c && (c.state === 'pending' || c.state === 'stalled')) c.state = 'failed';
  }

  /**
   * A query is slow (a soft timeout): its alpha slot goes to the next candidate, and the lookup
   * stops waiting for it once closer nodes push it out of the k closest.
   */
  stalled(addr: PeerAddress): void {
    const c = this.find(addr);
    if (c && c.state === 'pending') c.state = 'stalled';
  }

  /** True when nothing is in flight and no closer node is left to ask (or await). */
  get done(): boolean {
    if (this.inFlight > 0) return false;
    const window = this.window();
    if (window.some((c) => c.state === 'stalled')) return false;
    if (this.queries >= this.maxQueries) return true;
    return !window.some((c) => c.state === 'new');
  }

  /** The k closest nodes that answered, closest first, with the tokens they gave. */
  closest(): AnsweredNode[] {
    return this.candidates
      .filter((c) => c.state === 'answered' && c.id !== undefined)
      .slice(0, this.k)
      .map((c) => ({ id: c.id!, host: c.addr.host, port: c.addr.port, token: c.token }));
  }

  /** The k closest candidates that have not failed: the lookup's frontier. */
  private window(): Candidate[] {
    const out: Candidate[] = [];
    for (const c of this.candidates) {
      if (c.state === 'failed') continue;
      out.push(c);
      if (out.length >= this.k) break;
    }
    return out;
  }

  private find(addr: PeerAddress): Candidate | undefined {
    const key = formatAddress(addr);
    return this.candidates.find((c) => c.key === key);
  }

  private addCandidate(id: Buffer | undefined, addr: PeerAddress): void {
    if (id && this.selfId && id.equals(this.selfId)) return;
    const key = formatAddress(addr);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.candidates.push({ id, addr: { host: addr.host, port: addr.port }, key, state: 'new' });
  }

  private resort(): void {
    // Candidates without a known id (bootstrap routers) sort last once real ids are known.
    this.candidates.sort((a, b) => {
      if (!a.id || !b.id) return a.id ? -1 : b.id ? 1 : 0;
      return compareDistance(this.target, a.id, b.id);
    });
    if (this.candidates.length > this.maxCandidates) {
      // Never forget a pending node: its answer must still be matched.
      const keep = this.candidates.slice(0, this.maxCandidates);
      const pending = this.candidates
        .slice(this.maxCandidates)
        .filter((c) => c.state === 'pending' || c.state === 'stalled');
      this.candidates = [...keep, ...pending];
    }
  }
}
