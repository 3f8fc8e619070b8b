/**
 * The package's version, read once from package.json. The file is found by walking up from this
 * module, so it works both from src/ (tests through tsx-like loaders) and from dist/src/.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'net-bittorrent';
/** Used only if package.json cannot be found (e.g. a bundler dropped it). */
const FALLBACK_VERSION = '0.0.0';

function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: keep walking up
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return FALLBACK_VERSION;
}

/** 'major.minor.patch' of net-bittorrent. */
export const PACKAGE_VERSION: string = readVersion();

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The Azureus-style 4-character version of a peer id: one character per component
 * (0-9, then A-Z for 10-35, a-z for 36-61, as libtorrent does), e.g. '0.1.0' → '0100'.
 */
export function azureusVersionCode(version: string): string {
  const parts = version
    .split(/[.+-]/)
    .slice(0, 3)
    .map((p) => Number.parseInt(p, 10));
  while (parts.length < 3) parts.push(0);
  return [...parts, 0].map((n) => DIGITS[Number.isInteger(n) && n >= 0 && n < 62 ? n : 0]!).join('');
}
