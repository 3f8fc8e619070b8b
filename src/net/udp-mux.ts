/**
 * One UDP socket shared by the session's UDP users, as in libtorrent (`session_impl::
 * on_udp_packet`). Each user gets a `UdpEndpoint` for a route and an address family; each
 * datagram is classified, in this order:
 *
 *   1. UDP tracker reply: not KRPC, and claimed by a tracker handler, i.e. its transaction id is
 *      outstanding and it comes from the address of the tracker that request went to;
 *   2. DHT: a bencoded dictionary (first byte 'd');
 *   3. uTP: a BEP 29 header (version nibble 1). No uTP handler exists yet: the route is the hook
 *      the uTP socket manager will register on;
 *   4. anything else, or a route without handlers: dropped and counted.
 */
import { NbtError, errorMessage } from '../util/errors.js';
import { bindDatagramSocket, type BindOptions, type DatagramSocket } from './udp-socket.js';
import {
  looksLikeKrpc,
  mayBeTrackerReply,
  looksLikeUtp,
  type UdpEndpoint,
  type UdpFamily,
  type UdpPacketHandler,
  type UdpRoute,
  type UdpSource,
} from './udp.js';

export interface UdpMuxStats {
  received: number;
  tracker: number;
  dht: number;
  utp: number;
  /** Datagrams no route took. */
  dropped: number;
  /** Handlers that threw (reported through `onError`; the socket keeps serving the others). */
  handlerErrors: number;
}

/**
 * The route of a datagram, or undefined when none takes it. `trackerClaims` asks the tracker
 * handlers (only for tracker-shaped datagrams); `hasUtp` says whether a uTP handler exists.
 */
export function classifyDatagram(
  packet: Uint8Array,
  trackerClaims: () => boolean,
  hasRoute: (route: UdpRoute) => boolean = () => true,
): UdpRoute | undefined {
  if (mayBeTrackerReply(packet) && trackerClaims()) return 'tracker';
  if (looksLikeKrpc(packet)) return hasRoute('dht') ? 'dht' : undefined;
  if (looksLikeUtp(packet)) return hasRoute('utp') ? 'utp' : undefined;
  return undefined;
}

export class UdpMux {
  private readonly handlers = new Map<string, Set<UdpPacketHandler>>();
  private closed = false;
  private readonly counters: UdpMuxStats = {
    received: 0,
    tracker: 0,
    dht: 0,
    utp: 0,
    dropped: 0,
    handlerErrors: 0,
  };
  private readonly onError: ((e: Error) => void) | undefined;

  constructor(
    private readonly socket: DatagramSocket,
    o: BindOptions = {},
  ) {
    this.onError = o.onError;
    socket.receive((packet, from) => this.dispatch(packet, from));
  }

  /** Binds a node:dgram socket ('::' serves IPv4 and IPv6) and shares it. */
  static async bind(port: number, host: string, o: BindOptions = {}): Promise<UdpMux> {
    return new UdpMux(await bindDatagramSocket(port, host, o), o);
  }

  get localPort(): number {
    return this.closed ? 0 : this.socket.localPort;
  }

  get localHost(): string {
    return this.socket.localHost;
  }

  get families(): readonly UdpFamily[] {
    return this.socket.families;
  }

  get stats(): UdpMuxStats {
    return { ...this.counters };
  }

  /** An endpoint for `route` datagrams of `family`; undefined when the socket does not serve it. */
  endpoint(route: UdpRoute, family: UdpFamily): UdpEndpoint | undefined {
    if (this.closed || !this.socket.families.includes(family)) return undefined;
    return new MuxEndpoint(this, this.socket, route, family);
  }

  /** Closes the socket; every endpoint stops sending and receiving. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    await this.socket.close();
  }

  /** @internal MuxEndpoint's registration. */
  add(route: UdpRoute, family: UdpFamily, handler: UdpPacketHandler): () => void {
    const key = `${route}/${family}`;
    let set = this.handlers.get(key);
    if (!set) this.handlers.set(key, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  private dispatch(packet: Buffer, from: UdpSource): void {
    if (this.closed) return;
    this.counters.received++;
    const of = (route: UdpRoute): Set<UdpPacketHandler> | undefined => {
      const set = this.handlers.get(`${route}/${from.family}`);
      return set && set.size > 0 ? set : undefined;
    };
    const route = classifyDatagram(
      packet,
      () => {
        for (const h of of('tracker') ?? []) if (this.call(h, packet, from) === true) return true;
        return false;
      },
      (r) => of(r) !== undefined,
    );
    if (!route) {
      this.counters.dropped++;
      return;
    }
    this.counters[route]++;
    if (route === 'tracker') return; // the claiming handler has it already
    for (const h of of(route) ?? []) this.call(h, packet, from);
  }

  /** One user's bug must not take the socket (and the other users) down with it. */
  private call(h: UdpPacketHandler, packet: Buffer, from: UdpSource): boolean | void {
    try {
      return h(packet, from);
    } catch (e) {
      this.counters.handlerErrors++;
      this.onError?.(new NbtError('UDP_HANDLER_FAILED', `udp handler: ${errorMessage(e)}`, { cause: e }));
      return false;
    }
  }
}

/** One user's view of the shared socket: its close() removes its handlers, not the socket. */
class MuxEndpoint implements UdpEndpoint {
  private readonly removers = new Set<() => void>();
  private released = false;

  constructor(
    private readonly mux: UdpMux,
    private readonly socket: DatagramSocket,
    readonly route: UdpRoute,
    readonly family: UdpFamily,
  ) {}

  get localPort(): number {
    return this.released ? 0 : this.mux.localPort;
  }

  get localHost(): string {
    return this.mux.localHost;
  }

  send(packet: Uint8Array, port: number, host: string, done?: (error: Error | undefined) => void): void {
    if (this.released || this.mux.localPort === 0)
      return done?.(new NbtError('UDP_CLOSED', 'udp endpoint is closed'));
    this.socket.send(packet, port, host, done);
  }

  onPacket(handler: UdpPacketHandler): () => void {
    if (this.released) return () => undefined;
    const remove = this.mux.add(this.route, this.family, handler);
    const off = (): void => {
      remove();
      this.removers.delete(off);
    };
    this.removers.add(off);
    return off;
  }

  close(): Promise<void> {
    this.released = true;
    for (const off of [...this.removers]) off();
    return Promise.resolve();
  }
}
