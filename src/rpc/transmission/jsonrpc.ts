/**
 * The JSON-RPC 2.0 form of the Transmission RPC (Transmission 4.1, rpc_version_semver 6.0.0),
 * on the same endpoint as the legacy form: `{"jsonrpc":"2.0","method":"torrent_get",
 * "params":{…},"id":1}` → `{"jsonrpc":"2.0","result":{…},"id":1}`, snake_case names throughout.
 * Pure: a request is turned into a legacy call (method, arguments) that runMethod answers, and
 * that answer back into a JSON-RPC response, the way Transmission's own api-compat layer maps
 * between the two forms. Batches (arrays) and notifications (no id: no response) as the spec
 * says; errors as JSON-RPC error objects with Transmission's codes.
 */
import { isLegacyName, legacyName, snakeName } from './jsonrpc-names.js';

/** Transmission 4.1's error codes: JSON-RPC's own, then its application codes from 1. */
export const JsonRpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  SUCCESS: 0,
  SET_ANNOUNCE_LIST: 1,
  INVALID_TRACKER_LIST: 2,
  PATH_NOT_ABSOLUTE: 3,
  UNRECOGNIZED_INFO: 4,
  SYSTEM_ERROR: 5,
  FILE_IDX_OOR: 6,
  PIECE_IDX_OOR: 7,
  HTTP_ERROR: 8,
  CORRUPT_TORRENT: 9,
  INVALID_BLOCKLIST_DATA: 10,
} as const;
export type JsonRpcCode = (typeof JsonRpcCode)[keyof typeof JsonRpcCode];

/** The `message` of each code, as Transmission words it. */
const MESSAGES: Record<JsonRpcCode, string> = {
  [JsonRpcCode.PARSE_ERROR]: 'Parse error',
  [JsonRpcCode.INVALID_REQUEST]: 'Invalid Request',
  [JsonRpcCode.METHOD_NOT_FOUND]: 'Method not found',
  [JsonRpcCode.INVALID_PARAMS]: 'Invalid params',
  [JsonRpcCode.INTERNAL_ERROR]: 'Internal error',
  [JsonRpcCode.SUCCESS]: 'success',
  [JsonRpcCode.SET_ANNOUNCE_LIST]: 'error setting announce list',
  [JsonRpcCode.INVALID_TRACKER_LIST]: 'Invalid tracker list',
  [JsonRpcCode.PATH_NOT_ABSOLUTE]: 'path is not absolute',
  [JsonRpcCode.UNRECOGNIZED_INFO]: 'unrecognized info',
  [JsonRpcCode.SYSTEM_ERROR]: 'system error',
  [JsonRpcCode.FILE_IDX_OOR]: 'file index out of range',
  [JsonRpcCode.PIECE_IDX_OOR]: 'piece index out of range',
  [JsonRpcCode.HTTP_ERROR]: 'HTTP error from backend service',
  [JsonRpcCode.CORRUPT_TORRENT]: 'invalid or corrupt torrent file',
  [JsonRpcCode.INVALID_BLOCKLIST_DATA]: "couldn't parse any valid blocklist rules",
};

export type JsonRpcId = string | number | null;

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  result?: Record<string, unknown>;
  error?: {
    code: number;
    message: string;
    data?: { error_string?: string; result?: Record<string, unknown> };
  };
  id: JsonRpcId;
}

/** A request turned into the legacy call it stands for. */
export interface LegacyCall {
  kind: 'call';
  method: string;
  arguments: Record<string, unknown>;
  /** Absent for a notification (no response is sent). */
  id?: JsonRpcId;
  /** A notification to a method without side effects is not run at all (Transmission's rule). */
  skip: boolean;
}

/** What runMethod answered, in its legacy form. */
export interface LegacyAnswer {
  result: string;
  arguments: Record<string, unknown>;
  code: JsonRpcCode;
}

/** Methods a notification would run for nothing: they only read. */
const READ_ONLY = new Set([
  'torrent-get',
  'session-get',
  'session-stats',
  'free-space',
  'port-test',
  'group-get',
]);

/** Whether a parsed body is in the JSON-RPC form (an object naming `jsonrpc`, or a batch). */
export function isJsonRpc(body: unknown): boolean {
  return Array.isArray(body) || (isObject(body) && 'jsonrpc' in body);
}

