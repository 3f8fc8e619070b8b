/**
 * What the web UI shows, as plain JSON: one row per torrent for the list (pushed by the event
 * stream), and the details of one torrent (files, peers, trackers, pieces, why its past
 * connections ended). Files, trackers and piece states reuse the qBittorrent API's shapes.
 */
import type { Daemon, DaemonTorrent } from '../../daemon/daemon.js';
import { peerFlags } from '../qbittorrent/peers.js';
import {
  MAX_ETA,
  TorrentFacts,
  pieceStates,
  stateOf,
  torrentFiles,
  torrentTrackers,
} from '../qbittorrent/torrent-info.js';

export interface TorrentRow {
  hash: string;
  name: string;
  /** Bytes of the wanted files. */
  size: number;
  /** 0 … 1 of the wanted bytes. */
  progress: number;
  /** qBittorrent's state string (downloading, stalledUP, pausedDL, metaDL, …). */
  state: string;
  dl: number;
  ul: number;
  ratio: number;
  /** Seconds; -1 for none (complete or no rate). */
  eta: number;
  peers: number;
  seeds: number;
  label: string;
  added: number;
  savePath: string;
}

export function torrentRow(daemon: Daemon, e: DaemonTorrent): TorrentRow {
  const f = new TorrentFacts(daemon, e);
  const s = f.stats;
  const r = e.record;
  const size = f.size;
  return {
    hash: r.infoHash,
    name: f.name,
    size,
    progress: size > 0 ? (size - f.left) / size : f.meta ? 1 : 0,
    state: stateOf(f),
    dl: Math.round(s?.downloadRate ?? 0),
    ul: Math.round(s?.uploadRate ?? 0),
    ratio: Math.round(f.ratio * 1000) / 1000,
    eta: f.eta >= MAX_ETA ? -1 : f.eta,
    peers: s?.peers.total ?? 0,
    seeds: s?.peers.seeds ?? 0,
    label: r.category || r.labels.join(', '),
    added: r.addedDate,
    savePath: r.savePath,
  };
}

export interface PeerRow {
  address: string;
  client: string;
  transport: string;
  encryption: string;
  incoming: boolean;
  source: string;
  /** qBittorrent's flags (D U K I E P …) and their legend, one a line. */
  flags: string;
  flagsDesc: string;
  dl: number;
  ul: number;
  progress: number;
  downloaded: number;
  uploaded: number;
}

/** The details pane of one torrent; `disconnects` are counts by DisconnectReason name. */
export function torrentDetails(
  daemon: Daemon,
  e: DaemonTorrent,
  disconnects: Record<string, number>,
): Record<string, unknown> {
  const f = new TorrentFacts(daemon, e);
  const t = e.torrent;
  const pieces = t?.hasMetadata ? t.metainfo.pieceCount : 0;
  const peers: PeerRow[] = [];
  for (const p of t?.peers ?? []) {
    if (p.state !== 'connected') continue;
    const [flags, flagsDesc] = peerFlags(p);
    peers.push({
      address: p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`,
      client: p.clientName,
      transport: p.transport,
      encryption: p.encryption,
      incoming: p.incoming,
      source: p.source.kind,
      flags,
      flagsDesc,
      dl: Math.round(p.downloadRate),
      ul: Math.round(p.uploadRate),
      progress: pieces > 0 ? p.bitfield.count / pieces : 0,
      downloaded: p.downloaded,
      uploaded: p.uploaded,
    });
  }
  return {
    row: torrentRow(daemon, e),
    infoHash: e.record.infoHash,
    pieceLength: t?.hasMetadata ? t.metainfo.pieceLength : 0,
    files: torrentFiles(f),
    peers,
    trackers: torrentTrackers(f),
    // One character per piece: 0 missing, 2 verified (compact for large torrents).
    pieces: pieceStates(f).join(''),
    disconnects,
  };
}
