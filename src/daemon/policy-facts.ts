/**
 * The facts the queue and seed-limit policy (policy.ts) decides on, read from the running
 * torrents; also keeps each entry's idle (last upload) and stall (last progress) marks.
 */
import type { DaemonTorrent } from './daemon-types.js';
import type { PolicyTorrent } from './policy.js';

/** One PolicyTorrent per entry with a running torrent; `now` is clock ms. */
export function policyFacts(entries: Iterable<DaemonTorrent>, now: number): PolicyTorrent[] {
  const facts: PolicyTorrent[] = [];
  for (const e of entries) {
    const t = e.torrent;
    if (!t) continue;
    const r = e.record;
    const s = t.stats();
    const finished = t.hasMetadata && t.finished;
    if (!finished || !e.lastUpload || s.uploaded !== e.lastUpload.bytes)
      e.lastUpload = { bytes: s.uploaded, at: now };
    // Only time spent running and downloading counts toward a stall.
    const running = t.state === 'downloading' && !e.queued;
    if (!running || !e.lastProgress || s.downloaded !== e.lastProgress.bytes)
      e.lastProgress = { bytes: s.downloaded, at: now };
    const base = s.downloaded > 0 ? s.downloaded : t.hasMetadata ? t.metainfo.length : 0;
    facts.push({
      id: r.id,
      queuePosition: r.queuePosition,
      stopped: r.stopped,
      finished,
      // Not started yet (added a moment ago) counts as checking: queued only once checked.
      busy: ['stopped', 'checking', 'metadata', 'error'].includes(t.state),
      forceStart: !!e.forceStart,
      ratio: base > 0 ? s.uploaded / base : 0,
      idleSeconds: (now - e.lastUpload.at) / 1000,
      stalledSeconds: (now - e.lastProgress.at) / 1000,
      seedRatioMode: r.seedRatioMode,
      seedRatioLimit: r.seedRatioLimit,
      seedIdleMode: r.seedIdleMode,
      seedIdleLimit: r.seedIdleLimit,
    });
  }
  return facts;
}
