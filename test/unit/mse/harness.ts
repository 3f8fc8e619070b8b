/**
 * Drives an MseInitiator and an MseResponder against each other in memory, delivering each
 * direction's bytes in chunks chosen by `split`, and carries application data after the
 * handshake (to check keys, remainders and pipelining).
 */
import { MseInitiator, MseResponder, type MseOutcome, type MseStep } from '../../../src/mse/index.js';

export type Splitter = (remaining: number) => number;

export const fixedSplit =
  (n: number): Splitter =>
  (remaining) =>
    Math.min(n, remaining);

export function randomSplit(rand: () => number, max = 200): Splitter {
  return (remaining) => Math.min(remaining, 1 + Math.floor(rand() * max));
}

interface Side {
  receive?: (chunk: Buffer) => MseStep;
  outcome?: MseOutcome;
  /** Application bytes received after the handshake, decrypted. */
  appIn: Buffer[];
  /** Bytes waiting to go to the other side. */
  outbox: Buffer[];
}

export interface Transcript {
  initiator: MseOutcome;
  responder: MseOutcome;
  /** Application data each side received after the handshake (decrypted). */
  initiatorGot: Buffer;
  responderGot: Buffer;
  /** Raw bytes on the wire, per direction. */
  wireAtoB: Buffer;
  wireBtoA: Buffer;
}

/**
 * Runs the handshake. `afterA` is what the initiator sends right after its handshake completes,
 * `afterB` what the responder sends right behind step 4 (both encrypted per the outcome), so
 * they arrive glued to handshake bytes and exercise `remainder`.
 */
export function runHandshake(
  a: MseInitiator,
  b: MseResponder,
  split: Splitter,
  afterA: Buffer = Buffer.alloc(0),
  afterB: Buffer = Buffer.alloc(0),
): Transcript {
  const wire = { ab: [] as Buffer[], ba: [] as Buffer[] };
  const A: Side = { receive: (c) => a.receive(c), appIn: [], outbox: [a.start()] };
  const B: Side = { receive: (c) => b.receive(c), appIn: [], outbox: [] };
  const outgoing = (side: Side, data: Buffer): Buffer => {
    const copy = Buffer.from(data);
    side.outcome!.encrypt?.process(copy);
    return copy;
  };
  const deliver = (from: Side, to: Side, log: Buffer[]): boolean => {
    const bytes = Buffer.concat(from.outbox);
    from.outbox = [];
    if (bytes.length === 0) return false;
    log.push(bytes);
    for (let o = 0; o < bytes.length;) {
      const n = Math.max(1, split(bytes.length - o));
      const chunk = Buffer.from(bytes.subarray(o, o + n));
      o += n;
      if (to.outcome) {
        to.outcome.decrypt?.process(chunk);
        to.appIn.push(chunk);
        continue;
      }
      const step = to.receive!(chunk);
      if (step.send) to.outbox.push(step.send);
      if (step.done) {
        to.outcome = step.done;
        to.appIn.push(step.done.remainder);
        const after = to === A ? afterA : afterB;
        if (after.length) to.outbox.push(outgoing(to, after));
      }
    }
    return true;
  };
  for (let rounds = 0; rounds < 100; rounds++) {
    const moved = deliver(A, B, wire.ab) || deliver(B, A, wire.ba);
    if (!moved) break;
  }
  if (!A.outcome || !B.outcome) throw new Error('handshake did not complete');
  return {
    initiator: A.outcome,
    responder: B.outcome,
    initiatorGot: Buffer.concat(A.appIn),
    responderGot: Buffer.concat(B.appIn),
    wireAtoB: Buffer.concat(wire.ab),
    wireBtoA: Buffer.concat(wire.ba),
  };
}
