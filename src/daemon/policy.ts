/**
 * The daemon's queue and seeding policy, pure: torrents' facts and the session settings in,
 * decisions out (which torrents run, which wait in the queue, which stop for a seed limit).
 * - Download queue: of the running torrents still downloading, the first `download-queue-size`
 *   by queue position transfer; the others wait (download-wait). Seed queue likewise.
 *   Torrents started with start-now skip the queue.
 * - Seed ratio limit: a finished torrent whose ratio reaches its limit (its own with mode 1, the
 *   session's with mode 0 when seedRatioLimited, none with mode 2) stops, finished.
 * - Idle seeding limit: a finished torrent without upload for the limit (minutes) stops too.
 * - Stalled downloads (no payload for `queue-stalled-minutes` while running) keep running but
 *   hold no download slot, so a dead torrent at the head of the queue cannot block the rest.
 */
import type { DaemonSettings } from './store.js';

export interface PolicyTorrent {
  id: number;
  queuePosition: number;
  /** Stopped by the user or a limit. */
  stopped: boolean;
  /** Every wanted piece is verified. */
  finished: boolean;
  /** Checking or waiting for metadata: not subject to the queues. */
  busy: boolean;
  forceStart: boolean;
  ratio: number;
  /** Seconds since the last upload (or since it finished). */
  idleSeconds: number;
  /** Seconds running and downloading without receiving payload. */
  stalledSeconds: number;
  seedRatioMode: number;
  seedRatioLimit: number;
  seedIdleMode: number;
  seedIdleLimit: number;
}

export interface PolicyDecision {
  /** Ids that may transfer now. */
  run: Set<number>;
  /** Ids that wait in a queue. */
  queued: Set<number>;
  /** Ids to stop because a seed limit was reached. */
  limitReached: Set<number>;
}

type Limits = Pick<
  DaemonSettings,
  | 'download-queue-size'
  | 'download-queue-enabled'
  | 'seed-queue-size'
  | 'seed-queue-enabled'
  | 'seedRatioLimit'
  | 'seedRatioLimited'
  | 'idle-seeding-limit'
  | 'idle-seeding-limit-enabled'
  | 'queue-stalled-enabled'
  | 'queue-stalled-minutes'
>;

function ratioLimit(t: PolicyTorrent, s: Limits): number | undefined {
  if (t.seedRatioMode === 1) return t.seedRatioLimit;
  if (t.seedRatioMode === 0 && s.seedRatioLimited) return s.seedRatioLimit;
  return undefined;
}

function idleLimitSeconds(t: PolicyTorrent, s: Limits): number | undefined {
  if (t.seedIdleMode === 1) return t.seedIdleLimit * 60;
  if (t.seedIdleMode === 0 && s['idle-seeding-limit-enabled']) return s['idle-seeding-limit'] * 60;
  return undefined;
}

export function decide(torrents: readonly PolicyTorrent[], s: Limits): PolicyDecision {
  const out: PolicyDecision = { run: new Set(), queued: new Set(), limitReached: new Set() };
  const live: PolicyTorrent[] = [];
  for (const t of torrents) {
    if (t.stopped) continue;
    if (t.finished) {
      const r = ratioLimit(t, s);
      const idle = idleLimitSeconds(t, s);
      if ((r !== undefined && t.ratio >= r) || (idle !== undefined && t.idleSeconds >= idle)) {
        out.limitReached.add(t.id);
        continue;
      }
    }
    live.push(t);
  }
  live.sort((a, b) => a.queuePosition - b.queuePosition);
  let downloading = 0;
  let seeding = 0;
  for (const t of live) {
    if (t.busy || t.forceStart) {
      out.run.add(t.id);
      // Checking ones hold no slot; start-now ones do.
      if (!t.busy && t.finished) seeding++;
      else if (!t.busy) downloading++;
      continue;
    }
    if (!t.finished && s['queue-stalled-enabled'] && t.stalledSeconds >= s['queue-stalled-minutes'] * 60) {
      out.run.add(t.id);
      continue;
    }
    const [enabled, size] = t.finished
      ? [s['seed-queue-enabled'], s['seed-queue-size']]
      : [s['download-queue-enabled'], s['download-queue-size']];
    const active = t.finished ? seeding : downloading;
    if (enabled && active >= size) out.queued.add(t.id);
    else {
      out.run.add(t.id);
      if (t.finished) seeding++;
      else downloading++;
    }
  }
  return out;
}
