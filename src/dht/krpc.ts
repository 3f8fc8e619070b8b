/**
 * KRPC (BEP 5) codec: bencoded queries, responses and errors over UDP, plus BEP 32 (nodes6,
 * want), BEP 42 (`ip`) and BEP 43 (`ro`). Pure: bytes in, typed messages out. The decoder
 * throws only NbtError and bounds packet size, nesting, token and list sizes.
 */
import {
  decode,
  encode,
  isBytes,
  isDict,
  isInt,
  dictGet,
  type BDict,
  type BValue,
  type BEncodable,
} from '../bencode/index.js';
import { NbtError } from '../util/errors.js';
import {
  decodeCompactPeers,
  decodeCompactPeers6,
  encodeCompactPeers,
  type PeerAddress,
} from '../util/compact.js';
import { ID_LENGTH } from './node-id.js';

/** Largest datagram we decode; real KRPC packets stay well under 1500 bytes. */
export const MAX_PACKET_SIZE = 4096;
export const MAX_TRANSACTION_ID = 16;
export const MAX_TOKEN_LENGTH = 64;
export const MAX_VALUES = 256;

export const ErrorCode = { GENERIC: 201, SERVER: 202, PROTOCOL: 203, METHOD_UNKNOWN: 204 } as const;

/** A node as carried in compact node info: 20-byte id + address. */
export interface NodeInfo extends PeerAddress {
  id: Buffer;
}

export type QueryMethod = 'ping' | 'find_node' | 'get_peers' | 'announce_peer';
export type Want = 'n4' | 'n6';

export interface QueryArgs {
  id: Buffer;
  /** find_node */
  target?: Buffer;
  /** get_peers, announce_peer */
  infoHash?: Buffer;
  /** announce_peer */
  port?: number;
  token?: Buffer;
  impliedPort?: boolean;
  /** BEP 32 */
  want?: Want[];
}

export interface KrpcQuery {
  y: 'q';
  t: Buffer;
  /** Known methods are typed; any other name is kept so the node can answer 204. */
  q: QueryMethod | (string & {});
  a: QueryArgs;
  /** BEP 43 read-only sender. */
  ro?: boolean;
  v?: Buffer;
}

export interface ResponseBody {
  id: Buffer;
  nodes?: NodeInfo[];
  nodes6?: NodeInfo[];
  values?: PeerAddress[];
  token?: Buffer;
}

export interface KrpcResponse {
  y: 'r';
  t: Buffer;
  r: ResponseBody;
  /** BEP 42: the requester's address as the responder saw it. */
  ip?: PeerAddress;
  v?: Buffer;
}

export interface KrpcError {
  y: 'e';
  t: Buffer;
  code: number;
  message: string;
  ip?: PeerAddress;
  v?: Buffer;
}

export type KrpcMessage = KrpcQuery | KrpcResponse | KrpcError;

function fail(code: string, message: string): never {
  throw new NbtError(code, `krpc: ${message}`);
}

// ---- compact node info ----

export function decodeCompactNodes(buf: Buffer, family: 4 | 6): NodeInfo[] {
  const size = family === 4 ? 26 : 38;
  if (buf.length % size !== 0)
    fail(
      'KRPC_BAD_NODES',
      `compact nodes${family === 6 ? '6' : ''} length ${buf.length} is not a multiple of ${size}`,
    );
  const out: NodeInfo[] = [];
  for (let i = 0; i < buf.length; i += size) {
    const addr = buf.subarray(i + ID_LENGTH, i + size);
    const [peer] = family === 4 ? decodeCompactPeers(addr) : decodeCompactPeers6(addr);
    if (peer) out.push({ id: Buffer.from(buf.subarray(i, i + ID_LENGTH)), host: peer.host, port: peer.port });
  }
  return out;
}

export function encodeCompactNodes(nodes: readonly NodeInfo[], family: 4 | 6): Buffer {
  const chunks: Buffer[] = [];
  for (const n of nodes) {
    const addr = encodeCompactPeers([n], family);
    if (addr.length > 0 && n.id.length === ID_LENGTH) chunks.push(n.id, addr);
  }
  return Buffer.concat(chunks);
}

