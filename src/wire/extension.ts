import { decode, encode, isDict, isInt, dictGet, type BDict, type BEncodable } from '../bencode/index.js';
import { NbtError } from '../util/errors.js';

/**
 * The BEP 10 extension handshake (extended message id 0). Known keys are typed; every other key
 * the remote sent is kept in `extra` so that later extensions can read it and so that it
 * round-trips when we encode.
 */
export interface ExtendedHandshake {
  /** Extension name → message id the sender wants to receive it as (0 = disabled). */
  m: Map<string, number>;
  /** The sender's listen port. */
  p?: number;
  /** Client name and version, UTF-8. */
  v?: string;
  /** Our address as the sender sees it (4 or 16 bytes). */
  yourip?: Buffer;
  /** The sender's own IPv4 / IPv6 address. */
  ipv4?: Buffer;
  ipv6?: Buffer;
  /** How many outstanding requests the sender accepts. */
  reqq?: number;
  /** BEP 9: size of the info dictionary in bytes. */
  metadataSize?: number;
  /** BEP 21: the sender only uploads. */
  uploadOnly?: boolean;
  /** Every key not listed above, as decoded. */
  extra: BDict;
}

/** Longest extension handshake we decode (libtorrent limits its own to ~1 KiB; be generous). */
export const MAX_EXTENDED_HANDSHAKE = 64 * 1024;
const KNOWN = new Set(['m', 'p', 'v', 'yourip', 'ipv4', 'ipv6', 'reqq', 'metadata_size', 'upload_only']);

