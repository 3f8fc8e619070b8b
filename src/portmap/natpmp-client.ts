/**
 * NAT-PMP over UDP to the gateway: one socket, one request in flight at a time, retransmitted
 * after 250 ms, doubling (RFC 6886 3.1), a bounded number of times; answers are taken only from
 * the gateway's address and port. Time comes from the Clock.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Clock } from '../util/clock.js';
import { NbtError } from '../util/errors.js';
import {
  NATPMP_MAX_INPUT,
  NATPMP_PORT,
  decodeNatPmpResponse,
  encodeExternalAddressRequest,
  encodeMapRequest,
  type MappingProtocol,
  type NatPmpResponse,
} from './natpmp-codec.js';
import type { MappingProtocolClient, MappedPort } from './types.js';
import { GatewayEpoch, UdpRequestQueue } from './udp-request.js';

export interface NatPmpClientOptions {
  clock: Clock;
  /** The gateway's address. */
  gateway: string;
  /** Its NAT-PMP port (5351; tests move it). */
  port?: number;
  /** Sends of one request before giving up (default 4: 250 + 500 + 1000 + 2000 ms). */
  attempts?: number;
  /** First retransmission delay (default 250 ms). */
  initialTimeoutMs?: number;
}

export class NatPmpClient implements MappingProtocolClient {
  readonly name = 'natpmp';
  private socket: Socket | undefined;
  private closed = false;
  private readonly port: number;
  private readonly requests: UdpRequestQueue<NatPmpResponse>;
  private readonly epoch: GatewayEpoch;

  constructor(private readonly o: NatPmpClientOptions) {
    this.port = o.port ?? NATPMP_PORT;
    this.requests = new UdpRequestQueue({
      clock: o.clock,
      attempts: o.attempts,
      initialTimeoutMs: o.initialTimeoutMs,
      timeoutError: (n) =>
        new NbtError('NATPMP_TIMEOUT', `no NAT-PMP answer from ${o.gateway} after ${n} tries`),
      closedError: () => new NbtError('NATPMP_CLOSED', 'NAT-PMP client closed'),
    });
    this.epoch = new GatewayEpoch(o.clock);
  }

  async externalAddress(): Promise<string> {
    const r = await this.request(encodeExternalAddressRequest(), (r) => r.kind === 'external-address');
    if (r.kind !== 'external-address') throw new NbtError('NATPMP_MALFORMED', 'unexpected answer');
    return r.address;
  }

  async map(
    protocol: MappingProtocol,
    internalPort: number,
    externalPort: number,
    leaseSec: number,
  ): Promise<MappedPort> {
    const r = await this.request(
      encodeMapRequest(protocol, internalPort, externalPort, leaseSec),
      (r) => r.kind === 'mapping' && r.protocol === protocol && r.internalPort === internalPort,
    );
    if (r.kind !== 'mapping') throw new NbtError('NATPMP_MALFORMED', 'unexpected answer');
    return { externalPort: r.externalPort, leaseSec: r.lifetime };
  }

  async unmap(protocol: MappingProtocol, internalPort: number): Promise<void> {
    // RFC 6886 3.4: a delete names the internal port; the external one is the gateway's business.
    await this.request(
      encodeMapRequest(protocol, internalPort, 0, 0),
      (r) => r.kind === 'mapping' && r.protocol === protocol && r.internalPort === internalPort,
    );
  }

  /** RFC 6886 3.6: an epoch that goes back or lags our clock means the gateway lost its mappings. */
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

  /** Requests run one after another: answers carry no id, only their opcode and port. */
  private request(packet: Buffer, matches: (r: NatPmpResponse) => boolean): Promise<NatPmpResponse> {
    return this.requests.request(async () => {
      const socket = await this.open();
      return { packet, matches, transmit: (p) => socket.send(p, this.port, this.o.gateway) };
    });
  }

  private async open(): Promise<Socket> {
    if (this.socket) return this.socket;
    const s = createSocket('udp4');
    s.on('error', (e) => this.requests.fail(new NbtError('NATPMP_SOCKET', `NAT-PMP socket: ${e.message}`)));
    s.on('message', (data, rinfo) => {
      if (rinfo.address !== this.o.gateway || rinfo.port !== this.port || data.length > NATPMP_MAX_INPUT)
        return;
      this.received(data);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, () => {
        s.off('error', reject);
        resolve();
      });
    });
    if (this.closed) {
      s.close();
      throw new NbtError('NATPMP_CLOSED', 'NAT-PMP client closed');
    }
    this.socket = s;
    return s;
  }

  private received(data: Buffer): void {
    const pending = this.requests.pending;
    if (!pending) return;
    let r: NatPmpResponse;
    try {
      r = decodeNatPmpResponse(data);
    } catch (e) {
      // A result code answers the request in flight (its opcode says which it was).
      if (data.length >= 2 && data[1]! === (pending[1]! | 128)) this.requests.fail(e as Error);
      return;
    }
    this.epoch.saw(r.epoch);
    this.requests.answer(r);
  }
}
