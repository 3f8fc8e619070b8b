/**
 * The session: one listen socket, our peer id, connection limits, global rate limits, and the
 * torrents. It dials the torrents' candidate addresses (half-open limit, per-host limit, IP
 * filter), accepts incoming connections and decides on every handshake which torrent the peer
 * joins or why it is refused (the disconnect reasons of Net::BitTorrent).
 */
import { resolve as resolvePath } from 'node:path';
import { Peer } from '../peer/index.js';
import type { Listener, Transport } from '../net/transport.js';
import { DisconnectReason, type DisconnectInfo } from '../peer/disconnect.js';
import type { HandshakeInfo, PeerAttach } from '../peer/types.js';
import type { Metainfo } from '../metainfo/types.js';
import { FileStorage } from '../storage/file-storage.js';
import type { Storage } from '../storage/storage.js';
import { sharedHashPool, type HashPool } from '../hash/pool.js';
import type { TimerHandle } from '../util/clock.js';
import { NbtError } from '../util/errors.js';
import { Torrent, type TorrentHost } from '../torrent/torrent.js';
import type { TorrentOptions } from '../torrent/types.js';
import type { Candidate } from '../torrent/candidates.js';
import { TypedEmitter } from './typed-emitter.js';
import type { ClientEvents } from './events.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from './options.js';
import { IpFilter } from './ip-filter.js';
import { BandwidthLimiter } from './bandwidth.js';
import { ResumeStore } from './resume-store.js';
import type { ClientService, EngineExtension } from './extensions.js';
import { TrackerService } from './tracker-service.js';
import { DhtService } from './dht-service.js';
import { SessionUdp } from './session-udp.js';
import { UtpSocket } from '../utp/socket.js';
import type { Connector } from '../net/transport.js';
import { announceMagnet, saveFetchedTorrent, selectOnlyFiles } from './magnet.js';
import { MetadataExchange } from '../torrent/metadata-exchange.js';
import { PexExchange } from '../torrent/pex-exchange.js';
import type { BDict } from '../bencode/index.js';
import { ConnectionTable, normalizeHost } from './connection-table.js';
import { decideHandshake, type HandshakePolicy } from './handshake-policy.js';
import { bindListenSocket } from './listen-socket.js';
import { Dialer } from './dialer.js';
import { deleteTorrentFiles, readTorrentInput, type TorrentInput } from './torrent-input.js';

export interface AddTorrentOptions extends Partial<TorrentOptions> {
  /** Use this storage instead of files under savePath (tests: MemoryStorage). */
  storage?: (m: Metainfo) => Storage;
}

export interface RemoveTorrentOptions {
  /** Also delete the torrent's files. */
  deleteFiles?: boolean;
}

const DIAL_INTERVAL_MS = 2000;

export class Client extends TypedEmitter<ClientEvents> {
  readonly peerId: Buffer;
  readonly options: ResolvedOptions;
  readonly ipFilter: IpFilter;
  readonly download: BandwidthLimiter;
  readonly upload: BandwidthLimiter;
  private readonly byHash = new Map<string, Torrent>();
  private readonly connections = new ConnectionTable();
  private readonly dialer: Dialer;
  private readonly policy: HandshakePolicy;
  private server: Listener | undefined;
  private listenPortValue = 0;
  private dialTimer: TimerHandle | undefined;
  private resumeTimer: TimerHandle | undefined;
  private closed = false;
  private readonly resume: ResumeStore | undefined;
  private readonly torrentHost: TorrentHost;
  private readonly extensionsByName = new Map<string, EngineExtension>();
  private readonly servicesList: ClientService[] = [];
  /** Tracker announces for every torrent (undefined with `trackers: false`). */
  readonly trackerService: TrackerService | undefined;
  /** The session's DHT (undefined with `dht: false`). */
  readonly dht: DhtService | undefined;
  /** The session's UDP socket (DHT, UDP trackers), bound by listen() on the listen port. */
  readonly udp: SessionUdp;
  /** uTP connections over `udp` (created by listen(); undefined when uTP is off). */
  utp: UtpSocket | undefined;
  /** ut_metadata: magnet links' metadata fetching and serving ours. */
  readonly metadata: MetadataExchange;
  readonly pex: PexExchange | undefined;

