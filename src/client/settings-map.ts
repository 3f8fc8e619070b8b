/** Settings (src/settings) as the option objects of the parts they tune. */
import type { SettingsStore } from '../settings/index.js';
import type { DownloaderTuning } from '../torrent/downloader.js';
import type { PeerTimeouts } from '../peer/types.js';
import type { ChokeTimings } from '../torrent/choke-link.js';

let lastTuning: Readonly<DownloaderTuning> | undefined;

/**
 * A new torrent's downloader tuning, from the settings now. One frozen object while the settings
 * stay as they are: every torrent of a session would otherwise hold its own copy (~0.2 KB each).
 */
export function downloaderTuning(s: SettingsStore): DownloaderTuning {
  const t = tuningOf(s);
  const last = lastTuning;
  if (last && (Object.keys(t) as (keyof DownloaderTuning)[]).every((k) => t[k] === last[k])) return last;
  return (lastTuning = Object.freeze(t));
}

function tuningOf(s: SettingsStore): DownloaderTuning {
  return {
    queueSeconds: s.get('request_queue_time'),
    maxPipeline: s.get('max_request_pipeline'),
    initialPipeline: s.get('initial_request_pipeline'),
    snubTimeoutMs: s.get('snub_timeout'),
    requestTimeoutMs: s.get('request_timeout'),
    maxBufferedBytes: s.get('max_buffered_piece_bytes'),
    maxUnrequested: s.get('max_unrequested_blocks'),
    strikeLimit: s.get('hash_fail_strike_limit'),
    workerHashMinPiece: s.get('worker_hash_min_piece'),
    offloadAboveUtilization: s.get('hash_offload_utilization'),
    splitHybridHashing: s.get('split_hybrid_hashing'),
  };
}

/** The settings a torrent's choker runs on (applied to running torrents when they change). */
export const chokeSettingNames = [
  'unchoke_interval',
  'optimistic_unchoke_interval',
  'optimistic_new_peer_window',
  'idle_choke_timeout',
  'idle_choke_backoff',
  'seeding_quota_min_unchoke',
] as const;

export function chokeTimings(s: SettingsStore): ChokeTimings {
  return {
    unchokeIntervalMs: s.get('unchoke_interval'),
    optimisticIntervalMs: s.get('optimistic_unchoke_interval'),
    newPeerMs: s.get('optimistic_new_peer_window'),
    idleMs: s.get('idle_choke_timeout'),
    idleBackoffMs: s.get('idle_choke_backoff'),
    quotaMinUnchokedMs: s.get('seeding_quota_min_unchoke'),
  };
}

/** A new connection's timeouts and buffer limits. */
export function peerSettings(s: SettingsStore): {
  timeouts: Required<PeerTimeouts>;
  maxIncomingRequests: number;
  highWaterMark: number;
  maxWriteBuffer: number;
} {
  const highWaterMark = s.get('send_buffer_watermark');
  return {
    timeouts: {
      connect: s.get('peer_connect_timeout'),
      handshake: s.get('handshake_timeout'),
      keepAlive: s.get('keepalive_interval'),
      idle: s.get('inactivity_timeout'),
      useless: s.get('useless_peer_timeout'),
      race: s.get('transport_race_delay'),
    },
    maxIncomingRequests: s.get('max_allowed_in_request_queue'),
    highWaterMark,
    maxWriteBuffer: Math.max(s.get('max_write_buffer'), 4 * highWaterMark),
  };
}
