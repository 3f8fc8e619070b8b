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
  return isUtf8(b) ? s : s.replace(/\ufffd/g, '_');
}

/**
 * One path component made safe, or undefined when it must be dropped ('', '.', '..').
 */
export function sanitizeComponent(raw: string): string | undefined {
  let s = raw.replace(FORBIDDEN, '_');
  if (s === '' || s === '.' || s === '..') return undefined;
  // Windows silently strips trailing dots and spaces, which would merge distinct names.
  s = s.replace(/[. ]+$/, '');
  if (s === '') return '_';
  const m = WINDOWS_RESERVED.exec(s);
  if (m) s = m[1]! + '_' + (m[2] ?? '');
  return truncateComponent(s);
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
 * conflicting component, before its extension. Pad files are exempt (never written).
 */
export function resolveDuplicates(paths: string[][], isPad: readonly boolean[]): void {
  const files = new Set<string>();
  const dirs = new Set<string>();
  /** The '/'-joined prefixes of p: prefixes[k] = p[0..k]. */
  const prefixesOf = (p: string[]): string[] => {
    const out: string[] = [];
    let acc = '';
    for (let k = 0; k < p.length; k++) out.push((acc = k === 0 ? p[0]! : `${acc}/${p[k]}`));
    return out;
  };
  /** The component index that collides, or -1. */
  const conflict = (pre: string[]): number => {
    for (let k = 0; k < pre.length - 1; k++) if (files.has(pre[k]!)) return k;
    const key = pre[pre.length - 1]!;
    return files.has(key) || dirs.has(key) ? pre.length - 1 : -1;
  };
  // Next suffix to try per conflicting prefix, so many equal names stay linear.
  const nextSuffix = new Map<string, number>();
  for (let i = 0; i < paths.length; i++) {
    if (isPad[i]) continue;
    const orig = paths[i]!;
    let cur = orig;
    let pre = prefixesOf(cur);
    for (let level = conflict(pre); level >= 0; level = conflict(pre)) {
      const name = orig[level]!;
      const key = level === 0 ? name : `${pre[level - 1]}/${name}`;
      const n = nextSuffix.get(key) ?? 1;
      nextSuffix.set(key, n + 1);
      const dot = level === orig.length - 1 ? name.lastIndexOf('.') : -1;
      const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
      if (cur === orig) cur = [...orig];
      cur[level] = `${stem}.${n}${ext}`;
      pre = prefixesOf(cur);
    }
    paths[i] = cur;
    files.add(pre[pre.length - 1]!);
    for (let k = 0; k < pre.length - 1; k++) dirs.add(pre[k]!);
  }
}
