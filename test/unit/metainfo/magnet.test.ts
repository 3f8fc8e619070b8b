import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMagnet, parseMagnet } from '../../../src/metainfo/index.js';
import { isNbtError } from '../../../src/util/errors.js';

const HEX = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';

test('parses hex and base32 info-hashes and all parameters', () => {
  const m = parseMagnet(
    `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=My+File%20%C3%A9&tr=http%3A%2F%2Ft%2Fa&tr=udp://u:80&tr=http%3A%2F%2Ft%2Fa` +
      '&x.pe=1.2.3.4:6881&x.pe=[::1]:51413&ws=http%3A%2F%2Fw%2F&so=0,2,4-6,5&unknown=1',
  );
  assert.equal(m.infoHashHex, HEX);
  assert.deepEqual(m.infoHash, Buffer.from(HEX, 'hex'));
  assert.equal(m.name, 'My File é');
  assert.deepEqual(m.trackers, ['http://t/a', 'udp://u:80']);
  assert.deepEqual(m.peers, [
    { host: '1.2.3.4', port: 6881 },
    { host: '::1', port: 51413 },
  ]);
  assert.deepEqual(m.webSeeds, ['http://w/']);
  assert.deepEqual(m.selectOnly, [0, 2, 4, 5, 6]);

  // Base32 of the same 20 bytes.
  const b32 = base32(Buffer.from(HEX, 'hex'));
  assert.equal(b32.length, 32);
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${b32}`).infoHashHex, HEX);
  assert.equal(parseMagnet(`MAGNET:?XT=urn:btih:${b32.toLowerCase()}`).infoHashHex, HEX);
  const bare = parseMagnet(`magnet:?xt=urn:btih:${HEX}`);
  assert.equal(bare.name, undefined);
  assert.equal(bare.selectOnly, undefined);
  // A hybrid link: the v2 hash is ignored, v1 used.
  assert.equal(parseMagnet(`magnet:?xt=urn:btmh:1220${'a'.repeat(64)}&xt=urn:btih:${HEX}`).infoHashHex, HEX);
});

function base32(b: Buffer): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += A[(acc >>> bits) & 31];
    }
  }
  return out;
}

test('typed errors', () => {
  const code = (uri: string, c: string): void =>
    assert.throws(
      () => parseMagnet(uri),
      (e: unknown) => isNbtError(e, c),
      uri,
    );
  code('http://x/', 'MAGNET_BAD_URI');
  code('magnet:', 'MAGNET_BAD_URI');
  code('magnet:?dn=x', 'MAGNET_NO_INFOHASH');
  code('magnet:?xt=urn:sha1:abc', 'MAGNET_NO_INFOHASH');
  code(`magnet:?xt=urn:btmh:1114${'a'.repeat(40)}`, 'MAGNET_BAD_INFOHASH');
  code(`magnet:?xt=urn:btmh:1220${'a'.repeat(63)}`, 'MAGNET_BAD_INFOHASH');
  code('magnet:?xt=urn:btih:1234', 'MAGNET_BAD_INFOHASH');
  code(`magnet:?xt=urn:btih:${'g'.repeat(40)}`, 'MAGNET_BAD_INFOHASH');
  code(`magnet:?xt=urn:btih:${'1'.repeat(32)}`, 'MAGNET_BAD_INFOHASH');
  code(`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`, 'MAGNET_BAD_ENCODING');
  code(`magnet:?xt=urn:btih:${HEX}&x.pe=nope`, 'MAGNET_BAD_PEER');
  code(`magnet:?xt=urn:btih:${HEX}&so=a`, 'MAGNET_BAD_SELECT');
  code(`magnet:?xt=urn:btih:${HEX}&so=5-2`, 'MAGNET_BAD_SELECT');
  code(`magnet:?xt=urn:btih:${HEX}&so=0-9999999`, 'MAGNET_BAD_SELECT');
  code(`magnet:?xt=urn:btih:${HEX}&tr=${'a'.repeat(70000)}`, 'MAGNET_TOO_LONG');
  assert.throws(
    () => buildMagnet({ infoHash: 'xyz' }),
    (e: unknown) => isNbtError(e, 'MAGNET_BAD_INFOHASH'),
  );
  assert.throws(
    () => buildMagnet({ infoHash: Buffer.alloc(19) }),
    (e: unknown) => isNbtError(e, 'MAGNET_BAD_INFOHASH'),
  );
});

test('build/parse round trips', () => {
  const input = {
    infoHash: Buffer.from(HEX, 'hex'),
    name: 'a & b + c/é?',
    trackers: ['http://t.example:8080/announce?x=1&y=2', 'udp://u:6969'],
    peers: [
      { host: '10.0.0.1', port: 1 },
      { host: 'fe80::1', port: 65535 },
    ],
    webSeeds: ['https://w.example/files/'],
    selectOnly: [7, 1, 2, 3, 9, 10],
  };
  const uri = buildMagnet(input);
  assert.match(uri, /^magnet:\?xt=urn:btih:c12fe1c0/);
  assert.match(uri, /so=1-3,7,9-10/);
  const m = parseMagnet(uri);
  assert.equal(m.infoHashHex, HEX);
  assert.equal(m.name, input.name);
  assert.deepEqual(m.trackers, input.trackers);
  assert.deepEqual(m.peers, input.peers);
  assert.deepEqual(m.webSeeds, input.webSeeds);
  assert.deepEqual(m.selectOnly, [1, 2, 3, 7, 9, 10]);
  assert.equal(buildMagnet({ infoHash: HEX.toUpperCase() }), `magnet:?xt=urn:btih:${HEX}`);
  assert.equal(buildMagnet(parseMagnet(uri)), uri);
});

test('so=: the last one wins and is parsed once; at most 500,000 file indices', () => {
  const h = 'ab'.repeat(20);
  // Found by the fuzzer: each so= of a long link was expanded into a Set (100+ ms per link).
  const many = `magnet:?xt=urn:btih:${h}` + '&so=0-499999'.repeat(40) + '&so=2,4-5';
  assert.deepEqual(parseMagnet(many).selectOnly, [2, 4, 5]);
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${h}&so=0-499999`).selectOnly?.length, 500_000);
  assert.throws(
    () => parseMagnet(`magnet:?xt=urn:btih:${h}&so=0-500000`),
    (e: unknown) => isNbtError(e, 'MAGNET_BAD_SELECT'),
  );
  assert.throws(
    () => parseMagnet(`magnet:?xt=urn:btih:${h}&so=0-300000,100000-400000`),
    (e: unknown) => isNbtError(e, 'MAGNET_BAD_SELECT'),
  );
});
