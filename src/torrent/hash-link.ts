/**
 * The Torrent's side of the BEP 52 hash exchange: routes hash messages of its peers to the
 * sans-I/O HashExchange, answers leaf requests from the read cache, sends the requests the
 * exchange wants, and tells the Torrent when piece layers or a failed piece's leaves are proven.
 * Kept apart from torrent.ts, which only forwards messages and events here.
 */
import { DisconnectReason } from '../peer/disconnect.js';
import type { Metainfo } from '../metainfo/types.js';
import {
  V2_BIT,
  type HashRejectMessage,
  type HashRequestMessage,
  type HashesMessage,
} from '../wire/index.js';
import { HashExchange } from './hash-exchange.js';
import type { TorrentCore, WireSession } from './core.js';
export type HashMessage = HashRequestMessage | HashesMessage | HashRejectMessage;

/** Leaf-hash answers (a piece read each) in progress per peer. */
const LEAF_READS_PER_PEER = 4;

export type HashLinkHost = Pick<
  TorrentCore,
  'clock' | 'metainfo' | 'hasMetadata' | 'transferring' | 'have' | 'transfers' | 'peerSessions' | 'peerSet'
>;

export class TorrentHashes {
  private current: { meta: Metainfo; x: HashExchange } | undefined;
  // Made on the first leaf-hash read (v2 only).
  private leafReads: Map<WireSession, number> | undefined;

  constructor(private readonly host: HashLinkHost) {}

  /**
   * The exchange of a v2 or hybrid torrent with metadata: it serves our piece layers and, for a
   * v2-only one, fetches those it lacks (a hybrid without them verifies by SHA-1 alone). Both ask
   * for a failed piece's leaves, to blame the exact block.
   */
  get exchange(): HashExchange | undefined {
    const m = this.host.metainfo;
    if (!this.host.hasMetadata || !m.infoHashes.v2) return undefined;
    if (this.current?.meta !== m)
      this.current = { meta: m, x: new HashExchange(m, m.pieceLayers, m.pieces.length === 0) };
    return this.current.x;
  }

  /** BEP 52 messages: requests answered from our layers (or refused), answers checked and kept. */
  onMessage(s: WireSession, m: HashMessage): void {
    const x = this.exchange;
    if (m.type === 'hashRequest') {
      // A peer that does not read its answers gets refusals, not an ever longer send buffer.
      const leaf = x && !s.peer.congested ? x.leafPiece(m) : undefined;
      if (x && leaf !== undefined) return this.answerLeaves(s, x, m, leaf);
      const hashes = x && !s.peer.congested ? x.answer(m) : undefined;
      if (hashes) s.peer.sendHashes(m, hashes);
      else s.peer.rejectHashes(m);
      return;
    }
    if (!x) return;
    if (m.type === 'hashReject') {
      x.onReject(s, m);
      return this.requestAll();
    }
    const leaves = x.onLeaves(s, m, m.hashes);
    if (leaves?.verdict === 'bad')
      return s.peer.close(DisconnectReason.MALFORMED_PACKET, 'leaf hashes that do not make the piece hash');
    if (leaves?.piece !== undefined) {
      void this.host.transfers.downloader.leavesKnown(leaves.piece, leaves.leaves!);
      return this.request(s);
    }
    const { verdict, completed } = x.onHashes(s, m, m.hashes);
    if (verdict === 'bad')
      return s.peer.close(DisconnectReason.MALFORMED_PACKET, 'hashes that do not prove the pieces root');
    if (completed.length > 0) this.host.peerSet.layersArrived();
    this.request(s);
  }

  /**
   * A v2 piece failed with several senders: its blocks' leaves (to compare with the proven ones
   * later), and a leaf request goes out; undefined when that is not possible.
   */
  failedLeaves(piece: number, data: Buffer): Buffer[] | undefined {
    const x = this.exchange;
    if (!x || !x.wantLeaves(piece)) return undefined;
    const leaves = x.leavesOf(piece, data);
    this.requestAll();
    return leaves;
  }

  /** Asks `s` for what the exchange wants and it can serve (it announced a piece of it). */
  request(s: WireSession): void {
    const x = this.exchange;
    if (!x || !x.wantsHashes || !this.host.transferring || s.peer.closed) return;
    // In a hybrid swarm only BEP 52 peers know hash requests (a v1 peer may drop us for one).
    if (this.host.metainfo.pieces.length > 0 && !v2Peer(s)) return;
    const now = this.host.clock.now();
    const bits = s.peer.bitfield;
    const has = (p: number): boolean => bits.has(p);
    for (let ref = x.nextRequest(s, has, now); ref; ref = x.nextRequest(s, has, now))
      s.peer.requestHashes(ref);
  }

  /** Every peer: after a refusal, a departure, new metadata, or on the tick (timeouts). */
  requestAll(): void {
    if (!this.exchange?.wantsHashes) return;
    for (const s of this.host.peerSessions.values()) this.request(s);
  }

  peerGone(s: WireSession): void {
    this.current?.x.peerGone(s);
    this.leafReads?.delete(s);
    this.requestAll();
  }

  /**
   * Leaf hashes are hashed from the piece's bytes (read cache), for pieces we have, a few
   * reads per peer at a time; everything else is refused.
   */
  private answerLeaves(s: WireSession, x: HashExchange, m: HashRequestMessage, piece: number): void {
    const reads = this.leafReads?.get(s) ?? 0;
    if (!this.host.have.has(piece) || reads >= LEAF_READS_PER_PEER) return s.peer.rejectHashes(m);
    (this.leafReads ??= new Map()).set(s, reads + 1);
    const done = (hashes: Buffer | undefined): void => {
      const n = (this.leafReads?.get(s) ?? 1) - 1;
      if (n > 0) (this.leafReads ??= new Map()).set(s, n);
      else this.leafReads?.delete(s);
      if (s.peer.closed) return;
      if (hashes) s.peer.sendHashes(m, hashes);
      else s.peer.rejectHashes(m);
    };
    this.host.transfers.cache.get(piece).then(
      (data) => done(x.answerLeaves(m, data)),
      () => done(undefined),
    );
  }
}

/** The remote set BEP 52's reserved bit in its handshake. */
function v2Peer(s: WireSession): boolean {
  return ((s.peer.reservedBytes?.[7] ?? 0) & V2_BIT) !== 0;
}
