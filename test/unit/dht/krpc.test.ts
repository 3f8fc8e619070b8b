import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeKrpc,
  encodeKrpc,
  decodeCompactNodes,
  encodeCompactNodes,
  MAX_PACKET_SIZE,
  type KrpcMessage,
} from '../../../src/dht/index.js';
import { isNbtError } from '../../../src/util/errors.js';
import { encode } from '../../../src/bencode/index.js';
import { prng, seededBytes } from '../../helpers/tmp.js';

const id = Buffer.from('abcdefghij0123456789');
const t = Buffer.from('aa');

test('decodes the BEP 5 example packets', () => {
  const ping = decodeKrpc(Buffer.from('d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe'));
  assert.equal(ping.y, 'q');
  assert.ok(ping.y === 'q' && ping.q === 'ping' && ping.a.id.equals(id));
  const peers = decodeKrpc(
    Buffer.from('d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re'),
  );
  assert.ok(peers.y === 'r');
  assert.equal(peers.r.token?.toString(), 'aoeusnth');
  assert.deepEqual(peers.r.values, [
    { host: '97.120.106.101', port: 11893 },
    { host: '105.100.104.116', port: 28269 },
  ]);
  const err = decodeKrpc(Buffer.from('d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee'));
  assert.deepEqual(err, { y: 'e', t, code: 201, message: 'A Generic Error Ocurred' });
  const ann = decodeKrpc(
    Buffer.from(
      'd1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe',
    ),
  );
  assert.ok(
    ann.y === 'q' &&
      ann.a.impliedPort === true &&
      ann.a.port === 6881 &&
      ann.a.token?.toString() === 'aoeusnth',
  );
});

test('round-trips every message kind, with nodes, nodes6, want, ro and ip', () => {
  const nodes = [{ id, host: '10.0.0.1', port: 1234 }];
  const nodes6 = [{ id, host: '2001:db8::1', port: 4321 }];
  const msgs: KrpcMessage[] = [
    { y: 'q', t, q: 'find_node', a: { id, target: id, want: ['n4', 'n6'] }, ro: true },
    {
      y: 'q',
      t,
      q: 'announce_peer',
      a: { id, infoHash: id, port: 6881, token: Buffer.from('tok'), impliedPort: false },
    },
    {
      y: 'r',
      t,
      r: {
        id,
        nodes,
        nodes6,
        token: Buffer.from('x'),
        values: [
          { host: '1.2.3.4', port: 5 },
          { host: '::1', port: 6 },
        ],
      },
      ip: { host: '9.8.7.6', port: 55 },
    },
    { y: 'e', t, code: 203, message: 'bad token', ip: { host: '9.8.7.6', port: 55 } },
  ];
  for (const m of msgs) assert.deepEqual(decodeKrpc(encodeKrpc(m)), m);
});

test('compact node info: 26 / 38 bytes per node, wrong lengths rejected', () => {
  const nodes = [
    { id, host: '1.2.3.4', port: 80 },
    { id: Buffer.alloc(20, 7), host: '5.6.7.8', port: 65535 },
  ];
  const b = encodeCompactNodes(nodes, 4);
  assert.equal(b.length, 52);
  assert.deepEqual(decodeCompactNodes(b, 4), nodes);
  assert.throws(
    () => decodeCompactNodes(b.subarray(1), 4),
    (e) => isNbtError(e, 'KRPC_BAD_NODES'),
  );
});

test('typed errors for malformed messages', () => {
  const cases: [unknown, string][] = [
    [{ t: 'aa', y: 'q', q: 'ping' }, 'KRPC_MISSING_FIELD'],
    [{ t: 'aa', y: 'q', q: 'ping', a: { id: 'short' } }, 'KRPC_BAD_ID'],
    [{ t: '', y: 'q', q: 'ping', a: { id } }, 'KRPC_BAD_TRANSACTION'],
    [{ t: 'aa', y: 'z' }, 'KRPC_BAD_TYPE'],
    [{ t: 'aa', y: 'q', q: 'announce_peer', a: { id, info_hash: id, port: 0, token: 'x' } }, 'KRPC_BAD_PORT'],
    [{ t: 'aa', y: 'r', r: { id, nodes: 'abc' } }, 'KRPC_BAD_NODES'],
    [{ t: 'aa', y: 'e', e: 'oops' }, 'KRPC_BAD_ERROR'],
  ];
  for (const [value, code] of cases) {
    assert.throws(
      () => decodeKrpc(encode(value as never)),
      (e) => isNbtError(e, code),
      code,
    );
  }
  assert.throws(
    () => decodeKrpc(Buffer.from('i1e')),
    (e) => isNbtError(e, 'KRPC_NOT_DICT'),
  );
  assert.throws(
    () => decodeKrpc(Buffer.alloc(MAX_PACKET_SIZE + 1, 0x64)),
    (e) => isNbtError(e, 'KRPC_TOO_LARGE'),
  );
});

test('fuzz: 25k mutated and random packets only ever throw NbtError', () => {
  const rand = prng(5);
  const seeds = [
    encodeKrpc({ y: 'q', t, q: 'get_peers', a: { id, infoHash: id, want: ['n4'] } }),
    encodeKrpc({
      y: 'r',
      t,
      r: {
        id,
        nodes: [{ id, host: '1.2.3.4', port: 5 }],
        token: Buffer.from('tok'),
        values: [{ host: '1.1.1.1', port: 1 }],
      },
    }),
    encodeKrpc({
      y: 'q',
      t,
      q: 'announce_peer',
      a: { id, infoHash: id, port: 1, token: Buffer.from('t'), impliedPort: true },
    }),
    encodeKrpc({ y: 'e', t, code: 201, message: 'x' }),
  ];
  let ok = 0;
  let rejected = 0;
  for (let i = 0; i < 25_000; i++) {
    let buf: Buffer;
    if (i % 5 === 0) buf = seededBytes(Math.floor(rand() * 200), i + 1);
    else {
      buf = Buffer.from(seeds[i % seeds.length]!);
      const edits = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        const pos = Math.floor(rand() * buf.length);
        const r = rand();
        if (r < 0.5) buf[pos] = Math.floor(rand() * 256);
        else if (r < 0.75) buf = buf.subarray(0, pos);
        else
          buf = Buffer.concat([
            buf.subarray(0, pos),
            Buffer.from([Math.floor(rand() * 256)]),
            buf.subarray(pos),
          ]);
      }
    }
    try {
      decodeKrpc(buf);
      ok++;
    } catch (e) {
      if (!isNbtError(e)) throw new Error(`non-NbtError for ${buf.toString('hex')}: ${String(e)}`);
      rejected++;
    }
  }
  assert.equal(ok + rejected, 25_000);
  assert.ok(rejected > 10_000 && ok > 100, `ok ${ok} rejected ${rejected}`);
});
