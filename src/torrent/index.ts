export { Torrent, type TorrentHost, type TorrentInit } from './torrent.js';
export type {
  TorrentState,
  TorrentEvents,
  TorrentEventRecord,
  TorrentStats,
  TorrentOptions,
  FileErrorInfo,
} from './types.js';
export {
  Downloader,
  defaultDownloaderTuning,
  type DownloaderTuning,
  type DownloaderHost,
} from './downloader.js';
export { Uploader, MAX_SERVED_BLOCK } from './uploader.js';
export { PieceAssembly, PieceBufferPool } from './assembly.js';
export { BlameLedger, type BlockEvidence } from './blame.js';
export { ReadCache } from './read-cache.js';
export { TorrentBandwidth, type TorrentRateLimits, type BandwidthPriority } from './rate-limits.js';
export { CandidateList, type Candidate } from './candidates.js';
export { PeerSession, type InflightRequest } from './session.js';
export {
  PiecePicker,
  BLOCK_SIZE,
  MAX_PRIORITY,
  DEFAULT_PRIORITY,
  type PeerKey,
  type PickerOptions,
  type PickOptions,
  type ReceivedResult,
  type BlockRef as PickerBlockRef,
} from './picker.js';
export { piecePriorities } from './priorities.js';
export { Choker, type ChokerPeer, type ChokerOptions, type ChokeDecision } from './choker.js';
export { TrackerLink, type TrackerLinkOptions } from './tracker-link.js';
export {
  WebSeed,
  defaultWebSeedTuning,
  type RangeFetcher,
  type WebSeedErrorInfo,
  type WebSeedHost,
  type WebSeedKind,
  type WebSeedTuning,
} from './web-seed.js';
export { WebSeedSet, type WebSeedStats, type WebSeedSetHost } from './web-seeds.js';
export { PieceDeadlines, type PieceDeadline, type CriticalPieces } from './deadlines.js';
