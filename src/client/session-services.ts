/**
 * The session-wide services a Client starts with, as its settings and options ask: tracker
 * announces, ut_metadata (always), ut_pex, the DHT, local service discovery and gateway port
 * mapping. Proxy-only mode leaves out what would go around the proxy (and says why).
 */
import { resolve as resolvePath } from 'node:path';
import type { ClientOptions, ResolvedOptions } from './options.js';
import type { ClientEvents } from './events.js';
import type { Settings } from '../settings/index.js';
import type { Torrent } from '../torrent/torrent.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import { TrackerService, type TrackerServiceHost } from './tracker-service.js';
import { DhtService } from './dht-service.js';
import { LsdService } from './lsd-service.js';
import { PortMappingService } from './port-mapping-service.js';
import type { SessionUdp } from './session-udp.js';
import { literalAddresses, type SessionRoute } from './session-route.js';
import { saveFetchedTorrent } from './magnet.js';
import { MetadataExchange } from '../torrent/metadata-exchange.js';
import { PexExchange } from '../torrent/pex-exchange.js';

export interface ServicesHost {
  /** The Client (trackers announce its port and address, and emit its events). */
  readonly client: TrackerServiceHost;
  readonly options: ResolvedOptions;
  readonly udp: SessionUdp;
  /** Resolves once the Client listens. */
  readonly listening: Promise<void>;
  port(): number;
  listenHost(): string;
  torrent(hex: string): Torrent | undefined;
  emit: TypedEmitter<ClientEvents>['emit'];
  warn(e: unknown): void;
}

export interface SessionServices {
  trackerService?: TrackerService;
  metadata: MetadataExchange;
  pex?: PexExchange;
  dht?: DhtService;
  lsd?: LsdService;
  portMapping?: PortMappingService;
  /** Parts left out because of proxy_only (reported once the client listens). */
  warnings: Error[];
}

/** The services, in the order the Client registers them. */
export function createServices(
  host: ServicesHost,
  options: ClientOptions,
  s: Settings,
  route: SessionRoute,
): SessionServices {
  const clock = host.options.clock;
  const out: Omit<SessionServices, 'metadata'> = { warnings: [] };
  if (s.trackers_enabled) {
    out.trackerService = new TrackerService(host.client, {
      ...(options.trackers || {}),
      ...(s.tracker_numwant > 0 ? { numwant: s.tracker_numwant } : {}),
      requestTimeoutMs: s.tracker_request_timeout,
      stopTimeoutMs: s.tracker_stop_timeout,
      lowPeers: s.tracker_low_peers,
      ...(route.direct ? {} : { agents: route.agents() }),
      // Through a proxy, UDP trackers use the session socket (its association) only.
      ...(route.udpProxied || route.proxyOnly ? { udpOwnSockets: false } : {}),
      ...(route.proxyOnly ? { udpResolveNames: false } : {}),
    });
  }
  const metadata = new MetadataExchange({
    clock,
    maxSize: s.max_metadata_size,
    requestTimeoutMs: s.metadata_request_timeout,
    fetched: (t, info) => void saveFetchedTorrent(host.options.resumeDir, t, info).catch((e) => host.warn(e)),
    warn: (e) => host.warn(e),
  });
  if (s.pex_enabled) {
    out.pex = new PexExchange({ clock, intervalMs: s.pex_interval });
  }
  if (s.dht_enabled && !route.udpAllowed) out.warnings.push(route.noUdpError('DHT'));
  if (s.dht_enabled && route.udpAllowed) {
    const stateFile = host.options.resumeDir ? resolvePath(host.options.resumeDir, 'dht.json') : undefined;
    out.dht = new DhtService(
      { options: { clock }, listenPort: () => host.port(), warn: (e) => host.warn(e), udp: host.udp },
      {
        ...(stateFile ? { stateFile } : {}),
        ...(options.dht || {}),
        // Proxy-only: no local DNS query for the routers' names (it would go around the proxy).
        ...(route.proxyOnly
          ? { bootstrap: literalAddresses(options.dht ? options.dht.bootstrap : undefined) }
          : {}),
        // 0: the session's UDP socket on the listen port; another port: a socket of its own.
        // A socket of its own would go around the proxy's association.
        ...(s.dht_port && !route.udpProxied ? { port: s.dht_port } : {}),
        intervalMs: s.dht_announce_interval,
        lowPeers: s.dht_low_peers,
        minIntervalMs: s.dht_min_search_interval,
      },
    );
  }
  // LSD multicasts on the real LAN: with a custom network (the simulator) only when asked for.
  const lsdAsked = options.lsd !== undefined || options.settings?.enable_lsd !== undefined;
  // Proxy-only: no multicast on the LAN either.
  if (s.enable_lsd && (options.network === undefined || lsdAsked) && !route.proxyOnly) {
    out.lsd = new LsdService(
      {
        clock,
        listenPort: () => host.port(),
        listenHost: () => host.listenHost(),
        listening: host.listening,
        torrent: (hex) => host.torrent(hex),
        lsdPeer: (t, peerHost, port) => host.emit('lsd-peer', t, { host: peerHost, port }),
        warn: (e) => host.warn(e),
      },
      { ...(options.lsd || {}), intervalMs: s.lsd_announce_interval },
    );
  }
  // Like LSD: on the real network only, unless asked for.
  const mapAsked =
    options.portMapping !== undefined ||
    options.settings?.enable_upnp !== undefined ||
    options.settings?.enable_natpmp !== undefined;
  // Proxy-only: nothing is opened on the gateway either (it would expose us directly).
  if ((s.enable_upnp || s.enable_natpmp) && (options.network === undefined || mapAsked) && !route.proxyOnly) {
    out.portMapping = new PortMappingService(
      {
        clock,
        listening: host.listening,
        listenHost: () => host.listenHost(),
        tcpPort: () => (host.options.transports.tcpIncoming ? host.port() : 0),
        udpPort: () => host.udp.port ?? 0,
        mapped: (m, renewal) => host.emit('port-mapped', m, renewal),
        failed: (f) => host.emit('port-mapping-error', f),
        warn: (e) => host.warn(e),
      },
      {
        ...(options.portMapping || {}),
        upnp: s.enable_upnp,
        natpmp: s.enable_natpmp,
        leaseSec: s.upnp_lease_duration,
      },
    );
  }
  return { ...out, metadata };
}
