/**
 * The session's DHT: one DhtNode shared by every public torrent. Each torrent searches (and,
 * once we listen, announces) right away when it starts, every `intervalMs` after, and early
 * when short of peers; found peers go to `torrent.addPeers` with source 'dht'. Peers' PORT
 * messages and a torrent's `nodes` feed the routing table, and we send PORT to peers that set
 * the DHT bit. The table is saved to `stateFile` on close and reloaded on start (warm restart).
 * Private torrents never touch the DHT (BEP 27).
 *
 * The node runs on the session's UDP socket (the listen port, shared with UDP trackers) and
 * starts when the client listens. `port`, or a `host` other than the session's, gives it a socket
 * of its own instead, as before the socket was shared (kept for compatibility; deprecated).
 */
import { wireInfoHashes } from '../metainfo/info-hash.js';
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DhtNode, type DhtNodeOptions } from '../dht/index.js';
import type { Peer } from '../peer/index.js';
import { supportsDht } from '../wire/index.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { PeerAddress } from '../util/compact.js';
import { errorMessage } from '../util/errors.js';
import type { Torrent } from '../torrent/torrent.js';
import type { TorrentEventRecord, TorrentState } from '../torrent/types.js';
import type { ClientService } from '../torrent/engine-extension.js';
import type { SharedUdp } from './session-udp.js';

export interface DhtServiceOptions {
  /** false turns the DHT off (default true). */
  enabled?: boolean;
  /**
   * Deprecated: a UDP socket of the DHT's own on this port (0 = any) instead of the session's
   * (the listen port, shared with UDP trackers; the default).
   */
  port?: number;
  /**
   * Deprecated: bind a socket of the DHT's own to this address (IPv6: a BEP 32 node). The
   * session's own host (the Client's `host`) keeps the shared socket.
   */
  host?: string;
  /** Bootstrap nodes (default the public routers). */
  bootstrap?: readonly PeerAddress[];
  /** Routing table file; default `<resumeDir>/dht.json` when the client has a resume directory. */
  stateFile?: string;
  /** Search and announce period per torrent (default 15 min). */
  intervalMs?: number;
  /** A downloading torrent with fewer connected + known peers searches again early (default 10). */
  lowPeers?: number;
  /** Shortest time between two searches of one torrent (default 60 s). */
  minIntervalMs?: number;
  /** Further DhtNode options (timeouts, k, …). */
  node?: Omit<DhtNodeOptions, 'port' | 'host' | 'bootstrap' | 'clock' | 'nodeId'>;
}

/** What the service needs from the client. */
export interface DhtServiceHost {
  /** Our peer listen port (0 before listen: we search without announcing). */
  listenPort(): number;
  readonly options: { readonly clock: Clock };
  warn(e: Error): void;
  /** The session's shared UDP socket; without it (or with `port`, or another `host`) the node opens its own. */
  readonly udp?: SharedUdp;
}

interface TorrentDht {
  lastSearch: number;
  searching: boolean;
}

const RUNNING: readonly TorrentState[] = ['metadata', 'downloading', 'seeding'];
const CHECK_MS = 5000;

export class DhtService implements ClientService {
  readonly name = 'dht';
  readonly node: DhtNode;
  /** Settles once the socket is bound and the first bootstrap finished (or failed). */
  readonly ready: Promise<void>;
  private readonly host: DhtServiceHost;
  private readonly o: DhtServiceOptions;
  private readonly clock: Clock;
  private readonly torrents = new Map<Torrent, TorrentDht>();
  /** Checks every torrent for a due search (one interval while there are torrents). */
  private checkTimer: TimerHandle | undefined;
  private closed = false;

