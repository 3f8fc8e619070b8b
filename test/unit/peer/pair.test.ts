import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Peer,
  DisconnectReason,
  type EncryptionPolicy,
  type HandshakeInfo,
} from '../../../src/peer/index.js';
import { Bitfield } from '../../../src/util/bitfield.js';
import type { Message } from '../../../src/wire/index.js';
import { INFO_HASH, ID_A, ID_B, once, closeInfo, peerServer } from './helpers.js';

const PIECES = 20;

async function pair(outPolicy: EncryptionPolicy, inPolicy: EncryptionPolicy, have = Bitfield.full(PIECES)) {
  const seen: HandshakeInfo[] = [];
  const server = await peerServer({
    peerId: ID_B,
    encryption: inPolicy,
    infoHashes: () => [INFO_HASH],
    extensions: ['ut_pex', 'ut_metadata'],
    onHandshake: (info) => {
      seen.push(info);
      return { torrent: 'server-torrent', pieceCount: PIECES, have, metadataSize: 1234 };
    },
  });
  const client = Peer.connect<string>({
    host: '127.0.0.1',
    port: server.port,
    infoHash: INFO_HASH,
    peerId: ID_A,
    encryption: outPolicy,
    source: { kind: 'tracker', url: 'http://t/announce' },
    extensions: ['ut_metadata'],
    onHandshake: () => ({ torrent: 'client-torrent', pieceCount: PIECES }),
  });
  return { server, client, seen };
}

for (const [out, inc, expected] of [
  ['disabled', 'disabled', 'none'],
  ['disabled', 'enabled', 'none'],
  ['enabled', 'enabled', 'rc4'],
  ['required', 'enabled', 'rc4'],
  ['enabled', 'required', 'rc4'],
  ['required', 'required', 'rc4'],
] as const) {
  test(`handshake both ways: outgoing ${out} → incoming ${inc} gives ${expected}`, async () => {
    const { server, client, seen } = await pair(out, inc);
    try {
      const extP = once<[{ m: Map<string, number>; metadataSize?: number }]>(client, 'extended-handshake');
      const [info] = await once<[HandshakeInfo]>(client, 'handshake');
      const remote = await server.nextPeer();
      if (remote.state !== 'connected') await once(remote, 'handshake');
      assert.equal(info.encryption, expected);
      assert.equal(client.encryption, expected);
      assert.equal(remote.encryption, expected);
      assert.deepEqual(client.peerId, ID_B);
      assert.deepEqual(remote.peerId, ID_A);
      assert.equal(seen[0]!.incoming, true);
      assert.deepEqual(seen[0]!.infoHash, INFO_HASH);
      assert.equal(client.torrent, 'client-torrent');
      assert.equal(remote.torrent, 'server-torrent');
      assert.equal(client.fastExtension && client.extensionProtocol, true);
      assert.equal(client.clientName, 'libtorrent 2.0.8');
      assert.equal(remote.clientName, 'net-bittorrent 0.1.0');
      assert.equal(client.incoming, false);
      assert.equal(remote.incoming, true);
      // the server announced have-all and its extensions
      const [ext] = await extP;
      assert.equal(client.extensions, ext);
      assert.equal(ext.metadataSize, 1234);
      assert.deepEqual(Object.fromEntries(ext.m), { ut_pex: 1, ut_metadata: 2 });
      assert.equal(client.extensionRegistry.remoteId('ut_metadata'), 2);
      if (!client.bitfield.complete) await once(client, 'message');
      assert.equal(client.bitfield.count, PIECES);
    } finally {
      client.close();
      await server.close();
    }
  });
}

test('outgoing MSE against a plaintext-only peer is retried once in plaintext (policy enabled)', async () => {
  const { server, client } = await pair('enabled', 'disabled');
  try {
    let connects = 0;
    client.on('connect', () => connects++);
    const [info] = await once<[HandshakeInfo]>(client, 'handshake');
    assert.equal(info.encryption, 'none');
    assert.equal(connects, 1, 'one connect event for the caller');
    assert.equal(server.sockets.length, 2, 'the MSE attempt and the plaintext retry');
  } finally {
    client.close();
    await server.close();
  }
});

test('required vs disabled fails without retry', async () => {
  const { server, client } = await pair('required', 'disabled');
  try {
    const info = await closeInfo(client);
    assert.ok(
      [DisconnectReason.SOCKET_ERROR, DisconnectReason.BY_REMOTE].includes(info.reason),
      `got ${info.name}`,
    );
    const remote = await server.nextPeer();
    assert.equal((await closeInfo(remote)).reason, DisconnectReason.ENCRYPTION_DISABLED);
    assert.equal(server.sockets.length, 1);
  } finally {
    await server.close();
  }
});

