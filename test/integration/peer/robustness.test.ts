/** Peer-level regressions from the hostile-peer work: throwing listeners and the write-buffer cap. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DisconnectReason, type Peer } from '../../../src/peer/index.js';
import {
  ID_A,
  INFO_HASH,
  closeInfo,
  handshakeBytes,
  once,
  peerServer,
  rawConnect,
  type Raw,
} from '../../unit/peer/helpers.js';

const accept = {
  peerId: ID_A,
  infoHashes: () => [INFO_HASH],
  onHandshake: () => ({ torrent: 1, pieceCount: 64 }),
};

/** A raw socket that has handshaken with an accepting Peer; `body` gets both, then both close. */
async function withHandshakenPeer(body: (peer: Peer<number>, raw: Raw) => Promise<void>): Promise<void> {
  const srv = await peerServer<number>(accept);
  const raw = await rawConnect(srv.port);
  try {
    raw.socket.write(handshakeBytes());
    const peer = await srv.nextPeer();
    await once(peer, 'handshake');
    await body(peer, raw);
  } finally {
    raw.socket.destroy();
    await srv.close();
  }
}

test('a throwing message listener closes the peer with INTERNAL_ERROR, reports it and runs the other listeners', async () => {
  await withHandshakenPeer(async (peer, raw) => {
    const seen: string[] = [];
    const reported: [Error, string][] = [];
    peer.on('message', () => {
      throw new Error('engine bug');
    });
    peer.on('message', (m) => seen.push(m.type));
    peer.on('internal-error', (e, event) => reported.push([e, event]));
    raw.socket.write(Buffer.from([0, 0, 0, 1, 2])); // interested
    const info = await closeInfo(peer);
    assert.equal(info.reason, DisconnectReason.INTERNAL_ERROR);
    assert.deepEqual(seen, ['interested']);
    assert.equal(reported.length, 1);
    assert.equal(reported[0]![1], 'message');
    await raw.closed;
  });
});

test('a throwing handshake hook closes with INTERNAL_ERROR instead of throwing from the socket callback', async () => {
  const srv = await peerServer<number>({
    peerId: ID_A,
    infoHashes: () => [INFO_HASH],
    onHandshake: () => {
      throw new Error('hook bug');
    },
  });
  const raw = await rawConnect(srv.port);
  try {
    raw.socket.write(handshakeBytes(INFO_HASH));
    const peer = await srv.nextPeer();
    const errors: Error[] = [];
    peer.on('internal-error', (e) => errors.push(e));
    assert.equal((await closeInfo(peer)).reason, DisconnectReason.INTERNAL_ERROR);
    assert.match(errors[0]!.message, /hook bug/);
  } finally {
    raw.socket.destroy();
    await srv.close();
  }
});

test('a peer that does not read is dropped past maxWriteBuffer (WRITE_BUFFER_FULL)', async () => {
  const srv = await peerServer<number>({ ...accept, maxWriteBuffer: 64 * 1024, highWaterMark: 16 * 1024 });
  const raw = await rawConnect(srv.port);
  try {
    raw.socket.pause();
    raw.socket.write(handshakeBytes());
    const peer = await srv.nextPeer();
    await once(peer, 'handshake');
    for (let i = 0; i < 100_000 && !peer.closed; i++) peer.reject(i % 64, 0, 16384);
    const info = await closeInfo(peer);
    assert.equal(info.reason, DisconnectReason.WRITE_BUFFER_FULL);
  } finally {
    raw.socket.destroy();
    await srv.close();
  }
});

test('send-path positions over TCP: bytes stuck behind a reader that stops are not released; once it reads, all are', async () => {
  await withHandshakenPeer(async (peer, raw) => {
    // The remote stops reading: the kernel's buffers fill, then the socket's own.
    raw.socket.pause();
    const block = Buffer.alloc(16 * 1024, 7);
    for (let i = 0; i < 4096 && !peer.congested; i++) {
      peer.piece(i % 64, 0, block);
      if (i % 64 === 63) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
    assert.ok(peer.congested, 'the socket never filled');
    const stuck = peer.queuedEnd;
    const released = peer.releasedEnd!;
    assert.ok(released > 0 && released < stuck, `released ${released} of ${stuck}`);
    raw.socket.resume();
    const deadline = Date.now() + 10_000;
    while (peer.releasedEnd! < stuck && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(peer.releasedEnd! >= stuck, `released ${peer.releasedEnd} of ${stuck} after reading`);
    assert.equal(peer.releasedEnd, peer.queuedEnd);
  });
});
