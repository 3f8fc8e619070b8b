import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../../src/bencode/index.js';
import { NbtError } from '../../../src/util/errors.js';
import {
  parseAnnounceResponse,
  parseScrapeResponse,
  percentEncodeBytes,
} from '../../../src/tracker/http-codec.js';
import {
  decodeTrackerRequest,
  decodeTrackerResponse,
  encodeAnnounceRequest,
  encodeAnnounceResponse,
  encodeConnectRequest,
  encodeScrapeRequest,
} from '../../../src/tracker/udp-codec.js';
import { SwarmStore } from '../../../src/tracker/server/swarm.js';
import { ConnectionIds } from '../../../src/tracker/server/connection-id.js';
import { handleTrackerHttp } from '../../../src/tracker/server/http-handler.js';
import { handleTrackerUdp } from '../../../src/tracker/server/udp-handler.js';
import { prng } from '../../helpers/tmp.js';

function mutate(seed: Buffer, rnd: () => number): Buffer {
  const r = rnd();
  const b = Buffer.from(seed);
  const at = Math.floor(rnd() * (b.length + 1));
  if (r < 0.25) return b.subarray(0, at); // truncation
  if (r < 0.5) {
    for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n && b.length; i++)
      b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    return b;
  }
  if (r < 0.7) {
    const junk = Buffer.from(
      Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 256)),
    );
    return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
  }
  if (r < 0.85)
    return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rnd() * 5)))]);
  return Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
}

function onlyNbtError(fn: () => unknown, input: Buffer): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof NbtError))
      assert.fail(`non-NbtError ${String(e)} for input ${input.toString('hex').slice(0, 200)}`);
  }
}

const CASES = 20_000;
/** The server handlers do real work per request (HMAC, swarm updates), so fewer cases. */
const SERVER_CASES = 8_000;

test(`HTTP announce/scrape response parsers throw only NbtError (${CASES} seeded cases each)`, () => {
  const seeds = [
    encode({
      interval: 1800,
      'min interval': 60,
      complete: 1,
      incomplete: 2,
      peers: Buffer.alloc(12, 7),
      peers6: Buffer.alloc(18, 1),
    }),
    encode({
      interval: 60,
      peers: [
        { ip: '1.2.3.4', port: 1, 'peer id': Buffer.alloc(20) },
        { ip: '::1', port: 2 },
      ],
    }),
    encode({ 'failure reason': 'no', 'retry in': 3 }),
    encode({ interval: 5, 'tracker id': 'x', 'warning message': 'w', peers: '' }),
    encode({
      files: new Map([
        [Buffer.alloc(20, 1).toString('latin1'), { complete: 1, downloaded: 2, incomplete: 3 }],
      ]),
    }),
  ];
  const rnd = prng(0x7acc);
  for (let i = 0; i < CASES; i++) {
    const input = mutate(seeds[i % seeds.length]!, rnd);
    onlyNbtError(() => parseAnnounceResponse(input), input);
    onlyNbtError(() => parseScrapeResponse(input), input);
  }
});

test(`UDP response and request decoders throw only NbtError (${CASES} seeded cases each)`, () => {
  const seeds = [
    encodeAnnounceResponse(1, { interval: 60, leechers: 1, seeders: 2, compactPeers: Buffer.alloc(36, 3) }),
    Buffer.from('0000000000000001010203040506070800', 'hex'),
    Buffer.from('000000020000000100000001000000020000000300000004', 'hex'),
    Buffer.concat([Buffer.from('0000000300000001', 'hex'), Buffer.from('error text')]),
    encodeConnectRequest(5),
    encodeAnnounceRequest({
      connectionId: Buffer.alloc(8),
      transactionId: 1,
      infoHash: Buffer.alloc(20),
      peerId: Buffer.alloc(20),
      downloaded: 1,
      left: 2,
      uploaded: 3,
      event: 'started',
      key: 1,
      numwant: -1,
      port: 1,
      urlData: '/announce?x=1',
    }),
    encodeScrapeRequest(Buffer.alloc(8), 1, [Buffer.alloc(20), Buffer.alloc(20, 1)]),
  ];
  const rnd = prng(0xbe15);
  for (let i = 0; i < CASES; i++) {
    const input = mutate(seeds[i % seeds.length]!, rnd);
    onlyNbtError(() => decodeTrackerResponse(input, 4), input);
    onlyNbtError(() => decodeTrackerResponse(input, 6), input);
    onlyNbtError(() => decodeTrackerRequest(input), input);
  }
});

test(`server handlers never throw on hostile requests (${SERVER_CASES} seeded cases each)`, () => {
  const store = new SwarmStore({ maxTorrents: 50, maxPeersPerTorrent: 20 });
  const ids = new ConnectionIds(Buffer.alloc(32, 1));
  const rnd = prng(0x5e7);
  const ih = percentEncodeBytes(Buffer.alloc(20, 0xab));
  const queries = [
    `/announce?info_hash=${ih}&peer_id=${'p'.repeat(20)}&port=6881&left=0&event=started&compact=0`,
    `/scrape?info_hash=${ih}&info_hash=${ih}`,
    `/announce?info_hash=${ih}&peer_id=${'q'.repeat(20)}&port=1&numwant=99999&ip=::1`,
  ];
  const conn = ids.issue('127.0.0.1', 9, 0);
  const packets = [
    encodeConnectRequest(1),
    encodeAnnounceRequest({
      connectionId: conn,
      transactionId: 1,
      infoHash: Buffer.alloc(20),
      peerId: Buffer.alloc(20),
      downloaded: 1,
      left: 2,
      uploaded: 3,
      event: 'completed',
      key: 1,
      numwant: 5,
      port: 80,
    }),
    encodeScrapeRequest(conn, 1, [Buffer.alloc(20)]),
  ];
  for (let i = 0; i < SERVER_CASES; i++) {
    const q = mutate(Buffer.from(queries[i % queries.length]!), rnd).toString('latin1');
    const reply = handleTrackerHttp(store, q, '127.0.0.1', i, { trustIpParam: true });
    assert.ok(reply.body.length > 0);
    const p = mutate(packets[i % packets.length]!, rnd);
    handleTrackerUdp(store, ids, p, '127.0.0.1', 9, i);
  }
  assert.ok(store.torrentCount <= 50);
});
