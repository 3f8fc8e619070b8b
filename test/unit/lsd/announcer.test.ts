/** The LSD state machine: when torrents are announced, rate limits, and what received announces mean. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LsdAnnouncer, decodeAnnounce, encodeAnnounce } from '../../../src/lsd/index.js';
import { FakeClock } from '../../../src/util/clock.js';

const MIN = 60_000;
const hash = (i: number): Buffer => Buffer.alloc(20, i);
const hex = (i: number): string => hash(i).toString('hex');

/** An announcer driven by a FakeClock the way LsdService drives it: poll, then wait for nextAt. */
function driven(o: Partial<ConstructorParameters<typeof LsdAnnouncer>[0]> = {}) {
  const clock = new FakeClock(1_000_000);
  const a = new LsdAnnouncer({ cookie: 'me', ...o }, clock.now());
  const sent: { at: number; hashes: string[] }[] = [];
  const pump = (): void => {
    const { batches, nextAt } = a.poll(clock.now());
    for (const b of batches) sent.push({ at: clock.now(), hashes: b.map((h) => h.toString('hex')) });
    if (nextAt !== undefined) clock.setTimeout(pump, nextAt - clock.now());
  };
  return { clock, a, sent, pump };
}

test('nothing is announced before the listen port is known; then at once', () => {
  const { clock, a, sent, pump } = driven();
  a.start(hash(1), clock.now());
  pump();
  assert.equal(sent.length, 0);
  a.setPort(6881);
  pump();
  assert.deepEqual(sent, [{ at: clock.now(), hashes: [hex(1)] }]);
});

test('a torrent is re-announced every 5 minutes, never sooner', () => {
  const { clock, a, sent, pump } = driven();
  a.setPort(6881);
  a.start(hash(1), clock.now());
  const t0 = clock.now();
  pump();
  clock.advance(16 * MIN);
  assert.deepEqual(
    sent.map((s) => (s.at - t0) / MIN),
    [0, 5, 10, 15],
  );
  // Stopping and starting again inside the interval does not announce early.
  a.stop(hash(1));
  a.start(hash(1), clock.now());
  assert.deepEqual(a.poll(clock.now()).batches, []);
  assert.equal(a.poll(clock.now()).nextAt, t0 + 20 * MIN);
});

test('start-up burst: due torrents share packets, then one packet per minute', () => {
  const { clock, a, sent, pump } = driven({ maxHashesPerPacket: 4, packetBurst: 2 });
  a.setPort(6881);
  for (let i = 0; i < 13; i++) a.start(hash(i), clock.now());
  const t0 = clock.now();
  pump();
  assert.deepEqual(
    sent.map((s) => s.hashes.length),
    [4, 4],
    'the burst: two packets of four',
  );
  clock.advance(3 * MIN);
  assert.deepEqual(
    sent.map((s) => [(s.at - t0) / MIN, s.hashes.length]),
    [
      [0, 4],
      [0, 4],
      [1, 4],
      [2, 1],
    ],
  );
  // Every torrent went out exactly once, the oldest due first.
  assert.deepEqual(sent.flatMap((s) => s.hashes).sort(), Array.from({ length: 13 }, (_, i) => hex(i)).sort());
  // Over an hour: never more than burst + one per minute, and no torrent twice within 5 min.
  clock.advance(60 * MIN);
  const last = new Map<string, number>();
  for (const s of sent)
    for (const h of s.hashes) {
      const prev = last.get(h);
      assert.ok(prev === undefined || s.at - prev >= 5 * MIN, `${h} again after ${s.at - (prev ?? 0)} ms`);
      last.set(h, s.at);
    }
  for (const s of sent) {
    const inMinute = sent.filter((x) => x.at > s.at - MIN && x.at <= s.at).length;
    assert.ok(inMinute <= 2, `${inMinute} packets in a minute`);
  }
});

