export type {
  AnnounceEvent,
  AnnounceRequest,
  AnnounceResponse,
  ScrapeEntry,
  ScrapeResult,
  TrackerPeerSource,
  TrackerTransport,
} from './types.js';
export {
  TrackerFailure,
  MAX_PEERS_PER_RESPONSE,
  percentEncodeBytes,
  percentDecodeBytes,
  parseQuery,
  buildAnnounceUrl,
  buildScrapeUrl,
  scrapeUrlFor,
  parseAnnounceResponse,
  parseScrapeResponse,
} from './http-codec.js';
export * as udpCodec from './udp-codec.js';
export { HttpTrackerClient, type HttpTrackerOptions } from './http-client.js';
export { UdpTrackerClient, retransmitTimeout, type UdpTrackerOptions } from './udp-client.js';
export {
  AnnounceScheduler,
  backoffDelay,
  type Decision,
  type SchedulerOptions,
  type TrackerState,
} from './announce-scheduler.js';
export {
  TorrentTrackers,
  type TorrentTrackersOptions,
  type TorrentTrackersEvents,
  type TransferStats,
  type AnnounceInfo,
  type TrackerErrorInfo,
  type TrackerStatus,
  type TrackerScrape,
} from './torrent-trackers.js';
export * from './server/index.js';
