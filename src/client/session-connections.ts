/**
 * The session's connections: peer options (extensions, encryption, rate gates, timeouts),
 * incoming connections until their handshake, outgoing dials (uTP first, then TCP), the
 * handshake decision (src/client/handshake-policy.ts), joining a torrent, simultaneous dials,
 * extension message routing, and our address as peers see it (BEP 40). The Client owns one.
 */
import { Peer } from '../peer/index.js';
import type { Connector, Transport } from '../net/transport.js';
import { DisconnectReason, type DisconnectInfo } from '../peer/disconnect.js';
import type {
  HandshakeInfo,
  PeerAcceptOptions,
  PeerAttach,
  PeerEventRecord,
  PeerObserver,
} from '../peer/types.js';
import type { Torrent } from '../torrent/torrent.js';
import type { Message } from '../wire/index.js';
import type { Candidate } from '../torrent/candidates.js';
import type { EngineExtension } from '../torrent/engine-extension.js';
import type { BDict } from '../bencode/index.js';
import type { PeerAddress } from '../util/compact.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import { bothGates, type BandwidthLimiter } from '../util/bandwidth.js';
import type { SettingsStore } from '../settings/index.js';
import type { UtpSocket } from '../utp/socket.js';
import type { ClientEvents } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { IpFilter } from './ip-filter.js';
import type { PendingIncoming } from './pending-incoming.js';
import type { SessionObserver } from './session-observer.js';
import { normalizeHost, type ConnectionEntry, type ConnectionTable } from './connection-table.js';
import { decideHandshake, type HandshakePolicy } from './handshake-policy.js';
import { ExternalAddress } from './external-address.js';
import { DuplicateResolver, resolveTwin } from './duplicates.js';
import { peerSettings } from './settings-map.js';
import { wireInfoHashes, type InfoHashes } from '../metainfo/info-hash.js';

export interface ConnectionsHost {
  readonly peerId: Buffer;
  readonly options: ResolvedOptions;
  readonly ipFilter: IpFilter;
  readonly pending: PendingIncoming<Peer<Torrent>>;
  readonly connections: ConnectionTable;
  readonly extensions: ReadonlyMap<string, EngineExtension>;
  readonly settings: SettingsStore;
  readonly download: BandwidthLimiter;
  readonly upload: BandwidthLimiter;
  readonly observer: SessionObserver;
  readonly tcpConnector: Connector;
  emit: TypedEmitter<ClientEvents>['emit'];
  closed(): boolean;
  /** A torrent by its info-hash or a hybrid's truncated v2 hash (hex). */
  torrent(hex: string): Torrent | undefined;
  /** The torrent is (still) in the session. */
  has(t: Torrent): boolean;
  torrents(): IterableIterator<Torrent>;
  /** Hybrids' truncated v2 hashes (hex). */
  v2Aliases(): IterableIterator<string>;
  utp(): UtpSocket | undefined;
  /** The DHT runs (the DHT bit in handshakes). */
  dht(): boolean;
  listenPort(): number;
  announcePort(): number;
  externalAddress(): string | undefined;
  dialSoon(): void;
  /** A peer sent its DHT port (BEP 5 PORT). */
  portReceived(peer: Peer<Torrent>, torrent: Torrent, port: number): void;
  warn(e: unknown): void;
}

export class SessionConnections implements PeerObserver<Torrent> {
  /** Our IP as peers' `yourip` votes say (BEP 40 priorities). */
  private readonly addressVotes = new ExternalAddress();
  private readonly policy: HandshakePolicy;
  private readonly duplicates: DuplicateResolver;

  constructor(private readonly host: ConnectionsHost) {
    this.policy = {
      peerId: host.peerId,
      limits: host.options.limits,
      ipFilter: host.ipFilter,
      connections: host.connections,
      torrent: (hex) => host.torrent(hex),
      handshakeKeys: (t) => this.handshakeKeys(t),
      self: () => this.ownAddress(),
      evict: (p) => p.close(DisconnectReason.TOO_MANY),
    };
    this.duplicates = new DuplicateResolver({
      clock: host.options.clock,
      peerId: host.peerId,
      listenPort: () => host.announcePort(),
    });
  }

