import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { RateMeter, formatBytes, reasonForError, DisconnectReason } from '../../../src/peer/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { NbtError } from '../../../src/util/errors.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { formatPeer, type PeerView } from '../../../src/peer/format.js';
import { RateMeters } from '../../../src/peer/rate.js';

test('RateMeter: bytes per second over a sliding window', () => {
  const clock = new FakeClock(10_000);
  const r = new RateMeter(clock, 5);
  assert.equal(r.rate, 0);
  r.add(1000);
  assert.equal(r.rate, 1000, 'the first second counts as a full second');
  for (let s = 0; s < 10; s++) {
    clock.advance(1000);
    r.add(2000);
  }
  assert.ok(Math.abs(r.rate - 2000) < 450, `steady rate ${r.rate}`);
  clock.advance(10_000);
  assert.equal(r.rate, 0, 'old buckets expire');
  assert.equal(r.bytes, 21_000);
});

test('formatBytes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
});

test('asString layout (short and verbose)', () => {
  const bf = new Bitfield(8);
  bf.set(0);
  bf.set(1);
  const view: PeerView = {
    host: '10.0.0.2',
    port: 6881,
    incoming: false,
    source: { kind: 'tracker', url: 'http://t/a' },
    transport: 'utp',
    peerId: Buffer.from('-LT2080-abcdefghijkl'),
    clientName: 'libtorrent 2.0.8',
    infoHash: Buffer.alloc(20, 0xab),
    state: 'connected',
    encryption: 'rc4',
    fastExtension: true,
    extensionProtocol: true,
    amChoking: false,
    amInterested: true,
    peerChoking: true,
    peerInterested: false,
    downloadRate: 2048,
    uploadRate: 0,
    downloadRateTotal: 2100,
    uploadRateTotal: 10,
    downloaded: 4096,
    uploaded: 0,
    bytesReceived: 5000,
    bytesSent: 300,
    requestsOut: 4,
    requestsIn: 0,
    bitfield: bf,
    connectedAt: 0,
  };
  const short = formatPeer(view, false, 65_000);
  assert.equal(
    short,
    [
      'Peer 10.0.0.2:6881 — outgoing (tracker http://t/a), utp, connected',
      '  id:          -LT2080-abcdefghijkl (libtorrent 2.0.8)',
      `  info-hash:   ${'ab'.repeat(20)}`,
      '  flags:       not interested, Interesting, Choked, not choking',
      '  encryption:  rc4; features: fast, extended',
      '  rates:       down 2.0 KiB/s (total 2.1 KiB/s), up 0 B/s (total 10 B/s)',
      '  transferred: down 4.0 KiB (total 4.9 KiB), up 0 B (total 300 B)',
      '  requests:    4 out, 0 in',
      '  connected:   65 s ago',
      '  pieces:      2/8 (25.0%)',
    ].join('\n'),
  );
  assert.equal(formatPeer(view, true, 65_000), `${short}\n  map:         [||......]`);
  assert.ok(typeof inspect === 'function');
});

test('reasonForError maps codec errors to disconnect reasons', () => {
  const r = (code: string): DisconnectReason => reasonForError(new NbtError(code, 'x'));
  assert.equal(r('WIRE_BAD_HANDSHAKE'), DisconnectReason.MALFORMED_HANDSHAKE);
  assert.equal(r('WIRE_MESSAGE_TOO_LARGE'), DisconnectReason.MESSAGE_TOO_LARGE);
  assert.equal(r('WIRE_MALFORMED'), DisconnectReason.MALFORMED_PACKET);
  assert.equal(r('MSE_BAD_VC'), DisconnectReason.MSE_BAD_VC);
  assert.equal(r('MSE_SYNC_FAILED'), DisconnectReason.HANDSHAKE_SYNC_DH5);
  assert.equal(r('MSE_UNKNOWN_SKEY'), DisconnectReason.MSE_UNKNOWN_SKEY);
  assert.equal(r('MSE_NO_CRYPTO_METHOD'), DisconnectReason.MSE_NO_CRYPTO_METHOD);
  assert.equal(r('MSE_TOO_MUCH_DATA'), DisconnectReason.MSE_HANDSHAKE_FAILED);
  assert.equal(r('PEER_HANDSHAKE_INFOHASH'), DisconnectReason.HANDSHAKE_INFOHASH);
  assert.equal(reasonForError(new Error('x')), DisconnectReason.MALFORMED_PACKET);
});

test('RateMeters: meters rolling together each read as a meter of their own fed the same bytes', () => {
  const clock = new FakeClock(1_000_500);
  const meters = new RateMeters(clock, 3);
  const single = [new RateMeter(clock), new RateMeter(clock), new RateMeter(clock)]; // one each
  assert.equal(meters.rate(0), 0);
  assert.equal(meters.bytes(2), 0);
  // A seeded script of adds to meters 0 and 2 (1 stays idle), with gaps of up to 7 s.
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let step = 0; step < 400; step++) {
    clock.advance(next() % 7000);
    const m = next() % 2 === 0 ? 0 : 2;
    const bytes = next() % 20_000;
    meters.add(m, bytes);
    single[m]!.add(bytes);
    for (let i = 0; i < 3; i++) {
      assert.equal(meters.rate(i), single[i]!.rate, `meter ${i} at step ${step}`);
      assert.equal(meters.bytes(i), single[i]!.bytes, `bytes ${i} at step ${step}`);
    }
  }
  assert.equal(meters.rate(1), 0);
});

test('RateMeters.compact(): buckets go after a silent window, and no read ever changes because of it', () => {
  const clock = new FakeClock(2_000_250);
  const plain = new RateMeters(clock, 2);
  const compacted = new RateMeters(clock, 2);
  let seed = 11;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  let dropped = 0;
  for (let step = 0; step < 500; step++) {
    clock.advance(next() % 9000);
    if (next() % 3 !== 0) {
      const m = next() % 2;
      const bytes = next() % 50_000;
      plain.add(m, bytes);
      compacted.add(m, bytes);
    }
    compacted.compact();
    if (compacted['buckets'] === undefined) dropped++;
    for (let i = 0; i < 2; i++) {
      assert.equal(compacted.rate(i), plain.rate(i), `rate ${i} at step ${step}`);
      assert.equal(compacted.bytes(i), plain.bytes(i), `bytes ${i} at step ${step}`);
    }
  }
  assert.ok(dropped > 20, `buckets dropped ${dropped} times`);
  // Bytes within the window keep them; a whole silent window lets them go.
  compacted.add(0, 1);
  compacted.compact();
  assert.notEqual(compacted['buckets'], undefined);
  clock.advance(5_000);
  compacted.compact();
  assert.equal(compacted['buckets'], undefined);
  assert.equal(compacted.rate(0), 0);
});
