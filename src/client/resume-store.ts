/**
 * Resume files, one per torrent (<resumeDir>/<infohash>.resume, bencoded by src/storage's
 * codec with a checksum, written atomically). On load, pieces in files whose size and mtime are
 * unchanged are trusted (the torrent spot-checks a sample of them, see data-check.ts); pieces
 * touching changed files are re-checked; a damaged file or one that contradicts the files on
 * disk is ignored (a full check).
 */
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metainfo } from '../metainfo/types.js';
import { statFiles } from '../storage/file-storage.js';
import { safeJoin } from '../storage/paths.js';
import { renamedLayout } from '../storage/renames.js';
import {
  RESUME_VERSION,
  decodeResume,
  encodeResume,
  trustResume,
  type ResumeData,
} from '../storage/resume.js';
import { readFileIfExists, writeFileAtomic } from '../storage/atomic.js';
import type { Bitfield } from '../util/bitfield.js';
import type { FileStat } from '../storage/storage.js';
import type { PeerAddress } from '../util/compact.js';
import type { Torrent } from '../torrent/torrent.js';

export interface LoadedResume {
  /** Pieces that need no check. */
  trusted: Bitfield;
  /** Pieces that must be checked (their files changed since the save). */
  recheck: Bitfield;
  /** Received blocks of unfinished pieces in unchanged files. */
  unfinished: { piece: number; blocks: Bitfield }[];
  downloaded: number;
  uploaded: number;
  peers: PeerAddress[];
  /** Files renamed earlier: index → path components. */
  renames: Map<number, string[]>;
  /**
   * The files' sizes and mtimes this decision was made on: the torrent's first check uses them
   * instead of stat-ing every file twice more (1,000 torrents restarting: 2,000 stats saved).
   */
  fileStats: (FileStat | undefined)[];
}

/** Upload totals are saved again once they moved this much (the download side saves on any block). */
const UPLOAD_SAVE_STEP = 4 << 20;

export class ResumeStore {
  /**
   * What each torrent's resume file holds, in short (see fingerprint()): a torrent whose state
   * still matches is not written again. Set by load() and by every completed save.
   */
  private readonly onDisk = new Map<string, Fingerprint>();

  constructor(readonly dir: string) {}

  path(m: Metainfo): string {
    return join(this.dir, `${m.infoHashHex}.resume`);
  }

  /** The usable part of a saved resume file; undefined when there is none or it does not fit. */
  async load(m: Metainfo, savePath: string): Promise<LoadedResume | undefined> {
    let data: ResumeData;
    try {
      const buf = await readFileIfExists(this.path(m));
      if (!buf) return undefined;
      data = decodeResume(buf, { infoHash: m.infoHash, pieceCount: m.pieceCount, fileCount: m.files.length });
    } catch {
      // A corrupt or foreign resume file only costs a full check.
      return undefined;
    }
    if (data.savePath !== savePath) return undefined;
    const renames = new Map(data.renamed ?? []);
    const layout = renamedLayout(m, renames);
    try {
      const fileStats = await statFiles(layout, (i) => safeJoin(savePath, layout.files[i]!.path));
      const decision = trustResume(m, data, fileStats);
      // Data that contradicts the files: a full check, as with no resume data at all.
      if (!decision.consistent) return undefined;
      // Pieces to recheck may come out differently: only a fully trusted file is known to match.
      if (decision.recheck.empty && decision.unfinished.length === data.unfinished.length)
        this.onDisk.set(
          m.infoHashHex,
          fingerprint(decision.have.count, data.downloaded, data.uploaded, data.peers, renames),
        );
      return {
        trusted: decision.have,
        recheck: decision.recheck,
        unfinished: decision.unfinished,
        downloaded: data.downloaded,
        uploaded: data.uploaded,
        peers: data.peers,
        renames,
        fileStats,
      };
    } catch {
      return undefined;
    }
  }

  private readonly saving = new Map<string, Promise<void>>();

  /**
   * Whether the torrent's state moved on from its resume file: a verified piece, a received
   * block (the download total), uploads beyond UPLOAD_SAVE_STEP (any upload with
   * `exactTotals`, for the last save at close), or its peers. Cheap: no I/O, so a periodic
   * pass over 1,000 idle torrents costs next to nothing.
   */
  changed(t: Torrent, o: { exactTotals?: boolean } = {}): boolean {
    const saved = this.onDisk.get(t.infoHashHex);
    if (!saved) return true;
    const now = currentFingerprint(t);
    return saved.state !== now.state || (o.exactTotals === true && saved.uploaded !== now.uploaded);
  }

  /**
   * Saves the torrent's state; call while its storage is still open. Saves of one torrent never
   * overlap: an older, slower save must not rename its file over a newer one.
   */
  save(t: Torrent): Promise<void> {
    const key = t.infoHashHex;
    const prev = this.saving.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.write(t));
    this.saving.set(key, next);
    void next
      .finally(() => {
        if (this.saving.get(key) === next) this.saving.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  private async write(t: Torrent): Promise<void> {
    // Taken first: anything that changes while we write makes the next pass save again.
    const fp = currentFingerprint(t);
    // The bitfield first: a piece finishing while we stat the files is then merely missing.
    const have = t.have.clone();
    const unfinished = (await t.persistUnfinished()).filter((u) => !have.has(u.piece));
    const files = await t.storage().fileStats();
    const stats = t.stats();
    const data: ResumeData = {
      version: RESUME_VERSION,
      infoHash: t.infoHash,
      have,
      files,
      unfinished,
      peers: t.knownAddresses(),
      uploaded: stats.uploaded,
      downloaded: stats.downloaded,
      savePath: t.savePath,
      renamed: [...t.fileRenames].map(([i, p]) => [i, [...p]]),
    };
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.path(t.metainfo), encodeResume(data));
    this.onDisk.set(t.infoHashHex, fp);
  }

  async remove(m: Metainfo): Promise<void> {
    this.onDisk.delete(m.infoHashHex);
    await unlink(this.path(m)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}

interface Fingerprint {
  /** Pieces, download total, upload total in UPLOAD_SAVE_STEP steps, peers. */
  state: string;
  uploaded: number;
}

function currentFingerprint(t: Torrent): Fingerprint {
  const stats = t.stats();
  return fingerprint(t.have.count, stats.downloaded, stats.uploaded, t.knownAddresses(), t.fileRenames);
}

/** The parts of resume data that change while a torrent runs, in comparable form. */
function fingerprint(
  pieces: number,
  downloaded: number,
  uploaded: number,
  peers: readonly PeerAddress[],
  renames: ReadonlyMap<number, readonly string[]>,
): Fingerprint {
  const moved = [...renames].map(([i, p]) => `${i}=${p.join('/')}`).join(';');
  const head = `${pieces}|${downloaded}|${Math.floor(uploaded / UPLOAD_SAVE_STEP)}|${moved}`;
  if (peers.length === 0) return { state: head, uploaded };
  const addrs = peers.map((p) => `${p.host}:${p.port}`).sort();
  return { state: `${head}|${addrs.join(',')}`, uploaded };
}
