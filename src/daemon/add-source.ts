/** What an add request names: .torrent bytes (given, read from a path, fetched over HTTP) or a magnet link. */
import { readFile } from 'node:fs/promises';
import { NbtError } from '../util/errors.js';
import type { AddRequest } from './daemon-types.js';

/** Largest .torrent fetched from a URL. */
const MAX_FETCHED_TORRENT = 16 * 1024 * 1024;

/** The request's .torrent bytes or magnet link (one of them; DAEMON_BAD_ADD if neither). */
export async function readAddSource(
  req: AddRequest,
): Promise<{ bytes: Uint8Array | undefined; magnet: string | undefined }> {
  let bytes = req.metainfo;
  let magnet: string | undefined;
  if (!bytes && req.filename) {
    const f = req.filename.trim();
    if (f.startsWith('magnet:')) magnet = f;
    else if (/^https?:\/\//i.test(f)) bytes = await fetchTorrent(f);
    else bytes = await readFile(f);
  }
  if (!bytes && !magnet) throw new NbtError('DAEMON_BAD_ADD', 'no metainfo or filename');
  return { bytes, magnet };
}

async function fetchTorrent(url: string): Promise<Uint8Array> {
  const res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new NbtError('DAEMON_FETCH_FAILED', `${url}: HTTP ${res.status}`);
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > MAX_FETCHED_TORRENT) throw new NbtError('DAEMON_FETCH_FAILED', `${url}: too large`);
  const buf = new Uint8Array(await res.arrayBuffer());
  if (buf.length > MAX_FETCHED_TORRENT) throw new NbtError('DAEMON_FETCH_FAILED', `${url}: too large`);
  return buf;
}
