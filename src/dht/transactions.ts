/**
 * Outstanding KRPC queries: 2-byte transaction ids, each bound to the address it was sent to
 * (a reply from elsewhere does not match), each failing after a timeout from the clock.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { NbtError } from '../util/errors.js';
import { formatAddress, type PeerAddress } from '../util/compact.js';
import type { KrpcError, KrpcResponse } from './krpc.js';

export interface Pending {
  t: Buffer;
  addr: PeerAddress;
  method: string;
  /** The id we believe the node has, to mark it failed on timeout. */
  nodeId: Buffer | undefined;
  resolve: (r: KrpcResponse) => void;
  reject: (e: NbtError) => void;
  timer: TimerHandle;
}

export class TransactionTable {
  private readonly pending = new Map<string, Pending>();
  private next: number;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly max = 2048,
    private readonly onTimeout: (p: Pending) => void = () => undefined,
  ) {
    this.next = Math.floor(Math.random() * 0x10000);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Registers a query; the promise settles with the reply, or a DHT_TIMEOUT / DHT_REMOTE_ERROR. */
  open(addr: PeerAddress, method: string, nodeId?: Buffer): { t: Buffer; reply: Promise<KrpcResponse> } {
    if (this.pending.size >= this.max)
      throw new NbtError('DHT_TOO_MANY_QUERIES', `${this.max} queries already in flight`);
    let key: string;
    do {
      this.next = (this.next + 1) & 0xffff;
      key = this.next.toString(16).padStart(4, '0');
    } while (this.pending.has(key));
    const t = Buffer.from(key, 'hex');
    const reply = new Promise<KrpcResponse>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(key);
        this.onTimeout(entry);
        reject(new NbtError('DHT_TIMEOUT', `${method} to ${formatAddress(addr)} timed out`));
      }, this.timeoutMs);
      const entry: Pending = { t, addr, method, nodeId, resolve, reject, timer };
      this.pending.set(key, entry);
    });
    return { t, reply };
  }

  /** Settles the query a reply answers; false when no query matches (id or address). */
  settle(msg: KrpcResponse | KrpcError, from: PeerAddress): boolean {
    const key = msg.t.toString('hex');
    const p = this.pending.get(key);
    if (!p || p.addr.port !== from.port || normalizeHost(p.addr.host) !== normalizeHost(from.host))
      return false;
    this.pending.delete(key);
    p.timer.cancel();
    if (msg.y === 'r') p.resolve(msg);
    else p.reject(new NbtError('DHT_REMOTE_ERROR', `${p.method} error ${msg.code}: ${msg.message}`));
    return true;
  }

  /** Fails every outstanding query (on close). */
  cancelAll(): void {
    for (const p of this.pending.values()) {
      p.timer.cancel();
      p.reject(new NbtError('DHT_CLOSED', 'DHT node closed'));
    }
    this.pending.clear();
  }
}

function normalizeHost(h: string): string {
  return h.startsWith('::ffff:') ? h.slice(7) : h.toLowerCase();
}
