/** Human-readable figures for CLI output. */
import type { CliOutput } from './types.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB"; exact below 1 KiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s =
    u === 0
      ? String(Math.round(v))
      : Number.isInteger(v)
        ? String(v)
        : v >= 100
          ? v.toFixed(0)
          : v >= 10
            ? v.toFixed(1)
            : v.toFixed(2);
  return `${n < 0 ? '-' : ''}${s} ${UNITS[u]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Seconds → "45s", "3m05s", "2h07m", "3d04h"; "?" when unknown or absurd. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 100 * 86400) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (x: number): string => String(x).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${pad(Math.floor((s % 86400) / 3600))}h`;
}

/** "256K", "1M", "1.5G", "4096" → bytes; undefined if unparseable. Binary multiples. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[
    m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'
  ];
  const v = Number(m[1]) * mult;
  return Number.isSafeInteger(v) ? v : undefined;
}

// Characters a terminal acts on rather than shows: C0 and C1 controls, DEL, the Unicode line and
// paragraph separators and the bidirectional overrides (which reorder what is displayed).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// The same, except newline and tab, and our own redraw sequences (carriage return, erase line).
const UNSAFE_IN_OUTPUT =
  // eslint-disable-next-line no-control-regex
  /\x1b\[K|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Text from a torrent, a tracker or a peer made safe to print on one line: every control
 * character (newlines included) becomes a visible `\uXXXX` escape.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, escapeChar);
}

/**
 * Wraps an output stream so nothing written through it can drive the terminal (set the window
 * title, clear the screen, write the clipboard), whatever a command forgot to escape. Newlines,
 * tabs, `\r` and erase-line (`ESC [ K`, the progress redraw) pass; every other control character
 * becomes `\uXXXX`. JSON output is unchanged in meaning: JSON.stringify already escapes C0, and a
 * raw C1 or bidi character inside a string turns into the equivalent JSON escape.
 */
export function terminalSafe(out: CliOutput): CliOutput {
  return {
    write: (chunk: string) =>
      out.write(String(chunk).replace(UNSAFE_IN_OUTPUT, (m) => (m.length > 1 ? m : escapeChar(m)))),
    get isTTY() {
      return out.isTTY;
    },
    get columns() {
      return out.columns;
    },
  };
}
