/**
 * The session: one listen socket, our peer id, connection limits, global rate limits, and the
 * torrents. It dials the torrents' candidate addresses (half-open limit, per-host limit, IP
 * filter), accepts incoming connections and decides on every handshake which torrent the peer
 * joins or why it is refused (the disconnect reasons of Net::BitTorrent).
 */
import { createStreamServer, type StreamServer, type StreamServerOptions } from '../stream/http-server.js';
import { resolve as resolvePath } from 'node:path';
import { Peer } from '../peer/index.js';
import type { Listener, Transport } from '../net/transport.js';
import { DisconnectReason } from '../peer/disconnect.js';
import { assertFilesNotReserved, engineStatePaths } from '../storage/paths.js';
import { OpenFileBudget } from '../storage/fd-pool.js';
import { PendingIncoming } from './pending-incoming.js';
import { sharedHashPool, type HashPool } from '../hash/pool.js';
import type { TimerHandle } from '../util/clock.js';
import { NbtError } from '../util/errors.js';
import { Torrent, type TorrentHost } from '../torrent/torrent.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { ClientEvents } from './events.js';
import {
  resolveOptions,
  settingsFromOptions,
  syncOptions,
  type ClientOptions,
  type ResolvedOptions,
} from './options.js';
import { SettingsStore, type Settings, type SettingsPack } from '../settings/index.js';
import { SessionObserver } from './session-observer.js';
import type { AlertSubscription } from './alerts.js';
import type { SessionCounters } from './counters.js';
import { IpFilter } from './ip-filter.js';
import { BandwidthLimiter } from '../util/bandwidth.js';
import type { HttpRangeFetcher } from '../webseed/http-fetcher.js';
import { ResumeStore } from './resume-store.js';
import { CheckSlots } from '../storage/check-slots.js';
import type { ClientService, EngineExtension } from '../torrent/engine-extension.js';
import type { TrackerService } from './tracker-service.js';
import type { DhtService } from './dht-service.js';
import type { LsdService } from './lsd-service.js';
import type { PortMappingService } from './port-mapping-service.js';
import { SessionUdp } from './session-udp.js';
import { SessionRoute } from './session-route.js';
import { UtpSocket } from '../utp/socket.js';
import type { Connector } from '../net/transport.js';
import type { MetadataExchange } from '../torrent/metadata-exchange.js';
import type { PexExchange } from '../torrent/pex-exchange.js';
import { ConnectionTable } from './connection-table.js';
import { bindListenSocket } from './listen-socket.js';
import { Dialer } from './dialer.js';
import { SessionConnections, v2Alias } from './session-connections.js';
import { createServices } from './session-services.js';
import { routeTorrentEvent, type TorrentEventsHost } from './torrent-events.js';
import { ResumeSchedule, saveTorrentResume } from './resume-schedule.js';
import {
  makeTorrent,
  makeWebSeedFetcher,
  applyTorrentSettings,
  feedNewTorrent,
  type AddTorrentOptions,
  type TorrentFactoryHost,
} from './torrent-factory.js';
import { deleteTorrentFiles, readTorrentInput, type TorrentInput } from './torrent-input.js';

export type { AddTorrentOptions } from './torrent-factory.js';

export interface RemoveTorrentOptions {
  /** Also delete the torrent's files. */
  deleteFiles?: boolean;
}

