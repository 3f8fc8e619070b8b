/** Session restore: the remembered torrents put back on the client when the daemon starts. */
import type { DaemonTorrent } from './daemon-types.js';

/** Saved torrents restored at the same time when the daemon starts. */
const RESTORE_CONCURRENCY = 16;

/**
 * Starts every entry, a few at a time: each start waits on small file reads (its .torrent, its
 * resume file), and 1,000 of them one after another take seconds of round trips. A start that
 * fails is reported and the others go on.
 */
export async function restoreAll(
  entries: readonly DaemonTorrent[],
  start: (entry: DaemonTorrent) => Promise<void>,
  failed: (entry: DaemonTorrent, error: unknown) => void,
): Promise<void> {
  let next = 0;
  const restoreNext = async (): Promise<void> => {
    while (next < entries.length) {
      const entry = entries[next++]!;
      await start(entry).catch((e: unknown) => failed(entry, e));
    }
  };
  await Promise.all(Array.from({ length: RESTORE_CONCURRENCY }, restoreNext));
}
