import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeTrackerRequest,
  decodeTrackerResponse,
  encodeAnnounceRequest,
  encodeAnnounceResponse,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeRequest,
  encodeScrapeResponse,
} from '../../../src/tracker/udp-codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('connect request is the magic, action 0 and the transaction id, big-endian', () => {
  assert.deepEqual(encodeConnectRequest(0x01020304), hex('00000417 27101980 00000000 01020304'));
});

test('announce request has the exact BEP 15 layout (64-bit fields big-endian)', () => {
  const b = encodeAnnounceRequest({
    connectionId: hex('1122334455667788'),
    transactionId: 0xcafebabe,
    infoHash: Buffer.alloc(20, 0xaa),
    peerId: Buffer.alloc(20, 0xbb),
    downloaded: 0x0102030405,
    left: 2 ** 40,
    uploaded: 7,
    event: 'started',
    key: 0x99887766,
    numwant: -1,
    port: 6881,
  });
  assert.equal(b.length, 98);
  assert.deepEqual(
    b,
    Buffer.concat([
      hex('1122334455667788 00000001 cafebabe'),
      Buffer.alloc(20, 0xaa),
      Buffer.alloc(20, 0xbb),
      hex('0000000102030405 0000010000000000 0000000000000007'),
      hex('00000002 00000000 99887766 ffffffff 1ae1'),
    ]),
  );
  const events = { periodic: 0, completed: 1, started: 2, stopped: 3 } as const;
  for (const [event, code] of Object.entries(events)) {
    const p = encodeAnnounceRequest({
      connectionId: Buffer.alloc(8),
      transactionId: 1,
      infoHash: Buffer.alloc(20),
      peerId: Buffer.alloc(20),
      downloaded: 0,
      left: 0,
      uploaded: 0,
      event: event as keyof typeof events,
      key: 0,
      numwant: 0,
      port: 1,
    });
    assert.equal(p.readUInt32BE(80), code);
  }
});

test('BEP 41 URL data follows the announce as 255-byte options and an end marker', () => {
  const path = '/announce?' + 'k'.repeat(300);
  const b = encodeAnnounceRequest({
    connectionId: Buffer.alloc(8),
    transactionId: 1,
    infoHash: Buffer.alloc(20),
    peerId: Buffer.alloc(20),
    downloaded: 0,
    left: 0,
    uploaded: 0,
    event: 'periodic',
    key: 0,
    numwant: 0,
    port: 1,
    urlData: path,
  });
  assert.equal(b.length, 98 + 2 + 255 + 2 + (path.length - 255) + 1);
  assert.equal(b[98], 2);
  assert.equal(b[99], 255);
  assert.equal(b[b.length - 1], 0);
  const r = decodeTrackerRequest(b);
  assert.equal(r.action === 'announce' && r.urlData, path);
});

test('scrape request packs the hashes after the header', () => {
  const b = encodeScrapeRequest(hex('0102030405060708'), 5, [Buffer.alloc(20, 1), Buffer.alloc(20, 2)]);
  assert.deepEqual(
    b,
    Buffer.concat([hex('0102030405060708 00000002 00000005'), Buffer.alloc(20, 1), Buffer.alloc(20, 2)]),
  );
  assert.throws(() => encodeScrapeRequest(Buffer.alloc(8), 1, []), { code: 'TRACKER_BAD_ARGUMENT' });
});

test('responses decode: connect, announce v4/v6, scrape, error', () => {
  assert.deepEqual(decodeTrackerResponse(hex('00000000 00000009 0102030405060708')), {
    action: 'connect',
    transactionId: 9,
    connectionId: hex('0102030405060708'),
  });
  const ann = hex('00000001 00000002 00000708 00000003 00000004 7f000001 1ae1 0a000001 0050 ffff');
  assert.deepEqual(decodeTrackerResponse(ann, 4), {
    action: 'announce',
    transactionId: 2,
    interval: 1800,
    leechers: 3,
    seeders: 4,
    peers: [
      { host: '127.0.0.1', port: 6881 },
      { host: '10.0.0.1', port: 80 },
    ],
  });
  const ann6 = Buffer.concat([
    hex('00000001 00000002 0000003c 00000000 00000001'),
    hex('00000000000000000000000000000001 1ae1'),
  ]);
  const r6 = decodeTrackerResponse(ann6, 6);
  assert.deepEqual(r6.action === 'announce' && r6.peers, [{ host: '::1', port: 6881 }]);
  assert.deepEqual(decodeTrackerResponse(hex('00000002 00000007 00000001 00000002 00000003')), {
    action: 'scrape',
    transactionId: 7,
    entries: [{ complete: 1, downloaded: 2, incomplete: 3 }],
  });
  assert.deepEqual(
    decodeTrackerResponse(Buffer.concat([hex('00000003 00000008'), Buffer.from('nope\x00')])),
    {
      action: 'error',
      transactionId: 8,
      message: 'nope?',
    },
  );
  assert.throws(() => decodeTrackerResponse(hex('0000000100')), { code: 'TRACKER_BAD_PACKET' });
  assert.throws(() => decodeTrackerResponse(hex('00000000 00000001 01')), { code: 'TRACKER_BAD_PACKET' });
  assert.throws(() => decodeTrackerResponse(hex('00000009 00000001')), { code: 'TRACKER_BAD_PACKET' });
});

test('server-side encoders and request decoder are inverses of the client side', () => {
  assert.deepEqual(decodeTrackerRequest(encodeConnectRequest(77)), { action: 'connect', transactionId: 77 });
  assert.throws(() => decodeTrackerRequest(hex('00000000000000000000000000000001')), {
    code: 'TRACKER_BAD_PACKET',
  });
  const c = decodeTrackerResponse(encodeConnectResponse(5, hex('0807060504030201')));
  assert.deepEqual(c, { action: 'connect', transactionId: 5, connectionId: hex('0807060504030201') });
  const a = decodeTrackerResponse(
    encodeAnnounceResponse(6, { interval: 60, leechers: 1, seeders: 2, compactPeers: hex('7f0000011ae1') }),
  );
  assert.deepEqual(a, {
    action: 'announce',
    transactionId: 6,
    interval: 60,
    leechers: 1,
    seeders: 2,
    peers: [{ host: '127.0.0.1', port: 6881 }],
  });
  const s = decodeTrackerResponse(encodeScrapeResponse(7, [{ complete: 1, downloaded: 2, incomplete: 3 }]));
  assert.deepEqual(s, {
    action: 'scrape',
    transactionId: 7,
    entries: [{ complete: 1, downloaded: 2, incomplete: 3 }],
  });
  assert.deepEqual(decodeTrackerResponse(encodeErrorResponse(8, 'bad')), {
    action: 'error',
    transactionId: 8,
    message: 'bad',
  });
  const scrape = decodeTrackerRequest(encodeScrapeRequest(Buffer.alloc(8, 1), 3, [Buffer.alloc(20, 9)]));
  assert.deepEqual(scrape, {
    action: 'scrape',
    connectionId: Buffer.alloc(8, 1),
    transactionId: 3,
    infoHashes: [Buffer.alloc(20, 9)],
  });
});
