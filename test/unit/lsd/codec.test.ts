/** BEP 14 announce codec: the exact bytes we send, what we accept, typed errors, limits, fuzz. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LSD_MAX_INPUT,
  LSD_MAX_LINES,
  LSD_MAX_PACKET,
  decodeAnnounce,
  encodeAnnounce,
  hashesPerPacket,
} from '../../../src/lsd/index.js';
import { NbtError, isNbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/tmp.js';

const H1 = Buffer.from('0123456789abcdef0123456789abcdef01234567', 'hex');
const H2 = Buffer.from('fedcba9876543210fedcba9876543210fedcba98', 'hex');

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof NbtError, `not an NbtError: ${String(e)}`);
    return e.code;
  }
  return 'no error';
}

test('encode: the BEP 14 layout, IPv4 and IPv6 Host headers, one Infohash line per torrent', () => {
  assert.equal(
    encodeAnnounce(4, 6881, [H1], 'c00k1e').toString('latin1'),
    'BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n' +
      `Infohash: ${H1.toString('hex')}\r\ncookie: c00k1e\r\n\r\n\r\n`,
  );
  const v6 = encodeAnnounce(6, 51413, [H1, H2]).toString('latin1');
  assert.equal(
    v6,
    'BT-SEARCH * HTTP/1.1\r\nHost: [ff15::efc0:988f]:6771\r\nPort: 51413\r\n' +
      `Infohash: ${H1.toString('hex')}\r\nInfohash: ${H2.toString('hex')}\r\n\r\n\r\n`,
  );
  assert.equal(
    code(() => encodeAnnounce(4, 0, [H1])),
    'LSD_BAD_ANNOUNCE',
  );
  assert.equal(
    code(() => encodeAnnounce(4, 1, [])),
    'LSD_BAD_ANNOUNCE',
  );
  assert.equal(
    code(() => encodeAnnounce(4, 1, [H1.subarray(0, 19)])),
    'LSD_BAD_ANNOUNCE',
  );
  assert.equal(
    code(() => encodeAnnounce(4, 1, [H1], 'has space')),
    'LSD_BAD_ANNOUNCE',
  );
});

test('encode: hashesPerPacket fills but never exceeds 1400 bytes', () => {
  for (const family of [4, 6] as const) {
    const n = hashesPerPacket(family, 65535, 'ffffffffffff');
    assert.ok(n >= 20, `only ${n} hashes fit`);
    const full = encodeAnnounce(
      family,
      65535,
      Array.from({ length: n }, () => H1),
      'ffffffffffff',
    );
    assert.ok(full.length <= LSD_MAX_PACKET, `${full.length} bytes`);
    const over = encodeAnnounce(
      family,
      65535,
      Array.from({ length: n + 1 }, () => H1),
      'ffffffffffff',
    );
    assert.ok(over.length > LSD_MAX_PACKET);
  }
});

test('decode: round trip, case-insensitive names and hex, LF-only lines, unknown headers ignored', () => {
  const a = decodeAnnounce(encodeAnnounce(6, 6881, [H1, H2], 'abc'));
  assert.deepEqual(a, { host: '[ff15::efc0:988f]:6771', port: 6881, infoHashes: [H1, H2], cookie: 'abc' });
  const loose = Buffer.from(
    `bt-search * HTTP/1.0\nHOST: 239.192.152.143:6771\nX-Future: 1\nport:  7000 \n` +
      `INFOHASH: ${H1.toString('hex').toUpperCase()}\ninfohash: ${H1.toString('hex')}\n\n`,
  );
  const b = decodeAnnounce(loose);
  assert.equal(b.port, 7000);
  assert.deepEqual(b.infoHashes, [H1], 'duplicates collapse');
  assert.equal(b.cookie, undefined);
  // No terminating blank line (a truncated sender) still carries what it says.
  assert.equal(
    decodeAnnounce(Buffer.from(`BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${H2.toString('hex')}`)).port,
    1,
  );
});

test('decode: Infohash values that are not 40 hex digits are skipped; none valid is an error', () => {
  const v2 = 'ab'.repeat(32);
  const a = decodeAnnounce(
    Buffer.from(
      `BT-SEARCH * HTTP/1.1\r\nPort: 9\r\nInfohash: ${v2}\r\nInfohash: ${H2.toString('hex')}\r\n\r\n`,
    ),
  );
  assert.deepEqual(a.infoHashes, [H2]);
  assert.equal(
    code(() => decodeAnnounce(Buffer.from(`BT-SEARCH * HTTP/1.1\r\nPort: 9\r\nInfohash: xyz\r\n\r\n`))),
    'LSD_NO_INFOHASH',
  );
});

test('decode: malformed announces give typed errors', () => {
  const ih = `Infohash: ${H1.toString('hex')}\r\n`;
  const cases: [string | Buffer, string][] = [
    ['', 'LSD_BAD_REQUEST_LINE'],
    ['M-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n', 'LSD_BAD_REQUEST_LINE'],
    ['GET / HTTP/1.1\r\n\r\n', 'LSD_BAD_REQUEST_LINE'],
    [`BT-SEARCH * HTTP/1.1\r\n${ih}\r\n`, 'LSD_BAD_PORT'],
    [`BT-SEARCH * HTTP/1.1\r\nPort: 0\r\n${ih}\r\n`, 'LSD_BAD_PORT'],
    [`BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\n${ih}\r\n`, 'LSD_BAD_PORT'],
    [`BT-SEARCH * HTTP/1.1\r\nPort: 12ab\r\n${ih}\r\n`, 'LSD_BAD_PORT'],
    [`BT-SEARCH * HTTP/1.1\r\nPort: -1\r\n${ih}\r\n`, 'LSD_BAD_PORT'],
    [`BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n`, 'LSD_NO_INFOHASH'],
    [`BT-SEARCH * HTTP/1.1\r\nno colon here\r\nPort: 1\r\n${ih}\r\n`, 'LSD_BAD_HEADER'],
    [`BT-SEARCH * HTTP/1.1\r\n: empty name\r\n\r\n`, 'LSD_BAD_HEADER'],
    [`BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n${ih.repeat(LSD_MAX_LINES)}\r\n`, 'LSD_TOO_MANY_HEADERS'],
    [Buffer.alloc(LSD_MAX_INPUT + 1, 0x41), 'LSD_TOO_LARGE'],
  ];
  for (const [input, want] of cases) {
    const data = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
    assert.equal(
      code(() => decodeAnnounce(data)),
      want,
      JSON.stringify(data.toString('latin1').slice(0, 60)),
    );
  }
});

test('decode: a long cookie is cut to 64 characters (bounded state per sender)', () => {
  const text = encodeAnnounce(4, 1, [H1])
    .toString('latin1')
    .replace('\r\n\r\n\r\n', `\r\ncookie: ${'x'.repeat(500)}\r\n\r\n`);
  const a = decodeAnnounce(Buffer.from(text, 'latin1'));
  assert.equal(a.cookie?.length, 64);
});

test('fuzz: 20k random and mutated datagrams only ever throw NbtError', () => {
  const rnd = prng(14_2015);
  const int = (n: number): number => Math.floor(rnd() * n);
  const valid = encodeAnnounce(4, 6881, [H1, H2], 'c00k1e');
  let ok = 0;
  for (let iter = 0; iter < 20_000; iter++) {
    let data: Buffer;
    if (iter % 3 === 0) {
      data = Buffer.alloc(int(200));
      for (let i = 0; i < data.length; i++) data[i] = int(256);
    } else {
      data = Buffer.from(valid);
      for (let n = 1 + int(4); n > 0; n--) {
        const at = int(data.length);
        const op = int(3);
        if (op === 0) data[at] = int(256);
        else if (op === 1) data = Buffer.concat([data.subarray(0, at), data.subarray(at + 1 + int(8))]);
        else
          data = Buffer.concat([
            data.subarray(0, at),
            Buffer.from(':\r\n\n '.charAt(int(5))),
            data.subarray(at),
          ]);
      }
    }
    try {
      const a = decodeAnnounce(data);
      ok++;
      assert.ok(a.port >= 1 && a.port <= 65535);
      assert.ok(a.infoHashes.length > 0 && a.infoHashes.every((h) => h.length === 20));
    } catch (e) {
      assert.ok(isNbtError(e) && e.code.startsWith('LSD_'), `unexpected ${String(e)}`);
    }
  }
  assert.ok(ok > 100, `only ${ok} mutated announces decoded`);
});
