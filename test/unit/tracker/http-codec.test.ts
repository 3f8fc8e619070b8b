import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '../../../src/bencode/index.js';
import {
  TrackerFailure,
  buildAnnounceUrl,
  buildScrapeUrl,
  parseAnnounceResponse,
  parseQuery,
  parseScrapeResponse,
  percentDecodeBytes,
  percentEncodeBytes,
  scrapeUrlFor,
  MAX_PEERS_PER_RESPONSE,
} from '../../../src/tracker/http-codec.js';
import type { AnnounceRequest } from '../../../src/tracker/types.js';
import { isNbtError } from '../../../src/util/errors.js';

const infoHash = Buffer.from('00ff2041617a7e2d2e5f25260a0d3d2b2f3f2300', 'hex');
const peerId = Buffer.from('-NB0010-abcdefghijkl', 'latin1');

function req(over: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    infoHash,
    peerId,
    port: 6881,
    uploaded: 1,
    downloaded: 2,
    left: 3,
    event: 'started',
    numwant: 50,
    key: 0xdeadbeef,
    ...over,
  };
}

test('percent-encoding keeps unreserved bytes and escapes all others in upper-case hex', () => {
  assert.equal(percentEncodeBytes(infoHash), '%00%FF%20Aaz~-._%25%26%0A%0D%3D%2B%2F%3F%23%00');
  assert.deepEqual(percentDecodeBytes(percentEncodeBytes(infoHash)), infoHash);
  assert.deepEqual(percentDecodeBytes('a%2fb+c%zz%4'), Buffer.from('a/b c%zz%4'));
  for (let b = 0; b < 256; b++)
    assert.deepEqual(percentDecodeBytes(percentEncodeBytes(Buffer.from([b]))), Buffer.from([b]));
});

test('announce URL carries every field, keeps an existing query and leaves out event for periodic', () => {
  const url = buildAnnounceUrl('http://t.example/announce?passkey=abc', req({ trackerId: 'x y' }));
  assert.equal(
    url,
    'http://t.example/announce?passkey=abc&info_hash=%00%FF%20Aaz~-._%25%26%0A%0D%3D%2B%2F%3F%23%00' +
      '&peer_id=-NB0010-abcdefghijkl&port=6881&uploaded=1&downloaded=2&left=3&compact=1&no_peer_id=1' +
      '&numwant=50&key=DEADBEEF&event=started&trackerid=x%20y',
  );
  const periodic = buildAnnounceUrl(
    'http://t/announce#frag',
    req({ event: 'periodic', ipv6: '::1', ipv4: '1.2.3.4' }),
  );
  assert.ok(!periodic.includes('event='));
  assert.ok(periodic.startsWith('http://t/announce?info_hash='));
  assert.ok(periodic.endsWith('&ipv4=1.2.3.4&ipv6=%3A%3A1'));
  assert.match(buildAnnounceUrl('http://t/a', req({ event: 'stopped' })), /numwant=0&.*event=stopped/);
  // The server-side parser gets the exact bytes back.
  const q = parseQuery(new URL(url).search);
  assert.deepEqual(q.get('info_hash')?.[0], infoHash);
  assert.deepEqual(q.get('peer_id')?.[0], peerId);
});

test('scrape URL follows the BEP 48 rule', () => {
  assert.equal(scrapeUrlFor('http://example.com/announce'), 'http://example.com/scrape');
  assert.equal(scrapeUrlFor('http://example.com/x/announce'), 'http://example.com/x/scrape');
  assert.equal(scrapeUrlFor('http://example.com/announce.php'), 'http://example.com/scrape.php');
  assert.equal(scrapeUrlFor('http://example.com/a'), undefined);
  assert.equal(scrapeUrlFor('http://example.com/announce?x=2/4'), 'http://example.com/scrape?x=2/4');
  assert.equal(scrapeUrlFor('http://example.com/a%064nnounce'), undefined);
  assert.equal(scrapeUrlFor('http://example.com/x%064announce'), undefined);
  assert.equal(scrapeUrlFor('http://example.com/announce/x'), undefined);
  assert.equal(scrapeUrlFor('http://announce.example.com'), undefined);
  assert.equal(
    buildScrapeUrl('http://e/scrape', [Buffer.alloc(20, 0x41), Buffer.alloc(20, 0)]),
    `http://e/scrape?info_hash=${'A'.repeat(20)}&info_hash=${'%00'.repeat(20)}`,
  );
});

