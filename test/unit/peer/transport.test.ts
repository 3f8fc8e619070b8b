/**
 * The Peer over a Transport that is not a net.Socket (test/helpers/memory-transport.ts): the
 * handshake with and without MSE, messages, back-pressure (write() → false, then 'drain'),
 * close reasons, and the Dial's attempts (MSE → plaintext retry, one connector handing over to
 * the next) — all without a socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Peer,
  DisconnectReason,
  type EncryptionPolicy,
  type PeerConnectOptions,
} from '../../../src/peer/index.js';
import type { Connector } from '../../../src/net/index.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import { FakeClock } from '../../../src/util/clock.js';
import {
  memoryConnector,
  type ConnectOutcome,
  type MemoryTransport,
} from '../../helpers/memory-transport.js';
import { INFO_HASH, ID_A, ID_B, closeInfo, once } from './helpers.js';

const BLOCK = 16 * 1024;
const PIECES = 4;
const data = Buffer.alloc(PIECES * BLOCK);
for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;

/** A seeding Peer on each far end the connector accepts. */
function seedOn(far: MemoryTransport, encryption: EncryptionPolicy, seeds: Peer<string>[]): void {
  const seed = Peer.accept<string>(far, {
    peerId: ID_B,
    encryption,
    infoHashes: () => [INFO_HASH],
    highWaterMark: 32 * 1024,
    onHandshake: () => ({ torrent: 'seed', pieceCount: PIECES, have: Bitfield.full(PIECES) }),
  });
  seed.on('message', (m) => {
    if (m.type === 'interested') seed.unchoke();
    else if (m.type === 'request')
      seed.piece(m.index, m.begin, data.subarray(m.index * BLOCK, m.index * BLOCK + m.length));
  });
  seeds.push(seed);
}

function dial(
  connector: Connector | Connector[],
  extra: Partial<PeerConnectOptions<string>> = {},
): Peer<string> {
  return Peer.connect<string>({
    host: '10.1.1.1',
    port: 6881,
    infoHash: INFO_HASH,
    peerId: ID_A,
    connector,
    onHandshake: () => ({ torrent: 'leech', pieceCount: PIECES }),
    ...extra,
  });
}

/** Interested → unchoke → request every piece; resolves with the blocks in order. */
async function downloadAll(leech: Peer<string>): Promise<Buffer> {
  const blocks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    leech.on('message', (m) => {
      if (m.type === 'unchoke') for (let i = 0; i < PIECES; i++) leech.request(i, 0, BLOCK);
      else if (m.type === 'piece') {
        blocks[m.index] = Buffer.from(m.block);
        if (blocks.filter(Boolean).length === PIECES) resolve();
      }
    });
    leech.once('close', (i) => reject(new Error(`closed: ${i.name}`)));
  });
  if (leech.state !== 'connected') await once(leech, 'handshake');
  leech.interested();
  await done;
  return Buffer.concat(blocks);
}

for (const [policy, encryption] of [
  ['enabled', 'rc4'],
  ['disabled', 'none'],
] as const)
  test(`over an in-memory transport (${policy}): handshake, messages, transport kind`, async () => {
    const seeds: Peer<string>[] = [];
    const connector = memoryConnector((far) => seedOn(far, policy, seeds), { kind: 'mem' });
    const leech = dial(connector, { encryption: policy });
    assert.equal(leech.transport, 'mem');
    const connects: number[] = [];
    leech.on('connect', () => connects.push(1));
    assert.ok((await downloadAll(leech)).equals(data));
    const seed = seeds[0]!;
    assert.equal(leech.encryption, encryption);
    assert.equal(seed.encryption, encryption);
    assert.equal(seed.transport, 'mem');
    assert.equal(seed.host, '10.9.9.9');
    assert.match(leech.asString(), /^Peer 10\.1\.1\.1:6881 — outgoing \(user\), mem, connected/);
    assert.equal(connects.length, 1);
    // With RC4 the protocol string never crosses the transport in the clear.
    const sent = Buffer.concat(connector.ends[0]!.written);
    assert.equal(sent.includes('BitTorrent protocol'), policy === 'disabled');
    assert.equal(leech.bytesSent, sent.length);
    leech.close();
    assert.equal((await closeInfo(seed)).reason, DisconnectReason.BY_REMOTE);
  });

