/**
 * Port mapping for the session: once the client listens, its TCP listen port and its UDP port
 * (DHT, UDP trackers, uTP) are mapped on the gateway through UPnP IGD and PCP or NAT-PMP (src/portmap),
 * renewed before their leases end and deleted on close. The mapped TCP port and the external
 * address are what the client announces (trackers, the extension handshake's `p`). A client
 * bound to a loopback address maps nothing.
 */
import { readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Clock } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import type { ClientService } from '../torrent/engine-extension.js';
import {
  NatPmpClient,
  PcpClient,
  PcpOrNatPmpClient,
  PortMapper,
  SSDP_GROUP_V6,
  UpnpClient,
  UpnpPinholeClient,
  parseProcNetIpv6Route,
  parseProcNetRoute,
  type Ipv6DefaultRoute,
  type MappingProtocolClient,
  type PortMapping,
  type PortMappingFailure,
} from '../portmap/index.js';

export interface PortMappingOptions {
  /** UPnP IGD (default on; setting `enable_upnp`). */
  upnp?: boolean;
  /** NAT-PMP and PCP (default on; setting `enable_natpmp`). */
  natpmp?: boolean;
  /** Try PCP (RFC 6887) first, NAT-PMP if the gateway does not speak it (default on). */
  pcp?: boolean;
  /** Lease asked for, seconds (setting `upnp_lease_duration`, default 3600). */
  leaseSec?: number;
  /** The NAT-PMP gateway (default: the default route's gateway, from /proc/net/route). */
  gateway?: string;
  /** The IPv6 PCP gateway (default: the IPv6 default route's next hop, /proc/net/ipv6_route). */
  gateway6?: string;
  /** Its NAT-PMP and PCP port (5351; tests). */
  natPmpPort?: number;
  /** Where the IPv6 M-SEARCH goes (default ff02::c on the IPv6 default route's interface; tests). */
  ssdpAddress6?: string;
  /** Where SSDP M-SEARCH goes (default the multicast group; tests). */
  ssdpAddress?: string;
  ssdpPort?: number;
  /** SSDP discovery deadline (default 3 s). */
  discoveryTimeoutMs?: number;
  /** First retry after a failure (default 60 s, doubling to 30 min). */
  retryMs?: number;
}

export interface PortMappingHost {
  readonly clock: Clock;
  /** Settles when the client listens. */
  readonly listening: Promise<void>;
  listenHost(): string;
  /** TCP listen port, or 0 when incoming TCP is off. */
  tcpPort(): number;
  /** The session's UDP port, or 0 when it has none. */
  udpPort(): number;
  mapped(m: PortMapping, renewal: boolean): void;
  failed(f: PortMappingFailure): void;
  warn(e: Error): void;
}

/** Is `host` one the outside could never reach us on (nothing to map)? */
function loopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

/** The IPv6 default route and our global address on its interface, if there are both. */
async function ipv6Route(): Promise<{ gateway: string; local: string; iface: string } | undefined> {
  let route: Ipv6DefaultRoute | undefined;
  try {
    route = parseProcNetIpv6Route(await readFile('/proc/net/ipv6_route', 'utf8'));
  } catch {
    return undefined;
  }
  if (!route) return undefined;
  const local = (networkInterfaces()[route.iface] ?? []).find(
    (a) => a.family === 'IPv6' && !a.internal && !/^fe[89ab]/i.test(a.address),
  );
  return local ? { gateway: route.gateway, local: local.address, iface: route.iface } : undefined;
}

/** Is an IPv6 host within a prefix of one of `iface`'s addresses (on that link)? */
function onLink(iface: string): (host: string) => boolean {
  const prefixes = (networkInterfaces()[iface] ?? []).flatMap((a) =>
    a.family === 'IPv6' && a.cidr ? [{ net: new BlockList(), cidr: a.cidr }] : [],
  );
  for (const p of prefixes) {
    const [addr, len] = p.cidr.split('/') as [string, string];
    p.net.addSubnet(addr, Number(len), 'ipv6');
  }
  return (host) => prefixes.some((p) => p.net.check(host, 'ipv6'));
}

async function defaultGateway(): Promise<string | undefined> {
  try {
    return parseProcNetRoute(await readFile('/proc/net/route', 'utf8'));
  } catch {
    return undefined;
  }
}

export class PortMappingService implements ClientService {
  readonly name = 'port-mapping';
  private mapper: PortMapper | undefined;
  private closed = false;
  /** Settles once mapping has started (or been given up). */
  readonly ready: Promise<void>;