  constructor(options: ClientOptions = {}) {
    super();
    this.options = resolveOptions(options);
    this.peerId = this.options.peerId;
    this.ipFilter = new IpFilter(options.ipFilter);
    const clock = this.options.clock;
    this.download = new BandwidthLimiter(clock, this.options.downloadRateLimit);
    this.upload = new BandwidthLimiter(clock, this.options.uploadRateLimit);
    this.resume = this.options.resumeDir ? new ResumeStore(this.options.resumeDir) : undefined;
    this.udp = new SessionUdp(this.options.host, (e) => this.warn(e));
    this.torrentHost = {
      clock,
      hashPool: this.options.hashPool ?? sharedHashPool(),
      connectSoon: () => this.dialSoon(),
    };
    this.dialer = new Dialer({
      clock,
      limits: this.options.limits,
      connections: this.connections,
      closed: () => this.closed,
      torrents: () => this.torrents,
      connect: (t, c) => this.connect(t, c),
    });
    this.policy = {
      peerId: this.peerId,
      limits: this.options.limits,
      ipFilter: this.ipFilter,
      connections: this.connections,
      torrent: (hex) => this.byHash.get(hex),
      handshakeKeys: (t) => this.handshakeKeys(t),
    };
    this.dialTimer = clock.setInterval(() => this.dialer.run(), DIAL_INTERVAL_MS);
    if (this.resume)
      this.resumeTimer = clock.setInterval(() => void this.saveAllResume(), this.options.resumeInterval);
    if (options.trackers !== false) {
      this.trackerService = new TrackerService(this, options.trackers);
      this.addService(this.trackerService);
    }
    this.metadata = new MetadataExchange({
      clock,
      ...(options.maxMetadataSize !== undefined ? { maxSize: options.maxMetadataSize } : {}),
      fetched: (t, info) =>
        void saveFetchedTorrent(this.options.resumeDir, t, info).catch((e) => this.warn(e)),
      warn: (e) => this.warn(e),
    });
    this.useExtension(this.metadata);
    this.addService(this.metadata);
    if (options.pex !== false) {
      this.pex = new PexExchange({ clock, ...options.pex });
      this.useExtension(this.pex);
      this.addService(this.pex);
    }
    if (options.dht !== false && options.dht?.enabled !== false) {
      const stateFile = this.options.resumeDir ? resolvePath(this.options.resumeDir, 'dht.json') : undefined;
      this.dht = new DhtService(
        { options: { clock }, listenPort: () => this.port, warn: (e) => this.warn(e), udp: this.udp },
        { ...(stateFile ? { stateFile } : {}), ...options.dht },
      );
      this.addService(this.dht);
    }
  }

  get hashPool(): HashPool {
    return this.torrentHost.hashPool;
  }

  /** The port we listen on (0 before listen()). */
  get port(): number {
    return this.listenPortValue;
  }

  get torrents(): Torrent[] {
    return [...this.byHash.values()];
  }

  getTorrent(infoHash: Buffer | string): Torrent | undefined {
    return this.byHash.get(typeof infoHash === 'string' ? infoHash.toLowerCase() : infoHash.toString('hex'));
  }

  /** Open connections (including those still connecting or handshaking). */
  get connectionCount(): number {
    return this.connections.size;
  }

  // ---- listening ------------------------------------------------------------------------------

  /** Binds the listen socket (the configured port, a range tried in order, or any). */
  async listen(
    port: number | [number, number] = this.options.port,
    host = this.options.host,
  ): Promise<number> {
    if (this.closed) throw new NbtError('CLIENT_CLOSED', 'client is closed');
    if (this.server) return this.listenPortValue;
    const [from, to] = Array.isArray(port) ? port : [port, port];
    const server = await bindListenSocket(
      this.options.network,
      from,
      to,
      host,
      (t) => this.onIncoming(t),
      (e) => this.emit('warning', e),
    );
    this.server = server;
    this.listenPortValue = server.port;
    // The DHT and UDP trackers share one UDP socket on the same port number.
    await this.udp.bind(this.listenPortValue, host).catch((e: unknown) => this.warn(e));
    const tr = this.options.transports;
    if ((tr.utpIncoming || tr.utpOutgoing) && !this.closed)
      this.utp = new UtpSocket({
        clock: this.options.clock,
        endpoint: (family) => this.udp.endpoint('utp', family),
        ...(tr.utpIncoming ? { onConnection: (t: Transport) => this.onIncoming(t) } : {}),
        maxHalfOpen: tr.utpMaxHalfOpen,
      });
    this.emit('listening', this.listenPortValue);
    return this.listenPortValue;
  }

  // ---- torrents -------------------------------------------------------------------------------

