/**
 * Keeps ports mapped on the gateway through each protocol client (UPnP IGD, PCP/NAT-PMP): maps
 * them, renews each at half its granted lease, maps them again at once when the gateway says it
 * lost them (an epoch reset), tries a failed one again later (doubling, up
 * to `maxRetryMs`), and on close deletes what it mapped (bounded by `closeTimeoutMs`). No
 * sockets here: the clients do the I/O, the Clock the timing, so FakeClock tests drive it.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { MappingProtocol, MappingProtocolClient, PortMapping, PortMappingFailure } from './types.js';

export interface PortMapperOptions {
  clock: Clock;
  clients: readonly MappingProtocolClient[];
  /** Lease asked for (seconds; default 3600). */
  leaseSec?: number;
  /** First retry after a failure (default 60 s), doubling up to `maxRetryMs` (default 30 min). */
  retryMs?: number;
  maxRetryMs?: number;
  /** How long close() waits for the deletes (default 2 s). */
  closeTimeoutMs?: number;
}

export interface PortMapperEvents {
  /** A mapping was made or renewed (`renewal` true); the gateway may have changed its port. */
  mapped: [mapping: PortMapping, renewal: boolean];
  failed: [failure: PortMappingFailure];
  [k: string]: unknown[];
}

interface Slot {
  client: MappingProtocolClient;
  protocol: MappingProtocol;
  internalPort: number;
  mapping: PortMapping | undefined;
  expiresAt: number;
  timer: TimerHandle | undefined;
  /** A request is out: renewals wait for it. */
  busy: Promise<void> | undefined;
  retryMs: number;
}

export class PortMapper extends TypedEmitter<PortMapperEvents> {
  private readonly slots: Slot[] = [];
  private closed = false;
  private readonly leaseSec: number;

  constructor(private readonly o: PortMapperOptions) {
    super();
    this.leaseSec = o.leaseSec ?? 3600;
    for (const c of o.clients) c.onGatewayReset?.(() => this.remap(c));
  }

  /** The gateway forgot its mappings (it rebooted): make each of `client`'s again now. */
  private remap(client: MappingProtocolClient): void {
    for (const s of this.slots) {
      if (s.client !== client || s.busy || this.closed) continue;
      s.timer?.cancel();
      this.run(s);
    }
  }

  /** Maps `internalPort` for `protocol` through every client (a no-op if already added). */
  add(protocol: MappingProtocol, internalPort: number): void {
    if (this.closed) return;
    for (const client of this.o.clients) {
      if (
        this.slots.some(
          (s) => s.client === client && s.protocol === protocol && s.internalPort === internalPort,
        )
      )
        continue;
      const slot: Slot = {
        client,
        protocol,
        internalPort,
        mapping: undefined,
        expiresAt: 0,
        timer: undefined,
        busy: undefined,
        retryMs: this.o.retryMs ?? 60_000,
      };
      this.slots.push(slot);
      this.run(slot);
    }
  }

  /** The mappings in place now. */
  get mappings(): PortMapping[] {
    return this.slots.flatMap((s) => (s.mapping ? [{ ...s.mapping }] : []));
  }

  /**
   * The first in-place IPv4 mapping of `protocol` (any client), e.g. the port to announce. An
   * IPv6 pinhole (its external address is our own IPv6 one) maps no port and is not it.
   */
  mapping(protocol: MappingProtocol): PortMapping | undefined {
    return this.mappings.find((m) => m.protocol === protocol && !m.externalAddress?.includes(':'));
  }

  /**
   * Deletes every mapping (waits at most closeTimeoutMs), then closes the clients. A client
   * that never mapped anything is closed at once: its discovery or first request (to a gateway
   * that may not exist) is abandoned instead of waited for.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) s.timer?.cancel();
    const idle = this.o.clients.filter((c) => !this.slots.some((s) => s.client === c && s.mapping));
    await Promise.all(idle.map((c) => c.close().catch(() => undefined)));
    const deletes = this.slots
      .filter((s) => !idle.includes(s.client))
      .map(async (s) => {
        await s.busy;
        const m = s.mapping;
        s.mapping = undefined;
        if (m) await s.client.unmap(m.protocol, m.internalPort, m.externalPort).catch(() => undefined);
      });
    let timer: TimerHandle | undefined;
    await Promise.race([
      Promise.all(deletes),
      new Promise<void>((r) => (timer = this.o.clock.setTimeout(r, this.o.closeTimeoutMs ?? 2000))),
    ]);
    timer?.cancel();
    const rest = this.o.clients.filter((c) => !idle.includes(c));
    await Promise.all(rest.map((c) => c.close().catch(() => undefined)));
  }

  private run(slot: Slot): void {
    if (this.closed || slot.busy) return;
    slot.timer = undefined;
    slot.busy = this.attempt(slot).finally(() => (slot.busy = undefined));
  }

  private async attempt(slot: Slot): Promise<void> {
    const { client, protocol, internalPort } = slot;
    const renewal = slot.mapping !== undefined;
    try {
      // Keep the external port we had: peers and trackers know it.
      const wanted = slot.mapping?.externalPort ?? internalPort;
      const got = await client.map(protocol, internalPort, wanted, this.leaseSec);
      if (got.externalPort < 1 || got.externalPort > 0xffff)
        throw new NbtError('PORTMAP_BAD_ANSWER', `external port ${got.externalPort}`);
      const externalAddress = await client.externalAddress().catch(() => slot.mapping?.externalAddress);
      slot.mapping = {
        mapper: client.name,
        protocol,
        internalPort,
        externalPort: got.externalPort,
        externalAddress,
        leaseSec: got.leaseSec,
      };
      slot.expiresAt = got.leaseSec > 0 ? this.o.clock.now() + got.leaseSec * 1000 : Infinity;
      // Closed meanwhile: close() deletes it.
      if (this.closed) return;
      slot.retryMs = this.o.retryMs ?? 60_000;
      // Renew at half the lease (RFC 6886 3.3 suggests it); a permanent one is left alone.
      if (got.leaseSec > 0) this.schedule(slot, Math.max(1000, (got.leaseSec * 1000) / 2));
      this.emit('mapped', { ...slot.mapping }, renewal);
    } catch (e) {
      if (this.closed) return;
      const error = e instanceof Error ? e : new Error(errorMessage(e));
      // After a failed renewal the old mapping stands until its lease ends.
      if (slot.mapping && this.o.clock.now() >= slot.expiresAt) slot.mapping = undefined;
      this.schedule(slot, slot.retryMs);
      slot.retryMs = Math.min(slot.retryMs * 2, this.o.maxRetryMs ?? 30 * 60_000);
      this.emit('failed', { mapper: client.name, protocol, internalPort, error });
    }
  }

  private schedule(slot: Slot, ms: number): void {
    slot.timer?.cancel();
    slot.timer = this.o.clock.setTimeout(() => this.run(slot), ms);
  }
}
