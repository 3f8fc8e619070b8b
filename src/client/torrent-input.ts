/** What `Client.addTorrent` accepts, turned into metainfo: .torrent bytes, a path, parsed metainfo or a magnet link. */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_TORRENT_BYTES, parseTorrent } from '../metainfo/index.js';
import { quickIo } from '../storage/quick-io.js';
import { NbtError } from '../util/errors.js';
import type { Metainfo } from '../metainfo/types.js';
import type { Torrent } from '../torrent/torrent.js';
import { openMagnet, isMagnetUri, type OpenedMagnet } from './magnet.js';

/** A .torrent file, read on the engine's thread while reads are quick (1,000 added at once). */
function readTorrentFile(path: string): Promise<Buffer> {
  return quickIo.readFile(
    path,
    MAX_TORRENT_BYTES,
    (size, max) => new NbtError('METAINFO_TOO_LARGE', `torrent is ${size} bytes, more than ${max}`),
  );
}

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
      ? parseTorrent(await readTorrentFile(input))
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
