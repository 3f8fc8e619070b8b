/**
 * One choking decision over a torrent's connected peers: a full tit-for-tat round through the
 * Choker, or a quick round that only fills or releases slots. Applies the result to the peers.
 */
import type { Choker } from './choker.js';
import type { PeerSession } from './session.js';

/**
 * Decides who is unchoked. A full round runs every 10 s; `quick` rounds (someone became
 * interested or uninterested) only fill free slots or release slots, so newcomers are served
 * at once without churning peers that are already unchoked. `choked` hears of every peer we
 * choke (its queued uploads are dropped there).
 */
export function runChokeRound(
  sessions: readonly PeerSession[],
  choker: Choker,
  now: number,
  seeding: boolean,
  quick: boolean,
  choked: (s: PeerSession) => void,
): void {
  let unchoke: Set<unknown>;
  if (quick) {
    unchoke = new Set(sessions.filter((s) => !s.peer.amChoking && s.peer.peerInterested).map((s) => s.peer));
    const slots = choker.slots + 1;
    for (const s of sessions) {
      if (unchoke.size >= slots) break;
      if (s.peer.peerInterested && !s.snubbed) unchoke.add(s.peer);
    }
  } else {
    unchoke = choker.run(
      sessions.map((s) => ({
        key: s.peer,
        interested: s.peer.peerInterested,
        downloadRate: s.peer.downloadRate,
        uploadRate: s.peer.uploadRate,
        snubbed: s.snubbed,
        connectedAt: s.peer.connectedAt ?? 0,
        amChoking: s.peer.amChoking,
      })),
      now,
      seeding,
    ).unchoke;
  }
  for (const s of sessions) {
    const want = unchoke.has(s.peer);
    if (want && s.peer.amChoking) {
      s.peer.unchoke();
      s.unchokedAt = now;
    } else if (!want && !s.peer.amChoking) {
      s.peer.choke();
      choked(s);
    }
  }
}
