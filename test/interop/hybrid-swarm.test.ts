/**
 * A hybrid swarm (BEP 52): a v1-only peer holds some files of a hybrid torrent and libtorrent 2
 * (the v2 half, upgraded to a v2 connection) holds the others; our client dials both and
 * downloads the whole torrent, each piece checked by SHA-1 and by its Merkle root whoever sent
 * it. The files come out byte-identical, pieces came from both, and the v1 peer never saw a
 * BEP 52 message.
 *
 * The v1 peer is scripted (plain BEP 3 + Fast over a real socket, its handshake without the v2
 * bit) because no v1-only client installed here can join a hybrid swarm at all:
 *  - Transmission 3.00 cannot load any v2 or hybrid torrent. Its bencode parser refuses empty
 *    dictionary keys, which every BEP 52 `file tree` has (a file's entry is keyed ""):
 *    transmission-show and torrent-add say "invalid or corrupt torrent file" (also for
 *    libtorrent's own hybrids), and a magnet would fail the same way on the metadata.
 *    Transmission 4 reads hybrids.
 *  - aria2 1.36 loads it but computes another info-hash (0db8… where we and libtorrent agree on
 *    e198… for the same torrent), so it waits in a swarm of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { createTorrent } from '../../src/metainfo/index.js';
import { Bitfield } from '../../src/util/bitfield.js';
import type { Message } from '../../src/wire/index.js';
import { cleanupStack } from '../helpers/cleanup.js';
import { LtPeer, requirePeer } from '../helpers/real-peers.js';
import { seededBytes, tempDir } from '../helpers/tmp.js';
import { until } from '../unit/client/fixtures.js';
import { RawPeer, randomPeerId } from '../unit/client/raw-peer.js';
import { done } from './tracker-swarm.js';

const PIECE = 256 * 1024;
/** Its own address: one connection per address is the rule (libtorrent's too). */
const V1_HOST = '127.0.0.2';
/** [name, size, who has it at the start] */
const files: [string, number, 'v1' | 'libtorrent'][] = [
  ['a.bin', 1_000_003, 'v1'],
  ['b.bin', 900_001, 'libtorrent'],
  ['c.bin', 300_000, 'v1'],
  ['d.bin', 700_000, 'libtorrent'],
];

