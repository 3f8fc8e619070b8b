/**
 * BEP 40 at the connection limit: once peers told us our address (`yourip`), a full torrent
 * keeps the peers ranked highest; a newcomer outranking the lowest connection replaces it, one
 * ranked lower is refused TOO_MANY as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../src/client/index.js';
import { DisconnectReason, type DisconnectInfo } from '../../../src/peer/disconnect.js';
import { peerPriority } from '../../../src/peer/priority.js';
import { encodeMessage, makeReserved, encodeHandshake } from '../../../src/wire/index.js';
import { encodeExtendedHandshake } from '../../../src/wire/extension.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeFixture, until } from '../../unit/client/fixtures.js';
import { RawPeer, randomPeerId } from '../../unit/client/raw-peer.js';

const SELF = '127.0.0.1';

/** Handshake (with the extension bit) and an extension handshake naming our address. */
function hello(p: RawPeer, infoHash: Buffer): void {
  p.socket.write(
    encodeHandshake({
      reserved: makeReserved({ fast: true, extended: true }),
      infoHash,
      peerId: randomPeerId(),
    }),
  );
  const payload = encodeExtendedHandshake({ m: new Map(), yourip: Buffer.from([127, 0, 0, 1]) });
  p.socket.write(encodeMessage({ type: 'extended', id: 0, payload }));
}

test('a full torrent swaps its lowest-ranked peer for a better-ranked newcomer, refuses a worse one', async () => {
  const tmp = await tempDir();
  const fx = await makeFixture(tmp.path, { files: [{ path: 'x.bin', size: 100_000 }], pieceLength: 32768 });
  const client = new Client({
    host: '0.0.0.0',
    encryption: 'disabled',
    limits: { maxPerHost: 5, maxPeersPerTorrent: 2 },
    dht: false,
    lsd: false,
  });
  const closes: { host: string; info: DisconnectInfo }[] = [];
  client.on('peer-disconnect', (p, info) => closes.push({ host: p.host, info }));
  try {
    const port = await client.listen(0);
    const torrent = await client.addTorrent(fx.torrent, { savePath: fx.dir });
    await until(() => torrent.state === 'seeding', 5000, 'seeding');
    // Loopback hosts of one /24: the whole address is hashed (the port does not matter).
    const rank = (host: string): number => peerPriority({ host: SELF, port }, { host, port: 1 });
    const hosts = Array.from({ length: 30 }, (_, i) => `127.0.0.${i + 2}`).sort((a, b) => rank(a) - rank(b));
    // Two middling peers fill the torrent; then the best and the worst arrive.
    const [low, mid] = [hosts[10]!, hosts[20]!];
    const [worst, best] = [hosts[0]!, hosts[29]!];
    const a = await RawPeer.connect(port, '127.0.0.1', low);
    hello(a, fx.metainfo.infoHash);
    await until(() => torrent.peerCount === 1, 5000, 'first');
    const b = await RawPeer.connect(port, '127.0.0.1', mid);
    hello(b, fx.metainfo.infoHash);
    await until(() => torrent.peerCount === 2, 5000, 'second');
    const c = await RawPeer.connect(port, '127.0.0.1', best);
    hello(c, fx.metainfo.infoHash);
    await a.closed;
    await until(() => torrent.peers.some((p) => p.host === best), 5000, 'best attached');
    assert.equal(torrent.peerCount, 2);
    assert.deepEqual(
      closes.map((x) => [x.host, x.info.reason]),
      [[low, DisconnectReason.TOO_MANY]],
    );
    const d = await RawPeer.connect(port, '127.0.0.1', worst);
    hello(d, fx.metainfo.infoHash);
    await d.closed;
    assert.equal(b.isClosed, false);
    assert.equal(c.isClosed, false);
    assert.deepEqual(torrent.peers.map((p) => p.host).sort(), [mid, best].sort());
    assert.equal(closes.at(-1)!.info.reason, DisconnectReason.TOO_MANY);
    for (const p of [b, c]) p.close();
  } finally {
    await client.close();
    await tmp.cleanup();
  }
});
