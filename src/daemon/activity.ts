/** Time each torrent spends downloading and seeding in this run (Transmission's secondsDownloading/Seeding). */
import type { DaemonTorrent } from './daemon-types.js';

/** Seconds the torrent has spent in `state` during this run of the daemon. */
export function secondsIn(entry: DaemonTorrent, state: 'downloading' | 'seeding', now: number): number {
  const a = entry.activeSeconds;
  if (!a) return 0;
  // The current second counts once begun (Transmission's counters tick at once too), so a
  // torrent seeding for half a second does not report 0.
  return a[state] + (a.state === state ? Math.max(1, now - a.since) : 0);
}

/** The torrent entered `state` at `now` (Unix s): the time in the previous one is added up. */
export function trackActivity(entry: DaemonTorrent, state: string, now: number): void {
  const a = (entry.activeSeconds ??= { downloading: 0, seeding: 0, since: now });
  if (a.state) a[a.state] += Math.max(1, now - a.since);
  a.state = state === 'downloading' || state === 'seeding' ? state : undefined;
  a.since = now;
}