export class Client extends TypedEmitter<ClientEvents> {
  readonly peerId: Buffer;
  /** A view of the settings (kept in step by applySettings) plus the non-setting options. */
  readonly options: ResolvedOptions;
  readonly ipFilter: IpFilter;
  /** Incoming connections before their handshake (their own bounded pool). */
  private readonly pending: PendingIncoming<Peer<Torrent>>;
  /** Where no torrent file may land: the resume folder and the DHT state file. */
  private readonly reservedPaths: string[];
  readonly download: BandwidthLimiter;
  readonly upload: BandwidthLimiter;
  private readonly byHash = new Map<string, Torrent>();
  /** Hybrids by their truncated v2 hash (hex): BEP 52 peers may address them so. */
  private readonly byV2Alias = new Map<string, Torrent>();
  private readonly connections = new ConnectionTable();
  private readonly dialer: Dialer;
  /** Dials, incoming connections, handshakes, joining torrents (src/client/session-connections.ts). */
  private readonly conns: SessionConnections;
  private server: Listener | undefined;
  private listenPortValue = 0;
  /** The address listen() bound (LSD announces only on its interface unless it is a wildcard). */
  private listenHostValue = '';
  private dialTimer: TimerHandle | undefined;
  /** The periodic resume save (src/client/resume-schedule.ts); none without a resume directory. */
  private readonly resumeSchedule: ResumeSchedule | undefined;
  private closed = false;
  private readonly resume: ResumeStore | undefined;
  private readonly torrentHost: TorrentHost;
  private readonly torrentEvents: TorrentEventsHost;
  /** What makeTorrent reads (src/client/torrent-factory.ts). */
  private readonly factoryHost: TorrentFactoryHost;
  /** HTTP range requests of every torrent's web seeds (undefined with `webSeeds: false`). */
  private readonly webSeedFetcher: HttpRangeFetcher | undefined;
  private readonly extensionsByName = new Map<string, EngineExtension>();
  private readonly servicesList: ClientService[] = [];
  /** Tracker announces for every torrent (undefined with `trackers: false`). */
  readonly trackerService: TrackerService | undefined;
  /** The session's DHT (undefined with `dht: false`). */
  readonly dht: DhtService | undefined;
  /** Local service discovery (undefined with `lsd: false` / `enable_lsd` off). */
  readonly lsd: LsdService | undefined;
  /** Port mapping on the gateway (undefined with `portMapping: false` or both settings off). */
  readonly portMapping: PortMappingService | undefined;
  /** The session's UDP socket (DHT, UDP trackers), bound by listen() on the listen port. */
  readonly udp: SessionUdp;
  /** uTP connections over `udp` (created by listen(); undefined when uTP is off). */
  utp: UtpSocket | undefined;
  /** Proxy, proxy-only mode and outgoing bind address (src/client/session-route.ts). @internal */
  readonly route: SessionRoute;
  /** TCP peer dials: the Network, or through the proxy / from the bound address. */
  private readonly tcpConnector: Connector;
  /** Why a part is off because of proxy_only (reported once the client listens). */
  private readonly routeWarnings: Error[] = [];
  /** ut_metadata: magnet links' metadata fetching and serving ours. @internal */
  readonly metadata: MetadataExchange;
  /** ut_pex (undefined with `pex: false`). @internal */
  readonly pex: PexExchange | undefined;
  private readonly settingsStore: SettingsStore;
  private readonly observer: SessionObserver;
  /** Torrents added with their own unchokeSlots (unchoke_slots_limit leaves them alone). */
  private readonly ownSlots = new WeakSet<Torrent>();