  private handshakeKeys(t: Torrent): BDict | undefined {
    let out: BDict | undefined;
    for (const ext of this.host.extensions.values()) {
      const keys = ext.handshakeKeys?.(t);
      if (keys) out = { ...out, ...keys };
    }
    return out;
  }

  private rateGate(
    session: BandwidthLimiter,
    dir: 'upload' | 'download',
    t: Torrent | undefined,
    n: number,
  ): Promise<void> | undefined {
    if (!t) return session.gate(n);
    const b = t.bandwidth;
    return bothGates(b.gate(dir, n), b.honorsSessionLimits ? session.request(n, b.weight) : undefined);
  }

  /** The extension names we announce to peers of this torrent (ut_pex not for private ones). */
  private extensionNames(t: Torrent): string[] {
    return [...this.host.extensions.values()].filter((e) => e.offeredFor?.(t) ?? true).map((e) => e.name);
  }

  /**
   * The bandwidth gates every connection shares: the peer's torrent (known once it joined)
   * decides which limits apply besides the session's.
   */
  private readonly gates = {
    upload: (n: number, peer: Peer<unknown>): Promise<void> | undefined =>
      this.rateGate(this.host.upload, 'upload', (peer as Peer<Torrent>).torrent, n),
    download: (n: number, peer: Peer<unknown>): Promise<void> | undefined =>
      this.rateGate(this.host.download, 'download', (peer as Peer<Torrent>).torrent, n),
  };

  /** An incoming peer's torrent is known only at its handshake: its extensions are registered then. */
  private peerOptions(t: Torrent | undefined) {
    return {
      peerId: this.host.peerId,
      extensions: t ? this.extensionNames(t) : [],
      encryption: this.host.options.encryption,
      clock: this.host.options.clock,
      // The DHT bit tells peers to send PORT (and that we send ours); the v2 bit (BEP 52) only
      // for torrents with a v2 hash (an incoming peer's torrent sets it at the handshake).
      reserved: { extended: true, fast: true, dht: this.host.dht(), v2: !!t?.infoHashes.v2 },
      // BEP 10 `p`: the port others can reach us on (a mapping's external port when there is one).
      ...(this.host.listenPort() ? { listenPort: this.host.announcePort() } : {}),
      bandwidth: this.gates,
      reuseReadBuffer: this.host.options.reuseReadBuffer,
      ...peerSettings(this.host.settings),
    };
  }

  /**
   * The options of every incoming connection: one object, made again only when what it is made
   * of changed (settings, ports, the DHT, encryption). Per connection it cost ~1 KB: built by
   * spreads in optimised code, each copy even got a hidden class of its own.
   */
  private acceptOptions(): PeerAcceptOptions<Torrent> {
    const h = this.host;
    const key = `${h.settings.revision}|${h.listenPort()}|${h.announcePort()}|${h.dht()}|${h.options.encryption}`;
    if (this.accepting?.key !== key)
      this.accepting = {
        key,
        options: {
          ...this.peerOptions(undefined),
          // MSE finds the torrent by its hash: a hybrid's truncated v2 hash is one of them too.
          infoHashes: () => [
            ...[...h.torrents()].map((t) => t.infoHash),
            ...[...h.v2Aliases()].map((hex) => Buffer.from(hex, 'hex')),
          ],
          onHandshake: (info, peer) => {
            const answer = this.onHandshake(info);
            // Registered before the Peer sends our extension handshake (right after this hook).
            if (typeof answer !== 'number')
              for (const name of this.extensionNames(answer.torrent)) peer.extensionRegistry.register(name);
            return answer;
          },
        },
      };
    return this.accepting.options;
  }

  private accepting: { key: string; options: PeerAcceptOptions<Torrent> } | undefined;

