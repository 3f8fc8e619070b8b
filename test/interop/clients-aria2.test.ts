/**
 * Our Client against aria2 1.36, both directions. aria2 seeds and we dial it (aria2 cannot be
 * told a peer address): plaintext, and aria2 requiring RC4 with our policy `required`. We seed
 * and aria2 downloads from us, finding us through opentracker on loopback (aria2 accepts
 * loopback tracker peers): aria2 requiring RC4 while our policy is only `enabled`, so our
 * listener must accept its MSE handshake.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import type { EncryptionPolicy } from '../../src/client/options.js';
import { Aria2Peer } from '../helpers/aria2.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { makeTorrent, type MadeTorrent } from '../helpers/mktorrent.js';
import { OpenTracker } from '../helpers/opentracker.js';
import { requirePeer } from '../helpers/real-peers.js';
import { freePort, tempDir } from '../helpers/tmp.js';
import { done, trackedClient, until } from './tracker-swarm.js';

async function assertSameContent(made: MadeTorrent, otherDir: string): Promise<void> {
  const want = await readFile(join(made.dataDir, made.name));
  const got = await readFile(join(otherDir, made.name));
  assert.equal(got.length, want.length);
  assert.ok(got.equals(want), 'downloaded bytes differ from the seed');
}

interface SeedCase {
  name: string;
  requireCrypto: boolean;
  ours: EncryptionPolicy;
  wire: 'none' | 'rc4';
}

const seedCases: SeedCase[] = [
  { name: 'plaintext (ours disabled)', requireCrypto: false, ours: 'disabled', wire: 'none' },
  { name: 'aria2 requires RC4, ours required', requireCrypto: true, ours: 'required', wire: 'rc4' },
];

async function downloadFromAria2(t: TestContext, c: SeedCase, seed: number): Promise<void> {
  const t0 = Date.now();
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  // No tracker runs at this URL: we find aria2 only by dialling it.
  const made = await makeTorrent(tmp.path, {
    announce: `http://127.0.0.1:${await freePort()}/announce`,
    size: 6 << 20,
    seed,
  });
  const aria = await Aria2Peer.seed(made.torrentPath, made.dataDir, {
    requireCrypto: c.requireCrypto,
    minCryptoLevel: c.requireCrypto ? 'arc4' : 'plain',
  });
  defer(() => aria.kill());
  await aria.waitSeeding(15_000);

  const client = new Client({ host: '127.0.0.1', encryption: c.ours, trackers: false });
  defer(() => client.close());
  await client.listen(0);
  const leechDir = join(tmp.path, 'ours');
  const torrent = await client.addTorrent(await readFile(made.torrentPath), { savePath: leechDir });
  const wire: string[] = [];
  client.on('peer-connect', (_t, p) => wire.push(p.encryption));
  torrent.addPeer('127.0.0.1', aria.port);
  await done(torrent, 20_000);
  t.diagnostic(`${c.name}: ${Date.now() - t0} ms`);
  await assertSameContent(made, leechDir);
  assert.deepEqual(wire, [c.wire]);
  const st = torrent.stats();
  assert.equal(st.hashFailures, 0);
  assert.equal(st.sessionDownloaded, made.metainfo.length);
  assert.ok((await aria.status()).uploadLength >= made.metainfo.length);
}

test('aria2 seeds to our client dialling it', { concurrency: true }, async (t) => {
  if (!requirePeer(t, 'aria2') || !requirePeer(t, 'mktorrent')) return;
  await Promise.all(seedCases.map((c, i) => t.test(c.name, (tt) => downloadFromAria2(tt, c, 31 + i))));
});

test('aria2 (MSE required) downloads from our seed found through opentracker on loopback', async (t) => {
  if (!['aria2', 'opentracker', 'mktorrent'].every((n) => requirePeer(t, n as 'aria2'))) return;
  const t0 = Date.now();
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  const trackerPort = await freePort();
  const made = await makeTorrent(tmp.path, {
    announce: `http://127.0.0.1:${trackerPort}/announce`,
    size: 6 << 20,
    seed: 41,
  });
  const tracker = new OpenTracker(trackerPort, [made.infoHashHex]);
  defer(() => tracker.kill());
  await tracker.ready();

  const ours = await trackedClient(defer, made.torrentPath, made.dataDir, { encryption: 'enabled' });
  const wire: string[] = [];
  ours.client.on('peer-connect', (_t, p) => wire.push(p.encryption));
  await until(() => ours.torrent.state === 'seeding', 10_000, 'our seed verified');
  await tracker.waitForSeeders(made.infoHashHex, 1, 10_000);

  const leechDir = join(tmp.path, 'aria2');
  const aria = await Aria2Peer.leech(made.torrentPath, leechDir, {
    requireCrypto: true,
    minCryptoLevel: 'arc4',
  });
  defer(() => aria.kill());
  const s = await aria.waitDone(20_000);
  t.diagnostic(`our seed -> aria2 leech: ${Date.now() - t0} ms`);
  assert.equal(s.completedLength, made.metainfo.length);
  await assertSameContent(made, leechDir);
  assert.ok(ours.torrent.stats().sessionUploaded >= made.metainfo.length);
  // aria2 dialled us (it learned our address from the tracker) and insisted on RC4.
  assert.ok(wire.length >= 1 && wire.every((w) => w === 'rc4'), `connections: ${wire.join(',')}`);
  assert.ok(
    ours.peerSources.some((s) => s.startsWith('incoming')),
    ours.peerSources.join(','),
  );
});
