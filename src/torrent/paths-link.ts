/**
 * Where a Torrent's files are: its save path, files renamed by the user (index → path
 * components) and the storage layout that follows from both; moving the data to another save
 * path (libtorrent's move_storage) and renaming files or folders on disk.
 */
import { resolve as resolvePath } from 'node:path';
import type { StorageLayout } from '../storage/layout.js';
import { checkedComponents, planRename, renamedLayout, type FileRenames } from '../storage/renames.js';
import { NbtError } from '../util/errors.js';
import type { TorrentCore } from './core.js';

export type PathsHost = Pick<TorrentCore, 'metainfo' | 'hasMetadata' | 'storage'>;

const NO_RENAMES: FileRenames = new Map();

export class TorrentPaths {
  private savePathValue: string;
  /** Files moved by rename: index → path components (the metainfo's otherwise). */
  // Made on the first rename.
  private renames: Map<number, readonly string[]> | undefined;

  constructor(
    private readonly host: PathsHost,
    savePath: string,
    renames: ReadonlyMap<number, readonly string[]> | undefined,
  ) {
    this.savePathValue = savePath;
    const count = host.metainfo.files.length;
    for (const [i, p] of renames ?? []) if (i < count) (this.renames ??= new Map()).set(i, p);
  }

  get savePath(): string {
    return this.savePathValue;
  }

  get fileRenames(): FileRenames {
    return this.renames ?? NO_RENAMES;
  }

  filePath(i: number): readonly string[] {
    return this.renames?.get(i) ?? this.host.metainfo.files[i]!.path;
  }

  get layout(): StorageLayout {
    return renamedLayout(this.host.metainfo, this.renames ?? NO_RENAMES);
  }

  /** The torrent's name follows its top folder (or its single file), as Transmission's does. */
  currentName(): string {
    const m = this.host.metainfo;
    if (!this.renames?.size) return m.name;
    const tops = new Set(m.files.flatMap((f, i) => (f.pad ? [] : [this.filePath(i)[0]!])));
    return tops.size === 1 ? [...tops][0]! : m.name;
  }

  /** Moves the data to `to`; undefined when it is already there. */
  async move(to: string): Promise<{ from: string; to: string } | undefined> {
    const from = this.savePathValue;
    const dest = resolvePath(to);
    if (dest === resolvePath(from)) return undefined;
    if (this.host.hasMetadata) {
      const st = this.host.storage();
      if (!st.moveTo) throw new NbtError('STORAGE_MOVE', 'move: this storage keeps no files');
      await st.moveTo(dest);
    }
    this.savePathValue = dest;
    return { from, to: dest };
  }

  /** Renames a file or folder on disk and in the layout; returns the checked paths. */
  async rename(from: string, to: string): Promise<{ from: string; to: string }> {
    const src = checkedComponents(from);
    const dest = checkedComponents(to);
    const files = this.host.metainfo.files;
    const plan = planRename(
      files.map((_, i) => this.filePath(i)),
      files.map((f) => f.pad ?? false),
      src,
      dest,
    );
    const st = this.host.storage();
    if (st.rename) await st.rename(src, dest);
    for (const [i, p] of plan) {
      if (p.join('/') === files[i]!.path.join('/')) this.renames?.delete(i);
      else (this.renames ??= new Map()).set(i, p);
    }
    return { from: src.join('/'), to: dest.join('/') };
  }
}
