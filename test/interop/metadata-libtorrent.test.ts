/**
 * ut_metadata against libtorrent 2.0: our MetadataFetcher, over the Peer layer, fetches a
 * multi-piece info dictionary from a libtorrent seed and verifies it against the info-hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Peer } from '../../src/peer/index.js';
import {
  MetadataFetcher,
  decodeMetadataMessage,
  encodeMetadataMessage,
  metadataPieceCount,
  type FetcherAction,
} from '../../src/extensions/index.js';
import { systemClock } from '../../src/util/clock.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { makeFixture } from '../unit/client/fixtures.js';

test('fetch a 3-piece info dict from a libtorrent seed over ut_metadata', { timeout: 40_000 }, async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const tmp = await tempDir();
  // Many small files with long names make the info dict span several 16 KiB metadata pieces with little data.
  const files = Array.from({ length: 160 }, (_, i) => ({
    path: `dir-${i % 3}/${'long-file-name-'.repeat(14)}${String(i).padStart(4, '0')}.bin`,
    size: 64,
  }));
  const fx = await makeFixture(join(tmp.path, 'seed'), { files, pieceLength: 16 * 1024 });
  const seed = new LtPeer('seed', fx.torrentPath, fx.dir, { enc: 'disabled' });
  let peer: Peer<null> | undefined;
  t.after(async () => {
    peer?.close(0, 'test over');
    await seed.kill();
    await tmp.cleanup();
  });
  const info = fx.metainfo.info;
  assert.ok(metadataPieceCount(info.length) >= 3, `info dict of ${info.length} bytes`);
  const port = await seed.port();
  const fetcher = new MetadataFetcher({
    infoHash: fx.metainfo.infoHash,
    clock: systemClock,
    requestTimeoutMs: 5000,
  });
  const drops: string[] = [];
  let advertised: string[] = [];
  const result = new Promise<Buffer>((resolve, reject) => {
    const act = (actions: FetcherAction[]): void => {
      for (const a of actions) {
        if (a.type === 'request')
          peer!.extended('ut_metadata', encodeMetadataMessage({ type: 'request', piece: a.piece }));
        else if (a.type === 'drop') drops.push(a.reason);
        else resolve(a.info);
      }
    };
    peer = Peer.connect<null>({
      host: '127.0.0.1',
      port,
      infoHash: fx.metainfo.infoHash,
      peerId: randomBytes(20),
      encryption: 'disabled',
      extensions: ['ut_metadata', 'ut_pex'],
      onHandshake: () => ({ torrent: null }),
    });
    peer.on('extended-handshake', (h) => {
      advertised = [...h.m.keys()];
      if (h.metadataSize !== undefined) act(fetcher.addPeer('lt', h.metadataSize));
    });
    peer.on('extended', (name, payload) => {
      if (name === 'ut_metadata') act(fetcher.onMessage('lt', decodeMetadataMessage(payload)));
    });
    peer.on('close', (i) => reject(new Error(`peer closed: ${JSON.stringify(i)}`)));
  });
  const got = await result;
  assert.ok(got.equals(info), 'byte-identical info dict');
  assert.deepEqual(drops, []);
  assert.ok(advertised.includes('ut_metadata') && advertised.includes('ut_pex'), advertised.join());
});
