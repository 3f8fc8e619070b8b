/**
 * Per-connection PEX bookkeeping (BEP 11), sans-I/O. Outgoing: given the torrent's currently
 * connected peers, `update()` yields the diff against what this peer was last told — at most
 * once a minute and at most 50 added / 50 dropped (the rest waits for the next message).
 * Incoming: `receive()` decodes and ignores messages that come faster than the BEP allows.
 */
import type { Clock } from '../util/clock.js';
import { NbtError } from '../util/errors.js';
import { formatAddress, type PeerAddress } from '../util/compact.js';
import { decodePex, encodePex, PEX_MAX_PEERS, type DecodedPex, type PexPeer } from './ut-pex.js';

export const PEX_INTERVAL_MS = 60_000;

export interface PexStateOptions {
  clock: Pick<Clock, 'now'>;
  /** The remote peer's own address, never sent back to it. */
  remote?: PeerAddress;
  /** Set from the torrent; PEX on a private torrent is refused. */
  private?: boolean;
  intervalMs?: number;
  maxPeers?: number;
  /** Incoming messages closer together than this are ignored (default 30 s, lenient on jitter). */
  minReceiveIntervalMs?: number;
}

export class PexState {
  private readonly clock: Pick<Clock, 'now'>;
  private readonly remoteKey: string | undefined;
  private readonly intervalMs: number;
  private readonly maxPeers: number;
  private readonly minReceiveIntervalMs: number;
  /** What the remote peer currently believes we are connected to. */
  private readonly told = new Map<string, PexPeer>();
  private lastSent: number | undefined;
  private lastReceived: number | undefined;
  /** Incoming messages ignored for coming too fast or being malformed. */
  violations = 0;

  constructor(options: PexStateOptions) {
    if (options.private) throw new NbtError('PEX_PRIVATE', 'PEX is not allowed on private torrents');
    this.clock = options.clock;
    this.remoteKey = options.remote ? formatAddress(options.remote) : undefined;
    this.intervalMs = options.intervalMs ?? PEX_INTERVAL_MS;
    this.maxPeers = options.maxPeers ?? PEX_MAX_PEERS;
    this.minReceiveIntervalMs = options.minReceiveIntervalMs ?? 30_000;
  }

  /** When the next message may be sent (ms on the clock). */
  get nextSendAt(): number {
    return this.lastSent === undefined ? this.clock.now() : this.lastSent + this.intervalMs;
  }

  /** The payload to send now, or undefined if it is too early or nothing changed. */
  update(connected: readonly PexPeer[]): Buffer | undefined {
    const now = this.clock.now();
    if (this.lastSent !== undefined && now - this.lastSent < this.intervalMs) return undefined;
    const current = new Map<string, PexPeer>();
    for (const p of connected) {
      const key = formatAddress(p);
      if (key !== this.remoteKey) current.set(key, p);
    }
    const added: PexPeer[] = [];
    for (const [key, p] of current) {
      if (added.length >= this.maxPeers) break;
      if (!this.told.has(key)) added.push(p);
    }
    const dropped: PeerAddress[] = [];
    for (const [key, p] of this.told) {
      if (dropped.length >= this.maxPeers) break;
      if (!current.has(key)) dropped.push({ host: p.host, port: p.port });
    }
    if (added.length === 0 && dropped.length === 0) return undefined;
    for (const p of added) this.told.set(formatAddress(p), p);
    for (const p of dropped) this.told.delete(formatAddress(p));
    this.lastSent = now;
    return encodePex({ added, dropped });
  }

  /** Decodes a received payload; undefined when it is malformed or came too soon. */
  receive(payload: Uint8Array): DecodedPex | undefined {
    const now = this.clock.now();
    if (this.lastReceived !== undefined && now - this.lastReceived < this.minReceiveIntervalMs) {
      this.violations++;
      return undefined;
    }
    let msg: DecodedPex;
    try {
      msg = decodePex(payload, this.maxPeers);
    } catch (e) {
      if (!(e instanceof NbtError)) throw e;
      this.violations++;
      return undefined;
    }
    this.lastReceived = now;
    return msg;
  }
}
