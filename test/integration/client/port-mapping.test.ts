/**
 * The Client's port mapping against a scripted NAT-PMP gateway on 127.0.0.1 (that answers PCP
 * with "unsupported version", so the client falls back to NAT-PMP) that maps TCP to
 * external port 40000: the event and alert, the external port in tracker announces (with the
 * external address as BEP 7 ipv4=) and in the BEP 10 handshake's `p`, deletes on close; a
 * refusing gateway gives port-mapping-error; a client on a loopback address maps nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import type { Alert } from '../../../src/client/alerts.js';
import { encodeHandshake, makeReserved, parseExtendedHandshake } from '../../../src/wire/index.js';
import { encode } from '../../../src/bencode/index.js';
import { RawPeer } from '../../unit/client/raw-peer.js';
import { createTorrent } from '../../../src/metainfo/index.js';
import { seededBytes, tempDir } from '../../helpers/tmp.js';

interface Gateway {
  socket: Socket;
  port: number;
  /** Requests as [opcode, internal port, lifetime]. */
  requests: [number, number, number][];
}

async function natPmpGateway(refuse = false): Promise<Gateway> {
  const requests: [number, number, number][] = [];
  const socket = createSocket('udp4');
  socket.on('message', (m, from) => {
    let reply: Buffer;
    // A NAT-PMP-only gateway: PCP (version 2) is "unsupported version" (RFC 6886 3.5).
    if (m[0] !== 0) reply = Buffer.from([0, 128 + (m[1]! & 127), 0, 1, 0, 0, 0, 42]);
    else if (m[1] === 0) reply = Buffer.from('008000000000002a2d2d2d2d', 'hex');
    else {
      requests.push([m[1]!, m.readUInt16BE(4), m.readUInt32BE(8)]);
      reply = Buffer.alloc(16);
      reply[1] = 128 + m[1]!;
      if (refuse) reply.writeUInt16BE(2, 2);
      m.copy(reply, 8, 4, 6);
      const lifetime = m.readUInt32BE(8);
      reply.writeUInt16BE(lifetime === 0 ? 0 : m[1] === 2 ? 40000 : m.readUInt16BE(4), 10);
      reply.writeUInt32BE(lifetime, 12);
    }
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port, requests };
}

test('a NAT-PMP mapping: event, alert, announced port and address, BEP 10 p, deleted on close', async (t) => {
  const gw = await natPmpGateway();
  t.after(() => new Promise<void>((r) => gw.socket.close(() => r())));
  const announces: URLSearchParams[] = [];
  const tracker = createServer((req, res) => {
    announces.push(new URL(req.url!, 'http://x').searchParams);
    res.end(encode({ interval: 1800, peers: Buffer.alloc(0) }));
  });
  await new Promise<void>((r) => tracker.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise((r) => tracker.close(r)));
  const dir = await tempDir();
  t.after(() => dir.cleanup());
  const trackerUrl = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}/announce`;
  await writeFile(join(dir.path, 'a.bin'), seededBytes(100_000, 3));
  const { torrent: torrentBytes, metainfo } = await createTorrent(join(dir.path, 'a.bin'), {
    pieceLength: 16384,
    trackers: [[trackerUrl]],
    date: false,
  });

  const client = new Client({
    host: '0.0.0.0',
    port: 0,
    dht: false,
    lsd: false,
    utp: false,
    portMapping: { upnp: false, gateway: '127.0.0.1', natPmpPort: gw.port },
  });
  t.after(() => client.close());
  const alerts: Alert[] = [];
  client.on('alert', (a) => alerts.push(a));
  const mapped = new Promise<void>((resolve) =>
    client.on('port-mapped', (m) => {
      if (m.protocol === 'tcp') resolve();
    }),
  );
  const port = await client.listen();
  await mapped;
  assert.equal(client.announcePort, 40000);
  assert.equal(client.externalAddress, '45.45.45.45');
  const alert = alerts.find((a) => a.type === 'port-mapped' && a.protocol === 'tcp');
  assert.deepEqual(alert && { ...alert, time: 0 }, {
    type: 'port-mapped',
    category: 'status',
    time: 0,
    mapper: 'natpmp',
    protocol: 'tcp',
    internalPort: port,
    externalPort: 40000,
    externalAddress: '45.45.45.45',
    leaseSec: 3600,
    renewal: false,
  });

  const torrent = await client.addTorrent(torrentBytes, { savePath: dir.path });
  for (let i = 0; i < 200 && announces.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(announces[0]?.get('port'), '40000');
  assert.equal(announces[0]?.get('ipv4'), '45.45.45.45');

  // BEP 10: `p` is the external port.
  await new Promise<void>((r) => (torrent.state === 'seeding' ? r() : torrent.once('state', () => r())));
  const raw = await RawPeer.connect(port);
  t.after(() => raw.close());
  raw.socket.write(
    encodeHandshake({
      reserved: makeReserved({ fast: true, extended: true }),
      infoHash: metainfo.infoHash,
      peerId: Buffer.from('-RW0001-abcdefghijkl'),
    }),
  );
  assert.ok(await raw.waitFor((r) => r.messages.some((m) => m.type === 'extended' && m.id === 0)));
  const ext = raw.messages.find((m) => m.type === 'extended' && m.id === 0);
  assert.ok(ext && ext.type === 'extended');
  assert.equal(parseExtendedHandshake(ext.payload).p, 40000);

  await client.close();
  // TCP (2) and UDP (1) mapped, then deleted with lifetime 0.
  const deletes = gw.requests.filter((r) => r[2] === 0).map((r) => [r[0], r[1]]);
  assert.deepEqual(deletes.sort(), [
    [1, port],
    [2, port],
  ]);
});

test('a refusing gateway: port-mapping-error (event and alert), nothing announced but the listen port', async (t) => {
  const gw = await natPmpGateway(true);
  t.after(() => new Promise<void>((r) => gw.socket.close(() => r())));
  const client = new Client({
    host: '0.0.0.0',
    port: 0,
    dht: false,
    lsd: false,
    portMapping: { upnp: false, gateway: '127.0.0.1', natPmpPort: gw.port },
  });
  t.after(() => client.close());
  const alerts: Alert[] = [];
  client.on('alert', (a) => alerts.push(a));
  const failed = new Promise<string>((resolve) =>
    client.once('port-mapping-error', (f) => resolve(f.error.message)),
  );
  const port = await client.listen();
  assert.match(await failed, /not authorized or refused/);
  assert.equal(client.announcePort, port);
  assert.ok(
    alerts.some(
      (a) => a.type === 'port-mapping-error' && a.code === 'NATPMP_RESULT_2' && a.mapper === 'natpmp',
    ),
  );
  const closing = Date.now();
  await client.close();
  assert.ok(Date.now() - closing < 1000, 'close does not wait for a gateway that mapped nothing');
});

test('a client on a loopback address maps nothing; portMapping: false turns it off', async (t) => {
  const gw = await natPmpGateway();
  t.after(() => new Promise<void>((r) => gw.socket.close(() => r())));
  const loop = new Client({
    host: '127.0.0.1',
    port: 0,
    dht: false,
    lsd: false,
    portMapping: { upnp: false, gateway: '127.0.0.1', natPmpPort: gw.port },
  });
  await loop.listen();
  const off = new Client({ host: '0.0.0.0', port: 0, dht: false, lsd: false, portMapping: false });
  await off.listen();
  assert.equal(off.portMapping, undefined);
  assert.equal(off.settings().enable_upnp, false);
  assert.equal(off.settings().enable_natpmp, false);
  await new Promise((r) => setTimeout(r, 200));
  await loop.close();
  await off.close();
  assert.deepEqual(gw.requests, []);
});