  constructor(options: ClientOptions = {}) {
    super();
    this.settingsStore = new SettingsStore(settingsFromOptions(options));
    const s = this.settingsStore.snapshot();
    this.options = resolveOptions(options, s);
    this.peerId = this.options.peerId;
    this.observer = new SessionObserver(
      {
        clock: this.options.clock,
        emit: this.emit.bind(this),
        listenerCount: (event) => this.listenerCount(event),
        connections: () => this.connections.peers.keys(),
        torrents: () => this.torrents,
      },
      s.alert_categories,
      s.alert_queue_size,
    );
    this.setListenerErrorHandler((error, event) =>
      this.observer.listenerFailed({ emitter: 'client', event, error }),
    );
    this.torrentEvents = {
      client: this,
      observer: this.observer,
      services: () => this.servicesList,
      saveResume: (t) => void this.saveResume(t),
    };
    this.ipFilter = new IpFilter(options.ipFilter);
    this.pending = PendingIncoming.forLimits(this.options.limits, (p) => p.close(DisconnectReason.TOO_MANY));
    const clock = this.options.clock;
    this.download = new BandwidthLimiter(clock, this.options.downloadRateLimit);
    this.upload = new BandwidthLimiter(clock, this.options.uploadRateLimit);
    this.resume = this.options.resumeDir ? new ResumeStore(this.options.resumeDir) : undefined;
    const route = (this.route = new SessionRoute(s, clock, s.peer_connect_timeout));
    this.tcpConnector = route.peerConnector(this.options.network);
    this.udp = new SessionUdp(
      this.options.host,
      (e) => this.warn(e),
      route.direct ? undefined : (port, host, warn) => route.openUdp(port, host, warn),
    );
    const ws = options.webSeeds;
    this.webSeedFetcher = makeWebSeedFetcher(
      clock,
      ws,
      route,
      (ip) => this.ipFilter.allows(ip),
      (bytes) => this.download.gate(bytes),
    );
    this.torrentHost = {
      clock,
      hashPool: this.options.hashPool ?? sharedHashPool(),
      checkSlots: new CheckSlots(s.active_checking),
      connectSoon: () => this.dialSoon(),
      torrentEvent: (t, e) => routeTorrentEvent(this.torrentEvents, t, e),
      ...(this.webSeedFetcher ? { webSeedFetcher: this.webSeedFetcher } : {}),
      ...(ws ? { webSeedTuning: ws } : {}),
    };
    this.dialer = new Dialer({
      clock,
      limits: this.options.limits,
      connections: this.connections,
      pendingIncoming: () => this.pending.size,
      closed: () => this.closed,
      torrents: () => this.torrents,
      connect: (t, c) => this.conns.connect(t, c),
    });
    this.conns = new SessionConnections({
      peerId: this.peerId,
      options: this.options,
      ipFilter: this.ipFilter,
      pending: this.pending,
      connections: this.connections,
      extensions: this.extensionsByName,
      settings: this.settingsStore,
      download: this.download,
      upload: this.upload,
      observer: this.observer,
      tcpConnector: this.tcpConnector,
      emit: this.emit.bind(this),
      closed: () => this.closed,
      torrent: (hex) => this.byHash.get(hex) ?? this.byV2Alias.get(hex),
      has: (t) => this.byHash.has(t.infoHashHex),
      torrents: () => this.byHash.values(),
      v2Aliases: () => this.byV2Alias.keys(),
      utp: () => this.utp,
      dht: () => !!this.dht,
      portReceived: (peer, t, port) => this.dht?.portReceived(peer, t, port),
      listenPort: () => this.listenPortValue,
      announcePort: () => this.announcePort,
      externalAddress: () => this.externalAddress,
      dialSoon: () => this.dialSoon(),
      warn: (e) => this.warn(e),
    });
    this.dialTimer = clock.setInterval(() => this.dialer.run(), s.dial_interval);
    this.resumeSchedule = this.resume
      ? new ResumeSchedule({
          clock,
          resume: this.resume,
          torrents: () => this.torrents,
          save: (t) => this.saveResume(t),
        })
      : undefined;
    this.startResumeTimer();
    this.reservedPaths = engineStatePaths(
      this.options.resumeDir,
      options.dht ? options.dht.stateFile : undefined,
    );
    this.factoryHost = {
      options: this.options,
      settings: this.settingsStore,
      torrentHost: this.torrentHost,
      reservedPaths: this.reservedPaths,
      openFiles: new OpenFileBudget(s.file_pool_size),
    };
    const services = createServices(
      {
        client: this,
        options: this.options,
        udp: this.udp,
        listening: new Promise<void>((resolve) => this.once('listening', () => resolve())),
        port: () => this.port,
        listenHost: () => this.listenHostValue,
        torrent: (hex) => this.byHash.get(hex),
        emit: this.emit.bind(this),
        warn: (e) => this.warn(e),
      },
      options,
      s,
      route,
    );
    this.routeWarnings.push(...services.warnings);
    this.trackerService = services.trackerService;
    if (this.trackerService) this.addService(this.trackerService);
    this.metadata = services.metadata;
    this.useExtension(this.metadata);
    this.addService(this.metadata);
    this.pex = services.pex;
    if (this.pex) {
      this.useExtension(this.pex);
      this.addService(this.pex);
    }
    this.dht = services.dht;
    this.lsd = services.lsd;
    this.portMapping = services.portMapping;
    for (const svc of [this.dht, this.lsd, this.portMapping]) if (svc) this.addService(svc);
  }

  /** The TCP port peers and trackers are told: a port mapping's external port, else `port`. */
  get announcePort(): number {
    return this.portMapping?.external?.port ?? this.listenPortValue;
  }

