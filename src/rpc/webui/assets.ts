/**
 * The web UI's files: HTML and CSS from the package's webui/static, the compiled modules from
 * dist/webui (tsc -p webui/tsconfig.json). Names are matched against a strict pattern (no
 * directories, so no path can leave those folders) and read once, then kept in memory.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export interface Asset {
  type: string;
  bytes: Buffer;
}

/** The package root, from dist/src/rpc/webui/assets.js. */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FOLDERS = [join(ROOT, 'webui', 'static'), join(ROOT, 'dist', 'webui')];
const NAME = /^[a-z0-9][a-z0-9-]*\.(html|css|js|svg)$/;
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

/** Content-Security-Policy of every page: our own scripts, styles and connections only. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export class Assets {
  private readonly cache = new Map<string, Asset>();

  /** The asset `name` (e.g. "app.js"), or undefined when there is none by that name. */
  async get(name: string): Promise<Asset | undefined> {
    if (!NAME.test(name)) return undefined;
    const hit = this.cache.get(name);
    if (hit) return hit;
    for (const dir of FOLDERS) {
      try {
        const bytes = await readFile(join(dir, name));
        const asset = { type: TYPES[name.slice(name.lastIndexOf('.') + 1)]!, bytes };
        this.cache.set(name, asset);
        return asset;
      } catch {
        // Not in this folder.
      }
    }
    return undefined;
  }
}
