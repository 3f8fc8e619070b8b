/** A torrent's `stats()` snapshot, computed from its pieces, counters and connected peers. */
import type { Peer } from '../peer/index.js';
import type { Metainfo } from '../metainfo/types.js';
import type { Bitfield } from '../util/bitfield.js';
import type { PeerSession } from './session.js';
import type { TorrentState, TorrentStats } from './types.js';
import type { WebSeedStats } from './web-seeds.js';

export interface StatsInput {
  state: TorrentState;
  metainfo: Metainfo;
  have: Bitfield;
  awaitingMetadata: boolean;
  candidates: number;
  sessions: Iterable<PeerSession<Peer<unknown>>>;
  /** Bytes of the pieces in `have` (each at its own size). */
  haveBytes: number;
  /** Payload counters of this session. */
  received: number;
  sent: number;
  wasted: number;
  hashFailures: number;
  /** Totals from earlier sessions. */
  previous: { downloaded: number; uploaded: number };
  webSeeds: WebSeedStats[];
}

export function torrentStats(input: StatsInput): TorrentStats {
  const m = input.metainfo;
  const have = input.have;
  const bytesDone = input.haveBytes;
  const peers = {
    total: 0,
    downloading: 0,
    uploading: 0,
    seeds: 0,
    incoming: 0,
    outgoing: 0,
    encrypted: 0,
    candidates: input.candidates,
    halfOpen: 0,
  };
  let downRate = 0;
  let upRate = 0;
  for (const s of input.sessions) {
    const p = s.peer;
    peers.total++;
    if (p.amInterested && !p.peerChoking) peers.downloading++;
    if (p.peerInterested && !p.amChoking) peers.uploading++;
    if (s.seed) peers.seeds++;
    if (p.incoming) peers.incoming++;
    else peers.outgoing++;
    if (p.encryption === 'rc4') peers.encrypted++;
    downRate += p.downloadRate;
    upRate += p.uploadRate;
  }
  for (const w of input.webSeeds) downRate += w.downloadRate;
  const remaining = m.length - bytesDone;
  return {
    state: input.state,
    progress: m.length === 0 ? (input.awaitingMetadata ? 0 : 1) : bytesDone / m.length,
    pieces: { have: have.count, total: m.pieceCount },
    bytesDone,
    length: m.length,
    downloaded: input.previous.downloaded + input.received,
    uploaded: input.previous.uploaded + input.sent,
    sessionDownloaded: input.received,
    sessionUploaded: input.sent,
    wasted: input.wasted,
    hashFailures: input.hashFailures,
    downloadRate: downRate,
    uploadRate: upRate,
    eta: input.state === 'downloading' && downRate > 0 ? remaining / downRate : undefined,
    peers,
    webSeeds: input.webSeeds,
  };
}