  /** Our external IPv4 address, when a port mapping learned it from the gateway. */
  get externalAddress(): string | undefined {
    return this.portMapping?.external?.address;
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

  /**
   * An HTTP server streaming the files of every torrent of this client (src/stream/http-server.ts):
   * ranges, seeking before the data exists, an index page at `/`. Call `listen(port)` on it.
   */
  createServer(opts?: StreamServerOptions): StreamServer {
    return createStreamServer(() => this.torrents, opts);
  }

  getTorrent(infoHash: Buffer | string): Torrent | undefined {
    const hex = typeof infoHash === 'string' ? infoHash.toLowerCase() : infoHash.toString('hex');
    return this.byHash.get(hex) ?? this.byV2Alias.get(hex);
  }

  /** Open connections (including those still connecting or handshaking). */
  get connectionCount(): number {
    return this.connections.size;
  }

  // ---- settings, alerts, counters (src/settings, src/client/alerts.ts, counters.ts) -----------

  /** Every setting's current value (a plain, JSON-serialisable object). */
  settings(): Settings {
    return this.settingsStore.snapshot();
  }

  /**
   * Changes settings on the running session. The pack is validated first: an unknown name or a
   * bad value throws SettingsError (SETTINGS_INVALID, or SETTINGS_READ_ONLY for a
   * construction-only setting) naming the setting, and nothing is applied. Limits, rates,
   * unchoke slots, choking timings, the metadata timeout, the resume interval and the alert
   * mask take effect at once; the others on new
   * connections, new torrents or the next listen() (see `settingDefinitions[name].applies`).
   */
  applySettings(pack: SettingsPack): void {
    const changed = this.settingsStore.apply(pack);
    if (changed.length === 0) return;
    const s = this.settingsStore.snapshot();
    syncOptions(this.options, s);
    if (changed.includes('download_rate_limit')) this.download.setRate(s.download_rate_limit);
    if (changed.includes('upload_rate_limit')) this.upload.setRate(s.upload_rate_limit);
    applyTorrentSettings(this.torrents, changed, this.factoryHost, this.ownSlots);
    if (changed.includes('metadata_request_timeout'))
      this.metadata.setRequestTimeout(s.metadata_request_timeout);
    if (changed.includes('resume_interval')) this.startResumeTimer();
    if (changed.includes('file_pool_size')) this.factoryHost.openFiles.setMax(s.file_pool_size);
    if (changed.includes('active_checking')) this.torrentHost.checkSlots?.setMax(s.active_checking);
    this.observer.alerts.configure(s.alert_categories, s.alert_queue_size);
    // Raised limits are used now; lowered ones refuse new connections until under them.
    this.dialSoon();
    this.emit('settings-changed', changed);
  }

  /** Session-wide counters: bytes by kind, connections by source and close reason, pieces. */
  counters(): SessionCounters {
    return this.observer.snapshot();
  }

  /** Posts a `session-stats` alert (category stats) with the counters, e.g. from a timer of yours. */
  postSessionStats(): void {
    this.observer.postStats();
  }

  /**
   * The alert stream as an async iterator with its own queue of `alert_queue_size` records: a
   * consumer that falls behind loses the oldest (counted in `dropped`), memory stays bounded.
   * It ends when the client closes (after the queued alerts) or with `close()` / `break`.
   */
  alerts(): AlertSubscription {
    return this.observer.subscribe();
  }

  protected override afterEmit(event: string, args: readonly unknown[]): void {
    this.observer.eventEmitted(event as keyof ClientEvents, args);
  }

  private startResumeTimer(): void {
    if (!this.closed) this.resumeSchedule?.start(this.options.resumeInterval);
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
    const route = this.route;
    // Proxy-only: nothing listens for incoming connections (they would bypass the proxy).
    const server = route.proxyOnly
      ? { port: 0, close: () => Promise.resolve() }
      : await bindListenSocket(
          this.options.network,
          from,
          to,
          host,
          (t) => this.conns.onIncoming(t),
          (e) => this.emit('warning', e),
        );
    this.server = server;
    this.listenPortValue = server.port;
    this.listenHostValue = host;
    for (const e of this.routeWarnings.splice(0)) this.warn(e);
    // The DHT and UDP trackers share one UDP socket on the same port number.
    const s = this.settingsStore.snapshot();
    const buffers = {
      receiveBufferSize: s.recv_socket_buffer_size,
      sendBufferSize: s.send_socket_buffer_size,
    };
    if (route.udpAllowed)
      await this.udp.bind(this.listenPortValue, host, buffers).catch((e: unknown) => this.warn(e));
    else this.warn(route.noUdpError('UDP (DHT, uTP, UDP trackers)'));
    const tr = this.options.transports;
    if ((tr.utpIncoming || tr.utpOutgoing) && !this.closed && route.udpAllowed)
      this.utp = new UtpSocket({
        clock: this.options.clock,
        endpoint: (family) => this.udp.endpoint('utp', family),
        ...(tr.utpIncoming && !route.proxyOnly
          ? { onConnection: (t: Transport) => this.conns.onIncoming(t) }
          : {}),
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
    // A torrent whose files would land in the engine's own state folder is refused outright
    // (a magnet's files are checked by its FileStorage once the metadata is known).
    if (!magnet?.awaiting && !o.storage) assertFilesNotReserved(savePath, metainfo.files, this.reservedPaths);
    const saved = this.resume && !magnet?.awaiting ? await this.resume.load(metainfo, savePath) : undefined;
    const torrent = makeTorrent(this.factoryHost, metainfo, savePath, o, magnet, saved);
    this.byHash.set(metainfo.infoHashHex, torrent);
    const self = this.conns.ownAddress();
    if (self) torrent.candidates.setSelf(self);
    const alias = v2Alias(metainfo);
    if (alias && !this.byHash.has(alias)) this.byV2Alias.set(alias, torrent);
    if (o.unchokeSlots !== undefined) this.ownSlots.add(torrent);
    this.observer.torrentAdded(torrent);
    if (magnet?.link.trackers.length)
      this.trackerService?.addTrackers(metainfo.infoHashHex, magnet.link.trackers);
    this.emit('torrent-added', torrent);
    for (const svc of this.servicesList) svc.torrentAdded?.(torrent);
    feedNewTorrent(torrent, o, magnet, saved, this.trackerService, this.options.resumeDir, (e) =>
      this.warn(e),
    );
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
    const alias = v2Alias(torrent.metainfo);
    if (alias && this.byV2Alias.get(alias) === torrent) this.byV2Alias.delete(alias);
    await torrent.destroy(DisconnectReason.TORRENT_REMOVED);
    if (this.resume) await this.resume.remove(torrent.metainfo).catch((e: unknown) => this.warn(e));
    if (o.deleteFiles) await deleteTorrentFiles(torrent);
    for (const svc of this.servicesList) svc.torrentRemoved?.(torrent);
    this.observer.torrentRemoved(torrent);
    this.emit('torrent-removed', torrent);
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

  // ---- rate limits ----------------------------------------------------------------------------

  /** Global limits in bytes/s (0 = unlimited): download_rate_limit and upload_rate_limit. */
  setRateLimits(limits: { download?: number; upload?: number }): void {
    this.applySettings({ download_rate_limit: limits.download, upload_rate_limit: limits.upload });
  }

  /** A peer's bytes pass its torrent's own limit and (unless it opts out) the session's, weighted. */
  private dialSoon(): void {
    this.dialer.soon();
  }

  // ---- resume ---------------------------------------------------------------------------------

  /** Writes the torrent's resume file now (no-op without a resume directory). */
  async saveResume(t: Torrent): Promise<void> {
    if (!this.resume) return;
    const saved = await saveTorrentResume(this.resume, t, this.options.fsync, (e) => this.warn(e));
    if (saved) this.emit('resume-saved', t);
  }

  /** On close: only the torrents whose resume file is out of date are written. */
  private saveResumeIfChanged(t: Torrent): Promise<void> {
    return this.resume?.changed(t, { exactTotals: true }) ? this.saveResume(t) : Promise.resolve();
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
    this.resumeSchedule?.stop();
    const server = this.server;
    this.server = undefined;
    const serverClosed = server ? server.close() : Promise.resolve();
    for (const peer of [...this.connections.peers.keys()]) peer.close(DisconnectReason.CLIENT_CLOSED);
    await Promise.all(
      this.torrents.map((t) => t.stop(DisconnectReason.CLIENT_CLOSED, () => this.saveResumeIfChanged(t))),
    );
    for (const svc of this.servicesList)
      await Promise.resolve(svc.close?.()).catch((e: unknown) => this.warn(e));
    this.webSeedFetcher?.close();
    await this.utp?.close();
    await this.udp.close();
    this.download.close();
    this.upload.close();
    await serverClosed;
    this.observer.close();
  }
}
