/**
 * BEP 52 exact blame: a scripted peer sends one corrupt 16 KiB block of a v2 piece whose other
 * blocks come from an honest seed. The piece fails with two senders; the leech asks for the
 * piece's proven leaf hashes (the honest seed answers from its data), compares each block's
 * SHA-256 with them, and bans exactly the liar. A hybrid with its piece layers checks both of
 * its halves, so the same holds for it; there the liar is a v1 peer (no BEP 52 bit) and is not
 * sent hash requests at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import type { Message } from '../../../src/wire/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { until } from '../../unit/client/fixtures.js';
import { RawPeer, randomPeerId } from '../../unit/client/raw-peer.js';

const BAD_HOST = '127.0.0.2';
const PIECE = 65536;

for (const version of [2, 'hybrid'] as const)
  test(`${version === 2 ? 'v2' : 'hybrid'}: one corrupt block among honest ones names exactly its sender, by proven leaf hashes`, async () => {
    const tmp = await tempDir();
    await mkdir(join(tmp.path, 'seed'));
    const data = seededBytes(8 * PIECE - 3000, 52);
    await writeFile(join(tmp.path, 'seed', 'f.bin'), data);
    const { torrent, metainfo } = await createTorrent(join(tmp.path, 'seed', 'f.bin'), {
      version,
      pieceLength: PIECE,
      date: false,
    });
    let corrupted: number | undefined;
    const liarSaw: Message['type'][] = [];
    const bad = await RawPeer.listen((p) => {
      p.onMessage = (m) => {
        liarSaw.push(m.type);
        if (m.type === 'request') {
          // One wrong block (the second of some piece); every other request is refused.
          if (corrupted === undefined && m.begin === 16384) {
            corrupted = m.index;
            p.send({ type: 'piece', index: m.index, begin: m.begin, block: Buffer.alloc(m.length, 0x5a) });
          } else p.send({ type: 'reject', index: m.index, begin: m.begin, length: m.length });
        }
        if (m.type === 'hashRequest') p.send({ ...m, type: 'hashReject' });
      };
      void p
        .waitFor((r) => r.handshake !== undefined)
        .then(() => {
          p.sendHandshake(metainfo.infoHash, randomPeerId());
          p.send({ type: 'haveAll' });
          p.send({ type: 'unchoke' });
        });
    }, BAD_HOST);
    const seedClient = new Client({ host: '127.0.0.1', encryption: 'disabled', dht: false });
    const client = new Client({ host: '127.0.0.1', encryption: 'disabled', dht: false });
    const banned: string[] = [];
    client.on('banned', (_t, h) => banned.push(h));
    const leafRequests: number[] = [];
    try {
      const seedPort = await seedClient.listen(0);
      await client.listen(0);
      const seed = await seedClient.addTorrent(torrent, { savePath: join(tmp.path, 'seed') });
      await until(() => seed.state === 'seeding', 10_000, 'seed ready');
      seed.on('peer-connect', (peer) =>
        peer.on('message', (m: Message) => {
          if (m.type === 'hashRequest' && m.baseLayer === 0) leafRequests.push(m.index);
        }),
      );
      const t = await client.addTorrent(torrent, { savePath: join(tmp.path, 'leech') });
      t.addPeer(BAD_HOST, bad.port);
      await until(() => corrupted !== undefined, 10_000, 'the liar sent its block');
      t.addPeer('127.0.0.1', seedPort);
      await until(() => t.state === 'seeding', 20_000, 'download complete');
      await until(() => banned.length > 0, 10_000, 'a ban');
      assert.deepEqual(banned, [BAD_HOST], 'exactly the liar, never the honest seed');
      assert.equal(t.stats().hashFailures, 1);
      assert.ok(
        leafRequests.includes(corrupted! * (PIECE / 16384)),
        `the seed was asked for the leaves of piece ${corrupted}: ${JSON.stringify(leafRequests)}`,
      );
      if (version === 2) assert.ok(liarSaw.includes('hashRequest'), 'the liar was asked too, and refused');
      else assert.ok(!liarSaw.includes('hashRequest'), 'a v1 peer is never sent BEP 52 messages');
      assert.ok((await readFile(join(tmp.path, 'leech', 'f.bin'))).equals(data));
    } finally {
      await Promise.all([seedClient.close(), client.close()]);
      bad.server.close();
      await tmp.cleanup();
    }
  });
