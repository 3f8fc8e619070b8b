/**
 * MSE against libtorrent 2.0 over real loopback sockets: our initiator to a forced-encryption
 * seed, a forced-encryption leech to our responder, and our initiator to a seed with
 * encryption disabled (which must refuse it).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Socket } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '../../src/bencode/index.js';
import { sha1 } from '../../src/util/sha1.js';
import { NbtError } from '../../src/util/errors.js';
import {
  MseInitiator,
  MseResponder,
  type CryptoMethod,
  type MseOutcome,
  type MseStep,
} from '../../src/mse/index.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';

const PIECE = 16 * 1024;

/** A single-file torrent built by hand (the metainfo module is not a dependency here). */
async function makeTorrent(
  t: TestContext,
): Promise<{ torrent: string; seedDir: string; leechDir: string; infoHash: Buffer }> {
  const tmp = await tempDir('nbt-mse-');
  t.after(tmp.cleanup);
  const data = seededBytes(256 * 1024, 31);
  const seedDir = join(tmp.path, 'seed');
  const leechDir = join(tmp.path, 'leech');
  await mkdir(seedDir);
  await mkdir(leechDir);
  await writeFile(join(seedDir, 'mse.bin'), data);
  const hashes: Buffer[] = [];
  for (let o = 0; o < data.length; o += PIECE) hashes.push(sha1(data.subarray(o, o + PIECE)));
  const info = { length: data.length, name: 'mse.bin', 'piece length': PIECE, pieces: Buffer.concat(hashes) };
  const torrent = join(tmp.path, 'mse.torrent');
  await writeFile(torrent, encode({ info, 'created by': 'net-bittorrent mse test' }));
  return { torrent, seedDir, leechDir, infoHash: sha1(encode(info)) };
}

function btHandshake(infoHash: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('\x13BitTorrent protocol', 'latin1'),
    Buffer.alloc(8),
    infoHash,
    Buffer.from('-NB0100-mse-interop!', 'latin1'),
  ]);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)),
  );
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

type Result =
  | { kind: 'done'; outcome: MseOutcome; after: Buffer }
  | { kind: 'error'; error: NbtError }
  | { kind: 'closed' };

/**
 * Runs an MSE state machine on a socket until it completes, then gathers decrypted stream bytes
 * until `enough(bytes)` says so; or reports a typed failure or the peer closing the socket.
 */
