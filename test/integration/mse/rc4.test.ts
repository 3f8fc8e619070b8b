import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rc4 } from '../../../src/mse/index.js';
import { prng, seededBytes } from '../../helpers/tmp.js';

/** RFC 6229 keystream excerpts (offset → 16 bytes), also reproduced with `openssl enc -rc4-40 / -rc4`. */
const VECTORS: { key: string; stream: [number, string][] }[] = [
  {
    key: '0102030405',
    stream: [
      [0, 'b2396305f03dc027ccc3524a0a1118a8'],
      [16, '6982944f18fc82d589c403a47a0d0919'],
      [240, '28cb1132c96ce286421dcaadb8b69eae'],
      [256, '1cfcf62b03eddb641d77dfcf7f8d8c93'],
      [496, '42b7d0cdd918a8a33dd51781c81f4041'],
      [1008, '45129048e6a0ed0b56b490338f078da5'],
      [1024, '30abbcc7c20b01609f23ee2d5f6bb7df'],
      [4080, '068326a2118416d21f9d04b2cd1ca050'],
      [4096, 'ff25b58995996707e51fbdf08b34d875'],
    ],
  },
  {
    key: '0102030405060708090a0b0c0d0e0f10',
    stream: [
      [0, '9ac7cc9a609d1ef7b2932899cde41b97'],
      [16, '5248c4959014126a6e8a84f11d1a9e1c'],
      [240, '065902e4b620f6cc36c8589f66432f2b'],
      [1024, 'bdf0324e6083dcc6d3cedd3ca8c53c16'],
      [1536, 'ffa0b514647ec04f6306b892ae661181'],
      [4096, 'a36a4c301ae8ac13610ccbc12256cacc'],
    ],
  },
];

/** The textbook byte-at-a-time RC4, to check the word-at-a-time path against. */
function referenceRc4(key: Uint8Array, data: Uint8Array): void {
  const s = Array.from({ length: 256 }, (_, i) => i);
  let j = 0;
  for (let i = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) % 256;
    [s[i], s[j]] = [s[j]!, s[i]!];
  }
  let i = 0;
  j = 0;
  for (let k = 0; k < data.length; k++) {
    i = (i + 1) % 256;
    j = (j + s[i]!) % 256;
    [s[i], s[j]] = [s[j]!, s[i]!];
    data[k] = data[k]! ^ s[(s[i]! + s[j]!) % 256]!;
  }
}

test('RC4 matches the RFC 6229 keystream vectors', () => {
  for (const v of VECTORS) {
    const ks = Buffer.alloc(4112);
    new Rc4(Buffer.from(v.key, 'hex')).process(ks);
    for (const [offset, hex] of v.stream)
      assert.equal(ks.subarray(offset, offset + 16).toString('hex'), hex, `key ${v.key} offset ${offset}`);
  }
});

test('RC4 gives the same stream for any chunking, alignment and key length', () => {
  const rand = prng(7);
  for (let round = 0; round < 40; round++) {
    const key = seededBytes(1 + Math.floor(rand() * 256), round + 1);
    const length = Math.floor(rand() * 5000);
    const data = seededBytes(length, round + 100);
    const expected = Buffer.from(data);
    referenceRc4(key, expected);
    // Place the data at an odd offset so the aligned middle differs from the start.
    const shift = Math.floor(rand() * 4);
    const backing = Buffer.alloc(length + shift);
    data.copy(backing, shift);
    const view = backing.subarray(shift);
    const rc4 = new Rc4(key);
    for (let o = 0; o < length;) {
      const n = Math.min(length - o, rand() < 0.3 ? Math.floor(rand() * 8) : Math.floor(rand() * 700));
      rc4.process(view.subarray(o, o + n));
      o += n;
    }
    assert.ok(
      view.equals(expected),
      `round ${round} (key ${key.length} B, data ${length} B, shift ${shift})`,
    );
  }
});

test('RC4 encrypts and decrypts symmetrically; discard(n) skips n keystream bytes', () => {
  const key = Buffer.from('secret key');
  const plain = seededBytes(3000, 3);
  const data = Buffer.from(plain);
  const enc = new Rc4(key);
  enc.discard(1024);
  enc.process(data);
  assert.ok(!data.equals(plain));
  const full = Buffer.alloc(1024 + 3000);
  new Rc4(key).process(full);
  const viaFull = Buffer.from(plain);
  for (let i = 0; i < viaFull.length; i++) viaFull[i] = viaFull[i]! ^ full[1024 + i]!;
  assert.ok(data.equals(viaFull));
  const dec = new Rc4(key);
  dec.discard(1024);
  dec.process(data);
  assert.ok(data.equals(plain));
});

test('RC4 rejects empty and oversized keys', () => {
  assert.throws(() => new Rc4(Buffer.alloc(0)), RangeError);
  assert.throws(() => new Rc4(Buffer.alloc(257)), RangeError);
});

test('RC4 agrees with the system openssl (legacy provider), when it has RC4', (t) => {
  const key = seededBytes(16, 11);
  const data = seededBytes(1 << 20, 12);
  const r = spawnSync(
    'openssl',
    ['enc', '-rc4', '-provider', 'legacy', '-provider', 'default', '-nosalt', '-K', key.toString('hex')],
    { input: data, maxBuffer: 4 << 20 },
  );
  if (r.status !== 0 || r.stdout.length !== data.length) {
    t.skip('openssl has no RC4 here (no legacy provider)');
    return;
  }
  new Rc4(key).process(data);
  assert.ok(data.equals(r.stdout));
});