// ---- decode ----

function bytesField(d: BDict, key: string, required: true): Buffer;
function bytesField(d: BDict, key: string, required: false): Buffer | undefined;
function bytesField(d: BDict, key: string, required: boolean): Buffer | undefined {
  const v = dictGet(d, key);
  if (v === undefined) {
    if (required) fail('KRPC_MISSING_FIELD', `missing "${key}"`);
    return undefined;
  }
  if (!isBytes(v)) fail('KRPC_BAD_FIELD', `"${key}" is not a byte string`);
  return v;
}

function idField(d: BDict, key: string): Buffer {
  const v = bytesField(d, key, true);
  if (v.length !== ID_LENGTH) fail('KRPC_BAD_ID', `"${key}" is ${v.length} bytes, not ${ID_LENGTH}`);
  return v;
}

function intField(d: BDict, key: string): number | undefined {
  const v = dictGet(d, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number') fail('KRPC_BAD_FIELD', `"${key}" is not a small integer`);
  return v;
}

function decodeIp(v: BValue | undefined): PeerAddress | undefined {
  if (!isBytes(v)) return undefined;
  if (v.length === 6) return decodeCompactPeers(v)[0];
  if (v.length === 18) return decodeCompactPeers6(v)[0];
  return undefined;
}

function decodeWant(v: BValue | undefined): Want[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: Want[] = [];
  for (const w of v.slice(0, 4)) {
    const s = isBytes(w) ? w.toString('latin1') : '';
    if ((s === 'n4' || s === 'n6') && !out.includes(s)) out.push(s);
  }
  return out;
}

function decodeArgs(a: BDict, q: string): QueryArgs {
  const args: QueryArgs = { id: idField(a, 'id') };
  const want = decodeWant(dictGet(a, 'want'));
  if (want) args.want = want;
  if (q === 'find_node') args.target = idField(a, 'target');
  if (q === 'get_peers' || q === 'announce_peer') args.infoHash = idField(a, 'info_hash');
  if (q === 'announce_peer') {
    const port = intField(a, 'port');
    args.impliedPort = (intField(a, 'implied_port') ?? 0) !== 0;
    if (!args.impliedPort && (port === undefined || port < 1 || port > 65535))
      fail('KRPC_BAD_PORT', `bad announce port ${String(port)}`);
    if (port !== undefined && port >= 0 && port <= 65535) args.port = port;
    const token = bytesField(a, 'token', true);
    if (token.length > MAX_TOKEN_LENGTH) fail('KRPC_BAD_TOKEN', `token of ${token.length} bytes`);
    args.token = token;
  }
  return args;
}

function decodeValues(v: BValue | undefined): PeerAddress[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) fail('KRPC_BAD_FIELD', '"values" is not a list');
  if (v.length > MAX_VALUES) fail('KRPC_TOO_MANY_VALUES', `${v.length} values`);
  const out: PeerAddress[] = [];
  // Malformed entries are skipped: one bad peer string should not cost the rest.
  for (const item of v) {
    if (!isBytes(item)) continue;
    if (item.length === 6) out.push(...decodeCompactPeers(item));
    else if (item.length === 18) out.push(...decodeCompactPeers6(item));
  }
  return out;
}

function decodeBody(r: BDict): ResponseBody {
  const body: ResponseBody = { id: idField(r, 'id') };
  const nodes = bytesField(r, 'nodes', false);
  if (nodes) body.nodes = decodeCompactNodes(nodes, 4);
  const nodes6 = bytesField(r, 'nodes6', false);
  if (nodes6) body.nodes6 = decodeCompactNodes(nodes6, 6);
  const token = bytesField(r, 'token', false);
  if (token) {
    if (token.length > MAX_TOKEN_LENGTH) fail('KRPC_BAD_TOKEN', `token of ${token.length} bytes`);
    body.token = token;
  }
  const values = decodeValues(dictGet(r, 'values'));
  if (values) body.values = values;
  return body;
}

