/** Helpers shared by the commands that run a Client: reading a .torrent, waiting, exit codes. */
import { open } from 'node:fs/promises';
import { MAX_TORRENT_BYTES, parseTorrent, type Metainfo } from '../../metainfo/index.js';
import type { Torrent } from '../../torrent/index.js';
import { NbtError } from '../../util/errors.js';
import type { CliIO } from '../types.js';

const MAX_TORRENT = MAX_TORRENT_BYTES;

/** Reads and parses a .torrent file; every problem is one NbtError line. */
export async function loadTorrentFile(path: string): Promise<{ bytes: Buffer; metainfo: Metainfo }> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new NbtError(
      'CLI_READ',
      `cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`,
    );
  });
  let bytes: Buffer;
  try {
    const { size } = await fh.stat();
    if (size > MAX_TORRENT)
      throw new NbtError('CLI_TOO_LARGE', `${path} is larger than ${MAX_TORRENT >> 20} MiB`);
    bytes = await fh.readFile();
  } finally {
    await fh.close();
  }
  try {
    return { bytes, metainfo: parseTorrent(bytes) };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new NbtError(
      e instanceof NbtError ? e.code : 'CLI_BAD_TORRENT',
      `${path}: not a valid torrent: ${msg}`,
    );
  }
}

/** Exit code for an interrupted command: 130 after SIGINT, 143 after SIGTERM. */
export function interruptedCode(io: CliIO): number {
  return io.signal.reason === 'SIGTERM' ? 143 : 130;
}

/** Resolves when the signal aborts. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Resolves on abort, or when the torrent enters its error state (a storage error). */
export function untilAbortedOrError(torrent: Torrent, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      torrent.off('error', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    if (signal.aborted || torrent.state === 'error') return resolve();
    torrent.on('error', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

export type Outcome = 'complete' | 'interrupted' | 'error';

/**
 * Waits until the torrent has every piece, the signal aborts, or the torrent fails (its error is
 * returned). A torrent that is complete after its check counts as complete.
 */
export function untilComplete(
  torrent: Torrent,
  signal: AbortSignal,
): Promise<{ outcome: Outcome; error?: Error }> {
  return new Promise((resolve) => {
    const finish = (r: { outcome: Outcome; error?: Error }): void => {
      torrent.off('done', onDone);
      torrent.off('state', onState);
      torrent.off('spot-check', onState);
      torrent.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onDone = (): void => finish({ outcome: 'complete' });
    const onState = (): void => {
      if (torrent.complete && (torrent.state === 'seeding' || torrent.state === 'downloading'))
        finish({ outcome: 'complete' });
    };
    const onError = (error: Error): void => finish({ outcome: 'error', error });
    const onAbort = (): void => finish({ outcome: 'interrupted' });
    torrent.on('done', onDone);
    torrent.on('state', onState);
    // Seeding on resume data is complete once its spot check passed.
    torrent.on('spot-check', onState);
    torrent.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    else onState();
  });
}
