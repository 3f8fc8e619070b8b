/**
 * The watch directory: .torrent files that appear in it are added, then renamed `<name>.added`
 * (Transmission's convention); one that cannot be added is renamed `<name>.invalid`, so it is
 * not tried again and again. Scanned on the daemon's policy tick; scans never overlap.
 */
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export interface WatchTarget {
  add(bytes: Uint8Array): Promise<unknown>;
  warn(msg: string, fields: Record<string, unknown>): void;
}

/** Largest .torrent read from the watch directory. */
const MAX_WATCHED_FILE = 16 * 1024 * 1024;

export class WatchDir {
  private scanning = false;

  constructor(private readonly target: WatchTarget) {}

  /** Adds the new .torrent files in `dir`; resolves to how many were added. */
  async scan(dir: string): Promise<number> {
    if (this.scanning) return 0;
    this.scanning = true;
    let added = 0;
    try {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return 0; // not there (yet)
      }
      for (const name of names.filter((n) => n.toLowerCase().endsWith('.torrent')).sort()) {
        const path = join(dir, name);
        try {
          const bytes = await readFile(path);
          if (bytes.length > MAX_WATCHED_FILE) throw new Error('too large');
          await this.target.add(bytes);
          await rename(path, `${path}.added`);
          added++;
        } catch (e) {
          this.target.warn('watch-dir: could not add', { file: path, error: String(e) });
          await rename(path, `${path}.invalid`).catch(() => undefined);
        }
      }
    } finally {
      this.scanning = false;
    }
    return added;
  }
}
