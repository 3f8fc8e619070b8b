/** Hand-built handshake messages, to feed the state machines what a faulty peer would send. */
import { DhKeyPair, req1Hash, req2Hash, req3Hash, streamCipher, xor20 } from '../../../src/mse/dh.js';
import { seededBytes } from '../../helpers/tmp.js';

export interface Step3Fields {
  vc?: Buffer;
  provide?: number;
  padCLength?: number;
  /** Written into the len(IA) field (defaults to ia.length). */
  iaLength?: number;
  ia?: Buffer;
  padA?: number;
}

/** A fake initiator: `hello()` is step 1; `step3(yb, ...)` is step 3 with any field overridden. */
export class FakeInitiator {
  readonly keys = new DhKeyPair((n) => seededBytes(n, 99));
  constructor(readonly skey: Buffer) {}

  hello(padA = 0): Buffer {
    return Buffer.concat([this.keys.publicKey, seededBytes(padA, 98)]);
  }

  step3(yb: Buffer, f: Step3Fields = {}): Buffer {
    const s = this.keys.secret(yb.subarray(0, 96));
    const ia = f.ia ?? Buffer.alloc(0);
    const padC = f.padCLength ?? 0;
    const vc = f.vc ?? Buffer.alloc(8);
    const body = Buffer.alloc(8 + 4 + 2 + Math.min(padC, 600) + 2 + ia.length);
    vc.copy(body, 0);
    body.writeUInt32BE(f.provide ?? 0x02, 8);
    body.writeUInt16BE(padC, 12);
    body.writeUInt16BE(f.iaLength ?? ia.length, 14 + Math.min(padC, 600));
    ia.copy(body, 16 + Math.min(padC, 600));
    streamCipher('A', s, this.skey).process(body);
    return Buffer.concat([req1Hash(s), xor20(req2Hash(this.skey), req3Hash(s)), body]);
  }
}

/** A fake responder: `reply(ya)` is step 2; `step4(...)` is ENCRYPT(VC, select, PadD). */
export class FakeResponder {
  readonly keys = new DhKeyPair((n) => seededBytes(n, 97));
  private s: Buffer | undefined;
  constructor(readonly skey: Buffer) {}

  reply(ya: Buffer, padB = 0): Buffer {
    this.s = this.keys.secret(ya.subarray(0, 96));
    return Buffer.concat([this.keys.publicKey, seededBytes(padB, 96)]);
  }

  step4(select: number, padDLength = 0, vc = Buffer.alloc(8)): Buffer {
    const body = Buffer.alloc(14 + Math.min(padDLength, 600));
    vc.copy(body, 0);
    body.writeUInt32BE(select, 8);
    body.writeUInt16BE(padDLength, 12);
    streamCipher('B', this.s!, this.skey).process(body);
    return body;
  }
}
