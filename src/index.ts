/**
 * net-bittorrent — the public API. Each layer's folder has its own index; this file gathers
 * what users of the package need.
 */
export * from './bencode/index.js';
export { NbtError, isNbtError } from './util/errors.js';
export { type Clock, type TimerHandle, systemClock, FakeClock } from './util/clock.js';
export { Bitfield } from './util/bitfield.js';
export {
  type PeerAddress,
  decodeCompactPeers,
  decodeCompactPeers6,
  encodeCompactPeers,
  formatAddress,
  parseAddress,
} from './util/compact.js';
export {
  DisconnectReason,
  PREXISTING,
  disconnectDescriptions,
  disconnectName,
  disconnectInfo,
  type DisconnectInfo,
} from './peer/disconnect.js';
export * from './metainfo/index.js';
export * from './storage/index.js';
export * from './mse/index.js';
export * from './tracker/index.js';
export {
  DhtNode,
  DEFAULT_BOOTSTRAP,
  type DhtNodeOptions,
  type DhtPeer,
  type DhtStats,
  type AnnounceResult,
  type DhtState,
  RoutingTable,
  Lookup,
  decodeKrpc,
  encodeKrpc,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcResponse,
  type KrpcError,
  type NodeInfo,
  bep42NodeId,
  isValidBep42Id,
  type QueryArgs,
  type Want,
  type QueryMethod,
  type ResponseBody,
  type RoutingNode,
  type NodeState,
  type InsertResult,
  type RoutingTableOptions,
  type LookupOptions,
  type AnsweredNode,
  type PeerStoreOptions,
  type RateLimitOptions,
} from './dht/index.js';
export * from './extensions/index.js';
export * from './wire/index.js';
export * from './net/index.js';
export * from './peer/index.js';
export * from './client/index.js';
export * from './torrent/index.js';
export * from './stream/index.js';
// Types that the API above refers to (options, results, helpers of public classes).
export { TokenBucket } from './util/token-bucket.js';
export * from './hash/index.js';
export type { ResolvedOptions } from './client/options.js';
export type { ResolvedTimeouts } from './peer/defaults.js';
export { RemotePieces } from './peer/remote-pieces.js';
export type { UploaderHost } from './torrent/uploader.js';
export { DhtService, type DhtServiceOptions, type DhtServiceHost } from './client/dht-service.js';
export { MetadataExchange, type MetadataExchangeOptions } from './torrent/metadata-exchange.js';
export { PexExchange, type PexExchangeOptions } from './torrent/pex-exchange.js';
export type { TorrentInput } from './client/torrent-input.js';
export {
  type UdpEndpoint,
  type UdpFamily,
  type UdpSource,
  type UdpPacketHandler,
  type UdpRoute,
  type UdpMuxStats,
  type DatagramSocket,
  UdpMux,
  openUdpEndpoint,
  MemoryUdpNetwork,
  memoryEndpointPair,
} from './net/index.js';
export { SessionUdp, type SharedUdp } from './client/session-udp.js';
