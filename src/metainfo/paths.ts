/**
 * Path sanitising for torrent file names, modelled on libtorrent's sanitize_append_path_element:
 * hostile names are neutralised rather than rejected, so that no file can resolve outside the
 * save directory and the same torrent lays out identically on every OS.
 */
import { isUtf8 } from 'node:buffer';

/** Longest file name component in UTF-8 bytes (the common file system limit). */
export const MAX_COMPONENT_BYTES = 255;

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
// Separators, NUL and other control characters never belong in a component.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[/\\\x00-\x1f\x7f]/g;

/** Bytes as UTF-8 text, invalid sequences replaced by '_' (as libtorrent does). */
export function utf8OrReplace(b: Buffer): string {
  const s = b.toString('utf8');
  // Decoding marks invalid bytes with U+FFFD, so text without one needs no validation pass.
  return s.includes('\ufffd') && !isUtf8(b) ? s.replace(/\ufffd/g, '_') : s;
}

/**
 * One path component made safe, or undefined when it must be dropped ('', '.', '..').
 */
export function sanitizeComponent(raw: string): string | undefined {
  if (isPlainComponent(raw)) return raw;
  let s = raw.replace(FORBIDDEN, '_');
  if (s === '' || s === '.' || s === '..') return undefined;
  // Windows silently strips trailing dots and spaces, which would merge distinct names.
  s = s.replace(/[. ]+$/, '');
  if (s === '') return '_';
  const m = WINDOWS_RESERVED.exec(s);
  if (m) s = m[1]! + '_' + (m[2] ?? '');
  return truncateComponent(s);
}

/**
 * True for the usual name that sanitising leaves alone, found without regular expressions or
 * new strings (a 10,000-file torrent has 20,000 of them): no separator or control character,
 * no trailing dot or space, not a reserved Windows name, and at most 85 UTF-16 units (so at
 * most 255 UTF-8 bytes).
 */
function isPlainComponent(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > MAX_COMPONENT_BYTES / 3) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x2f || c === 0x5c || c === 0x7f) return false;
  }
  const last = s.charCodeAt(n - 1);
  if (last === 0x2e || last === 0x20) return false; // also '.' and '..'
  // con, prn, aux, nul (3 letters) and com0-9, lpt0-9 (4), alone or before an extension.
  const maybeReserved = n === 3 || n === 4 || s.charCodeAt(3) === 0x2e || s.charCodeAt(4) === 0x2e;
  return !(maybeReserved && WINDOWS_RESERVED.test(s));
}

/** Shortens a name to MAX_COMPONENT_BYTES UTF-8 bytes, keeping a short extension. */
function truncateComponent(s: string): string {
  if (Buffer.byteLength(s) <= MAX_COMPONENT_BYTES) return s;
  const dot = s.lastIndexOf('.');
  const ext = dot > 0 && Buffer.byteLength(s.slice(dot)) <= 16 ? s.slice(dot) : '';
  const budget = MAX_COMPONENT_BYTES - Buffer.byteLength(ext);
  let out = '';
  let used = 0;
  for (const ch of ext ? s.slice(0, dot) : s) {
    const n = Buffer.byteLength(ch);
    if (used + n > budget) break;
    out += ch;
    used += n;
  }
  return out + ext;
}

/** Sanitises every component; dropped ones vanish. May return an empty list. */
export function sanitizePath(components: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of components) {
    const s = sanitizeComponent(c);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/**
 * Makes file paths unique, as libtorrent does: a path equal to an earlier file, or one that
 * uses an earlier file as a directory (or the reverse), gets ".1", ".2"... added to the
 * conflicting component, before its extension. Pad files are exempt (never written). The first
 * `skip` components of every path are left out (a slot the caller fills in later).
 */
export function resolveDuplicates(paths: string[][], isPad: readonly boolean[], skip = 0): void {
  const files = new Set<string>();
  const dirs = new Set<string>();
  /** The '/'-joined prefixes of p[skip..]: pre[k] = p[skip..skip+k] (one array for every file). */
  const pre: string[] = [];
  const prefixesOf = (p: string[]): void => {
    pre.length = p.length - skip;
    let acc = p[skip]!;
    pre[0] = acc;
    for (let k = 1; k < pre.length; k++) pre[k] = acc = `${acc}/${p[skip + k]}`;
  };
  /** The component index (after skip) that collides, or -1. */
  const conflict = (): number => {
    const last = pre.length - 1;
    for (let k = 0; k < last; k++) if (files.has(pre[k]!)) return k;
    const key = pre[last]!;
    return files.has(key) || dirs.has(key) ? last : -1;
  };
  // Next suffix to try per conflicting prefix, so many equal names stay linear.
  const nextSuffix = new Map<string, number>();
  for (let i = 0; i < paths.length; i++) {
    if (isPad[i]) continue;
    const orig = paths[i]!;
    let cur = orig;
    prefixesOf(cur);
    for (let level = conflict(); level >= 0; level = conflict()) {
      const name = orig[skip + level]!;
      const key = level === 0 ? name : `${pre[level - 1]}/${name}`;
      const n = nextSuffix.get(key) ?? 1;
      nextSuffix.set(key, n + 1);
      const dot = level === pre.length - 1 ? name.lastIndexOf('.') : -1;
      const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
      if (cur === orig) cur = [...orig];
      cur[skip + level] = `${stem}.${n}${ext}`;
      prefixesOf(cur);
    }
    paths[i] = cur;
    files.add(pre[pre.length - 1]!);
    // A directory already known has its parents known too.
    for (let k = pre.length - 2; k >= 0 && !dirs.has(pre[k]!); k--) dirs.add(pre[k]!);
  }
}
