import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { buildMagnet, createTorrent } from '../../../src/metainfo/index.js';
import { TrackerServer } from '../../../src/tracker/index.js';
import type { TorrentState } from '../../../src/torrent/types.js';
import { tempDir } from '../../helpers/tmp.js';
import { DisconnectReason } from '../../../src/peer/disconnect.js';
import { decodeMetadataMessage, encodeMetadataMessage } from '../../../src/extensions/index.js';
import {
  encodeExtendedHandshake,
  encodeHandshake,
  makeReserved,
  parseExtendedHandshake,
} from '../../../src/wire/index.js';
import { RawPeer } from '../../unit/client/raw-peer.js';
import { FakeClock } from '../../../src/util/clock.js';
import { makeFixture, sameFiles, until } from '../../unit/client/fixtures.js';

const limits = { maxPerHost: 10 };

/** Listens and seeds the fixture; returns the port once seeding. A checking seed refuses
 * connections, and a magnet dials at once (then backs off 15 s), so tests wait for this. */
async function readySeed(seed: Client, fx: Awaited<ReturnType<typeof makeFixture>>): Promise<number> {
  const port = await seed.listen(0);
  const t = await seed.addTorrent(fx.torrent, { savePath: fx.dir });
  await until(() => t.state === 'seeding', 10_000, 'seed ready');
  return port;
}

test('a magnet link dials its x.pe peers as it starts, not at the next periodic dial round', async () => {
  // The leech's clock never moves: every timer-driven path (periodic dial rounds, metadata
  // retries) is frozen, so the download can only happen if starting the magnet dials at once.
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [{ path: 'a.bin', size: 200_000 }],
    pieceLength: 16 * 1024,
  });
  const seed = new Client({ host: '127.0.0.1', limits, dht: false });
  const leech = new Client({ host: '127.0.0.1', limits, dht: false, clock: new FakeClock(1_000_000) });
  try {
    const seedPort = await readySeed(seed, fx);
    await leech.listen(0);
    const magnet = buildMagnet({
      infoHash: fx.metainfo.infoHash,
      peers: [{ host: '127.0.0.1', port: seedPort }],
    });
    const out = join(tmp.path, 'leech');
    const t = await leech.addTorrent(magnet, { savePath: out });
    await until(() => t.state === 'seeding', 10_000, 'magnet download with a frozen clock');
    assert.deepEqual(await sameFiles(fx, out), []);
  } finally {
    await leech.close();
    await seed.close();
    await tmp.cleanup();
  }
});

test('magnet link: metadata from our seed (x.pe), then the same Torrent downloads; restart reuses the saved .torrent', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), {
    files: [
      { path: 'a.bin', size: 1_200_000 },
      { path: 'b.bin', size: 300_001 },
    ],
    pieceLength: 32 * 1024,
  });
  const seed = new Client({ host: '127.0.0.1', limits, dht: false });
  const resumeDir = join(tmp.path, 'resume');
  let leech = new Client({ host: '127.0.0.1', limits, dht: false, resumeDir });
  try {
    const seedPort = await readySeed(seed, fx);
    await leech.listen(0);
    const magnet = buildMagnet({
      infoHash: fx.metainfo.infoHash,
      name: 'x',
      peers: [{ host: '127.0.0.1', port: seedPort }],
    });
    const out = join(tmp.path, 'leech');
    const t = await leech.addTorrent(magnet, { savePath: out });
    const states: TorrentState[] = [];
    t.on('state', (s) => states.push(s));
    let metadataEvents = 0;
    t.on('metadata', (m) => {
      metadataEvents++;
      assert.ok(m.infoHash.equals(fx.metainfo.infoHash));
    });
    assert.equal(t.hasMetadata, false);
    await until(() => t.state === 'seeding', 15_000, 'magnet download');
    assert.equal(metadataEvents, 1);
    assert.equal(t.metainfo.pieceCount, fx.metainfo.pieceCount);
    assert.equal(t.name, fx.metainfo.name);
    assert.deepEqual(states.slice(0, 3), ['metadata', 'checking', 'downloading']);
    assert.equal(leech.getTorrent(fx.metainfo.infoHashHex), t);
    assert.deepEqual(await sameFiles(fx, out), []);
    await until(
      () => existsSync(join(resumeDir, `${fx.metainfo.infoHashHex}.torrent`)),
      5000,
      'saved .torrent',
    );
    await leech.close();

    // Restart: the fetched metadata is on disk, so no 'metadata' state and no peer is needed.
    leech = new Client({ host: '127.0.0.1', limits, dht: false, resumeDir });
    const again = await leech.addTorrent(buildMagnet({ infoHash: fx.metainfo.infoHash }), { savePath: out });
    assert.equal(again.hasMetadata, true);
    const seen: TorrentState[] = [];
    again.on('state', (s) => seen.push(s));
    await until(() => again.state === 'seeding', 10_000, 'seeding after restart');
    assert.ok(!seen.includes('metadata'));
  } finally {
    await leech.close();
    await seed.close();
    await tmp.cleanup();
  }
});

