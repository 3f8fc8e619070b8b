/**
 * One choking decision over a torrent's connected peers: a full round through the Choker, or a
 * quick round that only releases slots of peers that stopped wanting data and fills free ones.
 * Applies the result to the peers.
 */
import type { Choker, ChokerPeer } from './choker.js';
import type { PeerSession } from './session.js';

/**
 * Decides who is unchoked. A full round runs every 10 s; `quick` rounds (someone became
 * interested or uninterested, a choked peer requested, or the torrent's 1 s tick) release idle
 * slots and fill free ones, so newcomers are served at once without churning peers that are
 * already unchoked. `choked` hears of every peer we choke (its queued uploads are dropped there).
 * Returns when a quick round should run again (a newcomer waits for a probe's slot), if ever.
 */
export function runChokeRound(
  sessions: readonly PeerSession[],
  choker: Choker,
  now: number,
  seeding: boolean,
  quick: boolean,
  choked: (s: PeerSession) => void,
): number | undefined {
  const peers = sessions.map(chokerView);
  const { unchoke, recheckAt } = quick ? choker.fill(peers, now, seeding) : choker.run(peers, now, seeding);
  for (const s of sessions) {
    const want = unchoke.has(s.peer);
    if (want && s.peer.amChoking) {
      s.peer.unchoke();
      s.unchokedAt = now;
      s.uploadedAtUnchoke = s.peer.uploaded;
    } else if (!want && !s.peer.amChoking) {
      s.peer.choke();
      choked(s);
    }
  }
  return recheckAt;
}

function chokerView(s: PeerSession): ChokerPeer {
  const p = s.peer;
  return {
    key: p,
    interested: p.peerInterested,
    downloadRate: p.downloadRate,
    uploadRate: p.uploadRate,
    snubbed: s.snubbed,
    connectedAt: p.connectedAt ?? 0,
    amChoking: p.amChoking,
    lastRequestAt: s.lastRequestAt,
    interestedAt: s.interestedAt,
    unchokedAt: s.unchokedAt,
    uploadedSinceUnchoke: p.uploaded - s.uploadedAtUnchoke,
    busy: s.serving || s.uploadQueue.length > 0,
  };
}