  constructor(
    private readonly host: PortMappingHost,
    private readonly o: PortMappingOptions,
  ) {
    this.ready = this.start().catch((e: unknown) => {
      if (!this.closed) host.warn(new NbtError('PORTMAP_START', `port mapping: ${errorMessage(e)}`));
    });
  }

  /** Mappings in place now. */
  get mappings(): PortMapping[] {
    return this.mapper?.mappings ?? [];
  }

  /** The mapped TCP listen port and external address (undefined until a mapping is made). */
  get external(): { address: string | undefined; port: number } | undefined {
    const m = this.mapper?.mapping('tcp');
    return m ? { address: m.externalAddress, port: m.externalPort } : undefined;
  }

  private async start(): Promise<void> {
    await this.host.listening;
    const listenHost = this.host.listenHost();
    if (this.closed || loopback(listenHost)) return;
    const clock = this.host.clock;
    const clients: MappingProtocolClient[] = [];
    if (this.o.upnp !== false)
      clients.push(
        new UpnpClient({
          clock,
          ...(this.o.ssdpAddress ? { ssdpAddress: this.o.ssdpAddress } : {}),
          ...(this.o.ssdpPort ? { ssdpPort: this.o.ssdpPort } : {}),
          ...(this.o.discoveryTimeoutMs ? { discoveryTimeoutMs: this.o.discoveryTimeoutMs } : {}),
          // A bound listen address picks the interface the search goes out of.
          ...(isIP(listenHost) === 4 && listenHost !== '0.0.0.0' ? { multicastInterface: listenHost } : {}),
        }),
      );
    if (this.o.natpmp !== false) {
      const gateway = this.o.gateway ?? (await defaultGateway());
      if (gateway && isIP(gateway) === 4) {
        const port = this.o.natPmpPort ? { port: this.o.natPmpPort } : {};
        const natpmp = new NatPmpClient({ clock, gateway, ...port });
        clients.push(
          this.o.pcp === false
            ? natpmp
            : new PcpOrNatPmpClient(new PcpClient({ clock, gateway, ...port }), natpmp),
        );
      }
    }
    const onIpv6 = listenHost === '::' || isIP(listenHost) === 6;
    const route6 = onIpv6 ? await ipv6Route() : undefined;
    // Listening on IPv6 too: UPnP IGDv2 pinholes, found by SSDP on the IPv6 route's link.
    if (this.o.upnp !== false && onIpv6 && (route6 || this.o.ssdpAddress6))
      clients.push(
        new UpnpPinholeClient({
          clock,
          ssdpAddress: this.o.ssdpAddress6 ?? `${SSDP_GROUP_V6}%${route6!.iface}`,
          ...(this.o.ssdpPort ? { ssdpPort: this.o.ssdpPort } : {}),
          ...(route6 ? { multicastInterface: `::%${route6.iface}`, onLink: onLink(route6.iface) } : {}),
          ...(this.o.discoveryTimeoutMs ? { discoveryTimeoutMs: this.o.discoveryTimeoutMs } : {}),
          ...(listenHost !== '::' && isIP(listenHost) === 6 ? { internalClient: listenHost } : {}),
        }),
      );
    // Listening on IPv6 too: a PCP MAP of our global IPv6 address opens a pinhole in the
    // gateway's firewall (no translation: the external address and port are ours).
    if (this.o.natpmp !== false && this.o.pcp !== false && onIpv6) {
      const v6 = this.o.gateway6 ? { gateway: this.o.gateway6, local: '' } : route6;
      if (v6) {
        const local = listenHost !== '::' ? listenHost : v6.local;
        clients.push(
          new PcpClient({
            clock,
            gateway: v6.gateway,
            ...(local ? { localAddress: local } : {}),
            ...(this.o.natPmpPort ? { port: this.o.natPmpPort } : {}),
          }),
        );
      }
    }
    if (this.closed || clients.length === 0) return void (await Promise.all(clients.map((c) => c.close())));
    const mapper = new PortMapper({
      clock,
      clients,
      ...(this.o.leaseSec !== undefined ? { leaseSec: this.o.leaseSec } : {}),
      ...(this.o.retryMs !== undefined ? { retryMs: this.o.retryMs } : {}),
    });
    this.mapper = mapper;
    mapper.on('mapped', (m, renewal) => this.host.mapped(m, renewal));
    mapper.on('failed', (f) => this.host.failed(f));
    const tcp = this.host.tcpPort();
    const udp = this.host.udpPort();
    if (tcp) mapper.add('tcp', tcp);
    if (udp) mapper.add('udp', udp);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Not awaiting `ready`: a client that never listened would wait forever. start() checks
    // `closed` after each await and creates the mapper without one.
    await this.mapper?.close();
  }
}
