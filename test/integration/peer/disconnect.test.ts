/**
 * Every disconnect reason the Peer decides by itself, reproduced with scripted raw sockets on
 * loopback and a FakeClock for the timers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Peer,
  DisconnectReason,
  type PeerConnectOptions,
  type PeerAcceptOptions,
} from '../../../src/peer/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { MseInitiator } from '../../../src/mse/index.js';
import type { ReservedFlags } from '../../../src/wire/index.js';
import { freePort, seededBytes } from '../../helpers/tmp.js';
import {
  INFO_HASH,
  OTHER_HASH,
  ID_A,
  ID_B,
  listen,
  wrapRaw,
  rawConnect,
  handshakeBytes,
  closeInfo,
  peerServer,
  once,
} from '../../unit/peer/helpers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** An outgoing Peer (plaintext) against a raw scripted server that has read its handshake. */
async function outgoing(extra: Partial<PeerConnectOptions<string>> = {}) {
  const l = await listen();
  const peer = Peer.connect<string>({
    host: '127.0.0.1',
    port: l.port,
    infoHash: INFO_HASH,
    peerId: ID_A,
    encryption: 'disabled',
    onHandshake: () => ({ torrent: 't', pieceCount: 16 }),
    ...extra,
  });
  const raw = wrapRaw(await l.next());
  await raw.waitBytes(68);
  return { l, peer, raw };
}

/** An accepting Peer server and a raw client. */
async function incoming(extra: Partial<PeerAcceptOptions<string>> = {}) {
  const server = await peerServer<string>({
    peerId: ID_A,
    encryption: 'enabled',
    infoHashes: () => [INFO_HASH],
    onHandshake: () => ({ torrent: 't', pieceCount: 16 }),
    ...extra,
  });
  const raw = await rawConnect(server.port);
  const peer = await server.nextPeer();
  return { server, raw, peer };
}

test('CONNECT_FAILED with errno when nothing listens', async () => {
  const port = await freePort();
  const peer = Peer.connect({
    host: '127.0.0.1',
    port,
    infoHash: INFO_HASH,
    peerId: ID_A,
    onHandshake: () => DisconnectReason.CLOSED_BY_US,
  });
  const info = await closeInfo(peer);
  assert.equal(info.reason, DisconnectReason.CONNECT_FAILED);
  assert.equal(info.errno, 'ECONNREFUSED');
});

test('CONNECT_TIMEOUT', async () => {
  const clock = new FakeClock();
  const l = await listen();
  try {
    const peer = Peer.connect({
      host: '127.0.0.1',
      port: l.port,
      infoHash: INFO_HASH,
      peerId: ID_A,
      clock,
      timeouts: { connect: 5000 },
      onHandshake: () => DisconnectReason.CLOSED_BY_US,
    });
    clock.advance(4999);
    assert.equal(peer.closed, false);
    clock.advance(1);
    assert.equal(peer.closeInfo?.reason, DisconnectReason.CONNECT_TIMEOUT);
  } finally {
    await l.close();
  }
});

test('TIMEOUT_HANDSHAKE (incoming, nothing sent)', async () => {
  const clock = new FakeClock();
  const { server, peer } = await incoming({ clock });
  try {
    clock.advance(29_999);
    assert.equal(peer.closed, false);
    clock.advance(1);
    assert.equal(peer.closeInfo?.reason, DisconnectReason.TIMEOUT_HANDSHAKE);
  } finally {
    await server.close();
  }
});

test('an outgoing MSE attempt that times out is retried in plaintext, then TIMEOUT_HANDSHAKE', async () => {
  const clock = new FakeClock();
  const l = await listen();
  try {
    const peer = Peer.connect({
      host: '127.0.0.1',
      port: l.port,
      infoHash: INFO_HASH,
      peerId: ID_A,
      clock,
      onHandshake: () => ({ torrent: 1 }),
    });
    const first = wrapRaw(await l.next());
    await first.waitBytes(96); // Ya
    assert.equal(peer.state, 'encrypting');
    clock.advance(30_000);
    const second = wrapRaw(await l.next());
    const hs = await second.waitBytes(68);
    assert.deepEqual(hs.subarray(0, 68), handshakeBytes(INFO_HASH, ID_A, { extended: true, fast: true }));
    assert.equal(peer.closed, false);
    clock.advance(30_000);
    assert.equal(peer.closeInfo?.reason, DisconnectReason.TIMEOUT_HANDSHAKE);
  } finally {
    await l.close();
  }
});

