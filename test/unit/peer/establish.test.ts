/** The pre-handshake stage machines, without sockets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingStage, OutgoingStage, type StageStep } from '../../../src/peer/establish.js';
import { NbtError } from '../../../src/util/errors.js';
import { prng } from '../../helpers/tmp.js';
import { INFO_HASH, OTHER_HASH, ID_A, ID_B, handshakeBytes } from './helpers.js';

/** Shuttles bytes between the two stages until both have the remote handshake. */
function run(out: OutgoingStage, inc: IncomingStage, split = 0) {
  const toIn: Buffer[] = [out.start()];
  const toOut: Buffer[] = [];
  let outDone: StageStep['done'];
  let inDone: StageStep['done'];
  const feed = (stage: OutgoingStage | IncomingStage, data: Buffer, sink: Buffer[]): StageStep['done'] => {
    const parts =
      split > 0
        ? Array.from({ length: Math.ceil(data.length / split) }, (_, i) =>
            data.subarray(i * split, (i + 1) * split),
          )
        : [data];
    let done: StageStep['done'];
    for (const p of parts) {
      const step = stage.receive(Buffer.from(p));
      if (step.send) sink.push(step.send);
      if (step.done) done = step.done;
    }
    return done;
  };
  for (let round = 0; round < 10 && !(outDone && inDone); round++) {
    for (const b of toIn.splice(0)) inDone = feed(inc, b, toOut) ?? inDone;
    if (inDone && !outDone) {
      // the incoming side answers with its handshake once accepted (encrypted when RC4)
      const reply = handshakeBytes(INFO_HASH, ID_B);
      inDone.encrypt?.process(reply);
      toOut.push(reply);
    }
    for (const b of toOut.splice(0)) outDone = feed(out, b, toIn) ?? outDone;
  }
  return { outDone, inDone };
}

for (const split of [0, 1, 7]) {
  test(`MSE stage to stage (chunks of ${split || 'any'} bytes)`, () => {
    const out = new OutgoingStage({
      infoHash: INFO_HASH,
      ourHandshake: handshakeBytes(INFO_HASH, ID_A),
      mse: ['rc4', 'plaintext'],
    });
    const inc = new IncomingStage({ policy: 'enabled', infoHashes: () => [OTHER_HASH, INFO_HASH] });
    const { outDone, inDone } = run(out, inc, split);
    assert.equal(inDone?.encryption, 'rc4');
    assert.deepEqual(inDone?.handshake.peerId, ID_A);
    assert.deepEqual(outDone?.handshake.peerId, ID_B);
    assert.equal(outDone?.rest.length, 0);
  });
}

test('plaintext stage to stage', () => {
  const out = new OutgoingStage({
    infoHash: INFO_HASH,
    ourHandshake: handshakeBytes(INFO_HASH, ID_A),
    mse: false,
  });
  const inc = new IncomingStage({ policy: 'enabled', infoHashes: () => [INFO_HASH] });
  const { outDone, inDone } = run(out, inc, 3);
  assert.equal(inDone?.encryption, 'none');
  assert.equal(outDone?.encryption, 'none');
  assert.equal(inDone?.encrypt, null);
});

test('fuzz: random and mutated pre-handshake input only ever throws NbtError', () => {
  const rnd = prng(77);
  const int = (n: number): number => Math.floor(rnd() * n);
  const good = handshakeBytes();
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    let input: Buffer;
    if (i % 3 === 0) {
      input = Buffer.alloc(int(800));
      for (let j = 0; j < input.length; j++) input[j] = int(256);
    } else {
      input = Buffer.concat([good, Buffer.from([0, 0, 0, 1, int(20)])]);
      for (let n = int(3); n > 0; n--) input[int(input.length)] = int(256);
    }
    const policy = (['disabled', 'enabled', 'required'] as const)[i % 3]!;
    const stage =
      i % 2
        ? new IncomingStage({ policy, infoHashes: () => [INFO_HASH] })
        : new OutgoingStage({ infoHash: INFO_HASH, ourHandshake: good, mse: false });
    if (stage instanceof OutgoingStage) stage.start();
    try {
      for (let at = 0; at < input.length;) {
        const n = 1 + int(100);
        const step = stage.receive(input.subarray(at, at + n));
        at += n;
        if (step.done) break;
      }
    } catch (e) {
      assert.ok(e instanceof NbtError, `not an NbtError: ${String(e)}`);
      errors++;
    }
  }
  assert.ok(errors > 1000, `errors ${errors}`);
});