test('back-pressure: write() → false makes the Peer congested until the transport drains', async () => {
  const seeds: Peer<string>[] = [];
  const connector = memoryConnector((far) => seedOn(far, 'disabled', seeds), { highWaterMark: 32 * 1024 });
  const leech = dial(connector, { encryption: 'disabled' });
  await once(leech, 'handshake');
  const seed = seeds[0]!;
  if (seed.state !== 'connected') await once(seed, 'handshake');
  const leechEnd = connector.ends[0]!;
  const seedEnd = leechEnd.other!;
  leechEnd.pause(); // the leech stops reading: the seed's bytes pile up in its transport
  const drained: number[] = [];
  seed.on('drain', () => drained.push(seed.writeBufferBytes));
  seed.unchoke();
  for (let i = 0; i < PIECES; i++) seed.piece(i, 0, data.subarray(i * BLOCK, (i + 1) * BLOCK));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.ok(seedEnd.refusedWrites > 0, 'write() returned false');
  assert.ok(seed.congested, `congested at ${seed.writeBufferBytes} bytes`);
  assert.deepEqual(drained, []);
  const pieces: number[] = [];
  leech.on('message', (m) => m.type === 'piece' && pieces.push(m.index));
  leechEnd.resume();
  await once(seed, 'drain');
  assert.equal(seed.congested, false);
  assert.equal(drained[0], 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(pieces, [0, 1, 2, 3]);
  leech.close();
});

test('close reasons over a memory transport: BY_REMOTE, SOCKET_ERROR with errno', async () => {
  for (const how of ['destroy', 'fail'] as const) {
    const seeds: Peer<string>[] = [];
    const connector = memoryConnector((far) => seedOn(far, 'disabled', seeds));
    const leech = dial(connector, { encryption: 'disabled' });
    await once(leech, 'handshake');
    const seedEnd = connector.ends[0]!.other!;
    if (how === 'destroy') seedEnd.destroy();
    else connector.ends[0]!.fail('ECONNRESET');
    const info = await closeInfo(leech);
    if (how === 'destroy') assert.equal(info.reason, DisconnectReason.BY_REMOTE);
    else {
      assert.equal(info.reason, DisconnectReason.SOCKET_ERROR);
      assert.equal(info.errno, 'ECONNRESET');
    }
    seeds[0]?.close();
  }
});

test('connect failures: CONNECT_FAILED with errno, CONNECT_TIMEOUT, TIMEOUT_HANDSHAKE (FakeClock)', async () => {
  const refused = memoryConnector(() => {}, { outcome: () => 'refuse' });
  const a = dial(refused);
  const ia = await closeInfo(a);
  assert.equal(ia.reason, DisconnectReason.CONNECT_FAILED);
  assert.equal(ia.errno, 'ECONNREFUSED');
  assert.equal(refused.ends.length, 1, 'a connector that cannot connect is not asked again in plaintext');

  const clock = new FakeClock();
  const hanging = memoryConnector(() => {}, { outcome: () => 'hang' });
  const b = dial(hanging, { clock });
  clock.advance(14_999);
  assert.equal(b.state, 'connecting');
  clock.advance(1);
  assert.equal(b.closeInfo?.reason, DisconnectReason.CONNECT_TIMEOUT);
  assert.ok(hanging.ends[0]!.destroyed);

  const silent = memoryConnector(() => {}); // connects, then the remote says nothing
  const c = dial(silent, { clock, encryption: 'disabled' });
  await once(c, 'connect');
  clock.advance(30_000);
  assert.equal(c.closeInfo?.reason, DisconnectReason.TIMEOUT_HANDSHAKE);
});

test('MSE refused by the remote: the same Peer retries in plaintext on a fresh transport', async () => {
  const seeds: Peer<string>[] = [];
  const connector = memoryConnector((far) => seedOn(far, 'disabled', seeds));
  const leech = dial(connector, { encryption: 'enabled' });
  const connects: number[] = [];
  leech.on('connect', () => connects.push(1));
  assert.ok((await downloadAll(leech)).equals(data));
  assert.equal(connector.ends.length, 2);
  assert.ok(connector.ends[0]!.destroyed);
  assert.equal(seeds[0]!.closeInfo?.reason, DisconnectReason.ENCRYPTION_DISABLED);
  assert.equal(leech.encryption, 'none');
  assert.equal(connects.length, 1);
  leech.close();

  // 'required' has no plaintext attempt: the MSE failure closes the peer.
  const strict = memoryConnector((far) => seedOn(far, 'disabled', []));
  const info = await closeInfo(dial(strict, { encryption: 'required' }));
  assert.equal(info.reason, DisconnectReason.BY_REMOTE);
  assert.equal(strict.ends.length, 1);
});

test('several connectors: one that cannot connect (refused or timed out) hands over to the next', async () => {
  const clock = new FakeClock();
  for (const outcome of ['refuse', 'hang'] as ConnectOutcome[]) {
    const seeds: Peer<string>[] = [];
    const first = memoryConnector(() => {}, { kind: 'utp', outcome: () => outcome });
    const second = memoryConnector((far) => seedOn(far, 'enabled', seeds), { kind: 'tcp-ish' });
    const leech = dial([first, second], { clock });
    assert.equal(leech.transport, 'utp');
    if (outcome === 'hang') clock.advance(15_000);
    assert.ok((await downloadAll(leech)).equals(data));
    assert.equal(leech.transport, 'tcp-ish');
    assert.equal(leech.encryption, 'rc4');
    assert.deepEqual([first.ends.length, second.ends.length], [1, 1]);
    leech.close();
  }
  assert.throws(() => dial([]), /no connector/);
});

test('pieces waiting for the upload limit count as congestion; the limit letting them go says drain', async () => {
  // An upload gate that holds every piece until the test releases it.
  const waiting: (() => void)[] = [];
  const gate = (): Promise<void> => new Promise<void>((r) => waiting.push(r));
  const HWM = 64 * 1024;
  let seed: Peer<string> | undefined;
  const connector = memoryConnector((far) => {
    seed = Peer.accept<string>(far, {
      peerId: ID_B,
      encryption: 'disabled',
      infoHashes: () => [INFO_HASH],
      highWaterMark: HWM,
      bandwidth: { upload: gate },
      onHandshake: () => ({ torrent: 'seed', pieceCount: PIECES, have: Bitfield.full(PIECES) }),
    });
  });
  const leech = dial(connector, { encryption: 'disabled' });
  await once(leech, 'handshake');
  if (seed!.state !== 'connected') await once(seed!, 'handshake');
  const s = seed!;
  // An uploader-like loop: serve while not congested.
  let handed = 0;
  while (!s.congested && handed < 100) {
    s.piece(0, 0, data.subarray(0, BLOCK));
    handed++;
  }
  assert.ok(handed * BLOCK <= HWM + 2 * BLOCK, `${handed} blocks handed over behind the gate`);
  assert.ok(s.writeBufferBytes > HWM);
  const drained = once(s, 'drain');
  // The gate lets pieces go one by one; once below the mark, 'drain' says serve again.
  while (waiting.length > 0 || s.writeBufferBytes > HWM) {
    waiting.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  await drained;
  assert.equal(s.congested, false);
  s.close();
  leech.close();
});
