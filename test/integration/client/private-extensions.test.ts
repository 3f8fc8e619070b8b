/** BEP 27: peers of a private torrent do not see ut_pex in our extension handshake (either direction). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { until } from '../../unit/client/fixtures.js';

/** Records the extension names each peer of `c` announced to it (the other side's offer). */
function recordOffers(c: Client): string[][] {
  const offers: string[][] = [];
  c.on('peer-connect', (_t, peer) =>
    peer.once('extended-handshake', (hs) => offers.push([...hs.m.keys()].sort())),
  );
  return offers;
}

for (const isPrivate of [true, false]) {
  test(`ut_pex is ${isPrivate ? 'not ' : ''}offered to peers of a ${isPrivate ? 'private' : 'public'} torrent`, async () => {
    const tmp = await tempDir();
    const root = join(tmp.path, 'seed', 'data');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'f.bin'), seededBytes(70_000, 3));
    const { torrent } = await createTorrent(root, { pieceLength: 32768, date: false, private: isPrivate });
    const a = new Client({ host: '127.0.0.1', dht: false });
    const b = new Client({ host: '127.0.0.1', dht: false });
    const seenByA = recordOffers(a);
    const seenByB = recordOffers(b);
    try {
      const portA = await a.listen(0);
      const seed = await a.addTorrent(torrent, { savePath: join(tmp.path, 'seed') });
      await until(() => seed.state === 'seeding', 5000, 'seeding');
      const leech = await b.addTorrent(torrent, { savePath: join(tmp.path, 'leech') });
      leech.addPeer('127.0.0.1', portA); // b dials: b's names are an outgoing handshake, a's incoming
      await until(() => seenByA.length > 0 && seenByB.length > 0, 5000, 'extension handshakes');
      const expected = isPrivate ? ['ut_metadata'] : ['ut_metadata', 'ut_pex'];
      assert.deepEqual(seenByA[0], expected, 'what the dialling client offered');
      assert.deepEqual(seenByB[0], expected, 'what the accepting client offered');
    } finally {
      await a.close();
      await b.close();
      await tmp.cleanup();
    }
  });
}
