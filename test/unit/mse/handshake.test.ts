import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MseInitiator, MseResponder, MSE_KEY_LENGTH, type CryptoMethod } from '../../../src/mse/index.js';
import { DhKeyPair } from '../../../src/mse/dh.js';
import { prng, seededBytes } from '../../helpers/tmp.js';
import { fixedSplit, randomSplit, runHandshake, type Splitter } from './harness.js';

const HASH = seededBytes(20, 1);
const OTHER = seededBytes(20, 2);
const BT_HANDSHAKE = Buffer.concat([
  Buffer.from('\x13BitTorrent protocol', 'latin1'),
  Buffer.alloc(8),
  HASH,
  seededBytes(20, 3),
]);

interface Case {
  method: CryptoMethod;
  ia: Buffer;
  pad: number;
  split: Splitter;
  label: string;
}

function check(c: Case): void {
  const a = new MseInitiator({
    infoHash: HASH,
    provide: [c.method],
    initialPayload: c.ia,
    padLength: c.pad,
    cryptoPadLength: c.pad,
  });
  const b = new MseResponder({
    infoHashes: () => [OTHER, HASH],
    allow: ['rc4', 'plaintext'],
    padLength: c.pad,
    cryptoPadLength: c.pad,
  });
  const fromA = seededBytes(3000, 4);
  const fromB = seededBytes(2500, 5);
  const t = runHandshake(a, b, c.split, fromA, fromB);
  for (const o of [t.initiator, t.responder]) {
    assert.equal(o.method, c.method, c.label);
    assert.ok(o.infoHash.equals(HASH), c.label);
    assert.equal(o.encrypt === null, c.method === 'plaintext', c.label);
    assert.equal(o.decrypt === null, c.method === 'plaintext', c.label);
  }
  assert.ok(t.responder.initialPayload.equals(c.ia), c.label);
  assert.equal(t.initiator.initialPayload.length, 0, c.label);
  assert.ok(t.responderGot.equals(fromA), `${c.label}: initiator → responder payload`);
  assert.ok(t.initiatorGot.equals(fromB), `${c.label}: responder → initiator payload`);
  // Step 1 is Ya + PadA; the responder's first message is Yb + PadB.
  assert.ok(t.wireAtoB.length >= MSE_KEY_LENGTH + c.pad);
  if (c.method === 'rc4')
    assert.equal(t.wireAtoB.indexOf(fromA.subarray(0, 32)), -1, 'payload is not on the wire in clear');
  else
    assert.ok(
      t.wireAtoB.subarray(t.wireAtoB.length - fromA.length).equals(fromA),
      'plaintext payload is in clear',
    );
}

test('initiator and responder agree for every method, IA, pad length and chunking', () => {
  const rand = prng(42);
  const splits: [string, Splitter][] = [
    ['1 byte', fixedSplit(1)],
    ['2 bytes', fixedSplit(2)],
    ['7 bytes', fixedSplit(7)],
    ['97 bytes', fixedSplit(97)],
    ['whole', fixedSplit(1 << 30)],
    ['random small', randomSplit(rand, 16)],
    ['random large', randomSplit(rand, 900)],
  ];
  for (const method of ['rc4', 'plaintext'] as const)
    for (const ia of [BT_HANDSHAKE, Buffer.alloc(0)])
      for (const pad of [0, 512])
        for (const [name, split] of splits)
          check({ method, ia, pad, split, label: `${method} IA=${ia.length} pad=${pad} split=${name}` });
});

test('random pad lengths (default) complete with random chunking', () => {
  const rand = prng(9);
  for (let i = 0; i < 20; i++) {
    const a = new MseInitiator({
      infoHash: HASH,
      provide: ['rc4', 'plaintext'],
      initialPayload: BT_HANDSHAKE,
    });
    const b = new MseResponder({ infoHashes: () => [HASH], allow: ['rc4', 'plaintext'] });
    const t = runHandshake(a, b, randomSplit(rand, 300));
    assert.equal(t.initiator.method, 'rc4');
    assert.ok(t.responder.initialPayload.equals(BT_HANDSHAKE));
  }
});

test('the responder picks RC4 when both are provided and allowed, unless it prefers plaintext', () => {
  const pick = (allow: CryptoMethod[], provide: CryptoMethod[], prefer?: CryptoMethod): CryptoMethod => {
    const a = new MseInitiator({ infoHash: HASH, provide });
    const b = new MseResponder({ infoHashes: () => [HASH], allow, ...(prefer ? { prefer } : {}) });
    const t = runHandshake(a, b, fixedSplit(1 << 30));
    assert.equal(t.initiator.method, t.responder.method);
    return t.responder.method;
  };
  assert.equal(pick(['rc4', 'plaintext'], ['rc4', 'plaintext']), 'rc4');
  assert.equal(pick(['rc4', 'plaintext'], ['rc4', 'plaintext'], 'rc4'), 'rc4');
  assert.equal(pick(['rc4', 'plaintext'], ['rc4', 'plaintext'], 'plaintext'), 'plaintext');
  assert.equal(pick(['plaintext'], ['rc4', 'plaintext']), 'plaintext');
  assert.equal(pick(['rc4'], ['rc4', 'plaintext'], 'plaintext'), 'rc4');
  assert.equal(pick(['rc4', 'plaintext'], ['plaintext'], 'rc4'), 'plaintext');
});

test('the responder asks for its info-hashes only when the SKEY hash arrives, and matches among many', () => {
  let asked = 0;
  const many = Array.from({ length: 50 }, (_, i) => seededBytes(20, 1000 + i));
  const a = new MseInitiator({ infoHash: many[37]!, provide: ['rc4'] });
  const b = new MseResponder({
    infoHashes: () => {
      asked++;
      return many;
    },
    allow: ['rc4'],
  });
  assert.equal(asked, 0);
  const t = runHandshake(a, b, fixedSplit(13));
  assert.equal(asked, 1);
  assert.ok(t.responder.infoHash.equals(many[37]!));
});

test('public keys and the shared secret are 96 bytes, left-padded with zeros', () => {
  // Private key 1 gives the public key 2: one significant byte.
  const one = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    b[n - 1] = 1;
    return b;
  };
  const small = new DhKeyPair(one);
  assert.equal(small.publicKey.length, 96);
  assert.equal(small.publicKey[95], 2);
  assert.ok(small.publicKey.subarray(0, 95).every((x) => x === 0));
  const s = small.secret(small.publicKey); // 2^1 mod P = 2
  assert.equal(s.length, 96);
  assert.equal(s[95], 2);
  const other = new DhKeyPair((n) => seededBytes(n, 77));
  assert.ok(other.secret(small.publicKey).equals(small.secret(other.publicKey)));
  // And a handshake whose initiator has that tiny key still completes.
  const a = new MseInitiator({
    infoHash: HASH,
    provide: ['rc4'],
    random: (n) => (n === 20 ? one(20) : Buffer.alloc(n)),
  });
  const b = new MseResponder({ infoHashes: () => [HASH], allow: ['rc4'] });
  const t = runHandshake(a, b, fixedSplit(5));
  assert.equal(t.wireAtoB[95], 2);
  assert.equal(t.responder.method, 'rc4');
});

test('the private exponent has 160 random bits and the public key depends on it', () => {
  const sizes: number[] = [];
  const k1 = new DhKeyPair((n) => {
    sizes.push(n);
    return seededBytes(n, 5);
  });
  const k2 = new DhKeyPair((n) => seededBytes(n, 6));
  assert.deepEqual(sizes, [20]);
  assert.ok(!k1.publicKey.equals(k2.publicKey));
});
