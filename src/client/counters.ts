/**
 * Session-wide counters (libtorrent's session_stats): bytes by kind, connections opened by
 * source and closed by disconnect reason, pieces passed and failed. Byte totals cost nothing on
 * the hot path: each Peer already counts its payload and socket bytes, so a closed peer's totals
 * are added here once and live peers are summed when a snapshot is taken.
 */
import type { Peer } from '../peer/index.js';
import type { DisconnectReason } from '../peer/disconnect.js';
import type { PeerSourceKind } from '../peer/types.js';

const SOURCES: readonly PeerSourceKind[] = [
  'incoming',
  'tracker',
  'dht',
  'pex',
  'lsd',
  'user',
  'resume',
  'magnet',
];

/** A snapshot of the counters: plain JSON data. */
export interface SessionCounters {
  /** Piece-block bytes received / sent (including blocks later thrown away). */
  payloadDownloaded: number;
  payloadUploaded: number;
  /** Every other byte on the sockets: handshakes, MSE, message headers, requests, haves, … */
  protocolDownloaded: number;
  protocolUploaded: number;
  /** Payload received and thrown away: duplicates, unrequested and cancelled blocks. */
  wastedBytes: number;
  /** Piece bytes from web seeds (BEP 19 / BEP 17), apart from the peers' `payloadDownloaded`. */
  webSeedDownloaded: number;
  /** Bytes of pieces that failed their hash check. */
  hashFailedBytes: number;
  piecesPassed: number;
  piecesFailed: number;
  /** Connections started (outgoing dials and accepted sockets) by where the address came from. */
  connectionsOpened: Record<PeerSourceKind, number>;
  /** Connections that completed their handshake and joined a torrent, by source. */
  connectionsJoined: Record<PeerSourceKind, number>;
  /** Closed connections by numeric DisconnectReason (keys are the codes, e.g. "-25" for SEED). */
  connectionsClosed: Record<string, number>;
  /** Connections open now. */
  connectionsOpen: number;
}

function bySource(): Record<PeerSourceKind, number> {
  return Object.fromEntries(SOURCES.map((s) => [s, 0])) as Record<PeerSourceKind, number>;
}

/** The counters a Client keeps; it reports events, `snapshot` adds what live parts know. */
export class CounterSet {
  private payloadDown = 0;
  private payloadUp = 0;
  private socketDown = 0;
  private socketUp = 0;
  private hashFailed = 0;
  private passed = 0;
  private failed = 0;
  /** Wasted bytes of torrents that were removed (live torrents are asked at snapshot time). */
  private goneWasted = 0;
  private readonly opened = bySource();
  private readonly joined = bySource();
  private readonly closed = new Map<number, number>();

  connectionOpened(source: PeerSourceKind): void {
    this.opened[source]++;
  }

  connectionJoined(source: PeerSourceKind): void {
    this.joined[source]++;
  }

  /** A connection closed: its totals move here for good. */
  connectionClosed(peer: Peer<unknown>, reason: DisconnectReason): void {
    this.closed.set(reason, (this.closed.get(reason) ?? 0) + 1);
    this.payloadDown += peer.downloaded;
    this.payloadUp += peer.uploaded;
    this.socketDown += peer.bytesReceived;
    this.socketUp += peer.bytesSent;
  }

  piecePassed(): void {
    this.passed++;
  }

  pieceFailed(bytes: number): void {
    this.failed++;
    this.hashFailed += bytes;
  }

  /** A torrent was removed: keep what it wasted. */
  torrentGone(wastedBytes: number, webSeedBytes = 0): void {
    this.goneWasted += wastedBytes;
    this.goneWebSeed += webSeedBytes;
  }

  private goneWebSeed = 0;

  /**
   * `live`: the open connections; `wasted`: the live torrents' wasted bytes (failed pieces
   * included, as the downloader counts them; they are reported apart here).
   */
  snapshot(live: Iterable<Peer<unknown>>, wasted: number, webSeed = 0): SessionCounters {
    let pd = this.payloadDown;
    let pu = this.payloadUp;
    let sd = this.socketDown;
    let su = this.socketUp;
    let open = 0;
    for (const p of live) {
      open++;
      pd += p.downloaded;
      pu += p.uploaded;
      sd += p.bytesReceived;
      su += p.bytesSent;
    }
    const closed: Record<string, number> = {};
    for (const [reason, n] of this.closed) closed[String(reason)] = n;
    return {
      payloadDownloaded: pd,
      payloadUploaded: pu,
      protocolDownloaded: Math.max(0, sd - pd),
      protocolUploaded: Math.max(0, su - pu),
      wastedBytes: Math.max(0, this.goneWasted + wasted - this.hashFailed),
      webSeedDownloaded: this.goneWebSeed + webSeed,
      hashFailedBytes: this.hashFailed,
      piecesPassed: this.passed,
      piecesFailed: this.failed,
      connectionsOpened: { ...this.opened },
      connectionsJoined: { ...this.joined },
      connectionsClosed: closed,
      connectionsOpen: open,
    };
  }
}