  /** Adds a torrent from .torrent bytes, a .torrent path, or parsed metainfo; starts it unless paused. */
  async addTorrent(input: TorrentInput, o: AddTorrentOptions = {}): Promise<Torrent> {
    if (this.closed) throw new NbtError('CLIENT_CLOSED', 'client is closed');
    const { metainfo, magnet } = await readTorrentInput(input, this.options.resumeDir);
    if (this.byHash.has(metainfo.infoHashHex))
      throw new NbtError('TORRENT_EXISTS', `torrent ${metainfo.infoHashHex} is already added`);
    const savePath = resolvePath(o.savePath ?? this.options.savePath);
    const saved = this.resume && !magnet?.awaiting ? await this.resume.load(metainfo, savePath) : undefined;
    // A magnet's metainfo is replaced when its metadata arrives: storage uses the current one.
    const torrent: Torrent = new Torrent({
      metainfo,
      savePath,
      ...(magnet?.awaiting ? { awaitingMetadata: true } : {}),
      storage: o.storage
        ? () => o.storage!(torrent.metainfo)
        : () => new FileStorage(torrent.metainfo, savePath, { fsync: this.options.fsync }),
      host: this.torrentHost,
      paused: o.paused ?? false,
      skipCheck: o.skipCheck ?? false,
      sequential: o.sequential ?? false,
      ...(o.filePriorities ? { filePriorities: o.filePriorities } : {}),
      unchokeSlots: o.unchokeSlots ?? this.options.limits.unchokeSlots,
      ...(saved ? { trusted: saved.trusted, recheck: saved.recheck, unfinished: saved.unfinished } : {}),
      ...(saved ? { previous: { downloaded: saved.downloaded, uploaded: saved.uploaded } } : {}),
    });
    this.byHash.set(metainfo.infoHashHex, torrent);
    if (magnet?.link.trackers.length)
      this.trackerService?.addTrackers(metainfo.infoHashHex, magnet.link.trackers);
    this.forward(torrent);
    this.emit('torrent-added', torrent);
    for (const svc of this.servicesList) svc.torrentAdded?.(torrent);
    if (saved?.peers.length) torrent.addPeers(saved.peers, { kind: 'resume' });
    if (o.peers?.length) torrent.addPeers(o.peers, { kind: 'user' });
    if (magnet?.link.selectOnly?.length) selectOnlyFiles(torrent, magnet.link.selectOnly);
    if (magnet?.link.peers.length) torrent.addPeers(magnet.link.peers, { kind: 'magnet' });
    if (magnet?.awaiting) announceMagnet(this.trackerService, torrent, magnet.link.trackers);
    // Start on the next turn of the event loop, so that a caller's listeners attached right after
    // `await addTorrent()` see every state change, even when no check is needed.
    setImmediate(() => {
      if (!this.closed && this.byHash.get(metainfo.infoHashHex) === torrent && torrent.state === 'stopped')
        torrent.start();
    });
    return torrent;
  }

  /** Stops and forgets a torrent (TORRENT_REMOVED for its peers); optionally deletes its files. */
  async removeTorrent(t: Torrent | string | Buffer, o: RemoveTorrentOptions = {}): Promise<void> {
    const torrent = t instanceof Torrent ? t : this.getTorrent(t);
    if (!torrent || this.byHash.get(torrent.infoHashHex) !== torrent) return;
    this.byHash.delete(torrent.infoHashHex);
    await torrent.destroy(DisconnectReason.TORRENT_REMOVED);
    if (this.resume) await this.resume.remove(torrent.metainfo).catch((e: unknown) => this.warn(e));
    if (o.deleteFiles) await deleteTorrentFiles(torrent);
    for (const svc of this.servicesList) svc.torrentRemoved?.(torrent);
    this.emit('torrent-removed', torrent);
  }

  private forward(t: Torrent): void {
    t.on('peer-connect', (p) => this.emit('peer-connect', t, p));
    t.on('piece-hash-pass', (i) => this.emit('piece-hash-pass', t, i));
    t.on('piece-hash-fail', (i, peers) => this.emit('piece-hash-fail', t, i, peers));
    t.on('check-progress', (a, b) => this.emit('check-progress', t, a, b));
    t.on('state', (s, prev) => this.emit('torrent-state', t, s, prev));
    t.on('done', () => {
      this.emit('torrent-done', t);
      void this.saveResume(t);
    });
    t.on('error', (e) => this.emit('torrent-error', t, e));
    t.on('file-error', (info) => this.emit('file-error', t, info));
    t.on('banned', (h) => this.emit('banned', t, h));
  }

  // ---- extensions and services -----------------------------------------------------------------

