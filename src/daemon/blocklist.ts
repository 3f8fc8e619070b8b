/**
 * The daemon's blocklist (Transmission's blocklist-url / blocklist-update): fetched over
 * http(s) with bounds (size, time, redirects), inflated when gzip, parsed leniently (P2P, DAT,
 * CIDR), kept in the config directory so it applies again at every start, and loaded into the
 * Client's IP filter while `blocklist-enabled` is on.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Client } from '../client/client.js';
import { inflateBlocklist, parseBlocklist } from '../client/blocklist.js';
import { readFileIfExists, writeFileAtomic } from '../storage/atomic.js';
import { NbtError } from '../util/errors.js';

/** Most bytes downloaded for one list (compressed). */
const MAX_DOWNLOAD_BYTES = 64 << 20;
const FETCH_TIMEOUT_MS = 120_000;

export class DaemonBlocklist {
  /** Entries loaded into the filter now (0 while disabled). */
  size = 0;

  constructor(
    private readonly configDir: string,
    private readonly client: Client,
  ) {}

  private get file(): string {
    return join(this.configDir, 'blocklists', 'blocklist.txt');
  }

  /** Applies the saved list (enabled) or clears the filter (disabled). */
  async apply(enabled: boolean): Promise<number> {
    const filter = this.client.ipFilter;
    filter.clear();
    this.size = 0;
    if (!enabled) return 0;
    const text = await readFileIfExists(this.file, MAX_DOWNLOAD_BYTES * 4).catch(() => undefined);
    if (text) this.size = filter.loadParsed(parseBlocklist(text.toString('latin1')));
    return this.size;
  }

  /** Downloads `url`, saves the list and applies it when enabled; resolves to its entry count. */
  async update(url: string, enabled: boolean): Promise<number> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new NbtError('BLOCKLIST_URL', `blocklist: "${url}" is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new NbtError('BLOCKLIST_URL', `blocklist: only http and https URLs (${u.protocol})`);
    const raw = await this.download(u);
    const text = inflateBlocklist(raw);
    const parsed = parseBlocklist(text.toString('latin1'));
    const entries = parsed.ranges.length + parsed.cidrs.length;
    if (entries === 0) throw new NbtError('BLOCKLIST_BAD', 'blocklist: no address range in the download');
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, text);
    await this.apply(enabled);
    return entries;
  }

  private async download(u: URL): Promise<Buffer> {
    const ctrl = new AbortController();
    const timer = this.client.options.clock.setTimeout(() => ctrl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch(u, { signal: ctrl.signal, redirect: 'follow' });
      if (!res.ok || !res.body)
        throw new NbtError('BLOCKLIST_FETCH', `blocklist: HTTP ${res.status} from ${u.host}`);
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const chunk of res.body) {
        n += (chunk as Uint8Array).length;
        if (n > MAX_DOWNLOAD_BYTES) {
          ctrl.abort();
          throw new NbtError('BLOCKLIST_BAD', `blocklist: over ${MAX_DOWNLOAD_BYTES} bytes`);
        }
        chunks.push(Buffer.from(chunk as Uint8Array));
      }
      return Buffer.concat(chunks);
    } catch (e) {
      if (e instanceof NbtError) throw e;
      throw new NbtError('BLOCKLIST_FETCH', `blocklist: cannot fetch ${u.host}: ${(e as Error).message}`);
    } finally {
      timer.cancel();
    }
  }
}