test('a magnet whose only peer has no metadata waits in the metadata state; stop and start return to it', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files: [{ path: 'a.bin', size: 40_000 }] });
  const c = new Client({ host: '127.0.0.1', limits, dht: false });
  try {
    await c.listen(0);
    const t = await c.addTorrent(buildMagnet({ infoHash: fx.metainfo.infoHash, name: 'n' }), {
      savePath: join(tmp.path, 'out'),
    });
    await until(() => t.state === 'metadata', 5000, 'metadata state');
    assert.equal(t.name, 'n');
    assert.equal(t.stats().pieces.total, 0);
    await t.stop();
    assert.equal(t.state, 'stopped');
    t.start();
    assert.equal(t.state, 'metadata');
  } finally {
    await c.close();
    await tmp.cleanup();
  }
});

test('a peer that sends metadata not matching the info-hash is dropped (METADATA_INVALID); another peer completes it', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(join(tmp.path, 'seed'), { files: [{ path: 'a.bin', size: 300_000 }] });
  const size = fx.metainfo.info.length;
  // A liar: announces the right size, answers every request with garbage of the right length.
  const liar = await RawPeer.listen((p) => {
    let theirId: number | undefined;
    p.socket.write(
      encodeHandshake({
        reserved: makeReserved({ fast: true, extended: true }),
        infoHash: fx.metainfo.infoHash,
        peerId: Buffer.from('-XX0001-liarliarliar'),
      }),
    );
    p.send({
      type: 'extended',
      id: 0,
      payload: encodeExtendedHandshake({ m: new Map([['ut_metadata', 3]]), metadataSize: size }),
    });
    p.onMessage = (m) => {
      if (m.type !== 'extended') return;
      if (m.id === 0) theirId = parseExtendedHandshake(m.payload).m.get('ut_metadata');
      else if (m.id === 3 && theirId) {
        const req = decodeMetadataMessage(m.payload);
        if (req.type !== 'request') return;
        const data = Buffer.alloc(Math.min(16384, size - req.piece * 16384), 0x61);
        p.send({
          type: 'extended',
          id: theirId,
          payload: encodeMetadataMessage({ type: 'data', piece: req.piece, totalSize: size, data }),
        });
      }
    };
  });
  const seed = new Client({ host: '127.0.0.1', limits, dht: false });
  // Plaintext: the scripted liar does not speak MSE.
  const leech = new Client({ host: '127.0.0.1', limits, dht: false, encryption: 'disabled' });
  try {
    const seedPort = await seed.listen(0);
    const st = await seed.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => st.state === 'seeding', 5000, 'seed ready');
    await leech.listen(0);
    const reasons: number[] = [];
    leech.on('peer-disconnect', (_p, info) => reasons.push(info.reason));
    const t = await leech.addTorrent(
      buildMagnet({ infoHash: fx.metainfo.infoHash, peers: [{ host: '127.0.0.1', port: liar.port }] }),
      { savePath: join(tmp.path, 'out') },
    );
    await until(() => reasons.includes(DisconnectReason.METADATA_INVALID), 5000, 'liar dropped');
    assert.equal(t.state, 'metadata');
    t.addPeer('127.0.0.1', seedPort);
    await until(() => t.state === 'seeding', 10_000, 'download from the honest seed');
    assert.ok(t.isBanned('127.0.0.1') === false);
  } finally {
    await leech.close();
    await seed.close();
    liar.server.close();
    await tmp.cleanup();
  }
});

test("a magnet's tr= tracker gives the peers while the metadata is fetched", async () => {
  const tmp = await tempDir();
  const server = new TrackerServer({ host: '127.0.0.1', http: { port: 0 }, intervalS: 60 });
  await server.listen();
  const url = server.announceUrls('127.0.0.1').http!;
  const fx = await makeFixture(join(tmp.path, 'seed'), { files: [{ path: 'a.bin', size: 200_000 }] });
  const { torrent } = await createTorrent(join(fx.dir, fx.name), {
    pieceLength: 64 * 1024,
    date: false,
    trackers: [url],
  });
  const seed = new Client({ host: '127.0.0.1', limits, dht: false, pex: false });
  const leech = new Client({ host: '127.0.0.1', limits, dht: false, pex: false });
  try {
    await seed.listen(0);
    const st = await seed.addTorrent(torrent, { savePath: fx.dir });
    await until(
      () => st.state === 'seeding' && server.store.scrape([fx.metainfo.infoHash])[0]?.complete === 1,
      10_000,
      'seed announced',
    );
    await leech.listen(0);
    const t = await leech.addTorrent(buildMagnet({ infoHash: fx.metainfo.infoHash, trackers: [url] }), {
      savePath: join(tmp.path, 'out'),
    });
    const kinds: string[] = [];
    t.on('peers', (_a, source) => kinds.push(source.kind));
    await until(() => t.state === 'seeding', 10_000, 'magnet download via the tracker');
    assert.equal(kinds[0], 'tracker');
  } finally {
    await leech.close();
    await seed.close();
    await server.close();
    await tmp.cleanup();
  }
});
