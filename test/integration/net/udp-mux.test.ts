import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyDatagram, UdpMux } from '../../../src/net/udp-mux.js';
import { MemoryUdpNetwork, memoryEndpointPair } from '../../../src/net/udp-memory.js';
import { looksLikeUtp, type UdpSource } from '../../../src/net/udp.js';
import { DhtNode, encodeKrpc } from '../../../src/dht/index.js';
import { UdpTrackerClient } from '../../../src/tracker/udp-client.js';
import {
  decodeTrackerRequest,
  encodeAnnounceResponse,
  encodeConnectResponse,
} from '../../../src/tracker/udp-codec.js';
import { FakeClock } from '../../../src/util/clock.js';
import { isNbtError } from '../../../src/util/errors.js';
import { encodeCompactPeers } from '../../../src/util/compact.js';
import { seededBytes } from '../../helpers/tmp.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A BEP 29 header: type in the high nibble, version 1 in the low one. */
function utpPacket(type: number): Buffer {
  const b = Buffer.alloc(20);
  b[0] = (type << 4) | 1;
  return b;
}

function trackerReply(action: number, transactionId: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(action, 0);
  b.writeUInt32BE(transactionId, 4);
  return b;
}

const ping = encodeKrpc({ y: 'q', t: Buffer.from('aa'), q: 'ping', a: { id: seededBytes(20, 1) } });

test('classification: tracker (when claimed) before DHT before uTP; the rest is dropped', () => {
  const claims = (yes: boolean) => {
    let asked = 0;
    return { fn: () => (asked++, yes), asked: () => asked };
  };
  const yes = claims(true);
  assert.equal(classifyDatagram(trackerReply(1, 7), yes.fn), 'tracker');
  const no = claims(false);
  assert.equal(classifyDatagram(trackerReply(1, 7), no.fn), undefined, 'an unclaimed reply is dropped');
  assert.equal(no.asked(), 1);
  // KRPC is never offered to the trackers, whatever its bytes 4..8 are.
  const k = claims(true);
  assert.equal(classifyDatagram(ping, k.fn), 'dht');
  assert.equal(k.asked(), 0);
  for (let type = 0; type <= 4; type++) assert.equal(classifyDatagram(utpPacket(type), no.fn), 'utp');
  assert.equal(looksLikeUtp(utpPacket(5)), false, 'no type 5');
  assert.equal(looksLikeUtp(Buffer.from([0x42])), false, 'a header is 20 bytes');
  const v2 = utpPacket(1);
  v2[0] = 0x12;
  assert.equal(classifyDatagram(v2, no.fn), undefined, 'version 2 is not uTP');
  assert.equal(
    classifyDatagram(utpPacket(1), no.fn, (r) => r !== 'utp'),
    undefined,
    'no uTP handler yet: dropped',
  );
  assert.equal(
    classifyDatagram(ping, no.fn, (r) => r !== 'dht'),
    undefined,
    'no DHT: dropped',
  );
  assert.equal(classifyDatagram(Buffer.from('hello'), no.fn), undefined, 'too short for a tracker');
  assert.equal(classifyDatagram(Buffer.alloc(0), yes.fn), undefined);
});

test('UdpMux hands each datagram to one route, per family, and counts what nobody took', async () => {
  const net = new MemoryUdpNetwork();
  const errors: Error[] = [];
  const mux = new UdpMux(net.bind('127.0.0.1', 6881), { onError: (e) => errors.push(e) });
  const peer = net.endpoint('127.0.0.1');
  const got: string[] = [];
  const dht = mux.endpoint('dht', 4)!;
  const tracker = mux.endpoint('tracker', 4)!;
  const utp = mux.endpoint('utp', 4)!;
  assert.equal(mux.endpoint('dht', 6), undefined, 'an IPv4 socket has no IPv6 endpoint');
  assert.equal(dht.localPort, 6881);
  dht.onPacket((p, from: UdpSource) => void got.push(`dht ${p.length} ${from.host}:${from.port}`));
  // The tracker claims transaction 7 only.
  tracker.onPacket((p) => {
    if (p.readUInt32BE(4) !== 7) return false;
    got.push('tracker');
    return true;
  });
  const send = (b: Buffer): void => peer.send(b, 6881, '127.0.0.1');
  send(trackerReply(1, 7));
  send(trackerReply(1, 8));
  send(ping);
  send(utpPacket(4));
  send(Buffer.from('junk'));
  await tick();
  assert.deepEqual(got, ['tracker', `dht ${ping.length} 127.0.0.1:${peer.localPort}`]);
  assert.deepEqual(mux.stats, { received: 5, tracker: 1, dht: 1, utp: 0, dropped: 3, handlerErrors: 0 });

  // The uTP hook: once something registers there, uTP headers reach it.
  const utpGot: number[] = [];
  const off = utp.onPacket((p) => void utpGot.push(p[0]! >> 4));
  send(utpPacket(4));
  await tick();
  assert.deepEqual(utpGot, [4]);
  off();

  // A handler that throws is counted and reported; the next handler still gets the datagram.
  const more = mux.endpoint('dht', 4)!;
  more.onPacket(() => {
    throw new Error('bug');
  });
  const again: number[] = [];
  more.onPacket((p) => void again.push(p.length));
  send(ping);
  await tick();
  assert.deepEqual(again, [ping.length]);
  assert.equal(mux.stats.handlerErrors, 1);
  assert.ok(isNbtError(errors[0], 'UDP_HANDLER_FAILED'));
  await more.close();
  got.length = 2;

  // Closing an endpoint removes its handlers and leaves the socket to the others.
  await dht.close();
  assert.equal(dht.localPort, 0);
  send(ping);
  send(trackerReply(0, 7));
  await tick();
  assert.deepEqual(got.slice(2), ['tracker']);
  let sendError: Error | undefined;
  dht.send(ping, peer.localPort, '127.0.0.1', (e) => (sendError = e));
  assert.ok(isNbtError(sendError, 'UDP_CLOSED'));
  const back: Buffer[] = [];
  peer.onPacket((p) => void back.push(p));
  tracker.send(Buffer.from('x'), peer.localPort, '127.0.0.1');
  await tick();
  assert.equal(back.length, 1, 'the tracker endpoint still sends');

  await mux.close();
  assert.equal(tracker.localPort, 0);
  tracker.send(Buffer.from('x'), peer.localPort, '127.0.0.1', (e) => (sendError = e));
  assert.ok(isNbtError(sendError, 'UDP_CLOSED'));
  await peer.close();
});

