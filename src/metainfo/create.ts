/**
 * Torrent creation from a file or directory. A v1 torrent has the same info dictionary (and so
 * the same info-hash) as mktorrent 1.1 for the same input, name, piece length and private flag:
 * all regular files (hidden ones included, symlinks followed), sorted by the bytes of their
 * relative path, empty files kept. v2 and hybrid torrents (BEP 52, create-v2.ts) match
 * libtorrent's create_torrent instead.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { encode, type BEncodable } from '../bencode/index.js';
import { sharedHashPool, type FileSegment, type HashPool } from '../hash/index.js';
import { NbtError } from '../util/errors.js';
import { mapLimit } from '../util/map-limit.js';
import { hashV2, sortByComponents } from './create-v2.js';
import { parseTorrent } from './parse.js';
import type { Metainfo } from './types.js';

export interface CreateOptions {
  /** 1 (default): SHA-1 pieces; 2: BEP 52 Merkle trees only; 'hybrid': both, loadable by either kind of client. */
  version?: 1 | 2 | 'hybrid';
  /** Torrent name (default: the base name of the path). */
  name?: string;
  /** Piece length in bytes, a power of two >= 16 KiB (default: autoPieceLength(total)). */
  pieceLength?: number;
  private?: boolean;
  /** Tracker tiers: each item is one tier (a URL or a list of URLs). */
  trackers?: readonly (string | readonly string[])[];
  /** BEP 19 web seeds. */
  webSeeds?: readonly string[];
  comment?: string;
  /** Default "net-bittorrent"; false leaves it out. */
  createdBy?: string | false;
  /** Creation date in seconds since the epoch (default now); false leaves it out (reproducible output). */
  date?: number | false;
  /** Hash pool to use (default the shared pool). */
  pool?: HashPool;
}

export interface CreateProgress {
  hashedBytes: number;
  totalBytes: number;
}

interface SourceFile {
  abs: string;
  rel: string[];
  length: number;
}

const MIN_PIECE = 16 * 1024;
const MAX_PIECE = 16 * 1024 * 1024;
const CHUNK_TARGET = 8 * 1024 * 1024;
/** Stats in flight while the files are listed. */
const STAT_WINDOW = 64;
/** Most file segments in one hashing job (see hashFiles). */
const MAX_SEGMENTS = 4096;

/**
 * The automatic piece length: the smallest power of two giving at most 2048 pieces (a
 * .torrent of about 40 KiB of hashes, libtorrent's target), clamped to 16 KiB..16 MiB.
 */
export function autoPieceLength(totalBytes: number): number {
  let pl = MIN_PIECE;
  while (pl < MAX_PIECE && Math.ceil(totalBytes / pl) > 2048) pl *= 2;
  return pl;
}

function fail(code: string, message: string): never {
  throw new NbtError(code, `create: ${message}`);
}

