/**
 * A Torrent's data checks: the start-up check (src/torrent/data-check.ts) with what resume data
 * trusted, the unfinished blocks it restores, the resume data's delayed spot check, and checks
 * again after a served piece changed on disk. A check run is numbered: stopping, an error or a
 * new check makes the one in flight drop its result.
 */
import type { FileStat } from '../storage/storage.js';
import type { TimerHandle } from '../util/clock.js';
import type { Bitfield } from '../util/bitfield.js';
import type { TorrentCore } from './core.js';
import {
  findVerifiedPieces,
  spotCheckPasses,
  SPOT_CHECK_DELAY_MS,
  type DataCheckInput,
} from './data-check.js';

/**
 * What a check reads and whom it tells: the states it enters, the pieces it found
 * (`checkFound`), the unfinished blocks it restores into the downloader, the start of
 * transfers (`checkDone`), disk errors (the lifecycle) and, for a failed spot check, the
 * transfers and candidates it starts over.
 */
export type CheckHost = Pick<
  TorrentCore,
  | 'clock'
  | 'host'
  | 'hashPool'
  | 'metainfo'
  | 'storage'
  | 'disk'
  | 'state'
  | 'removed'
  | 'setState'
  | 'events'
  | 'checkFound'
  | 'checkDone'
  | 'transfers'
  | 'candidates'
  | 'life'
>;

export interface CheckInit {
  skipCheck?: boolean;
  trusted?: Bitfield;
  recheck?: Bitfield;
  fileStats?: (FileStat | undefined)[];
  unfinished?: { piece: number; blocks: Bitfield }[];
}

export class TorrentCheck {
  private trusted: Bitfield | undefined;
  private recheck: Bitfield | undefined;
  /** The file stats resume data was trusted on, for the first check only (then stale). */
  private resumeStats: (FileStat | undefined)[] | undefined;
  /** The resume data's spot check has not passed yet (see spotCheck). */
  private spotPendingFlag = false;
  private spotTimer: TimerHandle | undefined;
  private unfinishedBlocks: { piece: number; blocks: Bitfield }[] | undefined;
  private skipCheck: boolean;
  private run = 0;
  /** 0..1 of the check running (or last run). */
  checked = 0;

  constructor(
    private readonly host: CheckHost,
    init: CheckInit,
  ) {
    this.skipCheck = init.skipCheck ?? false;
    this.trusted = init.trusted;
    this.recheck = init.recheck;
    this.resumeStats = init.fileStats;
    this.unfinishedBlocks = init.unfinished;
  }

  /** Pieces trusted from resume data have not passed their spot check yet. */
  get spotPending(): boolean {
    return this.spotPendingFlag;
  }

  /** Drops the result of the check in flight (stop, error). */
  cancel(): void {
    this.run++;
  }

  /** Stopping: the check in flight and a pending spot check are dropped. */
  stop(): void {
    this.run++;
    this.spotTimer?.cancel();
    this.spotTimer = undefined;
  }

  /** Checks again, trusting `trusted` except for `recheck` (a served piece changed on disk). */
  again(trusted: Bitfield, recheck: Bitfield): void {
    this.trusted = trusted;
    this.recheck = recheck;
    void this.start();
  }

  async start(): Promise<void> {
    const host = this.host;
    const run = ++this.run;
    host.setState('checking');
    try {
      // Sizes and mtimes before hashing: a file changed during or after the check differs from
      // them, and its pieces are hashed again before they are served.
      const stats = this.resumeStats;
      this.resumeStats = undefined;
      await host.disk.watch.rebaseline(stats).catch(() => undefined);
      if (run !== this.run) return;
      const { found, spot } = await findVerifiedPieces({
        ...(stats ? { fileStats: stats } : {}),
        ...this.input(run),
        skipCheck: this.skipCheck,
        trusted: this.trusted,
        recheck: this.recheck,
        onProgress: (done, total) => {
          this.checked = total > 0 ? done / total : 0;
          host.events.emit('check-progress', done, total);
        },
      });
      if (run !== this.run) return;
      this.recheck = undefined;
      this.skipCheck = false;
      this.trusted = undefined;
      host.checkFound(found);
      const unfinished = this.unfinishedBlocks;
      this.unfinishedBlocks = undefined;
      if (unfinished?.length) {
        // Blocks that cannot be read back are simply fetched again.
        await host.transfers.downloader.restoreUnfinished(unfinished).catch(() => 0);
        if (run !== this.run) return;
      }
      host.checkDone();
      this.spotPendingFlag = spot.length > 0;
      if (this.spotPendingFlag)
        this.spotTimer = host.clock.setTimeout(() => {
          this.spotTimer = undefined;
          void this.spotCheck(run, spot);
        }, SPOT_CHECK_DELAY_MS);
    } catch (e) {
      if (run === this.run) host.life.diskError(e, 'check');
    }
  }

  private input(run: number): Omit<DataCheckInput, 'skipCheck' | 'trusted' | 'recheck' | 'onProgress'> {
    const host = this.host;
    return {
      metainfo: host.metainfo,
      storage: () => host.storage(),
      clock: host.clock,
      hashPool: host.hashPool,
      slots: host.host.checkSlots,
      cancelled: () => run !== this.run,
    };
  }

  /**
   * The resume data's spot check, run once the torrent is up: a failure means the resume data
   * was wrong about the files, so nothing of it is trusted and the whole torrent is checked
   * again (what no longer verifies is downloaded again), as when a served piece changed on disk.
   */
  private async spotCheck(run: number, spot: readonly number[]): Promise<void> {
    const host = this.host;
    const current = (): boolean => run === this.run && !host.removed;
    if (!current()) return;
    const passed = await spotCheckPasses(
      {
        ...this.input(run),
        skipCheck: false,
        trusted: undefined,
        recheck: undefined,
        cancelled: () => !current(),
        onProgress: () => undefined,
      },
      spot,
    ).catch(() => false);
    if (!current()) return;
    this.spotPendingFlag = false;
    host.events.emit('spot-check', passed);
    const state = host.state;
    if (passed || state === 'stopped' || state === 'error') return;
    this.trusted = undefined;
    this.recheck = undefined;
    host.transfers.dropTransfers();
    host.candidates.retryAllNow(host.clock.now());
    void this.start();
  }
}
