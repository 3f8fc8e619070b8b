/**
 * The JSON-RPC 2.0 form (Transmission 4.1) as a pure mapping: request → legacy call, legacy
 * answer → response; names both ways; malformed requests become error objects, never throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorResponse,
  isJsonRpc,
  JsonRpcCode,
  parseRequest,
  responseTo,
  type LegacyCall,
} from '../../../src/rpc/transmission/jsonrpc.js';
import {
  isLegacyName,
  legacyName,
  LEGACY_NAMES,
  snakeName,
} from '../../../src/rpc/transmission/jsonrpc-names.js';
import { torrentFieldNames } from '../../../src/rpc/transmission/torrent-fields.js';
import { prng } from '../../helpers/prng.js';

function call(v: unknown): LegacyCall {
  const c = parseRequest(v);
  assert.ok('kind' in c, `not a call: ${JSON.stringify(c)}`);
  return c;
}

test('names: snake_case both ways, with 4.1 exceptions (cache_size_mib, download_dir by scope)', () => {
  assert.equal(snakeName('activityDate'), 'activity_date');
  assert.equal(snakeName('isUTP'), 'is_utp');
  assert.equal(snakeName('peer-limit'), 'peer_limit');
  assert.equal(snakeName('rpc-version-semver'), 'rpc_version_semver');
  assert.equal(snakeName('cache-size-mb'), 'cache_size_mib');
  assert.equal(legacyName('cache_size_mib', false), 'cache-size-mb');
  assert.equal(legacyName('download_dir', true), 'downloadDir');
  assert.equal(legacyName('download_dir', false), 'download-dir');
  assert.equal(legacyName('torrent_get', false), 'torrent-get');
  assert.equal(legacyName('ids', false), 'ids');
  assert.equal(legacyName('sequential_download', true), 'sequentialDownload');
  assert.equal(legacyName('watch_dir_enabled', false), 'watch-dir-enabled');
  // Every legacy name round-trips, and no two share a snake form.
  const snakes = new Set<string>();
  for (const n of LEGACY_NAMES) {
    const s = snakeName(n);
    assert.ok(/^[a-z0-9_]+$/.test(s), s);
    assert.equal(legacyName(s, false), n);
    assert.ok(!snakes.has(s), `duplicate ${s}`);
    snakes.add(s);
  }
  // Every torrent-get field we serve has its 4.1 name, which leads back to a field we serve
  // (fileCount and file-count are both file_count).
  for (const f of torrentFieldNames) {
    if (f === f.toLowerCase() && !f.includes('-')) continue;
    assert.ok(torrentFieldNames.includes(legacyName(snakeName(f), true)), `torrent field ${f}`);
    assert.ok(isLegacyName(f), `torrent field ${f} has no 4.1 name`);
  }
});

test('a request becomes the legacy call: method, params (fields, ids, nested keys) in legacy names', () => {
  const c = call({
    jsonrpc: '2.0',
    method: 'torrent_get',
    params: { fields: ['id', 'hash_string', 'download_dir', 'seed_ratio_mode'], ids: 'recently_active' },
    id: 7,
  });
  assert.equal(c.method, 'torrent-get');
  assert.deepEqual(c.arguments, {
    fields: ['id', 'hashString', 'downloadDir', 'seedRatioMode'],
    ids: 'recently-active',
  });
  assert.equal(c.id, 7);
  assert.equal(c.skip, false);
  const add = call({
    jsonrpc: '2.0',
    method: 'torrent_add',
    params: { metainfo: 'x', download_dir: '/d', paused: true },
    id: 'a',
  });
  assert.equal(add.method, 'torrent-add');
  assert.deepEqual(add.arguments, { metainfo: 'x', 'download-dir': '/d', paused: true });
  const set = call({
    jsonrpc: '2.0',
    method: 'session_set',
    params: { speed_limit_down: 5, encryption: 'allowed', alt_speed_time_enabled: true },
    id: null,
  });
  assert.deepEqual(set.arguments, {
    'speed-limit-down': 5,
    encryption: 'tolerated',
    'alt-speed-time-enabled': true,
  });
  assert.equal(set.id, null);
  const ts = call({
    jsonrpc: '2.0',
    method: 'torrent_set',
    params: { files_wanted: [0], upload_limit: 3 },
    id: 1,
  });
  assert.deepEqual(ts.arguments, { 'files-wanted': [0], uploadLimit: 3 });
});

test('notifications: no id means no response; read-only methods are not run at all', () => {
  const get = call({ jsonrpc: '2.0', method: 'session_get' });
  assert.equal(get.skip, true);
  assert.ok(!('id' in get));
  const stop = call({ jsonrpc: '2.0', method: 'torrent_stop', params: { ids: [1] } });
  assert.equal(stop.skip, false);
  assert.equal(responseTo(stop, { result: 'success', arguments: {}, code: JsonRpcCode.SUCCESS }), undefined);
});

test('bad requests become JSON-RPC error objects (Invalid Request, Invalid params), id null when unknown', () => {
  const bad = (v: unknown, code: number, id: unknown = null): void => {
    const r = parseRequest(v);
    assert.ok(!('kind' in r), JSON.stringify(v));
    assert.equal(r.error!.code, code, JSON.stringify(v));
    assert.equal(r.id, id);
    assert.equal(r.jsonrpc, '2.0');
  };
  bad(5, JsonRpcCode.INVALID_REQUEST);
  bad(null, JsonRpcCode.INVALID_REQUEST);
  bad({ jsonrpc: '1.0', method: 'session_get', id: 1 }, JsonRpcCode.INVALID_REQUEST);
  bad({ jsonrpc: '2.0', method: 'session_get', id: { x: 1 } }, JsonRpcCode.INVALID_REQUEST);
  bad({ jsonrpc: '2.0', method: 'session_get', id: [1] }, JsonRpcCode.INVALID_REQUEST);
  bad({ jsonrpc: '2.0', method: 42, id: 3 }, JsonRpcCode.INVALID_REQUEST, 3);
  bad({ jsonrpc: '2.0', method: 'session_get', params: [1, 2], id: 4 }, JsonRpcCode.INVALID_PARAMS, 4);
  const e = errorResponse(9, JsonRpcCode.METHOD_NOT_FOUND);
  assert.deepEqual(e, { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: 9 });
  // A legacy or unknown method name in the new form is no method (runMethod answers not found).
  assert.equal(call({ jsonrpc: '2.0', method: 'torrent-get', id: 1 }).method, '');
  assert.equal(call({ jsonrpc: '2.0', method: 'no_such', id: 1 }).method, '');
  assert.equal(call({ jsonrpc: '2.0', method: 'constructor', id: 1 }).method, '');
  assert.ok(isJsonRpc({ jsonrpc: '2.0' }) && isJsonRpc([]) && !isJsonRpc({ method: 'session-get' }));
});

test('answers: result in snake_case (tables, wanted as booleans, tolerated → allowed); errors with data', () => {
  const c = call({ jsonrpc: '2.0', method: 'torrent_get', params: { fields: ['id'] }, id: 1 });
  const ok = responseTo(c, {
    result: 'success',
    arguments: {
      torrents: [
        {
          id: 1,
          hashString: 'ab',
          downloadDir: '/d',
          wanted: [1, 0],
          fileStats: [{ bytesCompleted: 3, wanted: true, priority: 0 }],
          peersFrom: { fromTracker: 2 },
        },
      ],
      removed: [],
    },
    code: JsonRpcCode.SUCCESS,
  });
  assert.deepEqual(ok, {
    jsonrpc: '2.0',
    result: {
      torrents: [
        {
          id: 1,
          hash_string: 'ab',
          download_dir: '/d',
          wanted: [true, false],
          file_stats: [{ bytes_completed: 3, wanted: true, priority: 0 }],
          peers_from: { from_tracker: 2 },
        },
      ],
      removed: [],
    },
    id: 1,
  });
  const table = responseTo(c, {
    result: 'success',
    arguments: {
      torrents: [
        ['id', 'leftUntilDone', 'wanted'],
        [1, 0, [1]],
      ],
    },
    code: JsonRpcCode.SUCCESS,
  });
  assert.deepEqual(table!.result, {
    torrents: [
      ['id', 'left_until_done', 'wanted'],
      [1, 0, [true]],
    ],
  });
  const session = responseTo(c, {
    result: 'success',
    arguments: {
      'rpc-version': 17,
      encryption: 'tolerated',
      'cache-size-mb': 4,
      units: { 'speed-units': ['kB/s'] },
    },
    code: JsonRpcCode.SUCCESS,
  });
  assert.deepEqual(session!.result, {
    rpc_version: 17,
    encryption: 'allowed',
    cache_size_mib: 4,
    units: { speed_units: ['kB/s'] },
  });
  const err = responseTo(c, {
    result: "'uploadLimit' must be a number",
    arguments: {},
    code: JsonRpcCode.INVALID_PARAMS,
  });
  assert.deepEqual(err, {
    jsonrpc: '2.0',
    error: {
      code: -32602,
      message: 'Invalid params',
      data: { error_string: "'uploadLimit' must be a number" },
    },
    id: 1,
  });
  // The message alone when the result only repeats it.
  const oor = responseTo(c, {
    result: 'file index out of range',
    arguments: {},
    code: JsonRpcCode.FILE_IDX_OOR,
  });
  assert.deepEqual(oor!.error, { code: 6, message: 'file index out of range' });
});

test('fuzz: random values never throw, and always give a call or a well-formed error', () => {
  const rnd = prng(1313);
  const atoms = [null, true, 0, -1, 1.5, '', '2.0', 'torrent_get', 'session_set', 'ids', [], {}];
  const keys = [
    'jsonrpc',
    'method',
    'params',
    'id',
    'fields',
    'ids',
    'download_dir',
    '__proto__',
    'encryption',
  ];
  const value = (depth: number): unknown => {
    const k = Math.floor(rnd() * 10);
    if (depth > 4 || k < 5) return atoms[Math.floor(rnd() * atoms.length)];
    if (k < 7) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rnd() * 5); i > 0; i--)
      o[keys[Math.floor(rnd() * keys.length)]!] = value(depth + 1);
    return o;
  };
  for (let i = 0; i < 5000; i++) {
    const v = rnd() < 0.7 ? { jsonrpc: '2.0', method: value(3), params: value(1), id: value(4) } : value(0);
    const r = parseRequest(v);
    if ('kind' in r) {
      assert.equal(typeof r.method, 'string');
      assert.equal(Object.getPrototypeOf(r.arguments), Object.prototype);
      const res = responseTo(r, { result: 'x', arguments: r.arguments, code: JsonRpcCode.SYSTEM_ERROR });
      if (res) assert.equal(res.error!.code, JsonRpcCode.SYSTEM_ERROR);
    } else {
      assert.equal(r.jsonrpc, '2.0');
      assert.ok(typeof r.error?.code === 'number');
    }
  }
  // Deep nesting is passed on, not recursed without bound.
  let deep: Record<string, unknown> = {};
  const top = deep;
  for (let i = 0; i < 100_000; i++) deep = (deep['a'] = {}) as Record<string, unknown>;
  assert.ok('kind' in parseRequest({ jsonrpc: '2.0', method: 'torrent_set', params: top, id: 1 }));
});