  onIncoming(transport: Transport): void {
    if (this.host.closed() || (transport.kind === 'tcp' && !this.host.options.transports.tcpIncoming)) {
      transport.destroy();
      return;
    }
    const host = normalizeHost(transport.remoteAddress);
    const peer: Peer<Torrent> = Peer.accept<Torrent>(transport, this.acceptOptions());
    this.track(peer, undefined);
    if (!this.host.ipFilter.allows(host)) return peer.close(DisconnectReason.IP_FILTERED);
    // Every slot taken by established (or outgoing) connections: no use waiting for a handshake.
    const full =
      this.host.connections.size - 1 - this.host.pending.size >= this.host.options.limits.maxConnections;
    // Its handshake or close (peerEvent) takes it out of the pool again.
    if (full || !this.host.pending.admit(peer, host)) return peer.close(DisconnectReason.TOO_MANY);
  }

  /** Accept or refuse a peer whose handshake arrived (src/client/handshake-policy.ts). */
  private onHandshake(info: HandshakeInfo): PeerAttach<Torrent> | DisconnectReason {
    // An incoming connection leaving the pending pool needs a slot among the established ones.
    if (
      info.incoming &&
      this.host.connections.size - this.host.pending.size >= this.host.options.limits.maxConnections
    )
      return DisconnectReason.TOO_MANY;
    return decideHandshake(this.policy, info);
  }

  /**
   * Counts a connection; its handshake, extension handshakes, errors and close come to
   * peerEvent (the peer's observer: no listeners, so no closures, per connection).
   */
  private track(peer: Peer<Torrent>, candidate: { torrent: Torrent; c: Candidate } | undefined): void {
    const entry: ConnectionEntry = {
      host: normalizeHost(peer.host),
      candidate,
      torrent: undefined,
      halfOpen: candidate !== undefined,
      voted: false,
      extensions: undefined,
    };
    this.host.connections.added(peer, entry);
    peer.observer = this;
    this.host.observer.connectionOpened(peer);
  }

  peerEvent(peer: Peer<Torrent>, e: PeerEventRecord): void {
    const entry = this.host.connections.peers.get(peer);
    if (!entry) return;
    switch (e.event) {
      case 'handshake':
        return this.joined(peer, entry);
      case 'extended-handshake': {
        const torrent = entry.torrent;
        if (!torrent) return;
        const hs = e.args[0];
        if (peer.incoming) resolveTwin(this.duplicates, torrent, peer, false);
        if (!entry.voted) {
          entry.voted = true;
          this.sawOwnAddress(entry.host, hs.yourip);
        }
        if (entry.extensions) for (const x of entry.extensions) x.peerHandshake?.(torrent, peer, hs);
        return;
      }
      case 'extended': {
        const [name, payload] = e.args;
        if (entry.torrent && entry.extensions)
          this.host.extensions.get(name)?.message?.(entry.torrent, peer, payload);
        return;
      }
      case 'internal-error': {
        const [error, event] = e.args;
        this.host.emit('peer-error', peer, error, entry.torrent);
        this.host.observer.connectionFailed(peer, error, event, entry.torrent);
        return;
      }
      case 'close':
        return this.closed(peer, entry, e.args[0]);
    }
  }

  peerMessage(peer: Peer<Torrent>, m: Message): void {
    if (m.type !== 'port') return;
    const torrent = this.host.connections.peers.get(peer)?.torrent;
    if (torrent) this.host.portReceived(peer, torrent, m.port);
  }

  /** The handshake completed: the peer joins its torrent (or is refused after all). */
  private joined(peer: Peer<Torrent>, entry: ConnectionEntry): void {
    this.host.connections.opened(entry);
    this.host.pending.done(peer);
    const torrent = peer.torrent;
    if (!torrent || this.host.closed() || !this.host.has(torrent)) {
      peer.close(this.host.closed() ? DisconnectReason.CLIENT_CLOSED : DisconnectReason.NO_SUCH_TORRENT);
      return;
    }
    // Remember what worked: the next dial to this address goes straight to it.
    const candidate = entry.candidate;
    if (candidate && (peer.transport === 'utp' || this.host.utp()))
      candidate.c.hints = { ...candidate.c.hints, utp: peer.transport === 'utp' };
    this.host.connections.joined(entry, torrent);
    this.host.observer.connectionJoined(peer);
    torrent.attach(peer);
    // Over the per-host limit only because of a connection the other way: the same peer.
    const overHost = this.host.connections.attachedCount(entry.host) > this.host.options.limits.maxPerHost;
    resolveTwin(this.duplicates, torrent, peer, overHost);
    if (this.host.extensions.size > 0 && !peer.closed) {
      const exts = (entry.extensions = [...this.host.extensions.values()]);
      for (const x of exts) x.peerAttached?.(torrent, peer);
    }
    this.host.dialSoon();
  }

