/**
 * UPnP IGD port mapping: SSDP discovery (M-SEARCH to the multicast group, repeated until an
 * answer or the deadline), the device description, then SOAP calls on its WANIPConnection or
 * WANPPPConnection service. The mapping points at the local address of our socket to the
 * gateway. A gateway that only takes permanent leases (error 725) is asked again with lease 0.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP, isIPv4 } from 'node:net';
import type { Clock, TimerHandle } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import { gatewayHttp } from './http.js';
import {
  DESCRIPTION_MAX_BYTES,
  SOAP_MAX_BYTES,
  SSDP_GROUP,
  SSDP_MAX_INPUT,
  SSDP_PORT,
  UPNP_ONLY_PERMANENT_LEASES,
  addPortMappingArgs,
  decodeSoapResponse,
  decodeSsdpAnswer,
  deletePortMappingArgs,
  encodeMSearch,
  encodeSoapRequest,
  WAN_SERVICE_TYPES,
  parseDeviceDescription,
  type IgdService,
} from './upnp-codec.js';
import type { MappedPort, MappingProtocol, MappingProtocolClient } from './types.js';

export interface UpnpClientOptions {
  clock: Clock;
  /** Where M-SEARCH goes (default the SSDP group 239.255.255.250:1900; tests: a unicast address). */
  ssdpAddress?: string;
  ssdpPort?: number;
  /** Interface address to multicast from (default the system's choice). */
  multicastInterface?: string;
  /** Discovery deadline (default 3 s; M-SEARCH sent at 0, 1 and 2 s). */
  discoveryTimeoutMs?: number;
  /** Deadline of each HTTP exchange (default 5 s). */
  httpTimeoutMs?: number;
  /** NewPortMappingDescription. */
  description?: string;
  /** An IPv6 SSDP answer from a link-local address may describe the gateway on these hosts. */
  onLink?: (host: string) => boolean;
  /** The services to control, preferred in order (default WAN_SERVICE_TYPES). */
  serviceTypes?: readonly string[];
}

interface Gateway {
  service: IgdService;
  /** Our address as the gateway sees it (the mapping's NewInternalClient). */
  localAddress: string;
}

export class UpnpClient implements MappingProtocolClient {
  readonly name = 'upnp';
  private gateway: Promise<Gateway> | undefined;
  private closed = false;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<TimerHandle>();

  constructor(private readonly o: UpnpClientOptions) {}

  /** The gateway's control service (found once; a failed discovery is tried again next call). */
  discover(): Promise<Gateway> {
    if (!this.gateway) {
      this.gateway = this.find();
      this.gateway.catch(() => (this.gateway = undefined));
    }
    return this.gateway;
  }

  async externalAddress(): Promise<string> {
    const out = await this.call('GetExternalIPAddress', []);
    const ip = out.get('NewExternalIPAddress') ?? '';
    if (!isIPv4(ip))
      throw new NbtError('UPNP_BAD_ANSWER', `external address "${ip.slice(0, 64)}" is not IPv4`);
    return ip;
  }

  async map(
    protocol: MappingProtocol,
    internalPort: number,
    externalPort: number,
    leaseSec: number,
  ): Promise<MappedPort> {
    const gw = await this.discover();
    const add = (lease: number): Promise<Map<string, string>> =>
      this.call(
        'AddPortMapping',
        addPortMappingArgs({
          externalPort,
          protocol: protocol === 'tcp' ? 'TCP' : 'UDP',
          internalPort,
          internalClient: gw.localAddress,
          description: this.o.description ?? 'net-bittorrent',
          leaseDuration: lease,
        }),
      );
    try {
      await add(leaseSec);
      return { externalPort, leaseSec };
    } catch (e) {
      if (!(e instanceof NbtError && e.code === `UPNP_FAULT_${UPNP_ONLY_PERMANENT_LEASES}`) || leaseSec === 0)
        throw e;
      await add(0);
      return { externalPort, leaseSec: 0 };
    }
  }

