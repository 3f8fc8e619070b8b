/**
 * Hostile peers against a whole Client on loopback (see hostile-world.ts): each attack must end
 * with the bad peer disconnected for a sensible reason (or its requests refused), no uncaught
 * exception, the good download byte-identical and nothing written outside the save path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { DisconnectReason as R } from '../../../src/peer/disconnect.js';
import { clientNameFromPeerId, CLIENT_VERSION } from '../../../src/peer/index.js';
import { makePeerId } from '../../../src/client/options.js';
import { PACKAGE_VERSION } from '../../../src/util/version.js';
import {
  encodeHandshake,
  encodeMessage,
  makeReserved,
  parseExtendedHandshake,
} from '../../../src/wire/index.js';
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  encodePex,
  type MetadataMessage,
} from '../../../src/extensions/index.js';
import { FakeClock } from '../../../src/util/clock.js';
import { prng, seededBytes, tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';
import {
  count,
  frame,
  hostile,
  makeWorld,
  peerOf,
  portOf,
  reasonOf,
  u32s,
} from '../../unit/client/hostile-world.js';
import { RawPeer } from '../../unit/client/raw-peer.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { MAX_PREFETCH_PIECES } from '../../../src/torrent/uploader.js';

const BLOCK = 16384;
const MSE_REASONS: number[] = [
  R.MSE_BAD_VC,
  R.HANDSHAKE_SYNC_DH5,
  R.MSE_UNKNOWN_SKEY,
  R.MSE_NO_CRYPTO_METHOD,
  R.MSE_HANDSHAKE_FAILED,
];

test('peer id and client name follow package.json (0.1.0 → -NB0100-, net-bittorrent 0.1.0)', () => {
  assert.equal(PACKAGE_VERSION, '0.1.0');
  const id = makePeerId();
  assert.equal(id.subarray(0, 8).toString('latin1'), '-NB0100-');
  assert.equal(clientNameFromPeerId(id), 'net-bittorrent 0.1.0');
  assert.equal(CLIENT_VERSION, 'net-bittorrent 0.1.0');
});

test('seeded random bytes after a valid handshake: MALFORMED_PACKET or MESSAGE_TOO_LARGE', async () => {
  const w = await makeWorld();
  try {
    for (let seed = 1; seed <= 8; seed++) {
      const raw = await hostile(w, seed % 2 ? w.seeded.infoHash : w.wanted.infoHash);
      raw.socket.write(seededBytes(4096, seed));
      assert.ok([R.MALFORMED_PACKET, R.MESSAGE_TOO_LARGE].includes(await reasonOf(w, raw)), `seed ${seed}`);
    }
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('out-of-range indices, offsets and lengths', async () => {
  const w = await makeWorld();
  try {
    const pieces = w.seeded.metainfo.pieceCount;
    const cases: [string, Buffer, number][] = [
      ['have index past the end', frame(4, u32s(pieces + 5)), R.MALFORMED_PACKET],
      ['have index 2^32-1', frame(4, u32s(0xffffffff)), R.MALFORMED_PACKET],
      ['request index past the end', frame(6, u32s(pieces, 0, BLOCK)), R.MALFORMED_PACKET],
      ['request of 1 MiB', frame(6, u32s(0, 0, 1 << 20)), R.MALFORMED_PACKET],
      ['request of length 0', frame(6, u32s(0, 0, 0)), R.MALFORMED_PACKET],
      ['cancel index past the end', frame(8, u32s(pieces + 1, 0, BLOCK)), R.MALFORMED_PACKET],
      ['have with a short body', frame(4, Buffer.alloc(2)), R.MALFORMED_PACKET],
      ['unknown message id 99', frame(99, Buffer.alloc(3)), R.MALFORMED_PACKET],
      ['length prefix 2^31', Buffer.concat([u32s(0x80000000), Buffer.from([7])]), R.MESSAGE_TOO_LARGE],
      // No id byte follows: closed on the prefix alone, not after the 180 s idle timeout.
      ['length prefix 2^31 alone', u32s(0x80000000), R.MESSAGE_TOO_LARGE],
      ['bitfield one byte short', frame(5, Buffer.alloc(Math.ceil(pieces / 8) - 1)), R.MALFORMED_PACKET],
      ['bitfield one byte long', frame(5, Buffer.alloc(Math.ceil(pieces / 8) + 1)), R.MALFORMED_PACKET],
      [
        'bitfield with spare bits set',
        frame(5, Buffer.alloc(Math.ceil(pieces / 8), 0xff)),
        R.MALFORMED_PACKET,
      ],
      [
        'piece block of 64 KiB',
        frame(7, Buffer.concat([u32s(0, 0), Buffer.alloc(65536)])),
        R.MESSAGE_TOO_LARGE,
      ],
      ['suggest without the Fast extension', frame(13, u32s(0)), R.MALFORMED_PACKET],
    ];
    for (const [what, bytes, reason] of cases) {
      const raw = await hostile(w, w.seeded.infoHash, {
        fast: what !== 'suggest without the Fast extension',
      });
      raw.socket.write(bytes);
      assert.equal(await reasonOf(w, raw).catch(() => `no close: ${what}`), reason, what);
    }
    // An offset past the piece end is a valid frame: refused with a reject, connection kept.
    const raw = await hostile(w);
    raw.send({ type: 'request', index: 0, begin: 10_000_000, length: BLOCK });
    raw.send({ type: 'request', index: 1, begin: 32768 - 100, length: BLOCK });
    assert.ok(await raw.waitFor((r) => count(r, 'reject') >= 2));
    assert.equal(count(raw, 'piece'), 0);
    assert.ok(peerOf(w, raw) && !raw.isClosed);
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('requests for pieces we lack, while choked, and thousands of them: all refused, queue bounded', async () => {
  const w = await makeWorld();
  try {
    // The torrent A is still downloading: it lacks (most) pieces and chokes this peer.
    const lacking = await hostile(w, w.wanted.infoHash);
    const n = 3000;
    const burst: Buffer[] = [];
    for (let i = 0; i < n; i++)
      burst.push(
        encodeMessage({ type: 'request', index: i % w.wanted.metainfo.pieceCount, begin: 0, length: BLOCK }),
      );
    lacking.socket.write(Buffer.concat(burst));
    assert.ok(await lacking.waitFor((r) => count(r, 'reject') >= n, 10_000), 'every request rejected');
    assert.equal(count(lacking, 'piece'), 0);

    // Unchoked on the seeded torrent: at most the advertised queue (500) is kept, the rest rejected.
    const greedy = await hostile(w);
    greedy.send({ type: 'interested' });
    assert.ok(await greedy.waitFor((r) => count(r, 'unchoke') > 0), 'unchoked');
    const pieces = w.seeded.metainfo.pieceCount;
    const reqs: Buffer[] = [];
    // All different (a repeated request is ignored: see the next test).
    for (let i = 0; i < n; i++)
      reqs.push(
        encodeMessage({
          type: 'request',
          index: i % (pieces - 1),
          begin: 8 * Math.floor(i / (pieces - 1)),
          length: 16,
        }),
      );
    greedy.socket.write(Buffer.concat(reqs));
    assert.ok(
      await greedy.waitFor((r) => count(r, 'reject') + count(r, 'piece') >= n, 15_000),
      'every request answered',
    );
    assert.ok(count(greedy, 'reject') >= n - 500 - count(greedy, 'piece'));
    assert.ok(!greedy.isClosed && !lacking.isClosed);
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('the same request repeated while queued is served once, not once per copy', async () => {
  const w = await makeWorld();
  try {
    const greedy = await hostile(w);
    greedy.send({ type: 'interested' });
    assert.ok(await greedy.waitFor((r) => count(r, 'unchoke') > 0), 'unchoked');
    const m = encodeMessage({ type: 'request', index: 1, begin: 0, length: BLOCK });
    const other = encodeMessage({ type: 'request', index: 2, begin: 0, length: BLOCK });
    greedy.socket.write(Buffer.concat([...Array.from({ length: 300 }, () => m), other]));
    assert.ok(await greedy.waitFor((r) => count(r, 'piece') >= 2, 10_000), 'both blocks served');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(count(greedy, 'piece'), 2, '300 copies of one request, one block');
    assert.equal(count(greedy, 'reject'), 0);
    assert.ok(!greedy.isClosed);
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('piece messages never requested: UNREQUESTED_PIECE', async () => {
  const w = await makeWorld();
  try {
    for (const ih of [w.seeded.infoHash, w.wanted.infoHash]) {
      const raw = await hostile(w, ih);
      const block = Buffer.alloc(BLOCK, 0xaa);
      for (let i = 0; i < 100; i++) raw.send({ type: 'piece', index: i % 5, begin: 0, block });
      assert.equal(await reasonOf(w, raw), R.UNREQUESTED_PIECE);
    }
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('have-all / have-none storms are absorbed without stalling the good download', async () => {
  const w = await makeWorld();
  try {
    const raw = await hostile(w, w.wanted.infoHash);
    const storm: Buffer[] = [];
    for (let i = 0; i < 5000; i++) storm.push(encodeMessage({ type: i % 2 ? 'haveNone' : 'haveAll' }));
    raw.socket.write(Buffer.concat(storm));
    raw.send({ type: 'request', index: 0, begin: 0, length: BLOCK }); // a marker answered after the storm
    await raw.waitFor((r) => count(r, 'reject') >= 1, 10_000);
    assert.ok(count(raw, 'reject') >= 1 || w.closes.get(portOf(raw))?.reason === R.SEED, 'storm processed');
    // A legal (if silly) storm is no reason to disconnect, except SEED once our download is done.
    assert.ok(!raw.isClosed || w.closes.get(portOf(raw))?.reason === R.SEED);
    raw.close();
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('extension protocol abuse: garbage bencode, huge sizes, unknown ids, floods', async () => {
  const w = await makeWorld();
  try {
    const ext = { extended: true };
    const garbage = await hostile(w, w.seeded.infoHash, ext);
    garbage.socket.write(frame(20, Buffer.concat([Buffer.from([0]), Buffer.from('d1:md11:ut_metadatai')])));
    assert.equal(await reasonOf(w, garbage), R.MALFORMED_PACKET);

    const notDict = await hostile(w, w.seeded.infoHash, ext);
    notDict.socket.write(frame(20, Buffer.concat([Buffer.from([0]), Buffer.from('li1ei2ee')])));
    assert.equal(await reasonOf(w, notDict), R.MALFORMED_PACKET);

    const tooLong = await hostile(w, w.seeded.infoHash, ext);
    tooLong.socket.write(u32s(64 * 1024 * 1024, 0x14000000));
    assert.equal(await reasonOf(w, tooLong), R.MESSAGE_TOO_LARGE);

    // Legal but absurd: a huge metadata_size and unknown ids, then a flood of unknown extended
    // messages (ut_metadata / ut_pex ids we never offered): ignored, the connection stays usable.
    const flood = await hostile(w, w.seeded.infoHash, ext);
    flood.socket.write(
      frame(
        20,
        Buffer.concat([
          Buffer.from([0]),
          Buffer.from('d1:md6:ut_pexi1e11:ut_metadatai2ee13:metadata_sizei1099511627776ee'),
        ]),
      ),
    );
    const msgs: Buffer[] = [];
    for (let i = 0; i < 5000; i++)
      msgs.push(frame(20, Buffer.concat([Buffer.from([10 + (i % 200)]), seededBytes(40, i)])));
    flood.socket.write(Buffer.concat(msgs));
    flood.send({ type: 'request', index: 0, begin: 10_000_000, length: BLOCK });
    assert.ok(
      await flood.waitFor((r) => count(r, 'reject') >= 1, 10_000),
      `flood processed (${JSON.stringify(w.closes.get(portOf(flood)))} ${flood.isClosed} ${JSON.stringify(flood.messages.map((m) => m.type))})`,
    );
    assert.ok(!flood.isClosed);

    // Garbage to every low extension id (ut_metadata / ut_pex when the engine offers them): at
    // most a protocol disconnect, never an engine error.
    for (let id = 1; id < 10; id++) {
      const raw = await hostile(w, w.seeded.infoHash, ext);
      raw.socket.write(
        frame(20, Buffer.concat([Buffer.from([0]), Buffer.from('d1:md11:ut_metadatai1e6:ut_pexi2eee')])),
      );
      raw.socket.write(frame(20, Buffer.concat([Buffer.from([id]), seededBytes(64, id)])));
      raw.socket.write(
        frame(20, Buffer.concat([Buffer.from([id]), Buffer.from('d8:msg_typei0e5:piecei99999999ee')])),
      );
      raw.send({ type: 'request', index: 0, begin: 10_000_000, length: BLOCK });
      await raw.waitFor((r) => count(r, 'reject') >= 1, 5000);
      const info = w.closes.get(portOf(raw));
      if (info) assert.ok([R.METADATA_INVALID, R.MALFORMED_PACKET].includes(info.reason), info.name);
      else assert.equal(count(raw, 'reject'), 1);
    }
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

/** A's extension id for `name`, from the extension handshake it sent this raw peer. */
async function remoteExtId(raw: RawPeer, name: string): Promise<number> {
  assert.ok(await raw.waitFor((r) => r.messages.some((m) => m.type === 'extended' && m.id === 0)));
  const m = raw.messages.find((x) => x.type === 'extended' && x.id === 0);
  const hs = parseExtendedHandshake(m!.type === 'extended' ? m!.payload : Buffer.alloc(0));
  const id = hs.m.get(name);
  assert.ok(id, `A offers ${name}`);
  return id;
}

