/**
 * Magnet links in the client: a link whose metadata was fetched before (saved as
 * `<resumeDir>/<infohash>.torrent`) opens as a full torrent; otherwise it opens with a
 * placeholder metainfo and waits in the 'metadata' state (src/torrent/metadata-exchange.ts).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMagnet, parseTorrent, type MagnetLink } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/types.js';
import { placeholderMetainfo, torrentFileFromInfo } from '../torrent/metadata-exchange.js';
import type { Torrent } from '../torrent/torrent.js';
import type { TorrentState } from '../torrent/types.js';
import type { TrackerService } from './tracker-service.js';

export interface OpenedMagnet {
  link: MagnetLink;
  metainfo: Metainfo;
  /** True when the metadata must still be fetched from peers. */
  awaiting: boolean;
}

export function isMagnetUri(s: string): boolean {
  return /^magnet:\?/i.test(s);
}

function savedTorrentPath(resumeDir: string, infoHashHex: string): string {
  return join(resumeDir, `${infoHashHex}.torrent`);
}

export async function openMagnet(uri: string, resumeDir: string | undefined): Promise<OpenedMagnet> {
  const link = parseMagnet(uri);
  if (resumeDir) {
    try {
      const m = parseTorrent(await readFile(savedTorrentPath(resumeDir, link.infoHashHex)));
      if (m.infoHash.equals(link.infoHash)) return { link, metainfo: m, awaiting: false };
    } catch {
      // None saved (or damaged): fetch it again.
    }
  }
  return { link, metainfo: placeholderMetainfo(link), awaiting: true };
}

/**
 * Keeps fetched metadata beside the resume data, so a restart need not fetch it again; saved
 * again when BEP 52 piece layers arrive (with them, so a restart verifies without peers).
 */
export async function saveFetchedTorrent(
  resumeDir: string | undefined,
  t: Torrent,
  info: Buffer,
): Promise<void> {
  if (!resumeDir) return;
  await mkdir(resumeDir, { recursive: true });
  const file = savedTorrentPath(resumeDir, t.infoHashHex);
  const tmp = `${file}.tmp`;
  await writeFile(
    tmp,
    torrentFileFromInfo(
      info,
      t.trackers.map((s) => s.url),
      t.metainfo.pieceLayers,
    ),
  );
  await rename(tmp, file);
}

/**
 * A magnet's `tr=` trackers are asked for peers while its metadata is fetched (its
 * TrackerLink announces only once it downloads); stopped when the metadata arrives or the
 * torrent stops.
 */
export function announceMagnet(
  trackerService: TrackerService | undefined,
  t: Torrent,
  trackers: readonly string[],
): void {
  if (!trackerService || trackers.length === 0) return;
  const a = trackerService.announceMagnet(t.infoHash, trackers, (peers, source) => t.addPeers(peers, source));
  const done = (): void => {
    t.off('metadata', done);
    t.off('state', onState);
    void a.stop();
  };
  const onState = (s: TorrentState): void => {
    if (s === 'stopped' || s === 'error') done();
  };
  t.on('metadata', done);
  t.on('state', onState);
}

/**
 * BEP 53 `so=`: only the listed files are wanted. Applied as file priorities as soon as the
 * file list is known; indices beyond it are ignored, and a list naming no real file is ignored.
 */
export function selectOnlyFiles(torrent: Torrent, indices: readonly number[]): void {
  const apply = (): void => {
    const wanted = new Set(indices);
    const files = torrent.metainfo.files;
    if (!files.some((_, i) => wanted.has(i))) return;
    torrent.setFilePriorities(files.map((_, i) => (wanted.has(i) ? 1 : 0)));
  };
  if (torrent.hasMetadata) apply();
  else torrent.once('metadata', apply);
}