test('disabled vs required: the incoming side closes with ENCRYPTION_REQUIRED', async () => {
  const { server, client } = await pair('disabled', 'required');
  try {
    const remote = await server.nextPeer();
    assert.equal((await closeInfo(remote)).reason, DisconnectReason.ENCRYPTION_REQUIRED);
    await closeInfo(client);
  } finally {
    await server.close();
  }
});

for (const enc of ['disabled', 'required'] as const) {
  test(`message round trips (${enc})`, async () => {
    const { server, client } = await pair(enc, enc, new Bitfield(PIECES));
    try {
      await once(client, 'handshake');
      const remote = await server.nextPeer();
      if (remote.state !== 'connected') await once(remote, 'handshake');
      const got: Message[] = [];
      remote.on('message', (m) => got.push(m));
      const done = new Promise<void>((resolve) =>
        remote.on('message', (m) => m.type === 'keepAlive' && resolve()),
      );
      const block = Buffer.alloc(16384, 0x5a);
      client.interested();
      client.interested(); // idempotent
      client.unchoke();
      client.have(3);
      client.request(3, 0, 16384);
      client.cancel(3, 0, 16384);
      client.piece(3, 16384, block);
      client.reject(4, 0, 100);
      client.allowedFast(5);
      client.suggest(6);
      client.sendPort(6881);
      assert.equal(client.extended('ut_pex', Buffer.from('d5:added0:e')), true);
      assert.equal(client.extended('lt_donthave', Buffer.alloc(1)), false);
      client.notInterested();
      client.keepAlive();
      await done;
      const types = got.filter((m) => m.type !== 'extended' || m.id !== 0).map((m) => m.type);
      assert.deepEqual(types, [
        'haveNone',
        'interested',
        'unchoke',
        'have',
        'request',
        'cancel',
        'piece',
        'reject',
        'allowedFast',
        'suggest',
        'port',
        'extended',
        'notInterested',
        'keepAlive',
      ]);
      const piece = got.find((m) => m.type === 'piece');
      assert.ok(piece && piece.type === 'piece' && piece.block.equals(block) && piece.begin === 16384);
      assert.equal(block[0], 0x5a, 'the caller block is not modified by RC4');
      assert.equal(remote.peerInterested, false);
      assert.equal(remote.peerChoking, false);
      assert.equal(remote.bitfield.has(3), true);
      assert.equal(remote.dhtPort, 6881);
      assert.deepEqual([...remote.allowedFastSet], [5]);
      assert.deepEqual([...remote.suggested], [6]);
      assert.equal(remote.downloaded, 16384);
      assert.equal(client.uploaded, 16384);
      assert.equal(client.requestsOut, 1, 'fast: a cancelled request still awaits piece or reject');
      assert.equal(remote.requestsIn, 1);
      assert.ok(client.bytesSent > 16384 && remote.bytesReceived === client.bytesSent);
      const ext = got.find((m) => m.type === 'extended' && m.id !== 0);
      assert.ok(ext && ext.type === 'extended' && ext.id === 1);
    } finally {
      client.close();
      await server.close();
    }
  });
}

test("'extended' event names the extension; close is emitted exactly once", async () => {
  const { server, client } = await pair('disabled', 'disabled');
  try {
    await once(client, 'handshake');
    const remote = await server.nextPeer();
    if (remote.state !== 'connected') await once(remote, 'handshake');
    const [name, payload] = await Promise.all([
      once<[string, Buffer]>(remote, 'extended').then(([n, p]) => [n, p] as const),
      Promise.resolve(client.extended('ut_metadata', Buffer.from('d8:msg_typei0e5:piecei0ee'))),
    ]).then(([x]) => x);
    assert.equal(name, 'ut_metadata');
    assert.equal(payload.toString(), 'd8:msg_typei0e5:piecei0ee');
    let closes = 0;
    client.on('close', () => closes++);
    client.close(DisconnectReason.SEED);
    client.close(DisconnectReason.BY_REMOTE);
    assert.equal(closes, 1);
    assert.equal(client.closeInfo?.reason, DisconnectReason.SEED);
    assert.equal((await closeInfo(remote)).reason, DisconnectReason.BY_REMOTE);
    client.interested(); // no-op once closed
  } finally {
    await server.close();
  }
});
