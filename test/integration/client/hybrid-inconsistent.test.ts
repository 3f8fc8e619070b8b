/**
 * A hybrid with piece layers checks both halves of every piece, as libtorrent does: a torrent
 * whose SHA-1 pieces describe other bytes than its Merkle trees stops with
 * TORRENT_INCONSISTENT_HASHES as soon as a piece matches one half only, and the peer that sent
 * bytes matching the v1 half is not blamed (libtorrent: torrent_inconsistent_hashes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode, encode, type BDict } from '../../../src/bencode/index.js';
import { Client } from '../../../src/client/index.js';
import { createTorrent, parseTorrent } from '../../../src/metainfo/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { until } from '../../unit/client/fixtures.js';
import { RawPeer, randomPeerId } from '../../unit/client/raw-peer.js';

const PIECE = 32768;

test('a hybrid whose v1 and v2 halves describe different data stops; the sender is not banned', async () => {
  const tmp = await tempDir();
  await mkdir(join(tmp.path, 'a'));
  await mkdir(join(tmp.path, 'b'));
  const a = seededBytes(4 * PIECE + 100, 7);
  const b = seededBytes(a.length, 8);
  await writeFile(join(tmp.path, 'a', 'f.bin'), a);
  await writeFile(join(tmp.path, 'b', 'f.bin'), b);
  const opts = { version: 'hybrid', pieceLength: PIECE, date: false } as const;
  const ta = await createTorrent(join(tmp.path, 'a', 'f.bin'), opts);
  const tb = await createTorrent(join(tmp.path, 'b', 'f.bin'), opts);
  // b's file tree and piece layers, a's SHA-1 pieces: bytes of `a` pass v1 and fail v2.
  const torrent = decode(tb.torrent) as BDict;
  (torrent.info as BDict).pieces = (decode(ta.torrent) as BDict as { info: BDict }).info.pieces!;
  const franken = encode(torrent);
  const m = parseTorrent(franken);
  assert.equal(m.version, 'hybrid');

  const sender = await RawPeer.listen((p) => {
    p.onMessage = (msg) => {
      if (msg.type === 'request')
        p.send({
          type: 'piece',
          index: msg.index,
          begin: msg.begin,
          block: a.subarray(msg.index * PIECE + msg.begin, msg.index * PIECE + msg.begin + msg.length),
        });
    };
    void p
      .waitFor((r) => r.handshake !== undefined)
      .then(() => {
        p.sendHandshake(m.infoHash, randomPeerId());
        p.send({ type: 'haveAll' });
        p.send({ type: 'unchoke' });
      });
  });
  const client = new Client({ host: '127.0.0.1', encryption: 'disabled', dht: false });
  const banned: string[] = [];
  client.on('banned', (_t, h) => banned.push(h));
  try {
    await client.listen(0);
    const t = await client.addTorrent(franken, { savePath: join(tmp.path, 'leech') });
    t.addPeer('127.0.0.1', sender.port);
    await until(() => t.state === 'error', 10_000, 'the torrent stops');
    assert.equal((t.error as { code?: string } | undefined)?.code, 'TORRENT_INCONSISTENT_HASHES');
    assert.equal(t.stats().pieces.have, 0, 'no piece accepted on one half');
    assert.deepEqual(banned, []);
  } finally {
    await client.close();
    sender.server.close();
    await tmp.cleanup();
  }
});
