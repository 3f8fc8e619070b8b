/**
 * Blocklists as the world publishes them, parsed leniently (real lists carry junk lines): P2P
 * ("description:1.2.3.0-1.2.3.255"), eMule DAT ("001.002.003.000 - 001.002.003.255 , 000 ,
 * description"; access level above 127 means allowed), CIDR ("1.2.3.0/24") and single
 * addresses, IPv4 or IPv6. gzip input is inflated with a bound. Pure apart from zlib.
 */
import { gunzipSync } from 'node:zlib';
import { isIP } from 'node:net';
import { NbtError } from '../util/errors.js';
import { isZip, unzipSingle } from './zip.js';

export interface BlocklistRange {
  from: string;
  to: string;
}

export interface ParsedBlocklist {
  ranges: BlocklistRange[];
  /** CIDR entries, kept apart (the filter expands them itself). */
  cidrs: { base: string; bits: number }[];
  /** Lines that were neither a range, a comment nor blank. */
  skipped: number;
}

/** Most bytes of a blocklist after inflating (the big public lists are ~10-20 MiB of text). */
export const MAX_BLOCKLIST_BYTES = 128 << 20;
/** Most entries kept from one list. */
export const MAX_BLOCKLIST_ENTRIES = 2_000_000;

/**
 * Inflates gzip input, or takes the one file of a zip archive (each by its magic bytes),
 * bounded; other input is returned as it is.
 */
export function inflateBlocklist(data: Buffer, maxBytes = MAX_BLOCKLIST_BYTES): Buffer {
  if (isZip(data)) return unzipSingle(data, maxBytes).data;
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      return gunzipSync(data, { maxOutputLength: maxBytes });
    } catch (e) {
      throw new NbtError('BLOCKLIST_BAD', `blocklist: cannot inflate: ${(e as Error).message}`);
    }
  }
  if (data.length > maxBytes) throw new NbtError('BLOCKLIST_BAD', `blocklist: over ${maxBytes} bytes`);
  return data;
}

/** "001.002.003.004" → "1.2.3.4" (DAT files pad octets with zeros); anything else unchanged. */
function unpad(a: string): string {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(a) ? a.split('.').map(Number).join('.') : a;
}

export function parseBlocklist(text: string): ParsedBlocklist {
  const out: ParsedBlocklist = { ranges: [], cidrs: [], skipped: 0 };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('//')) continue;
    if (out.ranges.length + out.cidrs.length >= MAX_BLOCKLIST_ENTRIES) break;
    let body = line;
    // DAT: "from - to , level , description"
    const dat = /^([^,]+?)\s*,\s*(\d+)\s*(?:,.*)?$/.exec(line);
    if (dat && dat[1]!.includes('-')) {
      if (Number(dat[2]) > 127) continue;
      body = dat[1]!;
    } else {
      // P2P: "description:from-to" (the description may itself hold colons; IPv6 has them too).
      const p2p = /^(.*):\s*([0-9.]+\s*-\s*[0-9.]+)$/.exec(line);
      if (p2p) body = p2p[2]!;
    }
    const cidr = /^(\S+)\/(\d{1,3})$/.exec(body);
    if (cidr && isIP(unpad(cidr[1]!))) {
      const width = isIP(unpad(cidr[1]!)) === 4 ? 32 : 128;
      const bits = Number(cidr[2]);
      if (bits <= width) out.cidrs.push({ base: unpad(cidr[1]!), bits });
      else out.skipped++;
      continue;
    }
    const parts = body.split(/\s*-\s*/);
    const from = unpad(parts[0]!.trim());
    const to = unpad((parts[1] ?? parts[0]!).trim());
    if (parts.length <= 2 && isIP(from) !== 0 && isIP(from) === isIP(to)) out.ranges.push({ from, to });
    else out.skipped++;
  }
  return out;
}
