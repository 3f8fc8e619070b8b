/**
 * Types shared by the tracker codecs, clients and the per-torrent manager. Both HTTP and UDP
 * trackers are reduced to the same request and response shapes.
 */
import type { PeerAddress } from '../util/compact.js';

/** 'periodic' is the regular re-announce (no `event` parameter / UDP event 0). */
export type AnnounceEvent = 'started' | 'completed' | 'stopped' | 'periodic';

export interface AnnounceRequest {
  /** 20 bytes. */
  infoHash: Uint8Array;
  /** 20 bytes. */
  peerId: Uint8Array;
  /** Our TCP listen port. */
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  /** Peers wanted; the stopped event always asks for 0. */
  numwant: number;
  /** 32-bit session key so a tracker can recognise us across IP changes. */
  key: number;
  /** The `tracker id` the tracker gave us last time (HTTP only). */
  trackerId?: string | undefined;
  /** Our own addresses, sent as BEP 7 `ipv4=` / `ipv6=` (HTTP only). */
  ipv4?: string | undefined;
  ipv6?: string | undefined;
}

/** Where a peer address was learned; trackers give `{ kind: 'tracker', url }`. */
export interface TrackerPeerSource {
  kind: 'tracker';
  url: string;
}

export interface AnnounceResponse {
  /** Seconds until the next regular announce. */
  interval: number;
  /** Seconds the tracker asks us to wait at least between announces. */
  minInterval?: number | undefined;
  trackerId?: string | undefined;
  warning?: string | undefined;
  /** Seeders (`complete`), when the tracker says. */
  seeders?: number | undefined;
  /** Leechers (`incomplete`), when the tracker says. */
  leechers?: number | undefined;
  /** IPv4 and IPv6 peers together. */
  peers: PeerAddress[];
}

export interface ScrapeEntry {
  /** Seeders. */
  complete: number;
  /** Leechers. */
  incomplete: number;
  /** Completed downloads ever (`downloaded` / UDP `completed`). */
  downloaded: number;
}

/** Scrape results by lower-case hex info-hash. Hashes the tracker did not report are absent. */
export type ScrapeResult = Map<string, ScrapeEntry>;

/** One tracker protocol; the manager takes this so tests can plug in fakes. */
export interface TrackerTransport {
  announce(url: string, request: AnnounceRequest, signal?: AbortSignal): Promise<AnnounceResponse>;
  scrape(url: string, infoHashes: readonly Uint8Array[], signal?: AbortSignal): Promise<ScrapeResult>;
  close?(): void;
}
