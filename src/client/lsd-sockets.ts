/**
 * The I/O of local service discovery: one multicast UDP socket per interface and family, each
 * bound to *:6771 with SO_REUSEADDR (other BitTorrent clients on the host share the port),
 * joined to the LSD group on its interface and sending there. IPv6 is tried on every interface
 * with an IPv6 address and dropped (with a warning) where multicast does not work.
 */
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { LSD_GROUP_V4, LSD_GROUP_V6, LSD_MAX_INPUT, type LsdFamily } from '../lsd/index.js';
import { NbtError, errorMessage } from '../util/errors.js';

export interface LsdInterface {
  /** Interface name (eth0). */
  name: string;
  family: LsdFamily;
  /** Its address (IPv4) or `::%name` (IPv6), as dgram's membership calls take it. */
  address: string;
}

export interface LsdSocketOptions {
  /** Multicast TTL / hop limit (BEP 14 suggests above 1 as the groups are wider than the LAN). */
  ttl: number;
  /** IPv6 too (where it works). */
  ipv6: boolean;
  /** The LSD port (6771; tests may move it). */
  port: number;
  /** Only interfaces with one of these addresses (or names); empty: every non-internal one. */
  only: readonly string[];
}

/**
 * The interfaces to use: non-internal ones with an address of the family, restricted to `only`
 * (addresses or names; a loopback interface only when named). A listen host other than a
 * wildcard restricts to its interface.
 */
export function lsdInterfaces(o: LsdSocketOptions, listenHost: string): LsdInterface[] {
  const bound = isIP(listenHost) !== 0 && listenHost !== '0.0.0.0' && listenHost !== '::';
  const only = o.only.length > 0 ? o.only : bound ? [listenHost] : [];
  const out: LsdInterface[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      const wanted = only.includes(a.address) || only.includes(name);
      // Loopback only when named in `o.only` (tests: multicast loops back on lo), never by the
      // listen host alone: clients on 127.0.0.1 stay silent.
      if (a.internal ? !(wanted && o.only.length > 0) : only.length > 0 && !wanted) continue;
      if (a.family === 'IPv4') out.push({ name, family: 4, address: a.address });
      else if (o.ipv6 && a.family === 'IPv6' && !out.some((i) => i.family === 6 && i.name === name))
        out.push({ name, family: 6, address: `::%${name}` });
    }
  }
  return out;
}

export class LsdSockets {
  private readonly sockets: { socket: Socket; iface: LsdInterface }[] = [];
  private closed = false;

  constructor(
    private readonly o: LsdSocketOptions,
    private readonly onMessage: (data: Buffer, host: string) => void,
    private readonly warn: (e: Error) => void,
  ) {}

  /** Interfaces with a working socket. */
  get interfaces(): LsdInterface[] {
    return this.sockets.map((s) => s.iface);
  }

  /** Opens a socket per interface; one that fails is left out with a warning. */
  async open(ifaces: readonly LsdInterface[]): Promise<void> {
    await Promise.all(ifaces.map((i) => this.openOne(i)));
  }

  /** Sends a packet for each family's socket (`packet(family)` builds it). */
  send(packet: (family: LsdFamily) => Buffer): void {
    for (const { socket, iface } of this.sockets) {
      const group = iface.family === 6 ? LSD_GROUP_V6 : LSD_GROUP_V4;
      socket.send(packet(iface.family), this.o.port, group, (err) => {
        if (err && !this.closed)
          this.warn(new NbtError('LSD_SEND', `lsd: send on ${iface.name} failed: ${err.message}`));
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = this.sockets.splice(0);
    await Promise.all(all.map(({ socket }) => new Promise<void>((r) => socket.close(() => r()))));
  }

  private async openOne(iface: LsdInterface): Promise<void> {
    const v6 = iface.family === 6;
    const socket = createSocket({
      type: v6 ? 'udp6' : 'udp4',
      reuseAddr: true,
      ...(v6 ? { ipv6Only: true } : {}),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port: this.o.port, address: v6 ? '::' : '0.0.0.0', exclusive: false }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.addMembership(v6 ? LSD_GROUP_V6 : LSD_GROUP_V4, iface.address);
      socket.setMulticastInterface(iface.address);
      socket.setMulticastTTL(this.o.ttl);
      // Loopback on: other clients on this host hear us; our own announces carry our cookie.
      socket.setMulticastLoopback(true);
    } catch (e) {
      socket.close();
      this.warn(
        new NbtError(
          'LSD_SOCKET',
          `lsd: no IPv${iface.family} multicast on ${iface.name}: ${errorMessage(e)}`,
        ),
      );
      return;
    }
    if (this.closed) {
      socket.close();
      return;
    }
    socket.on('error', (e) => this.warn(new NbtError('LSD_SOCKET', `lsd: ${iface.name}: ${e.message}`)));
    socket.on('message', (data, rinfo) => {
      if (data.length <= LSD_MAX_INPUT) this.onMessage(data, rinfo.address);
    });
    this.sockets.push({ socket, iface });
  }
}
