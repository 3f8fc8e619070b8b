/**
 * Super-seeding in the engine: a Torrent's mode switch, fed its peers' pieces, sending the
 * HAVEs the SuperSeeder (src/torrent/super-seed.ts) decides and telling the uploader which
 * pieces a peer may ask for. On only while the torrent seeds; a torrent that turns out not to
 * be complete (a leech, or a seed whose files changed) leaves the mode for good.
 */
import { Bitfield } from '../util/bitfield.js';
import type { Message } from '../wire/index.js';
import type { TorrentState } from './types.js';
import { SuperSeeder, type SuperSeedOffer, type SuperSeedOptions } from './super-seed.js';
import type { TorrentCore, WireSession } from './core.js';

export type SuperSeedHost = Pick<TorrentCore, 'state' | 'have' | 'peerSessions'>;

const NO_OPTIONS: SuperSeedOptions = Object.freeze({});

export class SuperSeedLink {
  /** The user asked for the mode (it applies while seeding). */
  private wanted = false;
  private seeder: SuperSeeder<WireSession> | undefined;
  /**
   * Peers that joined before the mode began: they saw our bitfield, nothing is hidden from them.
   * Made when the mode begins (most torrents never super-seed).
   */
  private exempt: WeakSet<WireSession> | undefined;

  constructor(
    private readonly host: SuperSeedHost,
    private readonly options: SuperSeedOptions = NO_OPTIONS,
  ) {}

  /** The mode is on (asked for, and not turned off because the torrent is not a seed). */
  get enabled(): boolean {
    return this.wanted;
  }

  /** Pieces are being offered one by one right now (the torrent seeds). */
  get active(): boolean {
    return this.seeder !== undefined;
  }

  set(on: boolean): void {
    if (on === this.wanted) return;
    this.wanted = on;
    this.stateChanged(this.host.state);
  }

  /**
   * Follows the torrent's state: seeding starts the offers; downloading means this is not (or
   * no longer) a seed, so the mode turns itself off; paused keeps it as it is; stopping,
   * checking or an error (every peer gone) ends it until the next time it seeds.
   */
  stateChanged(state: TorrentState): void {
    if (state === 'downloading' || state === 'metadata') this.wanted = false;
    if (this.wanted && state === 'seeding') {
      if (!this.seeder) this.begin();
      return;
    }
    // Paused, it resumes as it was.
    if (this.wanted && state === 'paused') return;
    const peersStay = state === 'seeding' || state === 'paused' || state === 'downloading';
    if (this.seeder) this.end(peersStay);
  }

  /** What our handshake announces: nothing while super-seeding (no have-all, no bitfield). */
  advertised(have: Bitfield): Bitfield {
    return this.seeder ? new Bitfield(have.size) : have;
  }

  attached(s: WireSession): void {
    if (this.seeder) this.send(this.seeder.peerJoined(s));
  }

  detached(s: WireSession): void {
    if (this.seeder) this.send(this.seeder.peerLeft(s));
  }

  /** Feeds the peer's bitfield, have-all and HAVEs (after the Peer applied them). */
  onMessage(s: WireSession, m: Message): void {
    const seeder = this.seeder;
    if (!seeder || this.exempt?.has(s)) return;
    if (m.type === 'have') this.send(seeder.peerHas(s, [m.index]));
    else if (m.type === 'bitfield' || m.type === 'haveAll')
      this.send(seeder.peerHas(s, s.peer.bitfield.indices(), true));
  }

  /** The peer may be served this piece (we have it, and, super-seeding, we announced it). */
  mayServe(s: WireSession, piece: number): boolean {
    return !this.seeder || this.exempt?.has(s) || this.seeder.mayServe(s, piece);
  }

  private begin(): void {
    const have = this.host.have;
    this.seeder = new SuperSeeder(have.size, this.options);
    this.exempt = new WeakSet(this.host.peerSessions.values());
  }

  /** Leaves the mode; connected peers learn every piece we hold (`reveal`) when they still can. */
  private end(reveal: boolean): void {
    const seeder = this.seeder!;
    const exempt = this.exempt;
    this.seeder = undefined;
    this.exempt = undefined;
    if (!reveal) return;
    const have = this.host.have;
    for (const s of this.host.peerSessions.values()) {
      if (exempt?.has(s)) continue;
      const told = seeder.revealed(s);
      for (const p of have.indices()) if (!told.has(p) && !s.peer.bitfield.has(p)) s.peer.have(p);
    }
  }

  private send(offers: readonly SuperSeedOffer<WireSession>[]): void {
    for (const o of offers) o.peer.peer.have(o.piece);
  }
}