const OUR_EXTS = 'd1:md11:ut_metadatai1e6:ut_pexi2eee';

test('ut_metadata: out-of-range and flooding requests are rejected; a huge metadata_size is refused', async () => {
  const w = await makeWorld();
  try {
    const raw = await hostile(w, w.seeded.infoHash, { extended: true });
    raw.socket.write(frame(20, Buffer.concat([Buffer.from([0]), Buffer.from(OUR_EXTS)])));
    const id = await remoteExtId(raw, 'ut_metadata');
    const total = Math.ceil(w.seeded.metainfo.info.length / 16384);
    const reqs: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      const piece = i % 3 === 0 ? total + (i % 100) : i % total;
      reqs.push(
        frame(20, Buffer.concat([Buffer.from([id]), encodeMetadataMessage({ type: 'request', piece })])),
      );
    }
    raw.socket.write(Buffer.concat(reqs));
    const replies = (): MetadataMessage[] =>
      raw.messages.flatMap((m) =>
        m.type === 'extended' && m.id === 1 ? [decodeMetadataMessage(m.payload)] : [],
      );
    assert.ok(
      await raw.waitFor(() => replies().length >= 2000, 10_000),
      `every request answered: ${replies().length} ${raw.isClosed} ${JSON.stringify(w.closes.get(portOf(raw)))} ${JSON.stringify(replies().slice(0, 3))}`,
    );
    const data = replies().filter((m) => m.type === 'data').length;
    assert.ok(data <= 3 * total, `${data} data replies (flood guard)`);
    assert.ok(!raw.isClosed);
    assert.ok(replies().filter((m) => m.type === 'reject').length >= 2000 / 3);

    // A piece index no metadata could have: a protocol violation.
    const absurd = await hostile(w, w.seeded.infoHash, { extended: true });
    absurd.socket.write(frame(20, Buffer.concat([Buffer.from([0]), Buffer.from(OUR_EXTS)])));
    const id2 = await remoteExtId(absurd, 'ut_metadata');
    absurd.socket.write(
      frame(
        20,
        Buffer.concat([Buffer.from([id2]), encodeMetadataMessage({ type: 'request', piece: 0xffffff })]),
      ),
    );
    assert.equal(await reasonOf(w, absurd), R.METADATA_INVALID);

    // A magnet torrent: a peer announcing a 1 TiB info dict is dropped, never allocated for.
    const hex = '0123456789abcdef0123456789abcdef01234567';
    const magnet = await w.a.addTorrent(`magnet:?xt=urn:btih:${hex}`, { savePath: w.outDir });
    const liar = await hostile(w, magnet.infoHash, { extended: true });
    liar.socket.write(
      frame(
        20,
        Buffer.concat([
          Buffer.from([0]),
          Buffer.from('d1:md11:ut_metadatai1ee13:metadata_sizei1099511627776ee'),
        ]),
      ),
    );
    assert.equal(await reasonOf(w, liar), R.METADATA_INVALID);
    assert.ok(process.memoryUsage().rss < 1024 * 1024 * 1024);
    await w.a.removeTorrent(magnet);
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('ut_pex floods: throttled, candidate list bounded', async () => {
  const w = await makeWorld();
  try {
    const raw = await hostile(w, w.wanted.infoHash, { extended: true });
    raw.socket.write(frame(20, Buffer.concat([Buffer.from([0]), Buffer.from(OUR_EXTS)])));
    const id = await remoteExtId(raw, 'ut_pex');
    const before = w.wanted.candidates.size;
    const flood: Buffer[] = [];
    for (let i = 0; i < 500; i++) {
      const added = Array.from({ length: 50 }, (_, j) => ({
        host: `127.0.${1 + (i % 250)}.${1 + j}`,
        port: 1 + i,
        flags: 0,
      }));
      flood.push(frame(20, Buffer.concat([Buffer.from([id]), encodePex({ added, dropped: [] })])));
    }
    raw.socket.write(Buffer.concat(flood));
    raw.send({ type: 'request', index: 0, begin: 10_000_000, length: BLOCK });
    assert.ok(await raw.waitFor((r) => count(r, 'reject') >= 1, 10_000), 'flood processed');
    assert.ok(
      w.wanted.candidates.size - before <= 50,
      `${w.wanted.candidates.size - before} candidates added`,
    );
    raw.close();
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('requests for many different pieces do not read them all at once (bounded prefetch)', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, {
    files: [{ path: 'm.bin', size: 128 * 16384 }],
    pieceLength: 16384,
  });
  let inflight = 0;
  let peak = 0;
  class CountingStorage extends FileStorage {
    override async read(piece: number, offset: number, length: number): Promise<Buffer> {
      peak = Math.max(peak, ++inflight);
      try {
        return await super.read(piece, offset, length);
      } finally {
        inflight--;
      }
    }
  }
  const client = new Client({ host: '127.0.0.1', trackers: false, dht: false, encryption: 'disabled' });
  let raw: RawPeer | undefined;
  try {
    const port = await client.listen(0);
    const t = await client.addTorrent(fx.torrent, {
      savePath: fx.dir,
      skipCheck: true,
      storage: (m) => new CountingStorage(m, fx.dir),
    });
    await until(() => t.state === 'seeding', 5000, 'seeding');
    raw = await RawPeer.connect(port);
    raw.sendHandshake(t.infoHash);
    raw.send({ type: 'interested' });
    assert.ok(await raw.waitFor((r) => count(r, 'unchoke') > 0), 'unchoked');
    const reqs: Buffer[] = [];
    for (let i = 127; i >= 0; i--)
      reqs.push(encodeMessage({ type: 'request', index: i, begin: 0, length: BLOCK }));
    raw.socket.write(Buffer.concat(reqs));
    assert.ok(
      await raw.waitFor((r) => count(r, 'piece') + count(r, 'reject') >= 128, 10_000),
      'all answered',
    );
    assert.ok(count(raw, 'piece') > 100);
    assert.ok(peak <= MAX_PREFETCH_PIECES + 2, `${peak} piece reads at once`);
  } finally {
    raw?.close();
    await client.close();
    await tmp.cleanup();
  }
});

test('a peer that never reads: we stop serving at the high-water mark, write buffer bounded', async () => {
  const w = await makeWorld();
  try {
    const raw = await hostile(w);
    raw.send({ type: 'interested' });
    assert.ok(await raw.waitFor((r) => count(r, 'unchoke') > 0), 'unchoked');
    raw.socket.pause(); // never read again
    const pieces = w.seeded.metainfo.pieceCount;
    const reqs: Buffer[] = [];
    for (let round = 0; round < 20; round++)
      for (let i = 0; i < pieces - 1; i++)
        for (let off = 0; off < 32768; off += BLOCK)
          reqs.push(encodeMessage({ type: 'request', index: i, begin: off, length: BLOCK }));
    raw.socket.write(Buffer.concat(reqs));
    const peer = peerOf(w, raw)!;
    assert.ok(peer);
    let max = 0;
    const t0 = Date.now();
    let lastUp = -1;
    while (Date.now() - t0 < 1500) {
      max = Math.max(max, peer.writeBufferBytes);
      await new Promise((r) => setTimeout(r, 20));
      if (Date.now() - t0 > 1000 && lastUp < 0) lastUp = peer.uploaded;
    }
    assert.ok(max <= 1024 * 1024 + 2 * BLOCK + 64 * 1024, `write buffer peaked at ${max}`);
    assert.equal(peer.uploaded, lastUp, 'serving stopped');
    raw.close();
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('hundreds of connections at once: TOO_MANY and the limit holds', async () => {
  const w = await makeWorld({ maxConnections: 40 });
  try {
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, w.a.connectionCount)), 5);
    const raws = await Promise.all(
      Array.from({ length: 300 }, () => hostile(w, w.seeded.infoHash, { handshake: false })),
    );
    await until(
      () => [...w.closes.values()].filter((c) => c.reason === R.TOO_MANY).length >= 250,
      10_000,
      'TOO_MANY',
    );
    clearInterval(sampler);
    assert.ok(peak <= 41, `peak ${peak} connections`);
    for (const r of raws) r.close();
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('210 idle connections that never handshake do not lock out real peers, incoming or outgoing', async () => {
  const w = await makeWorld();
  const c = new Client({ host: '127.0.0.1', trackers: false, dht: false, limits: { maxPerHost: 10 } });
  try {
    // More idle sockets than A has connection slots (200), all before any handshake.
    const idle = await Promise.all(
      Array.from({ length: 210 }, () => hostile(w, w.seeded.infoHash, { handshake: false })),
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(idle.length === 210);
    // Incoming: a real handshake still gets in.
    const real = await hostile(w, w.seeded.infoHash);
    await until(() => peerOf(w, real) !== undefined, 5000, 'the real incoming peer attached');
    // Outgoing: A still dials a new peer.
    const cPort = await c.listen(0);
    const ct = await c.addTorrent(w.seedFx.torrent, { savePath: join(w.root, 'c') });
    const dialled = new Promise<void>((r) => c.once('peer-connect', () => r()));
    w.seeded.addPeer('127.0.0.1', cPort);
    await dialled;
    await until(() => ct.state === 'seeding', 10_000, 'C downloaded from A');
    // The idle ones were evicted (TOO_MANY) as newcomers arrived, never more than the pool.
    const evicted = [...w.closes.values()].filter((i) => i.reason === R.TOO_MANY).length;
    assert.ok(evicted >= 160, `${evicted} evicted`);
    for (const r of w.raws) r.close();
    await c.close();
    await rm(join(w.root, 'c'), { recursive: true, force: true });
    await w.finish();
  } catch (e) {
    await c.close();
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('MSE garbage (random 96+ bytes): an MSE disconnect reason', async () => {
  const w = await makeWorld();
  try {
    for (const [seed, len] of [
      [1, 700],
      [2, 1200],
      [3, 5000],
    ] as const) {
      const raw = await hostile(w, w.seeded.infoHash, { handshake: false });
      const junk = seededBytes(len, seed);
      junk[0] = 0x55; // not the plaintext handshake's 0x13
      raw.socket.write(junk);
      assert.ok(MSE_REASONS.includes(await reasonOf(w, raw)), `seed ${seed}`);
    }
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

test('an engine listener that throws: INTERNAL_ERROR and peer-error, never an uncaught exception', async () => {
  const w = await makeWorld();
  try {
    const boom: Error[] = [];
    w.a.on('peer-connect', (_t, p) =>
      p.on('message', (m) => {
        if (m.type === 'interested' && p.port !== 0 && p.incoming) throw new Error('engine bug');
      }),
    );
    w.a.on('peer-error', (_p, e) => boom.push(e));
    const raw = await hostile(w);
    await until(() => w.peers.has(portOf(raw)), 5000, 'attached');
    raw.send({ type: 'interested' });
    assert.equal(await reasonOf(w, raw), R.INTERNAL_ERROR);
    assert.equal(boom.length, 1);
    assert.match(boom[0]!.message, /engine bug/);
    w.peerErrors.length = 0; // expected here
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});

/** A seeding client on a FakeClock, for timeouts; `attack` gets a connected socket and the clock. */
async function onFakeClock(
  attack: (sock: Socket, clock: FakeClock, closes: number[], infoHash: Buffer) => Promise<void>,
): Promise<number[]> {
  const clock = new FakeClock();
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'x.bin', size: 50_000 }], pieceLength: 16384 });
  const client = new Client({ host: '127.0.0.1', clock, trackers: false, encryption: 'enabled', dht: false });
  const closes: number[] = [];
  client.on('peer-disconnect', (_p, info) => closes.push(info.reason));
  const sock = new Socket();
  sock.on('error', () => undefined);
  try {
    const port = await client.listen(0);
    const t = await client.addTorrent(fx.torrent, { savePath: fx.dir, skipCheck: true });
    await until(() => t.state === 'seeding', 5000, 'seeding');
    await new Promise((r) => sock.connect(port, '127.0.0.1', () => r(undefined)));
    await until(() => client.connectionCount === 1, 2000, 'accepted');
    await attack(sock, clock, closes, t.infoHash);
    return closes;
  } finally {
    sock.destroy();
    await client.close();
    await tmp.cleanup();
  }
}

/** Writes `bytes` one per fake second (a real 5 ms apart) until A closes or `seconds` pass. */
async function trickle(
  sock: Socket,
  clock: FakeClock,
  closes: number[],
  bytes: Buffer,
  seconds: number,
): Promise<void> {
  for (let s = 0; s < seconds && closes.length === 0; s++) {
    if (s < bytes.length) sock.write(bytes.subarray(s, s + 1));
    await new Promise((r) => setTimeout(r, 5));
    clock.advance(1000);
  }
}

test('slowloris: one byte per (fake) second never completes a handshake: TIMEOUT_HANDSHAKE', async () => {
  const closes = await onFakeClock(async (sock, clock, closes) => {
    const hs = Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol')]);
    await trickle(sock, clock, closes, hs, 40);
  });
  assert.deepEqual(closes, [R.TIMEOUT_HANDSHAKE]);
});

test('slowloris after the handshake: a message trickled byte by byte hits IDLE_TIMEOUT', async () => {
  const closes = await onFakeClock(async (sock, clock, closes, infoHash) => {
    sock.write(
      encodeHandshake({
        reserved: makeReserved({ fast: true, extended: false }),
        infoHash,
        peerId: Buffer.from('-XX0000-slowlorisxxx'),
      }),
    );
    sock.write(encodeMessage({ type: 'interested' })); // so USELESS_PEER does not end it first
    await new Promise((r) => setTimeout(r, 50));
    const piece = encodeMessage({ type: 'piece', index: 0, begin: 0, block: Buffer.alloc(BLOCK) });
    await trickle(sock, clock, closes, piece, 400);
  });
  assert.deepEqual(closes, [R.IDLE_TIMEOUT]);
});

test('chaos: a seeded mix of attacks, 40 iterations', async () => {
  const w = await makeWorld();
  const rnd = prng(2026);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  type Attack = (raw: RawPeer) => void;
  const pieces = w.seeded.metainfo.pieceCount;
  const attacks: Attack[] = [
    (r) => r.socket.write(seededBytes(1 + Math.floor(rnd() * 3000), Math.floor(rnd() * 1e6))),
    (r) => r.socket.write(frame(Math.floor(rnd() * 30), seededBytes(Math.floor(rnd() * 20), 5))),
    (r) => r.socket.write(frame(4, u32s(pieces + Math.floor(rnd() * 1000)))),
    (r) =>
      r.socket.write(
        frame(6, u32s(Math.floor(rnd() * pieces), Math.floor(rnd() * 1e6), Math.floor(rnd() * 1e6))),
      ),
    (r) => r.send({ type: 'piece', index: 0, begin: 0, block: Buffer.alloc(BLOCK) }),
    (r) => r.socket.write(frame(5, Buffer.alloc(Math.floor(rnd() * 10)))),
    (r) => r.socket.write(frame(20, Buffer.concat([Buffer.from([0]), seededBytes(30, 3)]))),
    (r) => {
      const m = encodeMessage({ type: 'request', index: 0, begin: 0, length: BLOCK });
      r.socket.write(Buffer.concat(Array.from({ length: 600 }, () => m)));
    },
    (r) => r.close(),
  ];
  try {
    const open: RawPeer[] = [];
    for (let i = 0; i < 40; i++) {
      const raw = await hostile(w, pick([w.seeded.infoHash, w.wanted.infoHash]), { extended: rnd() < 0.5 });
      open.push(raw);
      const k = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < k; j++) pick(attacks)(raw);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const r of open) {
      const info = w.closes.get(portOf(r));
      if (info) assert.notEqual(info.reason, R.INTERNAL_ERROR);
      r.close();
    }
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
});
