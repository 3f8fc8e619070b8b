/**
 * A mixed swarm on loopback: a libtorrent seed (upload-limited, so the leechers trade among
 * themselves) and three leechers — our client and aria2 (both find the seed and each other
 * through opentracker), and Transmission, which ignores loopback tracker peers: it gets a copy
 * of the torrent without trackers and its only peer is our client, which dials it. So all of
 * Transmission's data must come from us, relayed while we download ourselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode, encode, isDict } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { Aria2Peer } from '../helpers/aria2.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { makeTorrent } from '../helpers/mktorrent.js';
import { OpenTracker } from '../helpers/opentracker.js';
import { LtPeer, requirePeer, type RealPeer } from '../helpers/real-peers.js';
import { freePort, tempDir } from '../helpers/tmp.js';
import { TransmissionPeer } from '../helpers/transmission.js';
import { done, trackedClient } from './tracker-swarm.js';

/** The same torrent (same info dict, so the same info-hash) with its trackers removed. */
async function withoutTrackers(torrentPath: string, out: string): Promise<string> {
  const dict = decode(await readFile(torrentPath));
  assert.ok(isDict(dict));
  delete dict.announce;
  delete dict['announce-list'];
  const bytes = encode(dict);
  assert.equal(parseTorrent(bytes).infoHashHex, parseTorrent(await readFile(torrentPath)).infoHashHex);
  assert.equal(parseTorrent(bytes).announce.length, 0);
  await writeFile(out, bytes);
  return out;
}

test('mixed swarm: libtorrent seed; our client, aria2 and Transmission leech; we feed Transmission', async (t) => {
  const needed: RealPeer[] = ['libtorrent', 'aria2', 'transmission', 'opentracker', 'mktorrent'];
  if (!needed.every((n) => requirePeer(t, n))) return;
  const t0 = Date.now();
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  const trackerPort = await freePort();
  const made = await makeTorrent(tmp.path, {
    announce: `http://127.0.0.1:${trackerPort}/announce`,
    size: 6 << 20,
    seed: 51,
  });
  const size = made.metainfo.length;
  const tracker = new OpenTracker(trackerPort, [made.infoHashHex]);
  defer(() => tracker.kill());
  const trStarting = TransmissionPeer.start();
  defer(async () => (await trStarting.catch(() => undefined))?.kill());
  await tracker.ready();
  const seed = new LtPeer('seed', made.torrentPath, made.dataDir, { uploadLimit: 3_000_000 });
  defer(() => seed.kill());
  await seed.port();
  await tracker.waitForSeeders(made.infoHashHex, 1, 10_000);

  const ours = await trackedClient(defer, made.torrentPath, join(tmp.path, 'ours'));
  const aria = await Aria2Peer.leech(made.torrentPath, join(tmp.path, 'aria2'));
  defer(() => aria.kill());

  const tr = await trStarting;
  const trTorrent = await withoutTrackers(made.torrentPath, join(tmp.path, 'no-trackers.torrent'));
  const id = await tr.addTorrent(trTorrent, join(tmp.path, 'transmission'));
  ours.torrent.addPeer('127.0.0.1', tr.peerPort);

  const trPeers = new Set<string>();
  let trFirstByte = 0;
  await Promise.all([
    done(ours.torrent, 30_000).then(() => t.diagnostic(`our client done: ${Date.now() - t0} ms`)),
    aria.waitDone(30_000).then(() => t.diagnostic(`aria2 done: ${Date.now() - t0} ms`)),
    tr
      .waitFor(
        id,
        (st) => {
          for (const p of st.peers) trPeers.add(`${p.address} ${p.clientName}`);
          if (!trFirstByte && st.downloadedEver > 0) trFirstByte = Date.now() - t0;
          return st.percentDone === 1 && st.leftUntilDone === 0;
        },
        40_000,
        'completion',
      )
      .then(() => t.diagnostic(`transmission done: ${Date.now() - t0} ms (first byte ${trFirstByte} ms)`)),
  ]);

  const want = await readFile(join(made.dataDir, made.name));
  for (const dir of ['ours', 'aria2', 'transmission']) {
    assert.ok((await readFile(join(tmp.path, dir, made.name))).equals(want), `${dir}: bytes differ`);
  }
  const st = ours.torrent.stats();
  assert.equal(st.hashFailures, 0);
  const trStatus = await tr.status(id);
  assert.ok(trStatus.downloadedEver >= size, `transmission downloaded ${trStatus.downloadedEver}`);
  // Transmission had no tracker and no other peer: every byte it has came from us.
  assert.ok(st.sessionUploaded >= size, `we uploaded ${st.sessionUploaded}`);
  assert.deepEqual(
    [...trPeers].map((p) => p.split(' ')[0]),
    ['127.0.0.1'],
  );
  const ariaUp = (await aria.status()).uploadLength;
  t.diagnostic(
    `uploaded: ours ${st.sessionUploaded} (to Transmission >= ${size}, rest to aria2), aria2 ${ariaUp}; ` +
      `our peers from ${ours.peerSources.join(', ')}`,
  );
});
