import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MseInitiator,
  MseResponder,
  MSE_REQ1_SYNC_LIMIT,
  MSE_VC_SYNC_LIMIT,
  type MseStep,
} from '../../../src/mse/index.js';
import { isNbtError } from '../../../src/util/errors.js';
import { seededBytes } from '../../helpers/tmp.js';
import { FakeInitiator, FakeResponder } from './craft.js';

const HASH = seededBytes(20, 1);
const OTHER = seededBytes(20, 2);

const code = (c: string) => (e: unknown) => isNbtError(e, c);

function responder(o: Partial<ConstructorParameters<typeof MseResponder>[0]> = {}): MseResponder {
  return new MseResponder({ infoHashes: () => [HASH], allow: ['rc4', 'plaintext'], padLength: 0, ...o });
}

/** Feeds bytes one at a time; returns the concatenated output. */
function feedBytewise(receive: (c: Buffer) => MseStep, data: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i++) {
    const s = receive(data.subarray(i, i + 1));
    if (s.send) out.push(s.send);
  }
  return Buffer.concat(out);
}

test('responder: a VC that is not zero fails with MSE_BAD_VC', () => {
  const a = new FakeInitiator(HASH);
  const b = responder();
  const yb = b.receive(a.hello(10)).send!;
  assert.throws(
    () => b.receive(a.step3(yb, { vc: Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]) })),
    code('MSE_BAD_VC'),
  );
  // A failed handshake stays failed.
  assert.throws(() => b.receive(Buffer.alloc(1)), code('MSE_BAD_VC'));
});

test('responder: an info-hash we do not serve fails with MSE_UNKNOWN_SKEY', () => {
  const a = new MseInitiator({ infoHash: OTHER, provide: ['rc4'] });
  const b = responder();
  const yb = b.receive(a.start()).send!;
  const step3 = a.receive(yb).send!;
  assert.throws(() => feedBytewise((c) => b.receive(c), step3), code('MSE_UNKNOWN_SKEY'));
});

test('no common crypto method fails with MSE_NO_CRYPTO_METHOD on the responder', () => {
  for (const [provide, allow] of [
    [['plaintext'], ['rc4']],
    [['rc4'], ['plaintext']],
  ] as const) {
    const a = new MseInitiator({ infoHash: HASH, provide: [...provide] });
    const b = responder({ allow: [...allow] });
    const step3 = a.receive(b.receive(a.start()).send!).send!;
    assert.throws(() => b.receive(step3), code('MSE_NO_CRYPTO_METHOD'));
  }
  // A provide field with neither known bit.
  const f = new FakeInitiator(HASH);
  const b = responder();
  const yb = b.receive(f.hello()).send!;
  assert.throws(() => b.receive(f.step3(yb, { provide: 0x0c })), code('MSE_NO_CRYPTO_METHOD'));
});

test('initiator: a crypto_select we did not provide (or several bits) fails with MSE_NO_CRYPTO_METHOD', () => {
  for (const select of [0x01, 0x03, 0x00, 0x04]) {
    const a = new MseInitiator({ infoHash: HASH, provide: ['rc4'], padLength: 0 });
    const fake = new FakeResponder(HASH);
    const yb = fake.reply(a.start());
    a.receive(yb);
    assert.throws(() => a.receive(fake.step4(select)), code('MSE_NO_CRYPTO_METHOD'), `select ${select}`);
  }
});

test('responder: req1 not found within 628 bytes fails with MSE_SYNC_FAILED, not earlier', () => {
  const a = new FakeInitiator(HASH);
  const b = responder();
  const garbage = Buffer.concat([a.hello(), seededBytes(2000, 5)]);
  const before = MSE_REQ1_SYNC_LIMIT - 1;
  feedBytewise((c) => b.receive(c), garbage.subarray(0, before));
  assert.throws(() => b.receive(garbage.subarray(before, before + 1)), code('MSE_SYNC_FAILED'));
  // In one large chunk too.
  assert.throws(() => responder().receive(garbage), code('MSE_SYNC_FAILED'));
});

test('responder: req1 right at the limit (PadA of 512 bytes) is accepted', () => {
  const a = new FakeInitiator(HASH);
  const b = responder();
  const yb = b.receive(a.hello(512)).send!;
  const step = b.receive(a.step3(yb));
  assert.equal(step.done?.method, 'rc4');
  // One more byte of pad is too much.
  const a2 = new FakeInitiator(HASH);
  const b2 = responder();
  const yb2 = b2.receive(a2.hello(513)).send!;
  assert.throws(() => b2.receive(a2.step3(yb2)), code('MSE_SYNC_FAILED'));
});

