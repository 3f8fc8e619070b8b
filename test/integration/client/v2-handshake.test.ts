/**
 * BEP 52 handshakes: a hybrid answers to both of its 20-byte names (v1 and truncated v2), and
 * the v2 bit (reserved byte 7, 0x10) is set toward peers of torrents with a v2 hash only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { encodeHandshake, makeReserved, parseHandshake } from '../../../src/wire/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';
import { until } from '../../unit/client/fixtures.js';

async function read68(sock: Socket): Promise<Buffer> {
  let buf = Buffer.alloc(0);
  while (buf.length < 68) {
    const [chunk] = (await once(sock, 'data')) as [Buffer];
    buf = Buffer.concat([buf, chunk]);
  }
  return buf;
}

async function torrents(dir: string) {
  await mkdir(join(dir, 'd'), { recursive: true });
  await writeFile(join(dir, 'd', 'a'), seededBytes(100_000, 1));
  await writeFile(join(dir, 'd', 'b'), seededBytes(30_000, 2));
  const opts = { pieceLength: 32768, date: false as const };
  const hybrid = await createTorrent(join(dir, 'd'), { ...opts, version: 'hybrid' });
  const v1 = await createTorrent(join(dir, 'd'), { ...opts, version: 1, name: 'v1copy' });
  return { hybrid, v1 };
}

test('an incoming peer addressing a hybrid by its truncated v2 hash finds it; the reply carries the v2 bit', async () => {
  const tmp = await tempDir();
  const client = new Client({ host: '127.0.0.1', dht: false });
  try {
    const { hybrid, v1 } = await torrents(tmp.path);
    const port = await client.listen(0);
    const h = await client.addTorrent(hybrid.torrent, { savePath: tmp.path });
    const plain = await client.addTorrent(v1.torrent, { savePath: join(tmp.path, 'other') });
    await until(() => h.state === 'seeding', 10_000, 'hybrid checked');
    const v2short = hybrid.metainfo.infoHashes.v2!.subarray(0, 20);
    assert.equal(client.getTorrent(v2short), h, 'getTorrent knows the alias too');
    const ask = async (infoHash: Buffer): Promise<Buffer> => {
      const sock = connect(port, '127.0.0.1');
      await once(sock, 'connect');
      sock.write(
        encodeHandshake({
          reserved: makeReserved({ extended: true, fast: true, v2: true }),
          infoHash,
          peerId: randomBytes(20),
        }),
      );
      const reply = await read68(sock);
      sock.destroy();
      return reply;
    };
    for (const name of [v2short, hybrid.metainfo.infoHashes.v1!]) {
      const reply = parseHandshake(await ask(name));
      assert.ok(reply.infoHash.equals(name), 'the reply echoes the name we used');
      assert.equal(reply.reserved[7]! & 0x10, 0x10, 'v2 bit for a torrent with a v2 hash');
    }
    await until(
      () => plain.state === 'seeding' || plain.state === 'downloading',
      10_000,
      'v1 torrent started',
    );
    const reply = parseHandshake(await ask(v1.metainfo.infoHash));
    assert.equal(reply.reserved[7]! & 0x10, 0, 'no v2 bit for a v1 torrent (libtorrent would drop us)');
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});

test('outgoing handshakes set the v2 bit for hybrids only, and a hybrid accepts a reply upgraded to its v2 hash', async (t) => {
  const tmp = await tempDir();
  // Plain TCP, no MSE: the raw server reads the BitTorrent handshake itself.
  const client = new Client({
    host: '127.0.0.1',
    dht: false,
    utp: false,
    encryption: 'disabled',
    limits: { maxPerHost: 10 },
  });
  const seen: Buffer[] = [];
  let upgradeTo: Buffer | undefined;
  const server = createServer((sock) => {
    void read68(sock).then((b) => {
      seen.push(b);
      // The hybrid's dial is answered as libtorrent does for a v2-capable peer: with the
      // truncated v2 hash (BEP 52's upgrade). The v1 one is just dropped.
      if (upgradeTo && seen.length === 1)
        sock.write(
          encodeHandshake({
            reserved: makeReserved({ fast: true, v2: true }),
            infoHash: upgradeTo,
            peerId: randomBytes(20),
          }),
        );
      else sock.destroy();
    });
  });
  try {
    const { hybrid, v1 } = await torrents(tmp.path);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    await client.listen(0);
    const h = await client.addTorrent(hybrid.torrent, { savePath: join(tmp.path, 'x') });
    upgradeTo = hybrid.metainfo.infoHashes.v2!.subarray(0, 20);
    h.addPeer('127.0.0.1', port);
    await until(() => seen.length === 1, 10_000, 'hybrid dial');
    await until(() => h.peers.length === 1, 10_000, 'the upgraded connection joins the hybrid');
    assert.ok(h.peers[0]!.infoHash!.equals(upgradeTo));
    // A second listener: the client does not dial an address it is already connected to.
    const other = createServer((sock) => {
      void read68(sock).then((b) => {
        seen.push(b);
        sock.destroy();
      });
    });
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    t.after(() => other.close());
    const p = await client.addTorrent(v1.torrent, { savePath: join(tmp.path, 'y') });
    p.addPeer('127.0.0.1', (other.address() as { port: number }).port);
    await until(() => seen.length === 2, 10_000, 'v1 dial');
    const [a, b] = seen.map((x) => parseHandshake(x));
    assert.ok(a!.infoHash.equals(hybrid.metainfo.infoHashes.v1!));
    assert.equal(a!.reserved[7]! & 0x10, 0x10);
    assert.ok(b!.infoHash.equals(v1.metainfo.infoHash));
    assert.equal(b!.reserved[7]! & 0x10, 0);
  } finally {
    server.close();
    await client.close();
    await tmp.cleanup();
  }
});
