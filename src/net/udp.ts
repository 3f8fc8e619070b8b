/**
 * The datagram seam. The DHT and the UDP tracker client (and, next, uTP) send and receive through
 * a `UdpEndpoint`, never a socket: the session's one UDP socket (src/net/udp-mux.ts) hands each
 * of them its own endpoint, a standalone DHT node opens a socket of its own
 * (src/net/udp-socket.ts), and tests use the in-memory network (src/net/udp-memory.ts).
 */
import type { PeerAddress } from '../util/compact.js';

export type UdpFamily = 4 | 6;

/** Where a datagram came from: the address is plain (never IPv4-mapped IPv6). */
export interface UdpSource extends PeerAddress {
  family: UdpFamily;
}

/**
 * Receives one datagram. The buffer is the receiver's to keep: node:dgram allocates each datagram
 * afresh and the in-memory network copies, so uTP holds payloads as views instead of copying
 * them. A UDP tracker client returns
 * true when the datagram answered one of its transactions: the session's demultiplexer offers
 * each datagram to the tracker first and passes it on when it is refused (see UdpMux). Other
 * users' return values are ignored.
 */
export type UdpPacketHandler = (packet: Buffer, from: UdpSource) => boolean | void;

export interface UdpEndpoint {
  /** The address family this endpoint sends to and receives from. */
  readonly family: UdpFamily;
  /** The bound local port (0 once closed). */
  readonly localPort: number;
  /** The bound local address ('0.0.0.0', '::', '127.0.0.1', …). */
  readonly localHost: string;
  /** Sends one datagram; `done` hears of a failed send (errors never throw). */
  send(packet: Uint8Array, port: number, host: string, done?: (error: Error | undefined) => void): void;
  /** Adds a handler for this endpoint's datagrams; the returned function removes it. */
  onPacket(handler: UdpPacketHandler): () => void;
  /**
   * Releases the endpoint: its handlers are removed, and a socket it owns is closed. An endpoint
   * lent by a shared socket (UdpMux) leaves the socket open for its other users.
   */
  close(): Promise<void>;
}

/**
 * What the session's socket carries. libtorrent's `session_impl::on_udp_packet` sorts the same
 * way. The first bytes differ: a UDP tracker reply starts with a 32-bit action 0..3 (first byte
 * 0), a KRPC message is a bencoded dictionary ('d' = 0x64), and a uTP header (BEP 29) has type
 * 0..4 in the high nibble and version 1 in the low nibble of its first byte. Trackers go first
 * and claim only replies to their own transactions (id and tracker address).
 */
export type UdpRoute = 'tracker' | 'dht' | 'utp';

/** The order in which the demultiplexer tries the routes. */
export const UDP_ROUTE_ORDER: readonly UdpRoute[] = ['tracker', 'dht', 'utp'];

/** A bencoded dictionary: what every KRPC message is. */
export function looksLikeKrpc(packet: Uint8Array): boolean {
  return packet.length > 0 && packet[0] === 0x64;
}

/** BEP 29's 20-byte header: version 1 in the low nibble, type ST_DATA..ST_SYN (0..4) in the high one. */
export const UTP_HEADER_SIZE = 20;
export function looksLikeUtp(packet: Uint8Array): boolean {
  if (packet.length < UTP_HEADER_SIZE) return false;
  const b = packet[0]!;
  return (b & 0x0f) === 1 && b >> 4 <= 4;
}

/**
 * What is offered to the UDP tracker handlers: at least action + transaction id, and not KRPC.
 * A tracker reply's action is 0..3 (first byte 0); other actions still go to the tracker client,
 * which fails the request they answer at once instead of waiting for its timeout.
 */
export function mayBeTrackerReply(packet: Uint8Array): boolean {
  return packet.length >= 8 && packet[0] !== 0x64;
}