export function parseExtendedHandshake(payload: Uint8Array): ExtendedHandshake {
  if (payload.length > MAX_EXTENDED_HANDSHAKE)
    throw new NbtError('WIRE_BAD_EXTENDED', `extension handshake of ${payload.length} bytes is too large`);
  let root;
  try {
    root = decode(payload, { maxDepth: 8, maxTokens: 10_000, allowUnsorted: true });
  } catch (e) {
    throw new NbtError('WIRE_BAD_EXTENDED', `extension handshake is not bencode: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (!isDict(root)) throw new NbtError('WIRE_BAD_EXTENDED', 'extension handshake is not a dictionary');
  const out: ExtendedHandshake = { m: new Map(), extra: {} };
  const m = dictGet(root, 'm');
  if (isDict(m)) {
    for (const key of Object.keys(m)) {
      const id = m[key];
      const n = typeof id === 'number' ? id : undefined;
      // Ids are one byte on the wire; anything else is ignored rather than fatal.
      if (n !== undefined && Number.isInteger(n) && n >= 0 && n <= 255) out.m.set(key, n);
    }
  }
  const int = (k: string, max: number): number | undefined => {
    const v = dictGet(root, k);
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : undefined;
  };
  const bytes = (k: string, ...lengths: number[]): Buffer | undefined => {
    const v = dictGet(root, k);
    return Buffer.isBuffer(v) && lengths.includes(v.length) ? Buffer.from(v) : undefined;
  };
  const p = int('p', 65535);
  if (p !== undefined && p > 0) out.p = p;
  const v = dictGet(root, 'v');
  if (Buffer.isBuffer(v)) out.v = v.subarray(0, 256).toString('utf8');
  const yourip = bytes('yourip', 4, 16);
  if (yourip) out.yourip = yourip;
  const ipv4 = bytes('ipv4', 4);
  if (ipv4) out.ipv4 = ipv4;
  const ipv6 = bytes('ipv6', 16);
  if (ipv6) out.ipv6 = ipv6;
  const reqq = int('reqq', 0xffffffff);
  if (reqq !== undefined) out.reqq = reqq;
  const ms = int('metadata_size', Number.MAX_SAFE_INTEGER);
  if (ms !== undefined) out.metadataSize = ms;
  const uo = dictGet(root, 'upload_only');
  if (isInt(uo)) out.uploadOnly = uo !== 0 && uo !== 0n;
  for (const key of Object.keys(root)) if (!KNOWN.has(key)) out.extra[key] = root[key]!;
  return out;
}

/** Encodes an extension handshake payload (without the message header). */
export function encodeExtendedHandshake(h: Partial<ExtendedHandshake>): Buffer {
  const d: Record<string, BEncodable> = {};
  for (const [k, v] of Object.entries(h.extra ?? {})) if (!KNOWN.has(k)) d[k] = v;
  const m: Record<string, number> = {};
  for (const [k, v] of h.m ?? []) m[k] = v;
  d.m = m;
  if (h.p !== undefined) d.p = h.p;
  if (h.v !== undefined) d.v = h.v;
  if (h.yourip) d.yourip = h.yourip;
  if (h.ipv4) d.ipv4 = h.ipv4;
  if (h.ipv6) d.ipv6 = h.ipv6;
  if (h.reqq !== undefined) d.reqq = h.reqq;
  if (h.metadataSize !== undefined) d.metadata_size = h.metadataSize;
  if (h.uploadOnly !== undefined) d.upload_only = h.uploadOnly ? 1 : 0;
  return encode(d);
}

/**
 * Maps extension names to message ids in both directions. Incoming extended messages carry OUR
 * local id (the one we advertised in our handshake's `m`); outgoing ones must use the id the
 * remote advertised. Extensions are added by name, so later modules (ut_metadata, ut_pex, ...)
 * only need `register('ut_pex')`.
 */
const NO_EXTENSIONS: ReadonlyMap<string, number> = new Map();

/**
 * Our local ids, shared: every peer of a torrent registers the same names in the same order, so
 * each registry points into one interned chain of immutable tables (~0.4 KB per connection
 * otherwise). `after` maps the next register() call to the table it leads to.
 */
interface LocalIds {
  readonly byName: ReadonlyMap<string, number>;
  readonly byId: ReadonlyMap<number, string>;
  after?: Map<string, LocalIds>;
}

const NO_LOCAL: LocalIds = { byName: new Map(), byId: new Map() };
/** Interned tables in all (names come from code and the client's extensions; a bound all the same). */
const MAX_INTERNED = 4096;
let interned = 0;

export class ExtensionRegistry {
  private local: LocalIds = NO_LOCAL;
  /** Replaced, never changed in place: every registry starts with the same empty map. */
  private remote: ReadonlyMap<string, number> = NO_EXTENSIONS;

  constructor(names: Iterable<string> = []) {
    for (const n of names) this.register(n);
  }

  /** Adds a local extension; returns its id (the next free id from 1, or `id` if given and free). */
  register(name: string, id?: number): number {
    const existing = this.local.byName.get(name);
    if (existing !== undefined) return existing;
    const key = id === undefined ? name : `${name}\0${id}`;
    let next = this.local.after?.get(key);
    if (!next) {
      const byId = this.local.byId;
      let chosen = id;
      if (chosen === undefined || byId.has(chosen) || chosen < 1 || chosen > 255) {
        chosen = 1;
        while (byId.has(chosen)) chosen++;
        if (chosen > 255) throw new NbtError('WIRE_TOO_MANY_EXTENSIONS', 'more than 255 extensions');
      }
      next = {
        byName: new Map(this.local.byName).set(name, chosen),
        byId: new Map(byId).set(chosen, name),
      };
      if (interned < MAX_INTERNED) {
        interned++;
        (this.local.after ??= new Map()).set(key, next);
      }
    }
    this.local = next;
    return next.byName.get(name)!;
  }

  /** Our id for `name`, if registered. */
  localId(name: string): number | undefined {
    return this.local.byName.get(name);
  }

  /** The name of one of our local ids (for decoding incoming extended messages). */
  nameOf(localId: number): string | undefined {
    return this.local.byId.get(localId);
  }

  /** The `m` dictionary for our extension handshake. */
  get localMap(): Map<string, number> {
    return new Map(this.local.byName);
  }

  /**
   * Applies the remote's `m` from its (possibly repeated) extension handshake: a later handshake
   * updates ids and an id of 0 disables an extension.
   */
  updateRemote(m: ReadonlyMap<string, number>): void {
    const next = new Map(this.remote);
    for (const [name, id] of m) {
      if (id === 0) next.delete(name);
      else next.set(name, id);
    }
    this.remote = next;
  }

  /** The id to send `name` with, or undefined when the remote does not support it. */
  remoteId(name: string): number | undefined {
    return this.remote.get(name);
  }

  remoteSupports(name: string): boolean {
    return this.remote.has(name);
  }

  /** Names the remote supports. */
  get remoteNames(): string[] {
    return [...this.remote.keys()];
  }
}
