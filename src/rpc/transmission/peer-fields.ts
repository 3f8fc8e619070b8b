/**
 * torrent-get's `peers` and `trackerStats` from the engine's live state, with Transmission's
 * field names and types (its flagStr letters; clock times as Unix seconds).
 */
import type { Torrent } from '../../torrent/torrent.js';

type TorrentPeer = Torrent['peers'][number];
type TrackerStatus = NonNullable<Torrent['trackerLink']>['status'][number];

/** Transmission's flag letters: D/d downloading / interested, U/u, K, ?, E encrypted, I incoming, T uTP. */
function flagStr(p: TorrentPeer): string {
  let f = '';
  if (p.amInterested && !p.peerChoking) f += 'D';
  else if (p.amInterested) f += 'd';
  if (p.peerInterested && !p.amChoking) f += 'U';
  else if (p.peerInterested) f += 'u';
  if (!p.peerChoking && !p.amInterested) f += 'K';
  if (!p.amChoking && !p.peerInterested) f += '?';
  if (p.encryption !== 'none') f += 'E';
  if (p.incoming) f += 'I';
  if (p.transport === 'utp') f += 'T';
  return f;
}

export function peerObjects(t: Torrent): Record<string, unknown>[] {
  const pieces = t.hasMetadata ? t.metainfo.pieceCount : 0;
  return t.peers.map((p) => ({
    address: p.host,
    clientIsChoked: p.peerChoking,
    clientIsInterested: p.amInterested,
    clientName: p.clientName,
    flagStr: flagStr(p),
    isDownloadingFrom: p.amInterested && !p.peerChoking,
    isEncrypted: p.encryption !== 'none',
    isIncoming: p.incoming,
    isUTP: p.transport === 'utp',
    isUploadingTo: p.peerInterested && !p.amChoking,
    peerIsChoked: p.amChoking,
    peerIsInterested: p.peerInterested,
    port: p.port,
    progress: pieces > 0 ? Math.min(1, p.bitfield.count / pieces) : 0,
    rateToClient: Math.round(p.downloadRate),
    rateToPeer: Math.round(p.uploadRate),
  }));
}

const unix = (clockMs: number | undefined, nowClock: number, nowUnix: number): number =>
  clockMs === undefined ? 0 : Math.max(0, Math.round(nowUnix + (clockMs - nowClock) / 1000));

/** One trackerStats entry's live part, for the tracker at `url` (absent: never contacted). */
export function trackerLive(
  status: readonly TrackerStatus[] | undefined,
  url: string,
  nowClock: number,
  nowUnix: number,
): Record<string, unknown> {
  const s = status?.find((x) => x.url === url);
  if (!s) return {};
  const announced = s.lastAnnounce !== undefined;
  return {
    hasAnnounced: announced || s.failures > 0,
    lastAnnounceSucceeded: announced && s.lastError === undefined,
    lastAnnounceResult: s.lastError ?? (announced ? 'Success' : ''),
    lastAnnounceTime: unix(s.lastAnnounce, nowClock, nowUnix),
    nextAnnounceTime: unix(s.nextAnnounce, nowClock, nowUnix),
    // 1 waiting, 2 queued (Transmission's TR_TRACKER_*); 0 inactive.
    announceState: s.nextAnnounce !== undefined ? 1 : 0,
    seederCount: s.seeders ?? -1,
    leecherCount: s.leechers ?? -1,
    downloadCount: s.downloaded ?? -1,
  };
}
