import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MseInitiator, MseResponder } from '../../../src/mse/index.js';
import type { MseKeyExchange } from '../../../src/mse/index.js';
import { isNbtError, NbtError } from '../../../src/util/errors.js';

const HASH = Buffer.alloc(20, 0x42);

/** S = ours xor theirs: symmetric, so two parties using it agree. */
function xorExchange(fill: number, used: string[]): () => MseKeyExchange {
  return () => {
    const publicKey = Buffer.alloc(96, fill);
    return {
      publicKey,
      secret(other) {
        used.push(other.toString('hex').slice(0, 4));
        if (other.every((b) => b === 0)) throw new NbtError('MSE_BAD_PUBLIC_KEY', 'zero');
        return Buffer.from(publicKey.map((b, i) => b ^ other[i]!));
      },
    };
  };
}

test('an injected key exchange replaces the DH on both sides, and the handshake completes over it', () => {
  const used: string[] = [];
  const a = new MseInitiator({
    infoHash: HASH,
    provide: ['rc4'],
    initialPayload: Buffer.from('hello'),
    keyExchange: xorExchange(0x11, used),
    padLength: 0,
  });
  const b = new MseResponder({
    infoHashes: () => [HASH],
    allow: ['rc4'],
    keyExchange: xorExchange(0x22, used),
    padLength: 0,
  });
  const step1 = a.start();
  // Ya is the injected public key, byte for byte (a real DH key is never 96 equal bytes).
  assert.deepEqual(step1, Buffer.alloc(96, 0x11));
  const s2 = b.receive(step1);
  assert.deepEqual(s2.send!.subarray(0, 96), Buffer.alloc(96, 0x22));
  const s3 = a.receive(s2.send!);
  const s4 = b.receive(s3.send!);
  assert.equal(s4.done!.initialPayload.toString(), 'hello');
  const done = a.receive(s4.send!).done!;
  assert.equal(done.method, 'rc4');
  assert.deepEqual(used, ['1111', '2222']);
});

test('an injected exchange that rejects a key fails the handshake with its NbtError', () => {
  const b = new MseResponder({ infoHashes: () => [HASH], allow: ['rc4'], keyExchange: xorExchange(1, []) });
  assert.throws(
    () => b.receive(Buffer.alloc(96)),
    (e) => isNbtError(e, 'MSE_BAD_PUBLIC_KEY'),
  );
});