/** One request object of a body (or of a batch): the call to make, or the error to answer. */
export function parseRequest(v: unknown): LegacyCall | JsonRpcResponse {
  if (!isObject(v)) return errorResponse(null, JsonRpcCode.INVALID_REQUEST, 'request must be an Object');
  if (v['jsonrpc'] !== '2.0')
    return errorResponse(null, JsonRpcCode.INVALID_REQUEST, 'JSON-RPC version is not 2.0');
  const hasId = 'id' in v;
  const id = v['id'];
  if (hasId && !isValidId(id))
    return errorResponse(null, JsonRpcCode.INVALID_REQUEST, 'id type must be String, Number, or Null');
  const idPart = hasId ? { id: id as JsonRpcId } : {};
  const method = v['method'];
  if (typeof method !== 'string')
    return errorResponse(
      hasId ? (id as JsonRpcId) : null,
      JsonRpcCode.INVALID_REQUEST,
      'method must be a String',
    );
  const params = v['params'] ?? {};
  if (!isObject(params))
    return errorResponse(
      hasId ? (id as JsonRpcId) : null,
      JsonRpcCode.INVALID_PARAMS,
      'params must be an Object',
    );
  // Only the snake_case names are methods here: a legacy name in the new form is unknown, as
  // it is to Transmission.
  const legacy = legacyName(method, false);
  const known = legacy !== method && isLegacyName(legacy);
  const torrentScope = legacy === 'torrent-get' || legacy === 'torrent-set';
  return {
    kind: 'call',
    method: known ? legacy : '',
    arguments: paramsIn(params, torrentScope),
    ...idPart,
    skip: !hasId && READ_ONLY.has(legacy),
  };
}

/** The response to a call that ran (undefined for a notification). */
export function responseTo(call: LegacyCall, answer: LegacyAnswer): JsonRpcResponse | undefined {
  if (!('id' in call)) return undefined;
  const id = call.id ?? null;
  if (answer.code === JsonRpcCode.SUCCESS) return { jsonrpc: '2.0', result: resultOut(answer.arguments), id };
  const data = Object.keys(answer.arguments).length > 0 ? resultOut(answer.arguments) : undefined;
  // The legacy result string says what went wrong; it becomes error_string unless it only
  // repeats the message.
  const detail = answer.result !== MESSAGES[answer.code] ? answer.result : undefined;
  return errorResponse(id, answer.code, detail, data);
}

export function errorResponse(
  id: JsonRpcId,
  code: JsonRpcCode,
  errorString?: string,
  result?: Record<string, unknown>,
): JsonRpcResponse {
  const data = {
    ...(errorString ? { error_string: errorString } : {}),
    ...(result ? { result } : {}),
  };
  return {
    jsonrpc: '2.0',
    error: { code, message: MESSAGES[code], ...(Object.keys(data).length > 0 ? { data } : {}) },
    id,
  };
}

// ---- names -------------------------------------------------------------------------------------

/** Nesting beyond this is passed on as it is (no RPC argument nests this deep). */
const MAX_DEPTH = 16;

function paramsIn(
  params: Record<string, unknown>,
  torrentScope: boolean,
  depth = 0,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === '__proto__') continue;
    const key = legacyName(k, torrentScope);
    out[key] = depth < MAX_DEPTH ? valueIn(key, v, torrentScope, depth + 1) : v;
  }
  return out;
}

function valueIn(key: string, v: unknown, torrentScope: boolean, depth: number): unknown {
  if (key === 'fields' && Array.isArray(v))
    return v.map((f) => (typeof f === 'string' ? legacyName(f, torrentScope) : f));
  if (key === 'ids') {
    if (v === 'recently_active') return 'recently-active';
    return v;
  }
  // 4.1 calls Transmission's "tolerated" encryption "allowed".
  if (key === 'encryption' && v === 'allowed') return 'tolerated';
  if (isObject(v)) return paramsIn(v, torrentScope, depth);
  if (Array.isArray(v)) return v.map((x) => (isObject(x) ? paramsIn(x, torrentScope, depth) : x));
  return v;
}

function resultOut(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (k === 'torrents' && Array.isArray(v)) out[k] = torrentsOut(v);
    else if (k === 'encryption' && v === 'tolerated') out[k] = 'allowed';
    else out[isLegacyName(k) ? snakeName(k) : k] = valueOut(v);
  }
  return out;
}

function valueOut(v: unknown): unknown {
  if (isObject(v)) return resultOut(v);
  if (Array.isArray(v)) return v.map(valueOut);
  return v;
}

/** torrent-get's list: objects, or a table whose first row names the fields. */
function torrentsOut(list: unknown[]): unknown[] {
  if (Array.isArray(list[0])) {
    const names = list[0].map((n) => (typeof n === 'string' && isLegacyName(n) ? snakeName(n) : n));
    const wanted = names.indexOf('wanted');
    return [
      names,
      ...list.slice(1).map((row) => {
        if (!Array.isArray(row)) return row;
        const r = row.map(valueOut);
        if (wanted >= 0) r[wanted] = wantedOut(r[wanted]);
        return r;
      }),
    ];
  }
  return list.map((t) => {
    if (!isObject(t)) return t;
    const o = resultOut(t);
    if ('wanted' in o) o['wanted'] = wantedOut(o['wanted']);
    return o;
  });
}

/** Legacy `wanted` is 0/1 (Transmission 3's quirk); 4.1 sends booleans. */
function wantedOut(v: unknown): unknown {
  return Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x !== 0 : x)) : v;
}

function isValidId(v: unknown): boolean {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