  async unmap(protocol: MappingProtocol, _internalPort: number, externalPort: number): Promise<void> {
    await this.call(
      'DeletePortMapping',
      deletePortMappingArgs(externalPort, protocol === 'tcp' ? 'TCP' : 'UDP'),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    const open = [...this.sockets];
    this.sockets.clear();
    await Promise.all(open.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  /** One SOAP call on the discovered service (its output arguments; a fault is UPNP_FAULT_<n>). */
  async call(action: string, args: [string, string | number][]): Promise<Map<string, string>> {
    const gw = await this.discover();
    const req = encodeSoapRequest(gw.service.serviceType, action, args);
    const a = await gatewayHttp({
      clock: this.o.clock,
      url: gw.service.controlUrl,
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset="utf-8"', SOAPAction: req.soapAction },
      body: req.body,
      timeoutMs: this.o.httpTimeoutMs ?? 5000,
      maxBytes: SOAP_MAX_BYTES,
    });
    return decodeSoapResponse(a.status, a.body);
  }

  private async find(): Promise<Gateway> {
    const seen = new Set<string>();
    const errors: string[] = [];
    for await (const location of this.search()) {
      if (seen.has(location) || seen.size >= 8) continue;
      seen.add(location);
      try {
        const d = await gatewayHttp({
          clock: this.o.clock,
          url: location,
          method: 'GET',
          timeoutMs: this.o.httpTimeoutMs ?? 5000,
          maxBytes: DESCRIPTION_MAX_BYTES,
        });
        if (d.status !== 200) throw new NbtError('UPNP_BAD_DESCRIPTION', `HTTP ${d.status}`);
        return {
          service: parseDeviceDescription(d.body, location, this.o.serviceTypes ?? WAN_SERVICE_TYPES),
          localAddress: d.localAddress.replace(/^::ffff:/, ''),
        };
      } catch (e) {
        errors.push(`${location}: ${errorMessage(e)}`);
      }
    }
    throw new NbtError(
      'UPNP_NO_GATEWAY',
      errors.length ? `no usable UPnP gateway (${errors.join('; ')})` : 'no UPnP gateway answered',
    );
  }

  /** Description URLs as SSDP answers arrive, until the deadline. */
  private async *search(): AsyncGenerator<string> {
    if (this.closed) return;
    const socket = createSocket(isIP(this.o.ssdpAddress ?? SSDP_GROUP) === 6 ? 'udp6' : 'udp4');
    this.sockets.add(socket);
    const found: string[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const timers: TimerHandle[] = [];
    const later = (ms: number, fn: () => void): void => {
      const t = this.o.clock.setTimeout(() => {
        this.timers.delete(t);
        fn();
      }, ms);
      this.timers.add(t);
      timers.push(t);
    };
    const stop = (): void => {
      done = true;
      wake?.();
    };
    socket.on('error', stop);
    socket.on('close', stop);
    socket.on('message', (data, rinfo) => {
      if (data.length > SSDP_MAX_INPUT) return;
      const a = decodeSsdpAnswer(data, rinfo.address.replace(/%.*$/, ''), this.o.onLink);
      if (a && found.length < 16) {
        found.push(a.location);
        wake?.();
      }
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, () => resolve());
      });
      if (this.o.multicastInterface) socket.setMulticastInterface(this.o.multicastInterface);
      const packet = encodeMSearch(undefined, undefined, this.o.ssdpAddress);
      const send = (): void => {
        if (!done) socket.send(packet, this.o.ssdpPort ?? SSDP_PORT, this.o.ssdpAddress ?? SSDP_GROUP);
      };
      const deadline = this.o.discoveryTimeoutMs ?? 3000;
      send();
      for (const at of [1, 2]) if ((deadline * at) / 3 < deadline) later((deadline * at) / 3, send);
      later(deadline, stop);
      while (!done || found.length > 0) {
        const next = found.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (done) break;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      for (const t of timers) {
        t.cancel();
        this.timers.delete(t);
      }
      if (this.sockets.delete(socket)) socket.close();
    }
  }
}
