/**
 * The byte stream a `Peer` talks over. TCP (src/net/tcp.ts) is one implementation; uTP, a
 * proxied socket and the test suite's simulated network are others. A Peer never sees which.
 *
 * Semantics follow a Node stream closely enough that `net.Socket` maps onto it one-to-one:
 * `write` returns false when the send buffer is above its high-water mark ('drain' follows),
 * `pause`/`resume` stop and restart 'data' (read-side flow control for rate limits), and exactly
 * one 'close' is emitted, after at most one 'error'.
 */
export interface Transport {
  /** 'tcp', 'utp', 'sim', 'socks5', … — shown on Peer and in the CLI's JSON. */
  readonly kind: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** True once destroyed or closed (no more writes). */
  readonly destroyed: boolean;
  /** Bytes accepted by write() and not yet handed to the network. */
  readonly writableLength: number;
  /**
   * True when a byte handed to write() is referenced no more once it has left `writableLength`
   * (TCP: the kernel copied it). uTP keeps sent bytes until they are acknowledged.
   */
  readonly releasesWritten?: boolean;

  write(data: Uint8Array): boolean;
  /** Batch the writes that follow into as few packets as possible until uncork(). */
  cork(): void;
  uncork(): void;
  /** Send what is queued, then close our half (a polite close). */
  end(): void;
  /** Close at once, dropping what is queued. */
  destroy(): void;
  pause(): void;
  resume(): void;
  /**
   * The bytes written so far end a packet: they go without waiting to fill one, and later
   * writes start the next (uTP). Absent where there are no packets to end (TCP).
   */
  push?(): void;
  /** Latency matters more than batching (Nagle off); a no-op where it means nothing. */
  setNoDelay?(on: boolean): void;

  on(event: 'connect', listener: () => void): this;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'drain', listener: () => void): this;
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): this;
  on(event: 'close', listener: () => void): this;
  once(event: 'connect' | 'drain' | 'close', listener: () => void): this;
  /**
   * Delivers 'data', 'error', 'drain' and 'close' to `sink` from now on, as on() would: one
   * object per connection instead of four listener closures and their context (~0.3 KB of an
   * idle connection). Optional; `attachSink()` falls back to on().
   */
  setSink?(sink: TransportSink): void;
}

/** Receives a transport's stream events; each call names the transport it comes from. */
export interface TransportSink {
  [TRANSPORT_EVENT](t: Transport, event: TransportEvent, arg?: Buffer | NodeJS.ErrnoException): void;
}

export const TRANSPORT_EVENT: unique symbol = Symbol('transportEvent');
export type TransportEvent = 'data' | 'error' | 'drain' | 'close';

/** Sends `t`'s stream events to `sink`, through setSink() where `t` has it, else by listeners. */
export function attachSink(t: Transport, sink: TransportSink): void {
  if (t.setSink) return t.setSink(sink);
  t.on('data', (chunk) => sink[TRANSPORT_EVENT](t, 'data', chunk));
  t.on('error', (e) => sink[TRANSPORT_EVENT](t, 'error', e));
  t.on('drain', () => sink[TRANSPORT_EVENT](t, 'drain'));
  t.on('close', () => sink[TRANSPORT_EVENT](t, 'close'));
}

/** Opens outgoing transports (TCP, uTP, a proxy, the simulator). */
export interface Connector {
  readonly kind: string;
  /**
   * Starts connecting; the transport emits 'connect' when ready or 'error' + 'close' when it
   * failed. `onRead` (optional) lets a TCP connector read into a shared buffer: the chunk is
   * valid only during the call.
   */
  connect(host: string, port: number, options?: { onRead?: (chunk: Buffer) => void }): Transport;
}

/** A listening endpoint opened through a Network. */
export interface Listener {
  /** The bound port (the one asked for, or the one the system chose for 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Everything a session needs from the network for peer connections: dialing and listening.
 * Real TCP is the default; the test suite's simulated network provides another, so whole
 * Clients run in virtual time.
 */
export interface Network extends Connector {
  /**
   * Binds `host:port` (0 = any port); rejects when that is impossible (e.g. EADDRINUSE). Errors
   * after that (a failing accept) go to `onError` and never close the listener by themselves.
   */
  listen(
    host: string,
    port: number,
    onConnection: (transport: Transport) => void,
    onError?: (error: Error) => void,
  ): Promise<Listener>;
}
