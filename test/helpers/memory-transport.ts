/**
 * An in-memory Transport pair and a tiny Network over it, for tests that must show the Peer and
 * the Client work over something that is not a net.Socket. Bytes are copied on write and
 * delivered on a later turn (setImmediate), `write` returns false above a high-water mark and
 * 'drain' follows once the other side took the bytes; a paused side takes nothing.
 */
import { EventEmitter } from 'node:events';
import type { Connector, Listener, Network, Transport } from '../../src/net/transport.js';

export interface MemoryEndOptions {
  kind?: string;
  remoteAddress?: string;
  remotePort?: number;
  /** Bytes buffered before write() returns false (default 64 KiB). */
  highWaterMark?: number;
}

export class MemoryTransport extends EventEmitter implements Transport {
  readonly kind: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  destroyed = false;
  /** Bytes written and not yet taken by the other side. */
  writableLength = 0;
  /** Everything this end wrote, in order (for assertions). */
  readonly written: Buffer[] = [];
  other: MemoryTransport | undefined;
  /** write() calls that returned false. */
  refusedWrites = 0;
  private readonly highWaterMark: number;
  private queue: Buffer[] = [];
  private paused = false;
  private needDrain = false;
  private scheduled = false;
  private ending = false;
  private corked = 0;

  constructor(o: MemoryEndOptions = {}) {
    super();
    this.kind = o.kind ?? 'mem';
    this.remoteAddress = o.remoteAddress ?? '10.9.9.9';
    this.remotePort = o.remotePort ?? 7000;
    this.highWaterMark = o.highWaterMark ?? 64 * 1024;
  }

  write(data: Uint8Array): boolean {
    if (this.destroyed || this.ending) return false;
    const copy = Buffer.from(data);
    this.written.push(copy);
    this.queue.push(copy);
    this.writableLength += copy.length;
    if (this.corked === 0) this.schedule();
    const ok = this.writableLength < this.highWaterMark;
    if (!ok) {
      this.needDrain = true;
      this.refusedWrites++;
    }
    return ok;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    if (this.corked > 0 && --this.corked === 0) this.schedule();
  }
  /** Delivers what is queued, then closes both ends. */
  end(): void {
    this.ending = true;
    this.schedule();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.queue = [];
    this.writableLength = 0;
    setImmediate(() => this.emit('close'));
    const o = this.other;
    this.other = undefined;
    if (o) {
      o.other = undefined;
      o.destroy();
    }
  }
  /** Fails this end as a socket would: 'error' (with errno `code`), then 'close'. */
  fail(code: string): void {
    const e: NodeJS.ErrnoException = new Error(`${code} (memory transport)`);
    e.code = code;
    setImmediate(() => this.emit('error', e));
    this.destroy();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.other?.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.deliver();
    });
  }

  private deliver(): void {
    const o = this.other;
    if (this.destroyed || !o) return;
    if (!o.paused)
      while (this.queue.length > 0 && !o.paused && !o.destroyed) {
        const chunk = this.queue.shift()!;
        this.writableLength -= chunk.length;
        o.emit('data', chunk);
      }
    if (this.queue.length === 0 && this.needDrain && !this.destroyed) {
      this.needDrain = false;
      this.emit('drain');
    }
    if (this.queue.length === 0 && this.ending) this.destroy();
  }
}

/** Two connected ends; `a` is the dialing side (its remote is `b`'s address and vice versa). */
export function memoryPair(
  a: MemoryEndOptions = {},
  b: MemoryEndOptions = {},
): [MemoryTransport, MemoryTransport] {
  const x = new MemoryTransport(a);
  const y = new MemoryTransport(b);
  x.other = y;
  y.other = x;
  return [x, y];
}

export type ConnectOutcome = 'accept' | 'refuse' | 'hang';

/**
 * A Connector that answers every connect with `outcome(i)` (i = attempt number): 'accept'
 * connects and hands the far end to `onAccept`, 'refuse' fails with ECONNREFUSED, 'hang' never
 * answers. `ends` records the near ends it handed out.
 */
export function memoryConnector(
  onAccept: (far: MemoryTransport) => void,
  o: { kind?: string; outcome?: (attempt: number) => ConnectOutcome; highWaterMark?: number } = {},
): Connector & { ends: MemoryTransport[] } {
  const kind = o.kind ?? 'mem';
  const ends: MemoryTransport[] = [];
  return {
    kind,
    ends,
    connect(host, port) {
      const hwm = o.highWaterMark === undefined ? {} : { highWaterMark: o.highWaterMark };
      const [near, far] = memoryPair(
        { kind, remoteAddress: host, remotePort: port, ...hwm },
        { kind, ...hwm },
      );
      const outcome = o.outcome?.(ends.length) ?? 'accept';
      ends.push(near);
      if (outcome === 'refuse') near.fail('ECONNREFUSED');
      else if (outcome === 'accept')
        setImmediate(() => {
          if (near.destroyed) return;
          near.emit('connect');
          onAccept(far);
        });
      return near;
    },
  };
}

/** Listeners by "address:port", shared by the MemoryNetworks of one test. */
export class MemoryHub {
  readonly listeners = new Map<string, (t: Transport) => void>();
  private nextPort = 40000;
  ephemeralPort(): number {
    return this.nextPort++;
  }
}

/** One host's view of a MemoryHub: connect to "address:port", listen on its own address. */
export class MemoryNetwork implements Network {
  readonly kind = 'mem';
  connects = 0;
  constructor(
    private readonly hub: MemoryHub,
    readonly address: string,
  ) {}

  connect(host: string, port: number): Transport {
    this.connects++;
    const accept = this.hub.listeners.get(`${host}:${port}`);
    const [near, far] = memoryPair(
      { remoteAddress: host, remotePort: port },
      { remoteAddress: this.address, remotePort: this.hub.ephemeralPort() },
    );
    if (!accept) near.fail('ECONNREFUSED');
    else
      setImmediate(() => {
        if (near.destroyed) return;
        near.emit('connect');
        accept(far);
      });
    return near;
  }

  listen(_host: string, port: number, onConnection: (t: Transport) => void): Promise<Listener> {
    const p = port || this.hub.ephemeralPort();
    const key = `${this.address}:${p}`;
    if (this.hub.listeners.has(key)) return Promise.reject(new Error(`EADDRINUSE ${key}`));
    this.hub.listeners.set(key, onConnection);
    return Promise.resolve({
      port: p,
      close: () => {
        this.hub.listeners.delete(key);
        return Promise.resolve();
      },
    });
  }
}
