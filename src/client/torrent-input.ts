/** What `Client.addTorrent` accepts, turned into metainfo: .torrent bytes, a path, parsed metainfo or a magnet link. */
import { readFile } from 'node:fs';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parseTorrent } from '../metainfo/index.js';
import type { Metainfo } from '../metainfo/types.js';
import type { Torrent } from '../torrent/torrent.js';
import { openMagnet, isMagnetUri, type OpenedMagnet } from './magnet.js';

/** The callback API: cheaper than fs/promises' FileHandle when 1,000 torrents are added. */
const readFileAsync = promisify(readFile);

export type TorrentInput = Buffer | Uint8Array | string | Metainfo;

export async function readTorrentInput(
  input: TorrentInput,
  resumeDir: string | undefined,
): Promise<{ metainfo: Metainfo; magnet: OpenedMagnet | undefined }> {
  const magnet: OpenedMagnet | undefined =
    typeof input === 'string' && isMagnetUri(input) ? await openMagnet(input, resumeDir) : undefined;
  const metainfo = magnet
    ? magnet.metainfo
    : typeof input === 'string'
      ? parseTorrent(await readFileAsync(input))
      : input instanceof Uint8Array
        ? parseTorrent(input)
        : input;
  return { metainfo, magnet };
}

/** Deletes a removed torrent's files (its top directory for a multi-file torrent). */
export async function deleteTorrentFiles(t: Torrent): Promise<void> {
  const m = t.metainfo;
  const root = m.multiFile
    ? join(t.savePath, m.files[0]!.path[0]!)
    : join(t.savePath, m.files[0]?.path[0] ?? m.name);
  await rm(root, { recursive: true, force: true });
}