  /**
   * Registers a BEP 10 extension for connections made from now on (register before adding
   * torrents). Its name goes into our extension handshake; its messages are routed to it.
   */
  useExtension(ext: EngineExtension): void {
    if (this.extensionsByName.has(ext.name))
      throw new NbtError('CLIENT_EXTENSION_EXISTS', `extension ${ext.name} is already registered`);
    this.extensionsByName.set(ext.name, ext);
  }

  get extensions(): EngineExtension[] {
    return [...this.extensionsByName.values()];
  }

  /** Adds a session-wide service (trackers, DHT, …); it hears about every torrent. */
  addService(service: ClientService): void {
    this.servicesList.push(service);
    for (const t of this.torrents) service.torrentAdded?.(t);
  }

  get services(): ClientService[] {
    return [...this.servicesList];
  }

  private handshakeKeys(t: Torrent): BDict | undefined {
    let out: BDict | undefined;
    for (const ext of this.extensionsByName.values()) {
      const keys = ext.handshakeKeys?.(t);
      if (keys) out = { ...out, ...keys };
    }
    return out;
  }

  // ---- rate limits ----------------------------------------------------------------------------

  /** Global limits in bytes/s (0 = unlimited). */
  setRateLimits(limits: { download?: number; upload?: number }): void {
    if (limits.download !== undefined) this.download.setRate(limits.download);
    if (limits.upload !== undefined) this.upload.setRate(limits.upload);
  }

  // ---- connections ----------------------------------------------------------------------------

  /** The extension names we announce to peers of this torrent (ut_pex not for private ones). */
  private extensionNames(t: Torrent): string[] {
    return [...this.extensionsByName.values()].filter((e) => e.offeredFor?.(t) ?? true).map((e) => e.name);
  }

  /** An incoming peer's torrent is known only at its handshake: its extensions are registered then. */
  private peerOptions(t: Torrent | undefined) {
    return {
      peerId: this.peerId,
      extensions: t ? this.extensionNames(t) : [],
      encryption: this.options.encryption,
      clock: this.options.clock,
      // The DHT bit tells peers to send PORT (and that we send ours).
      ...(this.dht ? { reserved: { extended: true, fast: true, dht: true } } : {}),
      ...(this.listenPortValue ? { listenPort: this.listenPortValue } : {}),
      bandwidth: { upload: this.upload.gate, download: this.download.gate },
      reuseReadBuffer: this.options.reuseReadBuffer,
    };
  }

  private onIncoming(transport: Transport): void {
    if (this.closed || (transport.kind === 'tcp' && !this.options.transports.tcpIncoming)) {
      transport.destroy();
      return;
    }
    const host = normalizeHost(transport.remoteAddress);
    const peer: Peer<Torrent> = Peer.accept<Torrent>(transport, {
      ...this.peerOptions(undefined),
      infoHashes: () => [...this.byHash.values()].map((t) => t.infoHash),
      onHandshake: (info) => {
        const answer = this.onHandshake(info);
        // Registered before the Peer sends our extension handshake (right after this hook).
        if (typeof answer !== 'number')
          for (const name of this.extensionNames(answer.torrent)) peer.extensionRegistry.register(name);
        return answer;
      },
    });
    this.track(peer, undefined);
    if (!this.ipFilter.allows(host)) peer.close(DisconnectReason.IP_FILTERED);
    else if (this.connections.size > this.options.limits.maxConnections)
      peer.close(DisconnectReason.TOO_MANY);
  }

  /** Accept or refuse a peer whose handshake arrived (src/client/handshake-policy.ts). */
  private onHandshake(info: HandshakeInfo): PeerAttach<Torrent> | DisconnectReason {
    return decideHandshake(this.policy, info);
  }

