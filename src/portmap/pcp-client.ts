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
import type { Clock, TimerHandle } from '../util/clock.js';
import { NbtError } from '../util/errors.js';
import { NATPMP_PORT, type MappingProtocol } from './natpmp-codec.js';
import {
  PCP_MAX_MESSAGE,
  PCP_NONCE_BYTES,
  PcpResultError,
  decodePcpResponse,
  encodePcpMapRequest,
  epochReset,
  type EpochSample,
  type PcpMapResponse,
  type PcpResponse,
} from './pcp-codec.js';
import type { MappingProtocolClient, MappedPort } from './types.js';

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

interface InFlight {
  packet: Buffer;
  matches: (r: PcpMapResponse) => boolean;
  resolve: (r: PcpMapResponse) => void;
  reject: (e: Error) => void;
  timer: TimerHandle | undefined;
}

export class PcpClient implements MappingProtocolClient {
  readonly name = 'pcp';
  private socket: Socket | undefined;
  private localAddress = '';
  private inFlight: InFlight | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly port: number;
  /** One nonce per mapping, kept for its renewals and its delete. */
  private readonly nonces = new Map<string, Uint8Array>();
  private lastExternal: string | undefined;
  private lastEpoch: EpochSample | undefined;
  private readonly resetListeners: (() => void)[] = [];
  /** Has the server ever answered (any result)? */
  heard = false;

  constructor(private readonly o: PcpClientOptions) {
    this.port = o.port ?? NATPMP_PORT;
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
    this.resetListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new NbtError('PCP_CLOSED', 'PCP client closed'));
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
    const run = this.queue.then(async () => {
      const socket = await this.open();
      const packet = encodePcpMapRequest({
        clientAddress: this.localAddress,
        nonce,
        protocol,
        internalPort,
        externalPort,
        lifetime,
      });
      return this.send(socket, packet, (r) => r.nonce.equals(nonce) && r.protocol === protocol);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private send(
    socket: Socket,
    packet: Buffer,
    matches: (r: PcpMapResponse) => boolean,
  ): Promise<PcpMapResponse> {
    if (this.closed) return Promise.reject(new NbtError('PCP_CLOSED', 'PCP client closed'));
    return new Promise<PcpMapResponse>((resolve, reject) => {
      const f: InFlight = { packet, matches, resolve, reject, timer: undefined };
      this.inFlight = f;
      const attempts = this.o.attempts ?? 4;
      let sent = 0;
      const transmit = (): void => {
        if (this.inFlight !== f) return;
        if (sent === attempts)
          return this.fail(
            new NbtError('PCP_TIMEOUT', `no PCP answer from ${this.o.gateway} after ${attempts} tries`),
          );
        socket.send(packet);
        f.timer = this.o.clock.setTimeout(transmit, (this.o.initialTimeoutMs ?? 250) * 2 ** sent++);
      };
      transmit();
    });
  }

  private async open(): Promise<Socket> {
    if (this.socket) return this.socket;
    const s = createSocket(isIP(this.o.gateway.replace(/%.*$/, '')) === 6 ? 'udp6' : 'udp4');
    s.on('error', (e) => this.fail(new NbtError('PCP_SOCKET', `PCP socket: ${e.message}`)));
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
      if (!e.natPmpServer) this.sawEpoch(e.epoch);
      // Error answers carry no more than the opcode to match: they answer the request in flight.
      if (e.opcode === 1) this.fail(e);
      return;
    }
    this.heard = true;
    this.sawEpoch(r.epoch);
    const f = this.inFlight;
    if (r.kind !== 'map' || !f || !f.matches(r)) return;
    f.timer?.cancel();
    this.inFlight = undefined;
    f.resolve(r);
  }

  private sawEpoch(epoch: number): void {
    const now: EpochSample = { epoch, at: this.o.clock.now() };
    const reset = epochReset(this.lastEpoch, now);
    this.lastEpoch = now;
    if (reset) for (const l of this.resetListeners) l();
  }

  private fail(e: Error): void {
    const f = this.inFlight;
    if (!f) return;
    f.timer?.cancel();
    this.inFlight = undefined;
    f.reject(e);
  }
}
