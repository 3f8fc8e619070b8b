/**
 * The simulated internet: hosts (one IP each) hang off a core router by an uplink and a
 * downlink of their own (a star), so a packet from A to B crosses A's uplink, then B's
 * downlink. Each host demultiplexes by port to datagram sockets and TCP-like streams, and is
 * a `Network` (src/net/transport.ts) a Client can dial and listen through.
 */
import type { Listener, Network, Transport } from '../../src/net/transport.js';
import { Link, defaultLinkParams, type LinkParams } from './link.js';
import type { Simulation } from './scheduler.js';
import { SimStream, defaultTcpTuning, type TcpSegment, type TcpTuning } from './tcp.js';
import { SimUdpSocket, UDP_HEADER } from './datagram.js';

export interface Packet {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** Size on the wire: payload plus IP and transport headers. */
  wireBytes: number;
  udp?: Buffer;
  tcp?: TcpSegment;
}

export interface HostOptions {
  /** Both directions (overridden per direction by `up`/`down`). */
  link?: Partial<LinkParams>;
  /** Host → core. */
  up?: Partial<LinkParams>;
  /** Core → host. */
  down?: Partial<LinkParams>;
}

export interface NetworkOptions {
  /** Defaults for every host's links. */
  link?: Partial<LinkParams>;
  tcp?: Partial<TcpTuning>;
}

/** Trace kinds mixed into the simulation's hash. */
export const TRACE = { deliver: 1, unroutable: 2, queueDrop: 3 } as const;

const ipKeys = new Map<string, number>();

/** An address as a number, for the trace hash (memoised: it is on every packet's path). */
function ipKey(ip: string): number {
  const known = ipKeys.get(ip);
  if (known !== undefined) return known;
  let v = 0;
  for (const part of ip.split('.')) v = (v * 256 + (Number(part) & 255)) >>> 0;
  if (ipKeys.size < 100_000) ipKeys.set(ip, v);
  return v;
}

export class SimNetwork {
  readonly tcp: TcpTuning;
  /** Packets delivered and unroutable; TCP retransmissions and timeouts of all streams. */
  readonly stats = { delivered: 0, unroutable: 0, retransmits: 0, timeouts: 0 };
  private readonly byIp = new Map<string, SimHost>();
  private readonly linkDefaults: LinkParams;

  constructor(
    readonly sim: Simulation,
    o: NetworkOptions = {},
  ) {
    this.tcp = { ...defaultTcpTuning, ...o.tcp };
    this.linkDefaults = { ...defaultLinkParams, ...o.link };
  }

  addHost(ip: string, o: HostOptions = {}): SimHost {
    if (this.byIp.has(ip)) throw new Error(`sim: host ${ip} exists`);
    const up = { ...this.linkDefaults, ...o.link, ...o.up };
    const down = { ...this.linkDefaults, ...o.link, ...o.down };
    const host = new SimHost(
      this,
      ip,
      new Link(this.sim, this.sim.rng.fork(), up),
      new Link(this.sim, this.sim.rng.fork(), down),
    );
    this.byIp.set(ip, host);
    return host;
  }

  host(ip: string): SimHost | undefined {
    return this.byIp.get(ip);
  }

  get hosts(): SimHost[] {
    return [...this.byIp.values()];
  }

  /** Sends a packet: source uplink, core, destination downlink, destination host. */
  send(pkt: Packet): void {
    const from = this.byIp.get(pkt.src);
    if (!from?.online) return;
    from.stats.sentBytes += pkt.wireBytes;
    const ok = from.up.send(pkt.wireBytes, () => this.atCore(pkt));
    if (!ok) this.sim.trace(TRACE.queueDrop, ipKey(pkt.src), pkt.srcPort, pkt.wireBytes);
  }

  private atCore(pkt: Packet): void {
    const to = this.byIp.get(pkt.dst);
    if (!to) {
      this.stats.unroutable++;
      this.sim.trace(TRACE.unroutable, ipKey(pkt.dst), pkt.dstPort, pkt.wireBytes);
      return;
    }
    const ok = to.down.send(pkt.wireBytes, () => {
      if (!to.online) return;
      this.stats.delivered++;
      to.stats.receivedBytes += pkt.wireBytes;
      this.sim.trace(
        TRACE.deliver,
        ipKey(pkt.src) ^ (pkt.srcPort << 16),
        ipKey(pkt.dst) ^ pkt.dstPort,
        pkt.wireBytes,
      );
      to.receive(pkt);
    });
    if (!ok) this.sim.trace(TRACE.queueDrop, ipKey(pkt.dst), pkt.dstPort, pkt.wireBytes);
  }
}

