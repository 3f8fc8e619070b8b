/**
 * MSE fuzz targets. The handshake parser and state machine are what is fuzzed, not the
 * Diffie-Hellman: `mse-responder` and `mse-initiator` inject a cheap key exchange (S = Ya xor Yb,
 * symmetric, so a stand-in initiator and responder agree) and a deterministic random source, so
 * every run of an input makes the same keys and pads. Their seeds are whole handshakes recorded
 * between the two stand-ins, from which mutations reach req1 sync, SKEY, VC, crypto_select, the
 * pads and IA. `mse-dh` keeps the real DH (also deterministic, so its seeds get as far): it is
 * slow and exists to keep the real key exchange's error paths fuzzed.
 */
import { MseInitiator, MseResponder } from '../../src/mse/index.js';
import type { MseKeyExchange, MseStep, RandomSource } from '../../src/mse/index.js';
import { NbtError } from '../../src/util/errors.js';
import { chunks, type FuzzTarget } from './target.js';

const HASH: Buffer = Buffer.alloc(20, 0xab);
const OTHER_HASH: Buffer = Buffer.alloc(20, 0xcd);

/** The same bytes for the same calls: a counter-based stream restarted for each input. */
function deterministicRandom(seed: number): RandomSource {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };
}

/** A stand-in for DH: public key from the random source, S = ours xor theirs (never all zero). */
class XorKeyExchange implements MseKeyExchange {
  readonly publicKey: Buffer;
  constructor(random: RandomSource) {
    this.publicKey = random(96);
  }
  secret(other: Buffer): Buffer {
    if (other.length !== 96) throw new NbtError('MSE_BAD_PUBLIC_KEY', 'stand-in: key length');
    const s = Buffer.allocUnsafe(96);
    let any = 0;
    for (let i = 0; i < 96; i++) any |= s[i] = this.publicKey[i]! ^ other[i]!;
    // As DH rejects 0, 1 and >= P: some keys are refused, so that path stays reachable.
    if (any === 0) throw new NbtError('MSE_BAD_PUBLIC_KEY', 'stand-in: same key');
    return s;
  }
}
const xorKeys = (random: RandomSource): MseKeyExchange => new XorKeyExchange(random);

const INITIATOR_SEED = 11;
const RESPONDER_SEED = 22;

interface Roles {
  initiator(): MseInitiator;
  responder(prefer?: 'plaintext'): MseResponder;
}

function roles(keyExchange: typeof xorKeys | undefined): Roles {
  return {
    initiator: () =>
      new MseInitiator({
        infoHash: HASH,
        provide: ['rc4', 'plaintext'],
        initialPayload: Buffer.from('\x13BitTorrent protocol'),
        random: deterministicRandom(INITIATOR_SEED),
        keyExchange,
        padLength: 7,
        cryptoPadLength: 3,
      }),
    responder: (prefer) =>
      new MseResponder({
        infoHashes: () => [OTHER_HASH, HASH],
        allow: ['rc4', 'plaintext'],
        prefer,
        random: deterministicRandom(RESPONDER_SEED),
        keyExchange,
        padLength: 5,
        cryptoPadLength: 2,
        maxInitialPayload: 1024,
      }),
  };
}

/** Runs a whole handshake; returns what each side sent, in order. */
function transcript(r: Roles, prefer?: 'plaintext'): { fromInitiator: Buffer[]; fromResponder: Buffer[] } {
  const a = r.initiator();
  const b = r.responder(prefer);
  const fromInitiator = [a.start()];
  const fromResponder: Buffer[] = [];
  let toB: Buffer | undefined = fromInitiator[0];
  for (let round = 0; round < 4 && toB; round++) {
    const sb: MseStep = b.receive(toB);
    toB = undefined;
    if (!sb.send) break;
    fromResponder.push(sb.send);
    const sa = a.receive(sb.send);
    if (sa.send) {
      fromInitiator.push(sa.send);
      toB = sa.send;
    }
  }
  return { fromInitiator, fromResponder };
}

function responderTarget(name: string, r: Roles): FuzzTarget {
  return {
    name,
    seeds: () => {
      const t = transcript(r);
      return [
        Buffer.concat([Buffer.from([0]), ...t.fromInitiator]),
        Buffer.concat([Buffer.from([3]), ...t.fromInitiator, Buffer.from('trailing bytes')]),
        Buffer.concat([Buffer.from([0]), t.fromInitiator[0]!]),
      ];
    },
    run: (b: Buffer) => {
      const resp = r.responder();
      for (const c of chunks(b)) {
        const step = resp.receive(c);
        if (resp.bufferedBytes > b.length) throw new Error(`responder holds ${resp.bufferedBytes} bytes`);
        if (step.done) break;
      }
    },
  };
}

function initiatorTarget(name: string, r: Roles): FuzzTarget {
  return {
    name,
    seeds: () => {
      const t = transcript(r);
      const plain = transcript(r, 'plaintext');
      return [
        Buffer.concat([Buffer.from([0]), ...t.fromResponder]),
        Buffer.concat([Buffer.from([5]), ...plain.fromResponder, Buffer.from('after')]),
      ];
    },
    run: (b: Buffer) => {
      const init = r.initiator();
      init.start();
      for (const c of chunks(b)) {
        const step = init.receive(c);
        if (init.bufferedBytes > b.length) throw new Error(`initiator holds ${init.bufferedBytes} bytes`);
        if (step.done) break;
      }
    },
  };
}

const cheap = roles(xorKeys);

export const MSE_TARGETS: FuzzTarget[] = [
  responderTarget('mse-responder', cheap),
  initiatorTarget('mse-initiator', cheap),
  // The real key exchange, deterministic too: slow (a modular power per input), so small.
  responderTarget('mse-dh', roles(undefined)),
];
