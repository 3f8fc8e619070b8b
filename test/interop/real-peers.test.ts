/**
 * Sanity tests for the real-client drivers (Transmission, aria2, libtorrent, opentracker,
 * network namespaces): real clients exchange a 4 MiB file made by mktorrent, so later tests of
 * our engine against them can trust the drivers and the recipes in docs/interop.md.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Aria2Peer } from '../helpers/aria2.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { makeTorrent, type MadeTorrent } from '../helpers/mktorrent.js';
import { NetnsLab, requireNetns } from '../helpers/netns.js';
import { OpenTracker } from '../helpers/opentracker.js';
import { LtPeer, requirePeer, type RealPeer } from '../helpers/real-peers.js';
import { freePort, tempDir } from '../helpers/tmp.js';
import { TransmissionPeer, transmissionEncryption } from '../helpers/transmission.js';

function requireAll(t: TestContext, names: RealPeer[]): boolean {
  return names.every((n) => requirePeer(t, n));
}

async function assertSameContent(made: MadeTorrent, otherDir: string): Promise<void> {
  const want = await readFile(join(made.dataDir, made.name));
  const got = await readFile(join(otherDir, made.name));
  assert.equal(got.length, want.length);
  assert.ok(got.equals(want), 'downloaded bytes differ from the seed');
}

function log(t: TestContext, what: string, t0: number): void {
  t.diagnostic(`${what}: ${Date.now() - t0} ms`);
}

test('Transmission seeds to libtorrent leeches that connect to it on loopback; required encryption holds', async (t) => {
  if (!requireAll(t, ['libtorrent', 'transmission', 'mktorrent'])) return;
  const t0 = Date.now();
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  // No tracker runs at this URL: Transmission is found only by the leeches' direct connections.
  const made = await makeTorrent(tmp.path, { announce: `http://127.0.0.1:${await freePort()}/announce` });
  const tr = await TransmissionPeer.start({ encryption: transmissionEncryption('required') });
  defer(() => tr.kill());
  const id = await tr.addTorrent(made.torrentPath, made.dataDir);
  await tr.waitSeeding(id, 15_000);
  log(t, 'transmission verified and seeding', t0);

  // Transmission keeps one connection per IP address, so on loopback the leeches take turns.
  // First the control: a plaintext-only leech must not even get a connection.
  const target = [`127.0.0.1:${tr.peerPort}`];
  const plain = new LtPeer('leech', made.torrentPath, join(tmp.path, 'lt-plain'), {
    connect: target,
    enc: 'disabled',
    timeout: 25,
  });
  defer(() => plain.kill());
  await plain.port();
  for (const until = Date.now() + 3_000; Date.now() < until;) {
    const st = await tr.status(id);
    assert.equal(st.peers.length, 0, `transmission accepted a plaintext peer: ${JSON.stringify(st.peers)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // (libtorrent's own peer count includes half-open handshakes, so check bytes instead.)
  const plainGot = plain.events.filter((e) => e.event === 'progress').map((e) => Number(e.total_down));
  assert.ok(
    plainGot.length > 0 && plainGot.every((n) => n === 0),
    `plaintext leech got: ${plainGot.join(',')}`,
  );
  await plain.kill();
  log(t, 'plaintext leech refused', t0);

  const rc4Dir = join(tmp.path, 'lt-rc4');
  const rc4 = new LtPeer('leech', made.torrentPath, rc4Dir, { connect: target, enc: 'forced', timeout: 25 });
  defer(() => rc4.kill());
  const done = await rc4.waitFor('done', 25_000);
  log(t, `RC4 libtorrent leech done (${String(done.mbps)} MB/s, mostly Transmission's 10 s rechoke)`, t0);
  await assertSameContent(made, rc4Dir);
  const s = await tr.status(id);
  assert.ok(s.uploadedEver >= made.metainfo.length, `transmission uploaded ${s.uploadedEver}`);
});

test('aria2 leeches from a libtorrent seed found through opentracker on loopback', async (t) => {
  if (!requireAll(t, ['libtorrent', 'aria2', 'opentracker', 'mktorrent'])) return;
  const t0 = Date.now();
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  const port = await freePort();
  const made = await makeTorrent(tmp.path, { announce: `http://127.0.0.1:${port}/announce` });
  const tracker = new OpenTracker(port, [made.infoHashHex]);
  defer(() => tracker.kill());
  await tracker.ready();
  const seed = new LtPeer('seed', made.torrentPath, made.dataDir, { enc: 'enabled' });
  defer(() => seed.kill());
  await seed.port();
  await tracker.waitForSeeders(made.infoHashHex, 1, 10_000);
  log(t, 'libtorrent seed announced', t0);

  const leechDir = join(tmp.path, 'aria2-leech');
  const aria = await Aria2Peer.leech(made.torrentPath, leechDir);
  defer(() => aria.kill());
  const s = await aria.waitDone(20_000);
  log(t, 'aria2 leech done', t0);
  assert.equal(s.completedLength, made.metainfo.length);
  await assertSameContent(made, leechDir);
});

test('aria2 seeds (MSE required) to an RC4 libtorrent leech that connects to it', async (t) => {
  if (!requireAll(t, ['libtorrent', 'aria2', 'mktorrent'])) return;
  const t0 = Date.now();
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  const made = await makeTorrent(tmp.path, { announce: `http://127.0.0.1:${await freePort()}/announce` });
  const aria = await Aria2Peer.seed(made.torrentPath, made.dataDir, {
    requireCrypto: true,
    minCryptoLevel: 'arc4',
  });
  defer(() => aria.kill());
  await aria.waitSeeding(15_000);
  log(t, 'aria2 verified and seeding', t0);
  const leechDir = join(tmp.path, 'lt-leech');
  const lt = new LtPeer('leech', made.torrentPath, leechDir, {
    connect: [`127.0.0.1:${aria.port}`],
    enc: 'forced',
    timeout: 20,
  });
  defer(() => lt.kill());
  await lt.waitFor('done', 20_000);
  log(t, 'libtorrent leech done', t0);
  await assertSameContent(made, leechDir);
  assert.ok((await aria.status()).uploadLength >= made.metainfo.length);
});

test('namespaces: Transmission leeches from a libtorrent seed it learns from a tracker', async (t) => {
  if (!requireAll(t, ['libtorrent', 'transmission', 'opentracker', 'mktorrent'])) return;
  if (!requireNetns(t)) return;
  const t0 = Date.now();
  const defer = cleanupStack(t);
  const tmp = await tempDir();
  defer(() => tmp.cleanup());
  const lab = NetnsLab.create(2);
  defer(() => lab.cleanup());
  const [seedNode, leechNode] = lab.nodes as [(typeof lab.nodes)[0], (typeof lab.nodes)[0]];
  log(t, `lab ${lab.bridge} (${lab.hostAddress}/24) up`, t0);

  // The tracker listens on the bridge in the root namespace; both namespaces reach it there.
  const port = await freePort();
  const made = await makeTorrent(tmp.path, { announce: `http://${lab.hostAddress}:${port}/announce` });
  const tracker = new OpenTracker(port, [made.infoHashHex], { host: lab.hostAddress });
  defer(() => tracker.kill());
  await tracker.ready();

  const seed = new LtPeer('seed', made.torrentPath, made.dataDir, {
    host: seedNode.address,
    port: 6881,
    prefix: lab.execPrefix(0),
  });
  defer(() => seed.kill());
  await seed.port();
  await tracker.waitForSeeders(made.infoHashHex, 1, 10_000);
  log(t, 'libtorrent seed announced from its namespace', t0);

  const tr = await TransmissionPeer.start({
    prefix: lab.execPrefix(1),
    rpcHost: leechNode.address,
    peerPort: 51413,
    rpcPort: 9091,
  });
  defer(() => tr.kill());
  const leechDir = join(tmp.path, 'tr-leech');
  const id = await tr.addTorrent(made.torrentPath, leechDir);
  // Transmission drops seed connections once complete, so note its peers while it downloads.
  const seen = new Map<string, boolean>();
  const s = await tr.waitFor(
    id,
    (st) => {
      for (const p of st.peers) seen.set(`${p.address}:${p.port}`, p.isIncoming);
      return st.percentDone === 1 && st.leftUntilDone === 0;
    },
    20_000,
    'completion',
  );
  log(t, 'transmission leech done', t0);
  assert.ok(s.downloadedEver >= made.metainfo.length, `downloaded ${s.downloadedEver}`);
  await assertSameContent(made, leechDir);
  // Transmission dialled the seed itself (learnt from the tracker): outgoing, to its address.
  assert.equal(seen.get(`${seedNode.address}:6881`), false, `peers seen: ${JSON.stringify([...seen])}`);
});
