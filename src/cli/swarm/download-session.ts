/**
 * What `nbt download` and `nbt stream` share before they differ: the torrent input (a magnet
 * link goes to the engine as is and fetches its metadata first), the save path, the resume
 * folder beside it, and the Client.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client } from '../../client/index.js';
import { NbtError } from '../../util/errors.js';
import type { SessionSettings } from './options.js';
import { loadTorrentFile } from './run.js';

export interface DownloadSession {
  client: Client;
  /** The .torrent bytes, or the magnet link. */
  input: Buffer | string;
  savePath: string;
}

export async function openDownloadSession(
  settings: SessionSettings,
  source: string,
  output: string | undefined,
): Promise<DownloadSession> {
  const magnet = /^magnet:\?/i.test(source) ? source : undefined;
  const input = magnet ?? (await loadTorrentFile(source)).bytes;
  const savePath = resolve(output ?? '.');
  const resumeDir = resolve(settings.resumeDir ?? join(savePath, '.nbt-resume'));
  await mkdir(resumeDir, { recursive: true }).catch((e: Error) => {
    throw new NbtError('CLI_WRITE', `cannot create ${resumeDir}: ${e.message}`);
  });
  const client = new Client({ ...settings.client, savePath, resumeDir, resumeInterval: 10_000 });
  return { client, input, savePath };
}
