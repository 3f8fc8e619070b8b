/**
 * PCP (RFC 6887) MAP over UDP to the gateway: one socket connected to the gateway's port 5351
 * (so only its answers arrive, and its local address is the PCP client address the request
 * must carry), one request in flight at a time, each mapping with its own nonce (the server
 * ties renewals and deletes to it). Retransmitted after 250 ms, doubling, a bounded number of
 * times (RFC 6887 8.1.1 starts at 3 s for a gateway of unknown distance; ours is on the LAN,
 * and libtorrent does the same). The server's epoch is checked on every answer: a reset (the
 * gateway rebooted and lost its mappings) is reported through `onGatewayReset`.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Clock } from '../util/clock.js';
import { NbtError } from '../util/errors.js';
import { NATPMP_PORT, type MappingProtocol } from './natpmp-codec.js';
import {
  PCP_MAX_MESSAGE,
  PCP_NONCE_BYTES,
  PcpResultError,
  decodePcpResponse,
  encodePcpMapRequest,
  type PcpMapResponse,
  type PcpResponse,
} from './pcp-codec.js';
import type { MappingProtocolClient, MappedPort } from './types.js';
import { GatewayEpoch, UdpRequestQueue } from './udp-request.js';

export interface PcpClientOptions {
  clock: Clock;
  /** The gateway's address (IPv4 or IPv6). */
  gateway: string;
  /** Its PCP port (5351; tests move it). */
  port?: number;
  /** Sends of one request before giving up (default 4: 250 + 500 + 1000 + 2000 ms). */
  attempts?: number;
  /** First retransmission delay (default 250 ms). */
  initialTimeoutMs?: number;
  /**
   * Our address to send from (default: the kernel's choice towards the gateway). An IPv6
   * pinhole needs our global address even when the gateway is link-local.
   */
  localAddress?: string;
  /** Mapping nonces (default: 12 random bytes each; tests fix them). */
  nonce?: () => Uint8Array;
}

export class PcpClient implements MappingProtocolClient {
  readonly name = 'pcp';
  private socket: Socket | undefined;
  private localAddress = '';
  private closed = false;
  private readonly port: number;
  /** One nonce per mapping, kept for its renewals and its delete. */
  private readonly nonces = new Map<string, Uint8Array>();
  private lastExternal: string | undefined;
  private readonly requests: UdpRequestQueue<PcpMapResponse>;
  private readonly epoch: GatewayEpoch;
  /** Has the server ever answered (any result)? */
  heard = false;

  constructor(private readonly o: PcpClientOptions) {
    this.port = o.port ?? NATPMP_PORT;
    this.requests = new UdpRequestQueue({
      clock: o.clock,
      attempts: o.attempts,
      initialTimeoutMs: o.initialTimeoutMs,
      timeoutError: (n) => new NbtError('PCP_TIMEOUT', `no PCP answer from ${o.gateway} after ${n} tries`),
      closedError: () => new NbtError('PCP_CLOSED', 'PCP client closed'),
    });
    this.epoch = new GatewayEpoch(o.clock);
  }

  /** PCP has no request for it: the address the last MAP answer assigned. */
  externalAddress(): Promise<string> {
    if (this.lastExternal === undefined)
      return Promise.reject(new NbtError('PCP_NO_EXTERNAL', 'no PCP mapping has told the external address'));
    return Promise.resolve(this.lastExternal);
  }

  async map(
    protocol: MappingProtocol,
    internalPort: number,
    externalPort: number,
    leaseSec: number,
  ): Promise<MappedPort> {
    const key = `${protocol}:${internalPort}`;
    let nonce = this.nonces.get(key);
    if (!nonce) {
      nonce = this.o.nonce?.() ?? randomBytes(PCP_NONCE_BYTES);
      this.nonces.set(key, nonce);
    }
    const r = await this.request(protocol, internalPort, externalPort, leaseSec, nonce);
    this.lastExternal = r.externalAddress;
    return { externalPort: r.externalPort, leaseSec: r.lifetime };
  }

  async unmap(protocol: MappingProtocol, internalPort: number): Promise<void> {
    const key = `${protocol}:${internalPort}`;
    const nonce = this.nonces.get(key);
    if (!nonce) return;
    await this.request(protocol, internalPort, 0, 0, nonce);
    this.nonces.delete(key);
  }

  onGatewayReset(listener: () => void): void {
    this.epoch.onReset(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.requests.close();
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private request(
    protocol: MappingProtocol,
    internalPort: number,
    externalPort: number,
    lifetime: number,
    nonce: Uint8Array,
  ): Promise<PcpMapResponse> {
    return this.requests.request(async () => {
      const socket = await this.open();
      const packet = encodePcpMapRequest({
        clientAddress: this.localAddress,
        nonce,
        protocol,
        internalPort,
        externalPort,
        lifetime,
      });
      return {
        packet,
        matches: (r) => r.nonce.equals(nonce) && r.protocol === protocol,
        transmit: (p) => socket.send(p),
      };
    });
  }

  private async open(): Promise<Socket> {
    if (this.socket) return this.socket;
    const s = createSocket(isIP(this.o.gateway.replace(/%.*$/, '')) === 6 ? 'udp6' : 'udp4');
    s.on('error', (e) => this.requests.fail(new NbtError('PCP_SOCKET', `PCP socket: ${e.message}`)));
    // Connected: the kernel drops datagrams from anyone but the gateway's port.
    s.on('message', (data) => {
      if (data.length <= PCP_MAX_MESSAGE) this.received(data);
    });
    try {
      const local = this.o.localAddress;
      if (local)
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind(0, local, () => {
            s.off('error', reject);
            resolve();
          });
        });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.connect(this.port, this.o.gateway, () => {
          s.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      s.close();
      throw new NbtError('PCP_SOCKET', `PCP socket to ${this.o.gateway}: ${(e as Error).message}`);
    }
    if (this.closed) {
      s.close();
      throw new NbtError('PCP_CLOSED', 'PCP client closed');
    }
    this.localAddress = s.address().address.replace(/%.*$/, '');
    this.socket = s;
    return s;
  }

  private received(data: Buffer): void {
    let r: PcpResponse;
    try {
      r = decodePcpResponse(data);
    } catch (e) {
      if (!(e instanceof PcpResultError)) return;
      this.heard = true;
      if (!e.natPmpServer) this.epoch.saw(e.epoch);
      // Error answers carry no more than the opcode to match: they answer the request in flight.
      if (e.opcode === 1) this.requests.fail(e);
      return;
    }
    this.heard = true;
    this.epoch.saw(r.epoch);
    if (r.kind === 'map') this.requests.answer(r);
  }
}
