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
import { FileStorage } from '../storage/file-storage.js';
import {
  RESUME_VERSION,
  decodeResume,
  encodeResume,
  trustResume,
  type ResumeData,
} from '../storage/resume.js';
import { readFileIfExists, writeFileAtomic } from '../storage/atomic.js';
import type { Bitfield } from '../util/bitfield.js';
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
}

export class ResumeStore {
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
    const storage = new FileStorage(m, savePath);
    try {
      const decision = trustResume(m, data, await storage.fileStats());
      // Data that contradicts the files: a full check, as with no resume data at all.
      if (!decision.consistent) return undefined;
      return {
        trusted: decision.have,
        recheck: decision.recheck,
        unfinished: decision.unfinished,
        downloaded: data.downloaded,
        uploaded: data.uploaded,
        peers: data.peers,
      };
    } catch {
      return undefined;
    } finally {
      await storage.close().catch(() => undefined);
    }
  }

  private readonly saving = new Map<string, Promise<void>>();

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
    };
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.path(t.metainfo), encodeResume(data));
  }

  async remove(m: Metainfo): Promise<void> {
    await unlink(this.path(m)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}
