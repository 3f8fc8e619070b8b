/**
 * Which remote addresses we talk to: a list of blocked ranges (IPv4 or IPv6, inclusive) plus an
 * optional user hook that gets the last word. Used for incoming and outgoing connections.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ipv4Bytes, ipv6Bytes } from '../util/compact.js';
import { NbtError } from '../util/errors.js';
import type { ParsedBlocklist } from './blocklist.js';

/** Returns false to block an address. */
export type IpFilterHook = (address: string) => boolean;

interface Range {
  from: bigint;
  to: bigint;
  v6: boolean;
}

export class IpFilter {
  private ranges: Range[] = [];
  /** Sorted, merged copies of `ranges` per family for binary search (rebuilt after changes). */
  private index: { v4: Range[]; v6: Range[] } | undefined;
  hook: IpFilterHook | undefined;

  constructor(hook?: IpFilterHook) {
    this.hook = hook;
  }

  /** Blocks every address from `from` to `to` (inclusive; same family). */
  block(from: string, to: string = from): void {
    const a = toNumber(from);
    const b = toNumber(to);
    if (!a || !b || a.v6 !== b.v6)
      throw new NbtError('IPFILTER_BAD_RANGE', `bad address range ${from} - ${to}`);
    this.ranges.push({ from: a.n < b.n ? a.n : b.n, to: a.n < b.n ? b.n : a.n, v6: a.v6 });
    this.index = undefined;
  }

  /** Adds a parsed blocklist (src/client/blocklist.ts); returns the number of entries added. */
  loadParsed(list: ParsedBlocklist): number {
    for (const r of list.ranges) this.block(r.from, r.to);
    for (const c of list.cidrs) this.blockCidr(c.base, c.bits);
    return list.ranges.length + list.cidrs.length;
  }

  /**
   * Loads a blocklist: one range per line, "a.b.c.d-e.f.g.h", "a.b.c.d/nn" or a single address,
   * optionally after a "description:" prefix (the P2P format). Blank and '#' lines are skipped.
   * Returns the number of ranges added.
   */
  loadBlocklist(text: string): number {
    let n = 0;
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const body =
        line.includes(':') && /^[^:]*:\s*\d+\./.test(line) ? line.slice(line.lastIndexOf(':') + 1) : line;
      const cidr = /^(.+)\/(\d+)$/.exec(body.trim());
      if (cidr) {
        this.blockCidr(cidr[1]!.trim(), Number(cidr[2]));
      } else {
        const [from, to] = body.split('-').map((s) => s.trim());
        this.block(from!, to ?? from!);
      }
      n++;
    }
    return n;
  }

  blockCidr(base: string, bits: number): void {
    const a = toNumber(base);
    const width = a?.v6 ? 128 : 32;
    if (!a || !Number.isInteger(bits) || bits < 0 || bits > width)
      throw new NbtError('IPFILTER_BAD_RANGE', `bad CIDR ${base}/${bits}`);
    const host = (1n << BigInt(width - bits)) - 1n;
    this.ranges.push({ from: a.n & ~host, to: a.n | host, v6: a.v6 });
    this.index = undefined;
  }

  clear(): void {
    this.ranges = [];
    this.index = undefined;
  }

  get size(): number {
    return this.ranges.length;
  }

  /** True when we may talk to `address`. */
  allows(address: string): boolean {
    const a = toNumber(address);
    if (a && this.ranges.length > 0) {
      this.index ??= { v4: merged(this.ranges, false), v6: merged(this.ranges, true) };
      const list = a.v6 ? this.index.v6 : this.index.v4;
      // The last range starting at or before the address is the only one that can hold it.
      let lo = 0;
      let hi = list.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid]!.from <= a.n) lo = mid + 1;
        else hi = mid - 1;
      }
      if (hi >= 0 && a.n <= list[hi]!.to) return false;
    }
    return this.hook ? this.hook(address) !== false : true;
  }
}

/** One family's ranges sorted by start, overlapping and adjacent ones joined. */
function merged(ranges: readonly Range[], v6: boolean): Range[] {
  const sorted = ranges
    .filter((r) => r.v6 === v6)
    .sort((x, y) => (x.from < y.from ? -1 : x.from > y.from ? 1 : 0));
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1n) {
      if (r.to > last.to) last.to = r.to;
    } else out.push({ ...r });
  }
  return out;
}

function toNumber(address: string): { n: bigint; v6: boolean } | undefined {
  const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  const bytes = isIPv4(plain) ? ipv4Bytes(plain) : isIPv6(plain) ? ipv6Bytes(plain) : undefined;
  if (!bytes) return undefined;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return { n, v6: bytes.length === 16 };
}
