/** Bandwidth gates, backpressure and the real Peer's asString/inspect. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { Peer } from '../../../src/peer/index.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import type { Message } from '../../../src/wire/index.js';
import { INFO_HASH, ID_A, ID_B, once, peerServer } from './helpers.js';

async function connected(
  gates: { upload?: (n: number) => Promise<void> | void } = {},
  highWaterMark?: number,
) {
  const server = await peerServer({
    peerId: ID_B,
    encryption: 'disabled',
    infoHashes: () => [INFO_HASH],
    onHandshake: () => ({ torrent: 's', pieceCount: 8, have: Bitfield.full(8) }),
  });
  const client = Peer.connect({
    host: '127.0.0.1',
    port: server.port,
    infoHash: INFO_HASH,
    peerId: ID_A,
    encryption: 'disabled',
    bandwidth: gates,
    ...(highWaterMark ? { highWaterMark } : {}),
    onHandshake: () => ({ torrent: 'c', pieceCount: 8 }),
  });
  await once(client, 'handshake');
  const remote = await server.nextPeer();
  if (remote.state !== 'connected') await once(remote, 'handshake');
  return { server, client, remote };
}

test('the upload gate delays a piece and everything after it, keeping order', async () => {
  let open: () => void = () => {};
  const asked: number[] = [];
  const { server, client, remote } = await connected({
    upload: (n) => {
      asked.push(n);
      if (asked.length === 1) return new Promise<void>((r) => (open = r));
    },
  });
  try {
    const got: string[] = [];
    remote.on('message', (m: Message) => (m.type === 'piece' || m.type === 'have') && got.push(m.type));
    client.piece(0, 0, Buffer.alloc(1000));
    client.have(1);
    client.piece(0, 1000, Buffer.alloc(500));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, []);
    assert.deepEqual(asked, [1000]);
    const last = new Promise<void>((resolve) =>
      remote.on('message', (m) => m.type === 'piece' && m.begin === 1000 && resolve()),
    );
    open();
    await last;
    assert.deepEqual(got, ['piece', 'have', 'piece']);
    assert.deepEqual(asked, [1000, 500]);
  } finally {
    client.close();
    await server.close();
  }
});

test('congested / drain: a large queued upload sets congested until the socket drains', async () => {
  const { server, client } = await connected({}, 64 * 1024);
  try {
    const block = Buffer.alloc(16384, 1);
    for (let i = 0; i < 64; i++) client.piece(i % 8, 0, block);
    assert.equal(client.congested, true);
    await once(client, 'drain', 5000);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.congested, false);
  } finally {
    client.close();
    await server.close();
  }
});

test('asString / toString / inspect on a live peer', async () => {
  const { server, client } = await connected();
  try {
    const s = client.asString(true);
    assert.match(s, /^Peer 127\.0\.0\.1:\d+ — outgoing \(user\), tcp, connected/);
    assert.match(s, /id: {10}-LT2080-bbbbbbbbbbbb \(libtorrent 2\.0\.8\)/);
    assert.match(s, /encryption: {2}none; features: fast, extended/);
    assert.match(s, /map: {9}\[\|\|\|\|\|\|\|\|\]/);
    assert.equal(String(client), client.asString(false));
    assert.equal(inspect(client), s);
  } finally {
    client.close();
    await server.close();
  }
});

test('the download gate pauses reading until it settles', async () => {
  let release: () => void = () => {};
  let calls = 0;
  const server = await peerServer({
    peerId: ID_B,
    encryption: 'disabled',
    infoHashes: () => [INFO_HASH],
    onHandshake: () => ({ torrent: 's', pieceCount: 8, have: Bitfield.full(8) }),
  });
  const client = Peer.connect({
    host: '127.0.0.1',
    port: server.port,
    infoHash: INFO_HASH,
    peerId: ID_A,
    encryption: 'disabled',
    bandwidth: {
      download: () => {
        calls++;
        return new Promise<void>((r) => (release = r));
      },
    },
    onHandshake: () => ({ torrent: 'c', pieceCount: 8 }),
  });
  try {
    await once(client, 'handshake');
    const remote = await server.nextPeer();
    if (remote.state !== 'connected') await once(remote, 'handshake');
    const callsAtHandshake = calls;
    remote.have(1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(calls, callsAtHandshake, 'reading is paused while the gate is closed');
    const got = new Promise<void>((resolve) => client.on('message', (m) => m.type === 'have' && resolve()));
    release();
    await got;
    assert.ok(calls > callsAtHandshake);
  } finally {
    client.close();
    await server.close();
  }
});

test('messages sent before the handshake completes follow our handshake and bitfield', async () => {
  const server = await peerServer({
    peerId: ID_B,
    encryption: 'disabled',
    infoHashes: () => [INFO_HASH],
    onHandshake: () => ({ torrent: 's', pieceCount: 8, have: Bitfield.full(8) }),
  });
  const client = Peer.connect({
    host: '127.0.0.1',
    port: server.port,
    infoHash: INFO_HASH,
    peerId: ID_A,
    encryption: 'disabled',
    onHandshake: () => ({ torrent: 'c', pieceCount: 8 }),
  });
  client.interested();
  client.have(2);
  try {
    const remote = await server.nextPeer();
    const got: string[] = [];
    remote.on('message', (m) => got.push(m.type));
    const done = new Promise<void>((resolve) => remote.on('message', (m) => m.type === 'have' && resolve()));
    await done;
    assert.deepEqual(
      got.filter((t) => t !== 'extended'),
      ['haveNone', 'interested', 'have'],
    );
    assert.equal(client.amInterested, true);
  } finally {
    client.close();
    await server.close();
  }
});
