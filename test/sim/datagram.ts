/** Datagram sockets on a simulated host (for uTP, DHT and UDP trackers): unreliable, unordered. */
import type { SimHost } from './network.js';

/** IPv4 + UDP header bytes added to every datagram on the wire. */
export const UDP_HEADER = 28;

export class SimUdpSocket {
  private closed = false;

  constructor(
    private readonly host: SimHost,
    readonly port: number,
    private readonly onMessage: (msg: Buffer, from: { address: string; port: number }) => void,
  ) {}

  get address(): string {
    return this.host.ip;
  }

  /** Sends one datagram (copied: the caller may reuse its buffer). */
  send(data: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    this.host.sendUdp(this.port, address, port, Buffer.from(data));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.host.udpSockets.get(this.port) === this) this.host.udpSockets.delete(this.port);
  }

  deliver(msg: Buffer, from: { address: string; port: number }): void {
    if (this.closed) return;
    this.host.sim.touch();
    this.onMessage(msg, from);
  }
}