/** File system errors become CREATE_READ; a file that shrank, CREATE_FILE_CHANGED. */
function wrapIoError(e: unknown): never {
  if (e instanceof NbtError && e.code === 'HASH_FILE_CHANGED')
    throw new NbtError('CREATE_FILE_CHANGED', `create: ${e.message}`);
  if (e instanceof NbtError && e.code === 'HASH_READ_FAILED')
    throw new NbtError('CREATE_READ', `create: ${e.message}`);
  if (e instanceof NbtError) throw e;
  throw new NbtError('CREATE_READ', `create: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export async function createTorrent(
  path: string,
  opts: CreateOptions = {},
  onProgress?: (p: CreateProgress) => void,
): Promise<{ torrent: Buffer; metainfo: Metainfo }> {
  const pool = opts.pool ?? sharedHashPool();
  // Workers boot while the files are listed.
  pool.warmUp();
  const root = resolve(path);
  const st = await stat(root).catch((e: NodeJS.ErrnoException) =>
    fail('CREATE_NOT_FOUND', `cannot read ${path}: ${e.code ?? e.message}`),
  );
  const name = opts.name ?? basename(root);
  if (name === '' || name === '.' || name === '..' || /[/\\]/.test(name))
    fail('CREATE_BAD_NAME', `"${name}" is not a usable torrent name`);
  let files: SourceFile[];
  let multiFile: boolean;
  if (st.isDirectory()) {
    files = await walk(root).catch(wrapIoError);
    multiFile = true;
  } else if (st.isFile()) {
    files = [{ abs: root, rel: [name], length: st.size }];
    multiFile = false;
  } else {
    fail('CREATE_NOT_REGULAR', `${path} is neither a regular file nor a directory`);
  }
  const total = files.reduce((s, f) => s + f.length, 0);
  if (total === 0) fail('CREATE_EMPTY', `${path} holds no data to share`);

  const pieceLength = opts.pieceLength ?? autoPieceLength(total);
  if (
    !Number.isSafeInteger(pieceLength) ||
    pieceLength < MIN_PIECE ||
    pieceLength > 256 * 1024 * 1024 ||
    (pieceLength & (pieceLength - 1)) !== 0
  )
    fail(
      'CREATE_BAD_PIECE_LENGTH',
      `piece length ${pieceLength} must be a power of two from 16 KiB to 256 MiB`,
    );

  const version = opts.version ?? 1;
  if (version !== 1 && version !== 2 && version !== 'hybrid')
    fail('CREATE_BAD_VERSION', `version ${String(version)} is not 1, 2 or 'hybrid'`);
  let info: Record<string, BEncodable>;
  let pieceLayers: Map<string, Buffer> | undefined;
  if (version === 1) {
    const pieces = await hashFiles(files, total, pieceLength, pool, onProgress).catch(wrapIoError);
    info = { name, 'piece length': pieceLength, pieces };
    if (multiFile) info.files = files.map((f) => ({ length: f.length, path: f.rel }));
    else info.length = total;
  } else {
    let hashed = 0;
    const v2 = await hashV2(
      sortByComponents(files),
      multiFile,
      pieceLength,
      version === 'hybrid',
      pool,
      (n) => {
        hashed += n;
        onProgress?.({ hashedBytes: hashed, totalBytes: total });
      },
    ).catch(wrapIoError);
    info = { ...v2.info, name, 'piece length': pieceLength };
    pieceLayers = v2.pieceLayers;
  }
  if (opts.private) info.private = 1;

  const tiers = (opts.trackers ?? [])
    .map((t) => (typeof t === 'string' ? [t] : [...t]))
    .filter((t) => t.length > 0);
  const torrent: Record<string, BEncodable | undefined> = { info };
  if (tiers.length > 0) {
    torrent.announce = tiers[0]![0]!;
    if (tiers.flat().length > 1) torrent['announce-list'] = tiers;
  }
  if (opts.comment !== undefined) torrent.comment = opts.comment;
  if (opts.createdBy !== false) torrent['created by'] = opts.createdBy ?? 'net-bittorrent';
  // Wall-clock time is the point of this field (the engine's Clock is monotonic).
  if (opts.date !== false) torrent['creation date'] = opts.date ?? Math.floor(Date.now() / 1000);
  if (opts.webSeeds && opts.webSeeds.length > 0) torrent['url-list'] = [...opts.webSeeds];
  if (pieceLayers) torrent['piece layers'] = pieceLayers;

  const buf = encode(torrent);
  return { torrent: buf, metainfo: parseTorrent(buf) };
}

/** Every regular file under root (symlinks followed, loops skipped), sorted like mktorrent. */
async function walk(root: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  // ancestors: the directories (dev:ino) above this one, so only a loop is skipped and a second
  // link to a directory elsewhere is followed, as mktorrent does.
  const visit = async (dir: string, rel: string[], ancestors: readonly string[]): Promise<void> => {
    const ds = await stat(dir);
    const id = `${ds.dev}:${ds.ino}`;
    if (ancestors.includes(id)) return;
    const inside = [...ancestors, id];
    const entries = await readdir(dir);
    // A directory's entries are stat-ed a window at a time (one at a time took 15 s for 400,000
    // files); subdirectories are walked one after another, so windows never multiply.
    const stats = await mapLimit(
      entries,
      STAT_WINDOW,
      (entry) => stat(join(dir, entry)).catch(() => undefined), // dangling symlinks are skipped
    );
    for (const [i, entry] of entries.entries()) {
      const s = stats[i];
      if (s?.isFile()) out.push({ abs: join(dir, entry), rel: [...rel, entry], length: s.size });
    }
    for (const [i, entry] of entries.entries())
      if (stats[i]?.isDirectory()) await visit(join(dir, entry), [...rel, entry], inside);
  };
  await visit(root, [], []);
  // mktorrent orders by strcmp of the whole relative path, so "a.txt" sorts before "a/b".
  const keys = new Map(out.map((f) => [f, Buffer.from(f.rel.join('/'), 'utf8')]));
  out.sort((a, b) => Buffer.compare(keys.get(a)!, keys.get(b)!));
  return out;
}

/**
 * Hashes the files as one stream (pieces span file boundaries) in chunks of whole pieces.
 * Each chunk is a list of file segments that a pool worker reads and hashes itself, so no
 * data crosses threads and reading runs in parallel with hashing. (Measured on 2 cores:
 * reading on the main thread and lending buffers to workers was ~2x slower.)
 */
async function hashFiles(
  files: SourceFile[],
  total: number,
  pieceLength: number,
  pool: HashPool,
  onProgress?: (p: CreateProgress) => void,
): Promise<Buffer> {
  const pieces = Buffer.alloc(Math.ceil(total / pieceLength) * 20);
  const chunkSize = Math.max(1, Math.floor(CHUNK_TARGET / pieceLength)) * pieceLength;
  const maxInFlight = pool.threads * 2;
  const inFlight: Promise<void>[] = [];
  let hashed = 0;
  let fileIndex = 0;
  let filePos = 0;
  for (let offset = 0; offset < total;) {
    // Whole pieces until the chunk is big enough or names enough files: a job's segment list is
    // copied to its worker, and 8 MiB of 30-byte files was ~290,000 segments per job.
    const segments: FileSegment[] = [];
    let length = 0;
    while (offset + length < total && length < chunkSize && segments.length < MAX_SEGMENTS) {
      for (let need = Math.min(pieceLength, total - offset - length); need > 0;) {
        const f = files[fileIndex]!;
        const take = Math.min(need, f.length - filePos);
        if (take > 0) segments.push({ path: f.abs, offset: filePos, length: take });
        need -= take;
        length += take;
        filePos += take;
        if (filePos === f.length) {
          fileIndex++;
          filePos = 0;
        }
      }
    }
    const firstPiece = offset / pieceLength;
    offset += length;
    const job = pool.hashFiles(segments, pieceLength).then((d) => {
      d.copy(pieces, firstPiece * 20);
      hashed += length;
      onProgress?.({ hashedBytes: hashed, totalBytes: total });
    });
    job.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
    inFlight.push(job);
    if (inFlight.length >= maxInFlight) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return pieces;
}