/** Decodes one datagram. Throws NbtError (KRPC_* or BENCODE_*) for anything malformed. */
export function decodeKrpc(packet: Uint8Array): KrpcMessage {
  if (packet.length > MAX_PACKET_SIZE) fail('KRPC_TOO_LARGE', `packet of ${packet.length} bytes`);
  const msg = decode(packet, { maxDepth: 6, maxTokens: 2 * MAX_VALUES + 64, allowUnsorted: true });
  if (!isDict(msg)) fail('KRPC_NOT_DICT', 'message is not a dictionary');
  const t = bytesField(msg, 't', true);
  if (t.length === 0 || t.length > MAX_TRANSACTION_ID)
    fail('KRPC_BAD_TRANSACTION', `transaction id of ${t.length} bytes`);
  const y = bytesField(msg, 'y', true).toString('latin1');
  const v = bytesField(msg, 'v', false);
  const extra = v ? { v } : {};
  if (y === 'q') {
    const q = bytesField(msg, 'q', true).toString('latin1');
    if (q.length === 0 || q.length > 32) fail('KRPC_BAD_METHOD', 'bad method name');
    const a = dictGet(msg, 'a');
    if (!isDict(a)) fail('KRPC_MISSING_FIELD', 'query without "a" dictionary');
    const query: KrpcQuery = { y: 'q', t, q, a: decodeArgs(a, q), ...extra };
    if (intField(msg, 'ro') === 1) query.ro = true;
    return query;
  }
  const ip = decodeIp(dictGet(msg, 'ip'));
  const withIp = ip ? { ip, ...extra } : extra;
  if (y === 'r') {
    const r = dictGet(msg, 'r');
    if (!isDict(r)) fail('KRPC_MISSING_FIELD', 'response without "r" dictionary');
    return { y: 'r', t, r: decodeBody(r), ...withIp };
  }
  if (y === 'e') {
    const e = dictGet(msg, 'e');
    if (!Array.isArray(e) || e.length < 1 || !isInt(e[0]))
      fail('KRPC_BAD_ERROR', 'error without [code, message]');
    const code = Number(e[0]);
    const message = isBytes(e[1]) ? e[1].subarray(0, 256).toString('utf8') : '';
    return { y: 'e', t, code, message, ...withIp };
  }
  return fail('KRPC_BAD_TYPE', `unknown message type "${y.slice(0, 8)}"`);
}

// ---- encode ----

/** One address in compact form (6 or 18 bytes), or an empty buffer for a non-IP host. */
export function compactAddress(p: PeerAddress): Buffer {
  const v4 = encodeCompactPeers([p], 4);
  return v4.length ? v4 : encodeCompactPeers([p], 6);
}

function encodeIp(ip: PeerAddress | undefined): Buffer | undefined {
  const b = ip ? compactAddress(ip) : undefined;
  return b && b.length ? b : undefined;
}

export function encodeKrpc(msg: KrpcMessage): Buffer {
  const top: { [k: string]: BEncodable | undefined } = { t: msg.t, y: msg.y, v: msg.v };
  if (msg.y === 'q') {
    const a = msg.a;
    top.q = msg.q;
    top.a = {
      id: a.id,
      target: a.target,
      info_hash: a.infoHash,
      port: a.port,
      token: a.token,
      implied_port: a.impliedPort === undefined ? undefined : a.impliedPort ? 1 : 0,
      want: a.want,
    };
    if (msg.ro) top.ro = 1;
  } else if (msg.y === 'r') {
    const r = msg.r;
    top.r = {
      id: r.id,
      nodes: r.nodes ? encodeCompactNodes(r.nodes, 4) : undefined,
      nodes6: r.nodes6 ? encodeCompactNodes(r.nodes6, 6) : undefined,
      token: r.token,
      values: r.values?.map(compactAddress).filter((b) => b.length > 0),
    };
    top.ip = encodeIp(msg.ip);
  } else {
    top.e = [msg.code, msg.message];
    top.ip = encodeIp(msg.ip);
  }
  return encode(top);
}
