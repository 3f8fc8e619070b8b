/**
 * A Torrent's clockwork: the 1 s tick (only while it transfers and has peers or web seeds) and
 * the choking rounds it drives through the Choker (src/torrent/choker.ts, applied by
 * choke-round.ts): a full round every unchoke interval, quick ones when a peer's interest
 * changes, when a choked peer requests, or when the choker asks to look again.
 */
import type { TimerHandle } from '../util/clock.js';
import { Choker, type ChokerTimings, type SlotSetting } from './choker.js';
import { runChokeRound } from './choke-round.js';
import type { PeerSession } from './session.js';
import type { PeerLink } from './peer-link.js';
import type { TorrentCore } from './core.js';

const TICK_MS = 1000;
/** A choked peer's request triggers a quick choke round at most this often per peer. */
const REQUEST_SIGNAL_MS = 1000;
/** …and at most this often per torrent, so requests while choked cannot cost a round each. */
const REQUEST_ROUND_MS = 100;

/** The choking timings a Torrent takes from the settings (src/client/settings-map.ts). */
export interface ChokeTimings extends ChokerTimings {
  /** A full choking round this often, quick ones in between (default 10 s; unchoke_interval). */
  unchokeIntervalMs?: number;
}

/**
 * What the clockwork reads: the clock, whether peers may transfer, the sessions (and whether
 * any peer or web seed is there), whom it tells of a peer choked, and the rest of each tick.
 */
export interface ChokeHost extends Pick<
  TorrentCore,
  'clock' | 'transferring' | 'state' | 'hasPeers' | 'peerChoked' | 'tick'
> {
  readonly peerSessions: ReadonlyMap<PeerLink, PeerSession>;
}

export class TorrentChoking {
  private readonly choker: Choker;
  private unchokeIntervalMs = 10_000;
  private tickTimer: TimerHandle | undefined;
  /** Between start and stop: the tick runs whenever peers are connected. */
  private ticking = false;
  private lastChoke = 0;
  /** Clock time of the last quick choke round a choked peer's request triggered. */
  private lastRequestRound = -Infinity;
  /** A quick round the choker asked for (a newcomer waits for a probe's slot). */
  private recheck: TimerHandle | undefined;

  constructor(
    private readonly host: ChokeHost,
    slots: SlotSetting,
    timings: ChokeTimings = {},
  ) {
    this.choker = new Choker({ slots });
    this.setTimings(timings);
  }

  /** Changes the timings given (settings applied at runtime); in effect from the next round. */
  setTimings(t: ChokeTimings): void {
    this.unchokeIntervalMs = t.unchokeIntervalMs ?? this.unchokeIntervalMs;
    this.choker.setTimings(t);
  }

  get slots(): number {
    return this.choker.slots;
  }

  /** A new slot setting, in effect with a full round now. */
  setSlots(n: SlotSetting): void {
    this.choker.setSlots(n);
    this.run(false);
  }

  /**
   * The tick runs while the torrent is active and has peers: everything it does is per peer,
   * so an idle torrent (1,000 seeding in one session) costs no timer at all.
   */
  start(): void {
    this.stop();
    this.ticking = true;
    this.lastChoke = this.host.clock.now();
    if (this.host.hasPeers) this.resumeTick();
  }

  stop(): void {
    this.ticking = false;
    this.pauseTick();
    this.recheck?.cancel();
    this.recheck = undefined;
  }

  /** A peer or web seed joined: the tick runs (if the torrent is active). */
  resumeTick(): void {
    if (this.ticking && this.tickTimer === undefined)
      this.tickTimer = this.host.clock.setInterval(() => this.tick(), TICK_MS);
  }

  /** The last peer left. */
  pauseTick(): void {
    this.tickTimer?.cancel();
    this.tickTimer = undefined;
  }

  peerGone(peer: PeerLink): void {
    this.choker.peerGone(peer);
  }

  interested(s: PeerSession): void {
    s.interestedAt = this.host.clock.now();
    if (s.peer.amChoking && this.host.transferring) this.run(true);
  }

  notInterested(s: PeerSession): void {
    if (!s.peer.amChoking) this.run(true);
  }

  /** A choked peer asking for data (first time in a while) is a candidate for a free slot. */
  requested(s: PeerSession): void {
    const now = this.host.clock.now();
    const quiet = now - s.lastRequestAt >= REQUEST_SIGNAL_MS;
    s.lastRequestAt = now;
    if (
      s.peer.amChoking &&
      quiet &&
      this.host.transferring &&
      now - this.lastRequestRound >= REQUEST_ROUND_MS
    ) {
      this.lastRequestRound = now;
      this.run(true);
    }
  }

  private tick(): void {
    if (!this.host.transferring) return;
    const now = this.host.clock.now();
    // Between full rounds a quick one each second frees the slots of peers that stopped asking.
    this.run(now - this.lastChoke < this.unchokeIntervalMs);
    this.host.tick();
  }

  /** A choking round (src/torrent/choke-round.ts); full rounds restart the interval. */
  run(quick: boolean): void {
    const host = this.host;
    if (!host.transferring) return;
    const now = host.clock.now();
    if (!quick) this.lastChoke = now;
    const seeding = host.state === 'seeding';
    const recheckAt = runChokeRound([...host.peerSessions.values()], this.choker, now, seeding, quick, (s) =>
      host.peerChoked(s),
    );
    if (recheckAt !== undefined && !this.recheck)
      this.recheck = host.clock.setTimeout(
        () => {
          this.recheck = undefined;
          this.run(true);
        },
        // At least 1 ms, rounded up: a zero or fractional delay could fire before recheckAt
        // and find the same recheck due again (a timer loop at one instant).
        Math.max(1, Math.ceil(recheckAt - now)),
      );
  }
}
