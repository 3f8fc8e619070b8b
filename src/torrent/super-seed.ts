/**
 * Super-seeding (BEP 16) decisions for an initial seed: which piece each peer is offered (by
 * HAVE; the real bitfield stays hidden), and when it gets the next one. Pure: peers' pieces in,
 * offers out; the Torrent sends the HAVEs and refuses requests for pieces not offered.
 *
 * Policy (libtorrent's, in its strict form, which is BEP 16's): a peer is offered the rarest
 * piece it lacks that no other peer is being offered, one at a time. Once it holds that piece,
 * it gets the next only when the piece has been seen on another peer too (it uploaded it, or
 * someone else got it): so bandwidth goes to peers that pass pieces on, and the seed uploads
 * about one copy. A peer alone with the seed gets the next piece as soon as it has its own.
 */
import { Bitfield } from '../util/bitfield.js';

/** A piece to announce (HAVE) to a peer. */
export interface SuperSeedOffer<K> {
  peer: K;
  piece: number;
}

export interface SuperSeedOptions {
  /** Pieces offered to a peer at a time (default 1). */
  offersPerPeer?: number;
  /** Uniform in [0, 1): breaks ties among the rarest pieces (default Math.random). */
  random?: () => number;
}

interface PeerState<K> {
  key: K;
  has: Bitfield;
  /** Offered and not yet passed on: the peer waits on these. */
  offers: number[];
  /** Every piece ever announced to it (it may request these). */
  revealed: Set<number>;
}

/** Stands in for "offered to someone already": avoided while any other piece is left. */
const OFFERED_ELSEWHERE = 1 << 30;

export class SuperSeeder<K> {
  private readonly peers = new Map<K, PeerState<K>>();
  /** Piece → the peers it is offered to (a HAVE of it concerns only them and the sender). */
  private readonly offeredIndex = new Map<number, Set<PeerState<K>>>();
  /** Connected peers holding each piece. */
  private readonly holders: Uint32Array;
  /** Peers each piece is currently offered to. */
  private readonly offeredTo: Uint32Array;
  private readonly offersPerPeer: number;
  private readonly random: () => number;

  constructor(
    readonly pieceCount: number,
    o: SuperSeedOptions = {},
  ) {
    this.holders = new Uint32Array(pieceCount);
    this.offeredTo = new Uint32Array(pieceCount);
    this.offersPerPeer = Math.max(1, o.offersPerPeer ?? 1);
    this.random = o.random ?? Math.random;
  }

  get size(): number {
    return this.peers.size;
  }

  /** A peer joined (its pieces unknown yet): its first offers. */
  peerJoined(key: K): SuperSeedOffer<K>[] {
    if (this.peers.has(key)) return [];
    const st: PeerState<K> = { key, has: new Bitfield(this.pieceCount), offers: [], revealed: new Set() };
    this.peers.set(key, st);
    return this.settle([st]);
  }

  /** The peer's bitfield or have-all (`initial`), or a HAVE for one piece. Returns new offers. */
  peerHas(key: K, pieces: Iterable<number> | 'all', initial = false): SuperSeedOffer<K>[] {
    const st = this.peers.get(key);
    if (!st) return [];
    const list = pieces === 'all' ? range(this.pieceCount) : pieces;
    const affected = new Set<PeerState<K>>([st]);
    for (const p of list) {
      if (!Number.isInteger(p) || p < 0 || p >= this.pieceCount || !st.has.set(p)) continue;
      this.holders[p]!++;
      // It had this piece before we offered it: the offer was wasted, replace it at once.
      if (initial) this.withdraw(st, p);
      // Whoever waits on this piece may move on now.
      for (const other of this.offeredIndex.get(p) ?? []) affected.add(other);
    }
    return this.settle(affected);
  }

  /** The peer left: its offers go back, its pieces no longer count. */
  peerLeft(key: K): SuperSeedOffer<K>[] {
    const st = this.peers.get(key);
    if (!st) return [];
    this.peers.delete(key);
    for (const p of [...st.offers]) this.withdraw(st, p);
    for (const p of st.has.indices()) this.holders[p]!--;
    // Left alone with us, the last peer moves on as soon as it holds its piece.
    return this.peers.size === 1 ? this.settle(this.peers.values()) : [];
  }

  /** The peer may be served blocks of `piece`: we announced it to it. */
  mayServe(key: K, piece: number): boolean {
    return this.peers.get(key)?.revealed.has(piece) ?? false;
  }

  /** Pieces currently offered to the peer. */
  offers(key: K): readonly number[] {
    return this.peers.get(key)?.offers ?? [];
  }

  /** Every piece announced to the peer so far. */
  revealed(key: K): ReadonlySet<number> {
    return this.peers.get(key)?.revealed ?? new Set();
  }

  /**
   * For each of `peers`: replaces the offers that are done with (the peer holds the piece and
   * another peer does too, or it is alone with us) and fills empty offer slots. Returns the new
   * offers.
   */
  private settle(peers: Iterable<PeerState<K>>): SuperSeedOffer<K>[] {
    const out: SuperSeedOffer<K>[] = [];
    const alone = this.peers.size === 1;
    for (const st of peers) {
      for (const p of [...st.offers])
        if (st.has.has(p) && (alone || this.holders[p]! >= 2)) this.withdraw(st, p);
      // A peer with every piece has nothing to be offered (it is closed as a seed anyway).
      while (st.offers.length < this.offersPerPeer && !st.has.complete) {
        const piece = this.choose(st);
        if (piece === undefined) break;
        st.offers.push(piece);
        st.revealed.add(piece);
        this.offeredTo[piece]!++;
        let set = this.offeredIndex.get(piece);
        if (!set) this.offeredIndex.set(piece, (set = new Set()));
        set.add(st);
        out.push({ peer: st.key, piece });
      }
    }
    return out;
  }

  private withdraw(st: PeerState<K>, piece: number): void {
    const i = st.offers.indexOf(piece);
    if (i < 0) return;
    st.offers.splice(i, 1);
    this.offeredTo[piece]!--;
    const set = this.offeredIndex.get(piece);
    set?.delete(st);
    if (set?.size === 0) this.offeredIndex.delete(piece);
  }

  /** The rarest piece the peer lacks, not offered to another peer if any other is left; ties at random. */
  private choose(st: PeerState<K>): number | undefined {
    let best = Infinity;
    let ties: number[] = [];
    for (let p = 0; p < this.pieceCount; p++) {
      if (st.has.has(p) || st.offers.includes(p)) continue;
      const rarity = this.offeredTo[p]! > 0 ? OFFERED_ELSEWHERE + this.holders[p]! : this.holders[p]!;
      if (rarity > best) continue;
      if (rarity < best) {
        best = rarity;
        ties = [];
      }
      ties.push(p);
    }
    if (ties.length === 0) return undefined;
    return ties[Math.min(ties.length - 1, Math.floor(this.random() * ties.length))];
  }
}

function* range(n: number): Iterable<number> {
  for (let i = 0; i < n; i++) yield i;
}