test('compact, dictionary and peers6 peer lists are parsed together', () => {
  const r = parseAnnounceResponse(
    encode({
      interval: 1800,
      'min interval': 60,
      'tracker id': 'tid',
      'warning message': 'be\x01ware',
      complete: 5,
      incomplete: 7,
      peers: Buffer.from([1, 2, 3, 4, 0x1a, 0xe1, 5, 6, 7, 8, 0, 0]),
      peers6: Buffer.concat([Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.from([0, 80])]),
    }),
  );
  assert.deepEqual(r, {
    interval: 1800,
    minInterval: 60,
    trackerId: 'tid',
    warning: 'be?ware',
    seeders: 5,
    leechers: 7,
    peers: [
      { host: '1.2.3.4', port: 6881 },
      { host: '2001:db8::1', port: 80 },
    ],
  });
  const dict = parseAnnounceResponse(
    encode({
      interval: 30,
      peers: [
        { ip: '10.0.0.1', port: 1, 'peer id': Buffer.alloc(20) },
        { ip: '::1', port: 2 },
        { ip: 'not-an-ip', port: 3 },
        { ip: '10.0.0.2', port: 70000 },
        'junk',
      ],
    }),
  );
  assert.deepEqual(dict.peers, [
    { host: '10.0.0.1', port: 1 },
    { host: '::1', port: 2 },
  ]);
  assert.equal(dict.seeders, undefined);
});

test('failure reason becomes TrackerFailure; malformed responses are TRACKER_BAD_RESPONSE', () => {
  assert.throws(
    () => parseAnnounceResponse(encode({ 'failure reason': 'unregistered torrent', 'retry in': 5 })),
    (e: unknown) =>
      e instanceof TrackerFailure &&
      e.code === 'TRACKER_FAILURE' &&
      /unregistered/.test(e.message) &&
      e.retryInMinutes === 5,
  );
  const bad = [
    Buffer.alloc(0),
    Buffer.from('<html>'),
    encode([1, 2]),
    encode({ peers: '' }),
    encode({ interval: 'x' }),
    encode({ interval: -1 }),
    encode({ interval: 10, peers: Buffer.alloc(7) }),
    encode({ interval: 10, peers6: Buffer.alloc(17) }),
    encode({ interval: 10, peers: 5 }),
    Buffer.from('d8:intervali10e5:peers'),
  ];
  for (const b of bad)
    assert.throws(
      () => parseAnnounceResponse(b),
      (e: unknown) => isNbtError(e),
      b.toString('latin1'),
    );
});

test('peer count is capped per response', () => {
  const many = Buffer.alloc((MAX_PEERS_PER_RESPONSE + 100) * 6, 1);
  assert.equal(
    parseAnnounceResponse(encode({ interval: 1, peers: many })).peers.length,
    MAX_PEERS_PER_RESPONSE,
  );
});

test('scrape response maps info-hashes to counts', () => {
  const a = Buffer.alloc(20, 0xaa);
  const files = new Map([[a.toString('latin1'), { complete: 3, downloaded: 9, incomplete: 4 }]]);
  const r = parseScrapeResponse(encode({ files }));
  assert.deepEqual([...r], [[a.toString('hex'), { complete: 3, incomplete: 4, downloaded: 9 }]]);
  assert.throws(() => parseScrapeResponse(encode({ 'failure reason': 'no' })), TrackerFailure);
  assert.throws(() => parseScrapeResponse(encode({ x: 1 })), { code: 'TRACKER_BAD_RESPONSE' });
});