function drive(
  socket: Socket,
  receive: (c: Buffer) => MseStep,
  enough: (o: MseOutcome, after: Buffer) => boolean,
): Promise<Result> {
  return new Promise((resolve) => {
    let outcome: MseOutcome | undefined;
    const got: Buffer[] = [];
    const finish = (r: Result): void => {
      socket.removeAllListeners('data');
      resolve(r);
    };
    const check = (): void => {
      const after = Buffer.concat(got);
      if (outcome && enough(outcome, after)) finish({ kind: 'done', outcome, after });
    };
    socket.on('data', (chunk: Buffer) => {
      if (outcome) {
        outcome.decrypt?.process(chunk);
        got.push(chunk);
        return check();
      }
      try {
        const step = receive(chunk);
        if (step.send) socket.write(step.send);
        if (step.done) {
          outcome = step.done;
          got.push(step.done.remainder);
          check();
        }
      } catch (e) {
        if (e instanceof NbtError) finish({ kind: 'error', error: e });
        else throw e;
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () =>
      finish(outcome ? { kind: 'done', outcome, after: Buffer.concat(got) } : { kind: 'closed' }),
    );
  });
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Length-prefixed messages after the 68-byte handshake. */
function firstMessageId(after: Buffer): number | undefined {
  let o = 68;
  while (after.length >= o + 4) {
    const len = after.readUInt32BE(o);
    if (len === 0) {
      o += 4; // keep-alive
      continue;
    }
    return after.length > o + 4 ? after[o + 4] : undefined;
  }
  return undefined;
}

/** Our initiator against a libtorrent seed: returns the outcome and the decrypted stream after it. */
async function initiatorToSeed(
  t: TestContext,
  enc: 'enabled' | 'forced',
  provide: CryptoMethod[],
): Promise<{ outcome: MseOutcome; after: Buffer; infoHash: Buffer }> {
  const tor = await makeTorrent(t);
  const seed = new LtPeer('seed', tor.torrent, tor.seedDir, { enc });
  t.after(() => seed.kill());
  const socket = await connect(await seed.port());
  t.after(() => socket.destroy());
  const mse = new MseInitiator({
    infoHash: tor.infoHash,
    provide,
    initialPayload: btHandshake(tor.infoHash),
  });
  socket.write(mse.start());
  const r = await withTimeout(
    drive(
      socket,
      (c) => mse.receive(c),
      (_, after) => firstMessageId(after) !== undefined,
    ),
    15_000,
    'MSE + BT handshake from libtorrent',
  );
  assert.equal(r.kind, 'done', JSON.stringify(r));
  if (r.kind !== 'done') throw new Error('unreachable');
  assert.equal(r.after[0], 19);
  assert.equal(r.after.subarray(1, 20).toString('latin1'), 'BitTorrent protocol');
  assert.ok(r.after.subarray(28, 48).equals(tor.infoHash), 'libtorrent answers with our info-hash');
  // A seed starts with bitfield (5), have-all (14) or the extension handshake (20).
  assert.ok([5, 14, 20].includes(firstMessageId(r.after)!), `first message id ${firstMessageId(r.after)}`);
  return { outcome: r.outcome, after: r.after, infoHash: tor.infoHash };
}

/** A libtorrent leech connecting to our responder: returns the outcome and the remote BT handshake. */
async function leechToResponder(
  t: TestContext,
  enc: 'enabled' | 'forced',
  o: { allow: CryptoMethod[]; prefer?: CryptoMethod },
): Promise<{ outcome: MseOutcome; handshake: Buffer; infoHash: Buffer }> {
  const tor = await makeTorrent(t);
  const accepted: Promise<Socket> = new Promise((resolve) => {
    const server = createServer((s) => resolve(s));
    server.listen(0, '127.0.0.1');
    t.after(() => server.close());
    server.on('listening', () => {
      const port = (server.address() as { port: number }).port;
      const leech = new LtPeer('leech', tor.torrent, tor.leechDir, {
        enc,
        connect: [`127.0.0.1:${port}`],
        timeout: 30,
      });
      t.after(() => leech.kill());
    });
  });
  const socket = await withTimeout(accepted, 15_000, 'libtorrent connecting to us');
  t.after(() => socket.destroy());
  const mse = new MseResponder({ infoHashes: () => [seededBytes(20, 5), tor.infoHash], ...o });
  const r = await withTimeout(
    drive(
      socket,
      (c) => mse.receive(c),
      (out, after) => out.initialPayload.length + after.length >= 68,
    ),
    15_000,
    'MSE handshake from libtorrent',
  );
  assert.equal(r.kind, 'done', JSON.stringify(r));
  if (r.kind !== 'done') throw new Error('unreachable');
  assert.ok(r.outcome.infoHash.equals(tor.infoHash));
  // libtorrent puts its BT handshake in IA; accept it in the stream too.
  const hs = Buffer.concat([r.outcome.initialPayload, r.after]).subarray(0, 68);
  assert.equal(hs[0], 19);
  assert.equal(hs.subarray(1, 20).toString('latin1'), 'BitTorrent protocol');
  assert.ok(hs.subarray(28, 48).equals(tor.infoHash), 'the encrypted BT handshake names the torrent');
  return { outcome: r.outcome, handshake: hs, infoHash: tor.infoHash };
}

test('our MSE initiator (RC4 only) completes with a libtorrent seed in forced mode', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const r = await initiatorToSeed(t, 'forced', ['rc4']);
  assert.equal(r.outcome.method, 'rc4');
  assert.ok(r.outcome.encrypt && r.outcome.decrypt);
});

test('our MSE initiator offering both methods gets a working plaintext stream from an "enabled" libtorrent seed', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  // libtorrent with prefer_rc4 off selects plaintext when offered; either way the stream must parse.
  const r = await initiatorToSeed(t, 'enabled', ['rc4', 'plaintext']);
  t.diagnostic(`libtorrent selected ${r.outcome.method}`);
  assert.equal(r.outcome.method, 'plaintext');
  assert.equal(r.outcome.decrypt, null);
});

test('a libtorrent leech in forced mode completes MSE with our responder and sends its handshake', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const r = await leechToResponder(t, 'forced', { allow: ['rc4'] });
  assert.equal(r.outcome.method, 'rc4');
  assert.equal(r.outcome.initialPayload.length, 68, 'libtorrent sends its BT handshake as IA');
});

test('an "enabled" libtorrent leech accepts plaintext selected by our responder', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const r = await leechToResponder(t, 'enabled', { allow: ['rc4', 'plaintext'], prefer: 'plaintext' });
  assert.equal(r.outcome.method, 'plaintext');
});

test('a libtorrent seed with encryption disabled closes the socket on our MSE attempt', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const tor = await makeTorrent(t);
  const seed = new LtPeer('seed', tor.torrent, tor.seedDir, { enc: 'disabled' });
  t.after(() => seed.kill());
  const socket = await connect(await seed.port());
  t.after(() => socket.destroy());
  const mse = new MseInitiator({
    infoHash: tor.infoHash,
    provide: ['rc4', 'plaintext'],
    initialPayload: btHandshake(tor.infoHash),
  });
  socket.write(mse.start());
  const r = await withTimeout(
    drive(
      socket,
      (c) => mse.receive(c),
      () => true,
    ),
    15_000,
    'libtorrent refusing MSE',
  );
  // It does not answer with Yb: it reads our Ya as a malformed plaintext handshake and disconnects.
  assert.equal(r.kind, 'closed', JSON.stringify(r));
});
