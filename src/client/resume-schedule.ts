/**
 * The periodic resume save: each torrent is looked at once per resume interval, a slice of
 * them per step, so 1,000 torrents' saves are spread over the interval instead of all written
 * at once; only those whose state changed are written, and a slow disk never piles up saves.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Torrent } from '../torrent/torrent.js';
import type { ResumeStore } from './resume-store.js';

/** The periodic resume save looks at 1/RESUME_SPREAD_STEPS of the torrents at a time. */
const RESUME_SPREAD_STEPS = 30;

export interface ResumeScheduleHost {
  readonly clock: Clock;
  readonly resume: ResumeStore;
  torrents(): Torrent[];
  /** Writes one torrent's resume file (Client.saveResume). */
  save(t: Torrent): Promise<void>;
}

export class ResumeSchedule {
  private timer: TimerHandle | undefined;
  private saving = false;
  private steps = 1;
  private cursor = 0;

  constructor(private readonly host: ResumeScheduleHost) {}

  /** (Re)starts the schedule for this interval (ms). */
  start(interval: number): void {
    this.stop();
    this.steps = Math.max(1, Math.min(RESUME_SPREAD_STEPS, Math.floor(interval / 100)));
    this.timer = this.host.clock.setInterval(() => void this.step(), interval / this.steps);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One step: the next slice of torrents, those whose state changed. */
  private async step(): Promise<void> {
    if (this.saving) return;
    this.saving = true;
    try {
      const all = this.host.torrents();
      const slice = Math.ceil(all.length / this.steps);
      for (let k = 0; k < slice; k++) {
        const t = all[this.cursor++ % all.length]!;
        if (t.state !== 'stopped' && this.host.resume.changed(t)) await this.host.save(t);
      }
      this.cursor %= Math.max(1, all.length);
    } finally {
      this.saving = false;
    }
  }
}

/**
 * Writes one torrent's resume file now (not while checking or stopped, nor before a magnet's
 * metadata); true once written (the torrent emitted 'resume-saved'), failures go to `warn`.
 */
export async function saveTorrentResume(
  resume: ResumeStore,
  t: Torrent,
  fsync: boolean,
  warn: (e: unknown) => void,
): Promise<boolean> {
  if (t.state === 'checking' || t.state === 'stopped' || !t.hasMetadata) return false;
  try {
    // With fsync on, the data the resume file vouches for is on disk before the file is.
    if (fsync) await t.storage().flush();
    await resume.save(t);
    t.emit('resume-saved');
    return true;
  } catch (e) {
    warn(e);
    return false;
  }
}