  /** Counts a connection and routes its handshake and close. */
  private track(peer: Peer<Torrent>, candidate: { torrent: Torrent; c: Candidate } | undefined): void {
    const host = normalizeHost(peer.host);
    this.connections.added(peer, host);
    if (candidate) this.connections.halfOpen++;
    let open = true;
    const opened = (): void => {
      if (candidate && open) this.connections.halfOpen--;
      open = false;
    };
    peer.once('handshake', () => {
      opened();
      const torrent = peer.torrent;
      if (!torrent || this.closed || !this.byHash.has(torrent.infoHashHex)) {
        peer.close(this.closed ? DisconnectReason.CLIENT_CLOSED : DisconnectReason.NO_SUCH_TORRENT);
        return;
      }
      // Remember what worked: the next dial to this address goes straight to it.
      if (candidate && (peer.transport === 'utp' || this.utp))
        candidate.c.hints = { ...candidate.c.hints, utp: peer.transport === 'utp' };
      this.connections.joined(peer, host, torrent);
      torrent.attach(peer);
      if (this.extensionsByName.size > 0) this.routeExtensions(torrent, peer);
      this.dialSoon();
    });
    peer.on('internal-error', (error) =>
      this.emit('peer-error', peer, error, this.connections.peers.get(peer)),
    );
    peer.once('close', (info: DisconnectInfo) => {
      const wasOpen = open;
      opened();
      const torrent = this.connections.removed(peer, host);
      if (candidate && wasOpen) {
        if (info.reason === DisconnectReason.LOOPBACK)
          candidate.torrent.candidates.release(candidate.c, candidate.c.source, 0, false);
        else candidate.torrent.candidates.failed(candidate.c, this.options.clock.now());
      }
      this.emit('peer-disconnect', peer, info, torrent);
      this.dialSoon();
    });
  }

  private routeExtensions(torrent: Torrent, peer: Peer<Torrent>): void {
    const exts = [...this.extensionsByName.values()];
    for (const e of exts) e.peerAttached?.(torrent, peer);
    peer.on('extended-handshake', (hs) => {
      for (const e of exts) e.peerHandshake?.(torrent, peer, hs);
    });
    peer.on('extended', (name, payload) =>
      this.extensionsByName.get(name)?.message?.(torrent, peer, payload),
    );
    peer.once('close', (info) => {
      for (const e of exts) e.peerDetached?.(torrent, peer, info);
    });
  }

  private dialSoon(): void {
    this.dialer.soon();
  }

  private connect(t: Torrent, c: Candidate): void {
    let peer: Peer<Torrent>;
    try {
      peer = this.dialPeer(t, c);
    } catch (e) {
      // A bad address from some source must not break dialing for everyone else.
      t.candidates.failed(c, this.options.clock.now());
      this.warn(e);
      return;
    }
    this.track(peer, { torrent: t, c });
    if (!this.ipFilter.allows(normalizeHost(c.host))) peer.close(DisconnectReason.IP_FILTERED);
  }

  private dialPeer(t: Torrent, c: Candidate): Peer<Torrent> {
    return Peer.connect<Torrent>({
      ...this.peerOptions(t),
      host: c.host,
      port: c.port,
      infoHash: t.infoHash,
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
    const tr = this.options.transports;
    const list: Connector[] = [];
    if (this.utp && tr.utpOutgoing && c.hints?.utp !== false) list.push(this.utp);
    if (tr.tcpOutgoing || list.length === 0) list.push(this.options.network);
    return list;
  }

  // ---- resume ---------------------------------------------------------------------------------

  /** Writes the torrent's resume file now (no-op without a resume directory). */
  async saveResume(t: Torrent): Promise<void> {
    if (!this.resume || t.state === 'checking' || t.state === 'stopped' || !t.hasMetadata) return;
    try {
      // With fsync on, the data the resume file vouches for is on disk before the file is.
      if (this.options.fsync) await t.storage().flush();
      await this.resume.save(t);
      t.emit('resume-saved');
      this.emit('resume-saved', t);
    } catch (e) {
      this.warn(e);
    }
  }

  private savingAll = false;

  private async saveAllResume(): Promise<void> {
    // A slow disk must not pile up periodic saves.
    if (this.savingAll) return;
    this.savingAll = true;
    try {
      for (const t of this.torrents) if (t.state !== 'stopped') await this.saveResume(t);
    } finally {
      this.savingAll = false;
    }
  }

  private warn(e: unknown): void {
    this.emit('warning', e instanceof Error ? e : new Error(String(e)));
  }

  // ---- shutdown -------------------------------------------------------------------------------

  /** Saves resume data, closes every peer (CLIENT_CLOSED), the listen socket and all files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dialTimer?.cancel();
    this.resumeTimer?.cancel();
    const server = this.server;
    this.server = undefined;
    const serverClosed = server ? server.close() : Promise.resolve();
    for (const peer of [...this.connections.peers.keys()]) peer.close(DisconnectReason.CLIENT_CLOSED);
    await Promise.all(
      this.torrents.map((t) => t.stop(DisconnectReason.CLIENT_CLOSED, () => this.saveResume(t))),
    );
    for (const svc of this.servicesList)
      await Promise.resolve(svc.close?.()).catch((e: unknown) => this.warn(e));
    this.utp?.close();
    await this.udp.close();
    this.download.close();
    this.upload.close();
    await serverClosed;
  }
}