test('DhtNode runs on an endpoint: two nodes on the memory network ping and look each other up', async () => {
  const [ea, eb] = memoryEndpointPair();
  const clock = new FakeClock();
  const a = new DhtNode({ clock, bootstrap: [] });
  const b = new DhtNode({ clock, bootstrap: [{ host: '127.0.0.1', port: ea.localPort }] });
  try {
    assert.deepEqual(await a.listen(ea), { host: '127.0.0.1', port: ea.localPort });
    await b.listen(eb);
    await assert.rejects(a.listen(ea), (e: unknown) => isNbtError(e, 'DHT_ALREADY_LISTENING'));
    await b.bootstrap();
    assert.equal(b.table.size, 1);
    assert.deepEqual(a.table.all()[0]!.id, b.id);
    const v6 = new DhtNode({ family: 6 });
    await assert.rejects(v6.listen(ea), (e: unknown) => isNbtError(e, 'DHT_FAMILY_MISMATCH'));
    await v6.close();
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  // A lent endpoint outlives the node; its handlers are gone.
  assert.equal(ea.localPort > 0, true);
  await Promise.all([ea.close(), eb.close()]);
});

test('a UDP tracker client and a DHT node share one mux: replies are matched by transaction id and tracker address', async () => {
  const net = new MemoryUdpNetwork();
  const clock = new FakeClock();
  const mux = new UdpMux(net.bind('127.0.0.1', 6881));
  const tracker = net.endpoint('127.0.0.1', 1337);
  const forger = net.endpoint('127.0.0.1', 1338);
  const requests: string[] = [];
  const connectionIds: string[] = [];
  tracker.onPacket((p, from) => {
    const req = decodeTrackerRequest(p);
    requests.push(`${req.action} from ${from.port}`);
    if (req.action === 'announce') connectionIds.push(req.connectionId.toString('hex'));
    // A reply to the same transaction from another address comes first: it must not count.
    const reply =
      req.action === 'connect'
        ? encodeConnectResponse(req.transactionId, Buffer.alloc(8, 3))
        : encodeAnnounceResponse(req.transactionId, {
            interval: 900,
            leechers: 1,
            seeders: 2,
            compactPeers: encodeCompactPeers([{ host: '10.0.0.1', port: 6000 }]),
          });
    forger.send(
      req.action === 'connect' ? encodeConnectResponse(req.transactionId, Buffer.alloc(8, 9)) : reply,
      from.port,
      from.host,
    );
    tracker.send(reply, from.port, from.host);
  });
  const client = new UdpTrackerClient({ clock, endpoint: (f) => mux.endpoint('tracker', f) });
  const node = new DhtNode({ clock, bootstrap: [] });
  await node.listen(mux.endpoint('dht', 4));
  const dhtPeer = net.endpoint('127.0.0.1');
  const dhtReplies: Buffer[] = [];
  dhtPeer.onPacket((p) => void dhtReplies.push(p));
  try {
    const res = await client.announce('udp://127.0.0.1:1337/announce', {
      infoHash: Buffer.alloc(20, 1),
      peerId: Buffer.alloc(20, 2),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 1,
      event: 'started',
      numwant: 10,
      key: 1,
    });
    assert.deepEqual(res.peers, [{ host: '10.0.0.1', port: 6000 }]);
    assert.deepEqual(requests, ['connect from 6881', 'announce from 6881'], 'from the shared port');
    assert.deepEqual(connectionIds, ['03'.repeat(8)], 'the forged connect reply was not used');
    dhtPeer.send(ping, 6881, '127.0.0.1');
    await tick();
    await tick();
    assert.equal(dhtReplies.length, 1, 'the DHT answered on the same port');
    assert.equal(node.stats.queriesAnswered, 1);
    assert.equal(node.stats.malformedDropped, 0, 'no tracker reply reached the DHT');
    const s = mux.stats;
    assert.equal(s.tracker, 2);
    assert.equal(s.dht, 1);
    assert.equal(s.dropped, 2, 'the forged replies');
  } finally {
    client.close();
    await node.close();
    await mux.close();
  }
});
