/**
 * Block bookkeeping of one piece in progress: each block is free, requested (by one peer, or
 * by several in endgame) or received (remembering its sender, to name peers of a bad piece).
 */
import { Bitfield } from '../util/bitfield.js';
import type { PeerKey } from './picker-types.js';

const FREE = 0;
const REQUESTED = 1;
const RECEIVED = 2;

export class PartialPiece {
  readonly state: Uint8Array;
  private readonly holders: (PeerKey[] | undefined)[];
  private readonly sources: (PeerKey | undefined)[];
  free: number;
  received = 0;
  /** The peer that started it (whole-piece affinity); undefined once it left. */
  owner: PeerKey | undefined;
  /** No free block below this index. */
  private nextFree = 0;

  constructor(
    readonly piece: number,
    blockCount: number,
    owner: PeerKey | undefined,
  ) {
    this.state = new Uint8Array(blockCount);
    this.holders = new Array<PeerKey[] | undefined>(blockCount);
    this.sources = new Array<PeerKey | undefined>(blockCount);
    this.free = blockCount;
    this.owner = owner;
  }

  get complete(): boolean {
    return this.received === this.state.length;
  }

  /** Marks up to `want` free blocks as requested by `peer`; returns their indices. */
  takeFree(peer: PeerKey, want: number): number[] {
    const out: number[] = [];
    let b = this.nextFree;
    for (; b < this.state.length && out.length < want; b++) {
      if (this.state[b] !== FREE) continue;
      this.state[b] = REQUESTED;
      this.holders[b] = [peer];
      this.free--;
      out.push(b);
    }
    this.nextFree = b;
    return out;
  }

  /** `peer` no longer holds a request for block `b`; true when the block became free. */
  release(b: number, peer: PeerKey): boolean {
    const holders = this.holders[b];
    if (this.state[b] !== REQUESTED || !holders) return false;
    const i = holders.indexOf(peer);
    if (i < 0) return false;
    holders.splice(i, 1);
    if (holders.length > 0) return false;
    this.holders[b] = undefined;
    this.state[b] = FREE;
    this.free++;
    if (b < this.nextFree) this.nextFree = b;
    return true;
  }

  /**
   * Block `b` arrived from `peer`. Undefined when it had already arrived; else the other peers
   * that held a request for it, and whether it was free (unrequested) before.
   */
  receive(b: number, peer: PeerKey | undefined): { others: PeerKey[]; wasFree: boolean } | undefined {
    if (this.state[b] === RECEIVED) return undefined;
    const wasFree = this.state[b] === FREE;
    const others = (this.holders[b] ?? []).filter((h) => h !== peer);
    if (wasFree) this.free--;
    this.state[b] = RECEIVED;
    this.holders[b] = undefined;
    this.sources[b] = peer;
    this.received++;
    return { others, wasFree };
  }

  /** Endgame: blocks requested by exactly `h` peers, none of them `peer`, now also held by it. */
  shareRequested(peer: PeerKey, h: number, want: number): number[] {
    const out: number[] = [];
    for (let b = 0; b < this.state.length && out.length < want; b++) {
      const holders = this.holders[b];
      if (this.state[b] !== REQUESTED || !holders || holders.length !== h || holders.includes(peer)) continue;
      holders.push(peer);
      out.push(b);
    }
    return out;
  }

  /** Every (block, peer) request outstanding. */
  *requests(): IterableIterator<[number, PeerKey]> {
    for (let b = 0; b < this.state.length; b++) for (const h of this.holders[b] ?? []) yield [b, h];
  }

  /** Distinct peers that sent blocks of this piece. */
  senders(): PeerKey[] {
    const set = new Set<PeerKey>();
    for (const s of this.sources) if (s !== undefined) set.add(s);
    return [...set];
  }

  receivedBitmap(): Bitfield {
    const blocks = new Bitfield(this.state.length);
    this.state.forEach((s, b) => s === RECEIVED && blocks.set(b));
    return blocks;
  }
}