test('the default packs as many hashes as fit in 1400 bytes', () => {
  const { clock, a } = driven();
  a.setPort(65535);
  for (let i = 0; i < 100; i++) a.start(hash(i), clock.now());
  const { batches } = a.poll(clock.now());
  assert.equal(batches.length, 3);
  for (const b of batches) {
    assert.ok(b.length > 20);
    assert.ok(encodeAnnounce(6, 65535, b, 'me').length <= 1400);
  }
});

test('received: our own cookie is ignored; others feed peers for our running torrents only', () => {
  const { clock, a } = driven();
  a.setPort(6881);
  a.start(hash(1), clock.now());
  a.start(hash(2), clock.now());
  const own = encodeAnnounce(4, 6881, [hash(1)], 'me');
  assert.deepEqual(a.receive(own, '10.0.0.2', clock.now()), { kind: 'ignored', reason: 'own' });
  const theirs = encodeAnnounce(4, 51413, [hash(3), hash(1), hash(2)], 'lt');
  assert.deepEqual(a.receive(theirs, '::ffff:10.0.0.3', clock.now()), {
    kind: 'peers',
    host: '10.0.0.3',
    port: 51413,
    infoHashes: [hex(1), hex(2)],
  });
  // No cookie at all (Transmission) is someone else too.
  const plain = encodeAnnounce(4, 51413, [hash(1)]);
  assert.equal(a.receive(plain, '10.0.0.4', clock.now()).kind, 'peers');
  assert.deepEqual(a.receive(encodeAnnounce(4, 1, [hash(9)]), '10.0.0.5', clock.now()), {
    kind: 'ignored',
    reason: 'not-ours',
  });
  // A stopped torrent takes no LSD peers.
  a.stop(hash(2));
  const r = a.receive(encodeAnnounce(4, 2, [hash(2)]), '10.0.0.6', clock.now());
  assert.deepEqual(r, { kind: 'ignored', reason: 'not-ours' });
  const bad = a.receive(Buffer.from('BT-SEARCH * HTTP/1.1\r\n\r\n'), '10.0.0.7', clock.now());
  assert.equal(bad.kind, 'malformed');
  assert.equal(bad.kind === 'malformed' && bad.error.code, 'LSD_BAD_PORT');
  assert.deepEqual(
    { ...a.stats },
    { sent: 0, received: 6, peers: 2, own: 1, repeat: 0, notOurs: 2, malformed: 1 },
  );
});

test('received: a sender repeating itself within a minute is ignored, and the memory is bounded', () => {
  const { clock, a } = driven({ maxRemembered: 8 });
  a.setPort(6881);
  a.start(hash(1), clock.now());
  const pkt = encodeAnnounce(4, 7000, [hash(1)], 'x');
  assert.equal(a.receive(pkt, '10.0.0.2', clock.now()).kind, 'peers');
  // The same datagram arriving on a second interface socket, or resent at once.
  assert.deepEqual(a.receive(pkt, '10.0.0.2', clock.now()), { kind: 'ignored', reason: 'repeat' });
  clock.advance(MIN);
  assert.equal(a.receive(pkt, '10.0.0.2', clock.now()).kind, 'peers');
  // A flood of distinct senders: each is taken once, and only the last 8 are remembered.
  for (let i = 0; i < 1000; i++)
    assert.equal(a.receive(pkt, `10.1.${i >> 8}.${i & 255}`, clock.now()).kind, 'peers');
  assert.equal(a.receive(pkt, '10.0.0.2', clock.now()).kind, 'peers', 'forgotten: the oldest goes first');
  assert.equal(a.receive(pkt, '10.1.3.231', clock.now()).kind, 'ignored');
});

test('forget drops a torrent; decodeAnnounce reads what poll batches encode to', () => {
  const { clock, a } = driven();
  a.setPort(6881);
  a.start(hash(1), clock.now());
  a.start(hash(2), clock.now());
  a.forget(hash(2));
  assert.equal(a.size, 1);
  const { batches } = a.poll(clock.now());
  assert.deepEqual(decodeAnnounce(encodeAnnounce(4, 6881, batches[0]!, a.cookie)).infoHashes, [hash(1)]);
});