  constructor(host: DhtServiceHost, o: DhtServiceOptions = {}) {
    this.host = host;
    this.o = o;
    this.clock = host.options.clock;
    const apart = o.port !== undefined || (o.host !== undefined && o.host !== host.udp?.host);
    const shared = apart ? undefined : host.udp;
    const nodeOptions: DhtNodeOptions = {
      ...o.node,
      clock: this.clock,
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.host !== undefined ? { host: o.host } : {}),
      ...(shared ? { family: shared.family } : {}),
      ...(o.bootstrap !== undefined ? { bootstrap: o.bootstrap } : {}),
    };
    const node = (this.node = this.restore(nodeOptions) ?? new DhtNode(nodeOptions));
    node.on('warning', (e: Error) => host.warn(e));
    this.ready = (async () => {
      if (shared) {
        await shared.bound;
        if (this.closed) return;
        // A session bound to an address of the other family: the node gets a socket of its own.
        await node.listen(shared.endpoint('dht', node.family));
      } else await node.listen();
      await node.bootstrap();
    })().catch((e: unknown) => {
      if (!this.closed) host.warn(new Error(`dht: ${errorMessage(e)}`));
    });
  }

  /** Our DHT UDP port: the session's UDP port unless configured apart (undefined before listening). */
  get port(): number | undefined {
    return this.node.address()?.port;
  }

  torrentAdded(torrent: Torrent): void {
    if (this.closed || this.torrents.has(torrent) || torrent.metainfo.private) return;
    const entry: TorrentDht = { lastSearch: -Infinity, searching: false };
    this.torrents.set(torrent, entry);
    // One timer for all torrents (1,000 torrents: not 1,000 intervals).
    this.checkTimer ??= this.clock.setInterval(
      () => {
        for (const t of this.torrents.keys()) this.check(t);
      },
      Math.min(CHECK_MS, this.minInterval),
    );
    this.addNodes(torrent.metainfo.nodes);
    if (RUNNING.includes(torrent.state)) this.search(torrent);
  }

  torrentEvent(torrent: Torrent, e: TorrentEventRecord): void {
    const entry = this.torrents.get(torrent);
    if (!entry) return;
    switch (e.event) {
      case 'state':
        if (RUNNING.includes(e.args[0]) && this.clock.now() - entry.lastSearch >= this.minInterval)
          this.search(torrent);
        break;
      case 'peer-connect':
        this.peerJoined(e.args[0]);
        break;
      case 'metadata':
        if (torrent.metainfo.private) this.torrentRemoved(torrent);
        else this.addNodes(torrent.metainfo.nodes);
        break;
    }
  }

  torrentRemoved(torrent: Torrent): void {
    const e = this.torrents.get(torrent);
    if (!e) return;
    this.torrents.delete(torrent);
    if (this.torrents.size === 0) {
      this.checkTimer?.cancel();
      this.checkTimer = undefined;
    }
  }

  /** Searches now (and announces when we listen), unless a search of this torrent is running. */
  search(torrent: Torrent): void {
    const e = this.torrents.get(torrent);
    if (!e || e.searching || this.closed) return;
    e.searching = true;
    e.lastSearch = this.clock.now();
    const give = (peers: PeerAddress[]): void => {
      if (peers.length > 0 && this.torrents.has(torrent))
        torrent.addPeers(
          peers.map(({ host, port }) => ({ host, port })),
          { kind: 'dht' },
        );
    };
    void (async () => {
      await this.ready;
      if (this.closed) return;
      const port = this.host.listenPort();
      // A hybrid is announced under both names (v1, and v2 truncated to 20 bytes, BEP 52), so
      // v1-only and v2 peers both find it; handshakes with either name reach the torrent.
      const names = wireInfoHashes(torrent.infoHashes);
      for (const ih of names.length > 0 ? names : [torrent.infoHash]) {
        if (this.closed || !this.torrents.has(torrent)) break;
        if (port > 0) give((await this.node.announce(ih, port)).peers);
        else await this.node.lookup(ih, give);
      }
    })()
      .catch((err: unknown) => {
        if (!this.closed) this.host.warn(new Error(`dht search: ${errorMessage(err)}`));
      })
      .finally(() => {
        e.searching = false;
      });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [...this.torrents.keys()]) this.torrentRemoved(t);
    await this.save().catch((e: unknown) => this.host.warn(new Error(`dht state: ${errorMessage(e)}`)));
    await this.node.close();
  }

  /** Writes the routing table to the state file (atomically). */
  async save(): Promise<void> {
    const file = this.o.stateFile;
    if (!file || this.node.table.size === 0) return;
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify(this.node.toJSON()));
    await rename(tmp, file);
  }

  private get minInterval(): number {
    return this.o.minIntervalMs ?? 60_000;
  }

  private check(torrent: Torrent): void {
    const e = this.torrents.get(torrent);
    if (!e || !RUNNING.includes(torrent.state)) return;
    const since = this.clock.now() - e.lastSearch;
    const short =
      torrent.state !== 'seeding' && torrent.peerCount + torrent.candidates.size < (this.o.lowPeers ?? 10);
    if (since >= (this.o.intervalMs ?? 15 * 60_000) || (short && since >= this.minInterval))
      this.search(torrent);
  }

  private peerJoined(peer: Peer<unknown>): void {
    const port = this.port;
    if (port !== undefined && peer.reservedBytes && supportsDht(peer.reservedBytes)) peer.sendPort(port);
  }

  /** A peer of one of our torrents sent PORT (BEP 5): its DHT node may join the routing table. */
  portReceived(peer: Peer<unknown>, torrent: Torrent, port: number): void {
    if (port > 0 && !this.closed && this.torrents.has(torrent))
      void this.node.addNode({ host: normalizeHost(peer.host), port });
  }

  private addNodes(nodes: readonly PeerAddress[]): void {
    for (const n of nodes.slice(0, 16)) void this.node.addNode(n).catch(() => false);
  }

  private restore(options: DhtNodeOptions): DhtNode | undefined {
    const file = this.o.stateFile;
    if (!file) return undefined;
    try {
      return DhtNode.restore(JSON.parse(readFileSync(file, 'utf8')) as unknown, options);
    } catch {
      // Missing or damaged state: a cold start.
      return undefined;
    }
  }
}

function normalizeHost(host: string): string {
  return host.startsWith('::ffff:') ? host.slice(7) : host;
}
