/**
 * What a Peer says about itself and learns at the handshake: our BEP 10 extended handshake, the
 * HandshakeInfo the torrent's hook decides on, and how often the connected peer's timers run.
 */
import { ipv4Bytes, ipv6Bytes } from '../util/compact.js';
import {
  encodeExtendedHandshake,
  reservedFlags,
  type ExtendedHandshake,
  type ExtensionRegistry,
} from '../wire/index.js';
import type { Established } from './establish.js';
import { CLIENT_VERSION, type ResolvedTimeouts } from './defaults.js';
import type { HandshakeInfo, PeerCommonOptions } from './types.js';

/** Extra fields of our extended handshake (a magnet's metadata_size once known, the engine's own). */
export interface ExtendedHandshakeExtra {
  metadataSize?: number;
  extendedHandshake?: ExtendedHandshake['extra'];
}

/** Our extended handshake's payload (message id 0) to a peer at `host`. */
export function ourExtendedHandshake<T>(
  opts: PeerCommonOptions<T>,
  registry: ExtensionRegistry,
  host: string,
  extra: ExtendedHandshakeExtra,
): Buffer {
  const yourip = ipv4Bytes(host) ?? ipv6Bytes(host);
  return encodeExtendedHandshake({
    m: registry.localMap,
    v: opts.clientVersion ?? CLIENT_VERSION,
    reqq: opts.maxIncomingRequests ?? 500,
    ...(opts.listenPort ? { p: opts.listenPort } : {}),
    ...(yourip ? { yourip } : {}),
    ...(extra.metadataSize !== undefined ? { metadataSize: extra.metadataSize } : {}),
    extra: extra.extendedHandshake ?? {},
  });
}

/** The remote's handshake with what both sides' reserved bits enable. */
export function handshakeInfoOf(
  e: Established,
  ourReserved: Buffer,
  remote: { host: string; port: number; incoming: boolean },
): HandshakeInfo {
  const h = e.handshake;
  const ours = reservedFlags(ourReserved);
  const theirs = reservedFlags(h.reserved);
  return {
    infoHash: h.infoHash,
    peerId: h.peerId,
    reserved: h.reserved,
    host: remote.host,
    port: remote.port,
    incoming: remote.incoming,
    encryption: e.encryption,
    fast: ours.fast && theirs.fast,
    extended: ours.extended && theirs.extended,
    dht: ours.dht && theirs.dht,
  };
}

/** The connected peer's timer period: often enough for its shortest timeout, 0.1–5 s. */
export function tickInterval(t: ResolvedTimeouts): number {
  return Math.max(100, Math.min(5000, t.keepAlive, t.idle, t.useless || 5000));
}