export class SimHost implements Network {
  readonly kind = 'sim';
  /** False: the host is unplugged (packets to and from it vanish; its state stays). */
  online = true;
  readonly stats = { sentBytes: 0, receivedBytes: 0 };
  readonly tcpListeners = new Map<number, (t: Transport) => void>();
  readonly streams = new Map<string, SimStream>();
  readonly udpSockets = new Map<number, SimUdpSocket>();
  private nextPort = 49152;

  constructor(
    readonly net: SimNetwork,
    readonly ip: string,
    readonly up: Link,
    readonly down: Link,
  ) {}

  get sim(): Simulation {
    return this.net.sim;
  }

  /** Opens a TCP-like stream; it emits 'connect', or 'error' (ECONNREFUSED/ETIMEDOUT) + 'close'. */
  connect(host: string, port: number, options?: { onRead?: (chunk: Buffer) => void }): Transport {
    return SimStream.connect(
      this,
      host,
      port,
      this.ephemeralPort((p) => !this.usedTcpPort(p)),
      options?.onRead,
    );
  }

  async listen(host: string, port: number, onConnection: (t: Transport) => void): Promise<Listener> {
    if (host !== '0.0.0.0' && host !== '::' && host !== this.ip)
      throw Object.assign(new Error(`listen EADDRNOTAVAIL ${host}:${port}`), { code: 'EADDRNOTAVAIL' });
    const bound = port === 0 ? this.ephemeralPort((p) => !this.tcpListeners.has(p)) : port;
    if (this.tcpListeners.has(bound))
      throw Object.assign(new Error(`listen EADDRINUSE ${host}:${bound}`), { code: 'EADDRINUSE' });
    this.tcpListeners.set(bound, onConnection);
    return {
      port: bound,
      close: async () => {
        if (this.tcpListeners.get(bound) === onConnection) this.tcpListeners.delete(bound);
      },
    };
  }

  /** Binds a datagram socket (0 = an ephemeral port). */
  udp(port: number, onMessage: (msg: Buffer, from: { address: string; port: number }) => void): SimUdpSocket {
    const bound = port === 0 ? this.ephemeralPort((p) => !this.udpSockets.has(p)) : port;
    if (this.udpSockets.has(bound))
      throw Object.assign(new Error(`bind EADDRINUSE ${bound}`), { code: 'EADDRINUSE' });
    const s = new SimUdpSocket(this, bound, onMessage);
    this.udpSockets.set(bound, s);
    return s;
  }

  /** Unplugs (false) or replugs (true) the host: packets in flight to it are lost. */
  setOnline(on: boolean): void {
    this.online = on;
  }

  /** From the core: hand the packet to a socket or stream. */
  receive(pkt: Packet): void {
    if (pkt.udp) {
      this.udpSockets.get(pkt.dstPort)?.deliver(pkt.udp, { address: pkt.src, port: pkt.srcPort });
      return;
    }
    if (pkt.tcp) SimStream.demux(this, pkt, pkt.tcp);
  }

  sendUdp(srcPort: number, dst: string, dstPort: number, data: Buffer): void {
    this.net.send({
      src: this.ip,
      srcPort,
      dst,
      dstPort,
      wireBytes: data.length + UDP_HEADER,
      udp: data,
    });
  }

  private usedTcpPort(p: number): boolean {
    if (this.tcpListeners.has(p)) return true;
    for (const s of this.streams.values()) if (s.localPort === p) return true;
    return false;
  }

  private ephemeralPort(free: (p: number) => boolean): number {
    for (let i = 0; i < 16384; i++) {
      const p = this.nextPort;
      this.nextPort = p >= 65535 ? 49152 : p + 1;
      if (free(p)) return p;
    }
    throw Object.assign(new Error('sim: no free ephemeral port'), { code: 'EADDRNOTAVAIL' });
  }
}