test('hybrid swarm: a v1-only peer and libtorrent (v2) each seed part; we download all from both', async (t) => {
  if (!requirePeer(t, 'libtorrent')) return;
  const defer = cleanupStack(t);
  const tmp = await tempDir('nbt-hybrid-swarm-');
  defer(() => tmp.cleanup());
  const src = join(tmp.path, 'src', 'h');
  await mkdir(src, { recursive: true });
  for (const [name, size] of files) await writeFile(join(src, name), seededBytes(size, size));
  const { torrent, metainfo } = await createTorrent(src, {
    version: 'hybrid',
    pieceLength: PIECE,
    date: false,
  });
  assert.equal(metainfo.version, 'hybrid');
  assert.ok(
    metainfo.files.some((f) => f.pad),
    'the v1 half has pad files',
  );
  const torrentPath = join(tmp.path, 'h.torrent');
  await writeFile(torrentPath, torrent);

  // libtorrent's share on disk; the v1 peer serves its share of the torrent's byte stream (pad
  // files are zeros) from memory.
  const ltDir = join(tmp.path, 'libtorrent');
  await mkdir(join(ltDir, 'h'), { recursive: true });
  for (const [name, , owner] of files)
    if (owner === 'libtorrent') await copyFile(join(src, name), join(ltDir, 'h', name));
  const stream = Buffer.concat(
    await Promise.all(
      metainfo.files.map((f) => (f.pad ? Buffer.alloc(f.length) : readFile(join(src, f.path.at(-1)!)))),
    ),
  );
  const v1Share = new Bitfield(metainfo.pieceCount);
  for (const f of metainfo.files) {
    const owner = files.find(([name]) => name === f.path.at(-1))?.[2];
    if (owner !== 'v1') continue;
    for (let p = f.offset / PIECE; p < Math.ceil((f.offset + f.length) / PIECE); p++) v1Share.set(p);
  }
  const v1Saw: Message['type'][] = [];
  const v1 = await RawPeer.listen((p) => {
    p.onMessage = (m) => {
      v1Saw.push(m.type);
      if (m.type === 'interested') p.send({ type: 'unchoke' });
      if (m.type !== 'request') return;
      if (!v1Share.has(m.index)) p.send({ type: 'reject', index: m.index, begin: m.begin, length: m.length });
      else {
        const at = m.index * PIECE + m.begin;
        p.send({ type: 'piece', index: m.index, begin: m.begin, block: stream.subarray(at, at + m.length) });
      }
    };
    void p
      .waitFor((r) => r.handshake !== undefined)
      .then(() => {
        p.sendHandshake(metainfo.infoHashes.v1!, randomPeerId());
        p.send({ type: 'bitfield', bits: v1Share.bytes });
      });
  }, V1_HOST);
  defer(() => new Promise<void>((r) => v1.server.close(() => r())));

  const lt = new LtPeer('leech', torrentPath, ltDir, { enc: 'disabled', stay: true, timeout: 120 });
  defer(() => lt.kill());
  const ltPort = await lt.port();
  await until(
    () => lt.events.some((e) => e.event === 'progress' && Number(e.progress) > 0.3),
    20_000,
    'libtorrent checked its share',
  );

  const client = new Client({ host: '127.0.0.1', encryption: 'disabled', dht: false });
  defer(() => client.close());
  await client.listen(0);
  const leechDir = join(tmp.path, 'ours');
  const leech = await client.addTorrent(torrent, { savePath: leechDir });
  // Pieces received from each peer, by its port (both dialled by us, so ports are theirs).
  const pieces = new Map<number, Set<number>>();
  leech.on('peer-connect', (peer) =>
    peer.on('message', (m: Message) => {
      if (m.type !== 'piece') return;
      const got = pieces.get(peer.port) ?? new Set<number>();
      got.add(m.index);
      pieces.set(peer.port, got);
    }),
  );
  const gone: string[] = [];
  client.on('peer-disconnect', (p, info) => gone.push(`${p.port}:${info.name}`));
  leech.addPeer(V1_HOST, v1.port);
  leech.addPeer('127.0.0.1', ltPort);
  await done(leech, 60_000).catch((e: unknown) => {
    throw new Error(
      `${String(e)}; disconnects ${gone.join(' ')}; v1 peer saw ${[...new Set(v1Saw)].join(',')}; ` +
        `libtorrent: ${JSON.stringify(lt.events.slice(-3))}`,
    );
  });

  for (const [name] of files)
    assert.ok((await readFile(join(leechDir, 'h', name))).equals(await readFile(join(src, name))), name);
  const st = leech.stats();
  assert.equal(st.hashFailures, 0);
  const fromV1 = pieces.get(v1.port)?.size ?? 0;
  const fromLt = pieces.get(ltPort)?.size ?? 0;
  assert.ok(fromV1 > 0 && fromLt > 0, `pieces from the v1 peer ${fromV1}, from libtorrent ${fromLt}`);
  // Each peer's own share came from it: the first piece of a.bin only the v1 peer had at the
  // start, the first of b.bin only libtorrent.
  const first = (name: string): number => metainfo.files.find((f) => f.path.at(-1) === name)!.offset / PIECE;
  // Says which peer sent what, should this fail again (it did once in CI, never since: cause
  // unknown; libtorrent never dialled the v1 peer in any run that was checked).
  const seen = (): string =>
    `pieces by port ${JSON.stringify([...pieces].map(([port, s]) => [port, [...s].sort((a, b) => a - b)]))}` +
    ` (v1 ${v1.port}, libtorrent ${ltPort}); disconnects ${gone.join(' ')}`;
  assert.ok(pieces.get(v1.port)!.has(first('a.bin')), `a.bin from the v1 peer: ${seen()}`);
  assert.ok(pieces.get(ltPort)!.has(first('b.bin')), `b.bin from libtorrent: ${seen()}`);
  assert.ok(
    !v1Saw.some((m) => m === 'hashRequest' || m === 'hashes' || m === 'hashReject'),
    `the v1 peer got no BEP 52 message: ${[...new Set(v1Saw)].join(',')}`,
  );
});