test('MALFORMED_HANDSHAKE: wrong protocol name (plaintext-only incoming, and outgoing)', async () => {
  const { server, raw, peer } = await incoming({ encryption: 'disabled' });
  try {
    raw.socket.write(Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocoX')]));
    assert.equal((await closeInfo(peer)).reason, DisconnectReason.MALFORMED_HANDSHAKE);
  } finally {
    await server.close();
  }
  const o = await outgoing();
  try {
    o.raw.socket.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
    assert.equal((await closeInfo(o.peer)).reason, DisconnectReason.MALFORMED_HANDSHAKE);
  } finally {
    await o.l.close();
  }
});

test('ENCRYPTION_DISABLED and ENCRYPTION_REQUIRED', async () => {
  const a = await incoming({ encryption: 'disabled' });
  try {
    a.raw.socket.write(seededBytes(96, 3).fill(0x80, 0, 1));
    assert.equal((await closeInfo(a.peer)).reason, DisconnectReason.ENCRYPTION_DISABLED);
  } finally {
    await a.server.close();
  }
  const b = await incoming({ encryption: 'required' });
  try {
    b.raw.socket.write(handshakeBytes());
    assert.equal((await closeInfo(b.peer)).reason, DisconnectReason.ENCRYPTION_REQUIRED);
  } finally {
    await b.server.close();
  }
});

test('HANDSHAKE_INFOHASH: outgoing peer answers for another torrent', async () => {
  const { l, peer, raw } = await outgoing();
  try {
    raw.socket.write(handshakeBytes(OTHER_HASH));
    assert.equal((await closeInfo(peer)).reason, DisconnectReason.HANDSHAKE_INFOHASH);
  } finally {
    await l.close();
  }
});

/** Runs an MSE initiator over a raw socket until its handshake completes or the socket closes. */
function mseClient(raw: Awaited<ReturnType<typeof rawConnect>>, mse: MseInitiator): void {
  raw.socket.on('data', (c: Buffer) => {
    try {
      const step = mse.receive(c);
      if (step.send) raw.socket.write(step.send);
    } catch {
      raw.socket.destroy();
    }
  });
  raw.socket.write(mse.start());
}

test('HANDSHAKE_INFOHASH: encrypted handshake names another info-hash than the SKEY', async () => {
  const { server, raw, peer } = await incoming({ infoHashes: () => [INFO_HASH, OTHER_HASH] });
  try {
    mseClient(
      raw,
      new MseInitiator({ infoHash: INFO_HASH, provide: ['rc4'], initialPayload: handshakeBytes(OTHER_HASH) }),
    );
    assert.equal((await closeInfo(peer)).reason, DisconnectReason.HANDSHAKE_INFOHASH);
  } finally {
    await server.close();
  }
});

test('MSE_UNKNOWN_SKEY, MSE_NO_CRYPTO_METHOD, HANDSHAKE_SYNC_DH5', async () => {
  const a = await incoming();
  try {
    mseClient(a.raw, new MseInitiator({ infoHash: OTHER_HASH, provide: ['rc4'] }));
    assert.equal((await closeInfo(a.peer)).reason, DisconnectReason.MSE_UNKNOWN_SKEY);
  } finally {
    await a.server.close();
  }
  const b = await incoming({ encryption: 'required' });
  try {
    mseClient(b.raw, new MseInitiator({ infoHash: INFO_HASH, provide: ['plaintext'] }));
    assert.equal((await closeInfo(b.peer)).reason, DisconnectReason.MSE_NO_CRYPTO_METHOD);
  } finally {
    await b.server.close();
  }
  const c = await incoming();
  try {
    c.raw.socket.write(seededBytes(96 + 700, 9).fill(0x80, 0, 1));
    assert.equal((await closeInfo(c.peer)).reason, DisconnectReason.HANDSHAKE_SYNC_DH5);
  } finally {
    await c.server.close();
  }
});

test('LOOPBACK: the remote has our peer id', async () => {
  const { l, peer, raw } = await outgoing();
  try {
    raw.socket.write(handshakeBytes(INFO_HASH, ID_A));
    const info = await closeInfo(peer);
    assert.equal(info.reason, DisconnectReason.LOOPBACK);
    assert.equal(info.peerId, ID_A.toString('hex'));
  } finally {
    await l.close();
  }
});

test('the hook refuses: NO_SUCH_TORRENT carries the info-hash; nothing of ours is sent', async () => {
  const { server, raw, peer } = await incoming({ onHandshake: () => DisconnectReason.NO_SUCH_TORRENT });
  try {
    raw.socket.write(handshakeBytes(OTHER_HASH));
    const info = await closeInfo(peer);
    assert.equal(info.reason, DisconnectReason.NO_SUCH_TORRENT);
    assert.equal(info.infoHash, OTHER_HASH.toString('hex'));
    await raw.closed;
    assert.equal(raw.received().length, 0);
  } finally {
    await server.close();
  }
});

async function afterHandshake(remoteFlags: ReservedFlags = { extended: true, fast: true }) {
  const o = await outgoing();
  o.raw.socket.write(handshakeBytes(INFO_HASH, ID_B, remoteFlags));
  if (o.peer.state !== 'connected') await once(o.peer, 'handshake');
  return o;
}

for (const [what, bytes, reason, flags] of [
  ['wrong fixed length', '00000002 00 00', DisconnectReason.MALFORMED_PACKET, undefined],
  ['unknown id', '00000001 63', DisconnectReason.MALFORMED_PACKET, undefined],
  ['bitfield of the wrong size', '00000002 05 ff', DisconnectReason.MALFORMED_PACKET, undefined],
  ['have-all without Fast', '00000001 0e', DisconnectReason.MALFORMED_PACKET, { extended: true }],
  ['bad extension handshake', '00000004 14 00 6c65', DisconnectReason.MALFORMED_PACKET, undefined],
  ['oversized piece', '00100000 07', DisconnectReason.MESSAGE_TOO_LARGE, undefined],
] as const) {
  test(`${DisconnectReason[reason]}: ${what}`, async () => {
    const { l, peer, raw } = await afterHandshake(flags ?? { extended: true, fast: true });
    try {
      raw.socket.write(hex(bytes));
      const info = await closeInfo(peer);
      assert.equal(info.reason, reason);
      assert.ok(info.message);
    } finally {
      await l.close();
    }
  });
}

test('BY_REMOTE on a clean close, SOCKET_ERROR (ECONNRESET) on a reset', async () => {
  const a = await afterHandshake();
  try {
    a.raw.socket.end();
    assert.equal((await closeInfo(a.peer)).reason, DisconnectReason.BY_REMOTE);
  } finally {
    await a.l.close();
  }
  const b = await afterHandshake();
  try {
    b.raw.socket.resetAndDestroy();
    const info = await closeInfo(b.peer);
    assert.equal(info.reason, DisconnectReason.SOCKET_ERROR);
    assert.equal(info.errno, 'ECONNRESET');
  } finally {
    await b.l.close();
  }
});

test('keep-alive after 2 min idle sending, IDLE_TIMEOUT after 3 min without receiving', async () => {
  const clock = new FakeClock();
  const { l, peer, raw } = await outgoing({ clock });
  try {
    raw.socket.write(handshakeBytes());
    await once(peer, 'handshake');
    peer.interested(); // not useless
    while (!raw.received().toString('hex').endsWith('0000000102'))
      await raw.waitBytes(raw.received().length + 1);
    const before = raw.received().length;
    clock.advance(125_000);
    const got = await raw.waitBytes(before + 4);
    assert.equal(got.subarray(before).toString('hex'), '00000000');
    assert.equal(peer.closed, false);
    clock.advance(60_000);
    assert.equal(peer.closeInfo?.reason, DisconnectReason.IDLE_TIMEOUT);
  } finally {
    await l.close();
  }
});

test('USELESS_PEER: neither side interested for the configured time', async () => {
  const clock = new FakeClock();
  const { l, peer, raw } = await outgoing({ clock, timeouts: { useless: 60_000, idle: 600_000 } });
  try {
    raw.socket.write(handshakeBytes());
    await once(peer, 'handshake');
    clock.advance(30_000);
    peer.interested();
    clock.advance(50_000);
    peer.notInterested();
    clock.advance(55_000);
    assert.equal(peer.closed, false, 'the clock restarts when interest ends');
    clock.advance(10_000);
    assert.equal(peer.closeInfo?.reason, DisconnectReason.USELESS_PEER);
  } finally {
    await l.close();
  }
});

test('CLOSED_BY_US flushes what was queued before closing politely', async () => {
  const { l, peer, raw } = await afterHandshake();
  try {
    peer.have(3);
    peer.close();
    assert.equal(peer.closeInfo?.reason, DisconnectReason.CLOSED_BY_US);
    await raw.closed;
    assert.ok(raw.received().subarray(68).toString('hex').includes('000000050400000003'));
  } finally {
    await l.close();
  }
});

test('magnet: announcements before the piece count is known are validated by setPieceCount', async () => {
  const { l, peer, raw } = await outgoing({ onHandshake: () => ({ torrent: 'magnet' }) });
  try {
    raw.socket.write(
      Buffer.concat([handshakeBytes(), hex('00000003 05 ff c0'), hex('00000005 04 0000000b')]),
    );
    await once(peer, 'handshake');
    while (peer.bitfield.size === 0 && !peer.closed) {
      await new Promise((r) => setTimeout(r, 5));
      if (raw.received().length > 0) peer.setPieceCount(12);
    }
    assert.equal(peer.bitfield.count, 11);
    assert.equal(peer.bitfield.has(11), true);
    assert.equal(peer.bitfield.has(10), false);
  } finally {
    await l.close();
  }
  const bad = await outgoing({ onHandshake: () => ({ torrent: 'magnet' }) });
  try {
    bad.raw.socket.write(Buffer.concat([handshakeBytes(), hex('00000003 05 ff c0')]));
    await once(bad.peer, 'message');
    bad.peer.setPieceCount(9); // 2 bytes, but bits 9 and 10... set beyond 9
    assert.equal(bad.peer.closeInfo?.reason, DisconnectReason.MALFORMED_PACKET);
  } finally {
    await bad.l.close();
  }
});

test('MSE_BAD_VC: a corrupted verification constant in step 3', async () => {
  const { server, raw, peer } = await incoming();
  try {
    const mse = new MseInitiator({ infoHash: INFO_HASH, provide: ['rc4'], initialPayload: handshakeBytes() });
    raw.socket.on('data', (c: Buffer) => {
      try {
        const step = mse.receive(c);
        if (step.send) {
          step.send[40]! ^= 0xff; // first byte of the encrypted VC
          raw.socket.write(step.send);
        }
      } catch {
        raw.socket.destroy();
      }
    });
    raw.socket.write(mse.start());
    assert.equal((await closeInfo(peer)).reason, DisconnectReason.MSE_BAD_VC);
  } finally {
    await server.close();
  }
});

test('an MSE handshake that selects plaintext: encryption is plaintext-negotiated and the stream continues in the clear', async () => {
  const { server, raw, peer } = await incoming();
  try {
    const mse = new MseInitiator({
      infoHash: INFO_HASH,
      provide: ['plaintext'],
      initialPayload: handshakeBytes(),
    });
    let after: Buffer | undefined;
    raw.socket.on('data', (c: Buffer) => {
      if (after) {
        after = Buffer.concat([after, c]);
        return;
      }
      const step = mse.receive(c);
      if (step.send) raw.socket.write(step.send);
      if (step.done) {
        assert.equal(step.done.method, 'plaintext');
        after = step.done.remainder;
      }
    });
    raw.socket.write(mse.start());
    await once(peer, 'handshake');
    assert.equal(peer.encryption, 'plaintext-negotiated');
    const deadline = Date.now() + 5000;
    while ((!after || after.length < 68) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(after!.subarray(0, 68), handshakeBytes(INFO_HASH, ID_A));
    raw.socket.write(hex('00000001 02'));
    await once(peer, 'message');
    assert.equal(peer.peerInterested, true);
  } finally {
    await server.close();
  }
});
