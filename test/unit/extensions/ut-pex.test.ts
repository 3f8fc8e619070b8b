import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodePex,
  encodePex,
  PexFlags,
  PexState,
  pexAllowed,
  PEX_INTERVAL_MS,
  type PexPeer,
} from '../../../src/extensions/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { isNbtError } from '../../../src/util/errors.js';
import { decode, encode } from '../../../src/bencode/index.js';
import { prng } from '../../helpers/tmp.js';

const peer = (i: number, flags = 0): PexPeer => ({ host: `10.0.${i >> 8}.${i & 255}`, port: 6881, flags });

test('codec: v4 and v6, flags, dropped; exact keys', () => {
  const msg = {
    added: [
      peer(1, PexFlags.SEED | PexFlags.REACHABLE),
      { host: '2001:db8::5', port: 1, flags: PexFlags.ENCRYPTION },
    ],
    dropped: [peer(2), { host: '2001:db8::6', port: 2 }],
  };
  const wire = encodePex(msg);
  const dict = decode(wire) as Record<string, Buffer>;
  assert.deepEqual(Object.keys(dict).sort(), [
    'added',
    'added.f',
    'added6',
    'added6.f',
    'dropped',
    'dropped6',
  ]);
  assert.deepEqual(dict['added.f'], Buffer.from([0x12]));
  const back = decodePex(wire);
  assert.deepEqual(back.added, [
    { host: '10.0.0.1', port: 6881, flags: 0x12, source: { kind: 'pex' } },
    { host: '2001:db8::5', port: 1, flags: 1, source: { kind: 'pex' } },
  ]);
  assert.deepEqual(back.dropped, [
    { host: '10.0.0.2', port: 6881 },
    { host: '2001:db8::6', port: 2 },
  ]);
  assert.equal(back.truncated, false);
});

test('decoder limits: oversize lists truncated, duplicates and added+dropped removed, bad lengths rejected', () => {
  const many = Array.from({ length: 80 }, (_, i) => peer(i));
  const r = decodePex(encodePex({ added: [...many, peer(1)], dropped: [] }));
  assert.equal(r.added.length, 50);
  assert.ok(r.truncated);
  const both = decodePex(encodePex({ added: [peer(1), peer(2)], dropped: [peer(2)] }));
  assert.deepEqual(
    both.added.map((p) => p.host),
    ['10.0.0.1'],
  );
  assert.deepEqual(both.dropped, []);
  const missingFlags = decodePex(
    encode({ added: Buffer.from([1, 2, 3, 4, 0, 80]), 'added.f': Buffer.from([1, 2]) }),
  );
  assert.equal(missingFlags.added[0]!.flags, 0, 'flag string of the wrong length is ignored');
  assert.throws(
    () => decodePex(encode({ added: Buffer.alloc(7) })),
    (e) => isNbtError(e, 'PEX_BAD_FIELD'),
  );
  assert.throws(
    () => decodePex(encode({ added: 5 })),
    (e) => isNbtError(e, 'PEX_BAD_FIELD'),
  );
  assert.throws(
    () => decodePex(Buffer.alloc(9000)),
    (e) => isNbtError(e, 'PEX_TOO_LARGE'),
  );
  assert.throws(
    () => decodePex(Buffer.from('le')),
    (e) => isNbtError(e, 'PEX_NOT_DICT'),
  );
  const rand = prng(3);
  const seed = encodePex({ added: [peer(1), peer(2)], dropped: [peer(3)] });
  for (let i = 0; i < 20_000; i++) {
    const b = Buffer.from(seed);
    for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    try {
      decodePex(b.subarray(0, Math.floor(rand() * b.length) + 1));
    } catch (e) {
      assert.ok(isNbtError(e), String(e));
    }
  }
});

test('PexState: first diff at once, then at most once a minute, 50 at a time, never the peer itself', () => {
  const clock = new FakeClock();
  const remote = peer(999);
  const s = new PexState({ clock, remote });
  const connected = [...Array.from({ length: 70 }, (_, i) => peer(i)), remote];
  const first = decodePex(s.update(connected)!, 1000);
  assert.equal(first.added.length, 50);
  assert.ok(!first.added.some((p) => p.host === remote.host));
  assert.equal(s.update(connected), undefined, 'too early');
  clock.advance(PEX_INTERVAL_MS - 1);
  assert.equal(s.update(connected), undefined);
  clock.advance(1);
  // 20 left to add; 5 of the first batch disconnected.
  const now = connected.filter(
    (p) => !['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].includes(p.host),
  );
  const second = decodePex(s.update(now)!, 1000);
  assert.equal(second.added.length, 20);
  assert.deepEqual(
    second.dropped.map((p) => p.host),
    ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'],
  );
  clock.advance(PEX_INTERVAL_MS);
  assert.equal(s.update(now), undefined, 'nothing changed, nothing sent');
  // A transient connect+disconnect between messages is elided.
  clock.advance(PEX_INTERVAL_MS);
  assert.equal(s.update(now), undefined);
});

test('PexState: incoming rate limit and malformed payloads; private torrents refused', () => {
  const clock = new FakeClock();
  const s = new PexState({ clock });
  const payload = encodePex({ added: [peer(1)], dropped: [] });
  assert.equal(s.receive(payload)?.added.length, 1);
  clock.advance(10_000);
  assert.equal(s.receive(payload), undefined);
  clock.advance(60_000);
  assert.equal(s.receive(Buffer.from('garbage')), undefined);
  assert.equal(s.violations, 2);
  assert.equal(s.receive(payload)?.added[0]!.source.kind, 'pex');
  assert.throws(
    () => new PexState({ clock, private: true }),
    (e) => isNbtError(e, 'PEX_PRIVATE'),
  );
  assert.equal(pexAllowed({ private: true }), false);
  assert.equal(pexAllowed({ private: false }), true);
});

test('PEX flags become candidate hints', async () => {
  const { pexHints } = await import('../../../src/torrent/pex-exchange.js');
  assert.deepEqual(pexHints(0), {});
  assert.deepEqual(pexHints(0x01 | 0x02 | 0x04 | 0x10), {
    utp: true,
    encryption: true,
    seed: true,
    reachable: true,
  });
  assert.deepEqual(pexHints(0x08), {}, 'holepunch alone is no hint we use');
});
