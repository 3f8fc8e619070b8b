/**
 * net-bittorrent — the public API: the Client and what it hands out (Torrent, Peer, events,
 * alerts, settings, counters), and the protocol layers usable on their own (bencode, metainfo,
 * wire, MSE, trackers, DHT, extensions, storage). Engine internals (Downloader, Uploader,
 * PeerSession, PieceAssembly, the picker, choker, candidate list, read caches, services' plumbing)
 * are not part of it: tests and benches import those from their modules.
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
export type { Storage, ByteRange, FileStat, ReadIntoOptions } from './storage/storage.js';
export { FileStorage, type FileStorageOptions } from './storage/file-storage.js';
export { MemoryStorage } from './storage/memory-storage.js';
export {
  checkStorage,
  checkFiles,
  type CheckOptions,
  type PieceHasher,
  type PieceHashes,
} from './storage/check.js';
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
export {
  LSD_GROUP_V4,
  LSD_GROUP_V6,
  LSD_PORT,
  LsdAnnouncer,
  decodeAnnounce as decodeLsdAnnounce,
  encodeAnnounce as encodeLsdAnnounce,
  type LsdAnnounce,
  type LsdAnnouncerOptions,
  type LsdReceived,
} from './lsd/index.js';
export * from './extensions/index.js';
export * from './wire/index.js';
export * from './net/index.js';
export {
  parseProxyUrl,
  describeProxy,
  ProxyConnector,
  httpAgents,
  SocksUdpSocket,
  encodeSocksUdp,
  decodeSocksUdp,
  type ProxyConfig,
  type ProxyType,
  type HttpAgents,
  type HttpRoute,
} from './proxy/index.js';
export { Peer } from './peer/peer.js';
export * from './peer/types.js';
export { clientNameFromPeerId } from './peer/client-id.js';
export { formatBytes, formatRate } from './peer/format.js';
export { DEFAULT_TIMEOUTS, CLIENT_VERSION } from './peer/defaults.js';
export * from './client/index.js';
export * from './settings/index.js';
export { Torrent } from './torrent/torrent.js';
export type {
  TorrentState,
  TorrentEvents,
  TorrentEventRecord,
  TorrentStats,
  TorrentOptions,
  FileErrorInfo,
} from './torrent/types.js';
export { MAX_PRIORITY, DEFAULT_PRIORITY } from './torrent/picker.js';
export type { TorrentRateLimits, BandwidthPriority } from './torrent/rate-limits.js';
export type { WebSeedErrorInfo, WebSeedKind, WebSeedTuning } from './torrent/web-seed.js';
export type { WebSeedStats } from './torrent/web-seeds.js';
export * from './hash/index.js';
export * from './stream/index.js';
// Types that the API above refers to (options, results, helpers of public classes).
export { TokenBucket } from './util/token-bucket.js';
export type { ResolvedOptions } from './client/options.js';
export type { ResolvedTimeouts } from './peer/defaults.js';
export { RemotePieces } from './peer/remote-pieces.js';
export { RateMeter } from './peer/rate.js';
export type { StorageLayout, StorageFile, FileSpan } from './storage/layout.js';
export { DhtService, type DhtServiceOptions, type DhtServiceHost } from './client/dht-service.js';
export { LsdService, type LsdServiceOptions, type LsdServiceHost } from './client/lsd-service.js';
export {
  PortMappingService,
  type PortMappingOptions,
  type PortMappingHost,
} from './client/port-mapping-service.js';
export {
  PortMapper,
  NatPmpClient,
  UpnpClient,
  type PortMapperOptions,
  type PortMapping,
  type PortMappingFailure,
  type MappingProtocolClient,
  type MappedPort,
  type MapperName,
  type NatPmpClientOptions,
  type UpnpClientOptions,
} from './portmap/index.js';
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