test('initiator: ENCRYPT(VC) not found within 616 bytes of Yb fails with MSE_SYNC_FAILED', () => {
  const a = new MseInitiator({ infoHash: HASH, provide: ['rc4'] });
  const fake = new FakeResponder(HASH);
  const yb = fake.reply(a.start());
  const stream = Buffer.concat([yb, seededBytes(1000, 6)]);
  feedBytewise((c) => a.receive(c), stream.subarray(0, MSE_VC_SYNC_LIMIT - 1));
  assert.throws(
    () => a.receive(stream.subarray(MSE_VC_SYNC_LIMIT - 1, MSE_VC_SYNC_LIMIT)),
    code('MSE_SYNC_FAILED'),
  );
  // A VC ending exactly at 616 bytes (PadB 512) is found.
  const a2 = new MseInitiator({ infoHash: HASH, provide: ['rc4'] });
  const fake2 = new FakeResponder(HASH);
  const ok = Buffer.concat([fake2.reply(a2.start(), 512), fake2.step4(0x02)]);
  const out = feedBytewise((c) => a2.receive(c), ok.subarray(0, ok.length - 1));
  assert.ok(out.length > 0, 'step 3 was sent');
  assert.equal(a2.receive(ok.subarray(ok.length - 1)).done?.method, 'rc4');
});

test('responder: an IA longer than maxInitialPayload fails with MSE_TOO_MUCH_DATA', () => {
  const a = new FakeInitiator(HASH);
  const b = responder({ maxInitialPayload: 100 });
  const yb = b.receive(a.hello()).send!;
  assert.throws(() => b.receive(a.step3(yb, { ia: Buffer.alloc(101) })), code('MSE_TOO_MUCH_DATA'));
  const b2 = responder({ maxInitialPayload: 100 });
  const yb2 = b2.receive(a.hello()).send!;
  assert.equal(b2.receive(a.step3(yb2, { ia: Buffer.alloc(100, 7) })).done?.initialPayload.length, 100);
});

test('PadC / PadD longer than 512 bytes fail with MSE_BAD_PAD', () => {
  const f = new FakeInitiator(HASH);
  const b = responder();
  const yb = b.receive(f.hello()).send!;
  assert.throws(() => b.receive(f.step3(yb, { padCLength: 513 })), code('MSE_BAD_PAD'));

  const a = new MseInitiator({ infoHash: HASH, provide: ['rc4'], padLength: 0 });
  const fake = new FakeResponder(HASH);
  a.receive(fake.reply(a.start()));
  assert.throws(() => a.receive(fake.step4(0x02, 513)), code('MSE_BAD_PAD'));
});

test('invalid Diffie-Hellman public keys fail with MSE_BAD_PUBLIC_KEY', () => {
  const one = Buffer.alloc(96);
  one[95] = 1;
  for (const y of [Buffer.alloc(96), one]) {
    assert.throws(() => responder().receive(y), code('MSE_BAD_PUBLIC_KEY'));
    const a = new MseInitiator({ infoHash: HASH, provide: ['rc4'] });
    a.start();
    assert.throws(() => a.receive(y), code('MSE_BAD_PUBLIC_KEY'));
  }
});

test('misuse is reported with MSE_STATE / MSE_BAD_OPTIONS', () => {
  const a = new MseInitiator({ infoHash: HASH, provide: ['rc4'] });
  assert.throws(() => a.receive(Buffer.alloc(1)), code('MSE_STATE'));
  a.start();
  assert.throws(() => a.start(), code('MSE_STATE'));
  assert.throws(
    () => new MseInitiator({ infoHash: Buffer.alloc(19), provide: ['rc4'] }),
    code('MSE_BAD_OPTIONS'),
  );
  assert.throws(() => new MseInitiator({ infoHash: HASH, provide: [] }), code('MSE_BAD_OPTIONS'));
  assert.throws(
    () => new MseInitiator({ infoHash: HASH, provide: ['rc4'], padLength: 513 }),
    code('MSE_BAD_OPTIONS'),
  );
  assert.throws(() => new MseResponder({ infoHashes: () => [], allow: [] }), code('MSE_BAD_OPTIONS'));
  // After completion.
  const i = new MseInitiator({ infoHash: HASH, provide: ['rc4'], padLength: 0 });
  const r = responder();
  const done = r.receive(i.receive(r.receive(i.start()).send!).send!);
  assert.ok(done.done);
  assert.throws(() => r.receive(Buffer.alloc(1)), code('MSE_STATE'));
  assert.ok(i.receive(done.send!).done);
  assert.throws(() => i.receive(Buffer.alloc(1)), code('MSE_STATE'));
});