  private closed(peer: Peer<Torrent>, entry: ConnectionEntry, info: DisconnectInfo): void {
    const wasOpen = entry.halfOpen;
    this.host.connections.opened(entry);
    this.host.pending.done(peer);
    this.host.connections.removed(peer, entry);
    this.host.observer.connectionClosed(peer, info);
    const candidate = entry.candidate;
    if (candidate && wasOpen) {
      if (info.reason === DisconnectReason.LOOPBACK)
        candidate.torrent.candidates.release(candidate.c, candidate.c.source, 0, false);
      else candidate.torrent.candidates.failed(candidate.c, this.host.options.clock.now());
    }
    const torrent = entry.torrent;
    if (torrent && entry.extensions) for (const x of entry.extensions) x.peerDetached?.(torrent, peer, info);
    this.host.emit('peer-disconnect', peer, info, torrent);
    this.host.dialSoon();
  }

  /** Our address as peers see it, with our listen port; undefined until a peer told us. */
  ownAddress(): PeerAddress | undefined {
    const ip = this.host.externalAddress() ?? this.addressVotes.current;
    return ip ? { host: ip, port: this.host.listenPort() } : undefined;
  }

  /** A peer's `yourip`: once the consensus changes, every torrent's candidates are re-ranked. */
  private sawOwnAddress(voter: string, yourip: Buffer | undefined): void {
    if (!this.addressVotes.vote(voter, yourip)) return;
    const self = this.ownAddress()!;
    for (const t of this.host.torrents()) t.candidates.setSelf(self);
  }

  connect(t: Torrent, c: Candidate): void {
    let peer: Peer<Torrent>;
    try {
      peer = this.dialPeer(t, c);
    } catch (e) {
      // A bad address from some source must not break dialing for everyone else.
      t.candidates.failed(c, this.host.options.clock.now());
      this.host.warn(e);
      return;
    }
    this.track(peer, { torrent: t, c });
    if (!this.host.ipFilter.allows(normalizeHost(c.host))) peer.close(DisconnectReason.IP_FILTERED);
  }

  private dialPeer(t: Torrent, c: Candidate): Peer<Torrent> {
    return Peer.connect<Torrent>({
      ...this.peerOptions(t),
      host: c.host,
      port: c.port,
      infoHash: t.infoHash,
      ...(v2Alias(t) ? { altInfoHash: Buffer.from(v2Alias(t)!, 'hex') } : {}),
      source: c.source,
      connector: this.connectorsFor(c),
      onHandshake: (info) => this.onHandshake(info),
    });
  }

  /**
   * uTP first, then TCP, as libtorrent: a peer reachable only one way is reached either way.
   * A peer that was reached over TCP after uTP failed (hints.utp false) is dialed over TCP.
   */
  private connectorsFor(c: Candidate): Connector[] {
    const tr = this.host.options.transports;
    const list: Connector[] = [];
    const utp = this.host.utp();
    if (utp && tr.utpOutgoing && c.hints?.utp !== false) list.push(utp);
    if (tr.tcpOutgoing || list.length === 0) list.push(this.host.tcpConnector);
    return list;
  }
}

/** The second 20-byte name of a hybrid (its truncated v2 hash, hex); none for v1 or v2 alone. */
export function v2Alias(m: { infoHashes: InfoHashes }): string | undefined {
  const forms = wireInfoHashes(m.infoHashes);
  return forms.length === 2 ? forms[1]!.toString('hex') : undefined;
}
