/**
 * What the fuzzer feeds: one entry per decoder or state machine that takes bytes from the
 * network, a torrent author or the disk. Each target turns one input into calls of the engine;
 * throwing an NbtError is the expected answer to bad input, anything else is a finding. Seeds
 * are valid messages made by our own encoders (the corpus folders add what the fuzzer found).
 * Imported only after the coverage hooks are registered, so the engine modules it loads are
 * instrumented.
 */
import { decode, encode } from '../../src/bencode/index.js';
import { parseMagnet, parseTorrent } from '../../src/metainfo/index.js';
import { WireDecoder, encodeMessage, parseExtendedHandshake } from '../../src/wire/index.js';
import { decodeMetadataMessage, encodeMetadataMessage } from '../../src/extensions/ut-metadata.js';
import { decodePex, encodePex } from '../../src/extensions/ut-pex.js';
import { decodeKrpc, encodeKrpc } from '../../src/dht/krpc.js';
import {
  parseAnnounceResponse,
  parseScrapeResponse,
  percentEncodeBytes,
} from '../../src/tracker/http-codec.js';
import {
  decodeTrackerRequest,
  decodeTrackerResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
} from '../../src/tracker/udp-codec.js';
import { SwarmStore } from '../../src/tracker/server/swarm.js';
import { ConnectionIds } from '../../src/tracker/server/connection-id.js';
import { handleTrackerHttp } from '../../src/tracker/server/http-handler.js';
import { handleTrackerUdp } from '../../src/tracker/server/udp-handler.js';
import { decodeResume, encodeResume } from '../../src/storage/resume.js';
import { decodePacket, encodePacket } from '../../src/utp/packet.js';
import { sampleTorrents } from './seed-torrents.js';
import { MSE_TARGETS } from './targets-mse.js';
import { chunks, type FuzzTarget } from './target.js';
import { Bitfield } from '../../src/util/bitfield.js';
import { UtpLink } from '../helpers/utp-link.js';
import { NbtError } from '../../src/util/errors.js';

const HASH: Buffer = Buffer.alloc(20, 0xab);
const BENCODE_TOKENS = ['d', 'e', 'l', 'i', '0:', '1:', '4:', '20:', 'i-1e', 'i0e', '-', ':'];

/** Length-prefixed records: [len][bytes]…, for targets that take a sequence of packets. */
function records(input: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < input.length && out.length < 256;) {
    const n = input[at]!;
    out.push(input.subarray(at + 1, at + 1 + n));
    at += 1 + n;
  }
  return out;
}
function asRecords(parts: Uint8Array[]): Buffer {
  return Buffer.concat(
    parts.flatMap((p) => [Buffer.from([Math.min(255, p.length)]), Buffer.from(p).subarray(0, 255)]),
  );
}

export const TARGETS: FuzzTarget[] = [
  {
    name: 'bencode',
    seeds: () => [
      encode({ a: 1, b: [Buffer.from('xy'), -3, { c: 'd' }], e: 2n ** 70n }),
      Buffer.from('li1ei2ee'),
    ],
    run: (b) => void decode(b),
    dictionary: BENCODE_TOKENS,
  },
  {
    name: 'metainfo',
    seeds: sampleTorrents,
    run: (b) => {
      const m = parseTorrent(b);
      // What the engine does with a parsed torrent next: every piece's size and hash.
      for (let i = 0; i < Math.min(m.pieceCount, 64); i++) m.pieceHash(i);
    },
    dictionary: [
      ...BENCODE_TOKENS,
      '4:info',
      '6:length',
      '4:path',
      '5:files',
      '12:piece length',
      '6:pieces',
      '12:meta version',
      '9:file tree',
      '12:piece layers',
      '11:pieces root',
      '4:attr',
      '1:p',
      '4:name',
    ],
  },
  {
    name: 'magnet',
    seeds: () => [
      Buffer.from(
        `magnet:?xt=urn:btih:${HASH.toString('hex')}&dn=x&tr=http%3A%2F%2Ft%2Fa&x.pe=1.2.3.4:5&so=0-3,7`,
      ),
      Buffer.from(`magnet:?xt=urn:btmh:1220${'cd'.repeat(32)}&xt=urn:btih:${'ef'.repeat(20)}&ws=http://w/`),
    ],
    run: (b) => void parseMagnet(b.toString('latin1')),
    dictionary: ['xt=', 'urn:btih:', 'urn:btmh:1220', '&', '%', 'tr=', 'x.pe=', 'so=', 'ws=', 'dn='],
  },
  {
    name: 'wire',
    seeds: () => [
      Buffer.concat([
        Buffer.from([5]),
        encodeMessage({ type: 'bitfield', bits: Buffer.from([0xff, 0xf0]) }),
        encodeMessage({ type: 'have', index: 3 }),
        encodeMessage({ type: 'request', index: 1, begin: 0, length: 16384 }),
        encodeMessage({ type: 'piece', index: 1, begin: 0, block: Buffer.alloc(40, 1) }),
        encodeMessage({ type: 'extended', id: 0, payload: Buffer.from('d1:md6:ut_pexi1ee1:pi6881ee') }),
        encodeMessage({
          type: 'hashRequest',
          piecesRoot: Buffer.alloc(32, 7),
          baseLayer: 2,
          index: 4,
          length: 4,
          proofLayers: 3,
        }),
      ]),
    ],
    run: (b) => {
      const d = new WireDecoder({ pieceCount: 12 });
      for (const c of chunks(b))
        for (const m of d.push(c)) if (m.type === 'extended' && m.id === 0) parseExtendedHandshake(m.payload);
      if (d.bufferedBytes > b.length)
        throw new Error(`decoder holds ${d.bufferedBytes} bytes of ${b.length}`);
    },
  },
  {
    name: 'extension-handshake',
    seeds: () => [
      encode({
        m: { ut_pex: 1, ut_metadata: 2, lt_donthave: 7 },
        p: 6881,
        v: 'x',
        yourip: Buffer.from([1, 2, 3, 4]),
        reqq: 250,
        metadata_size: 3000,
      }),
    ],
    run: (b) => void parseExtendedHandshake(b),
    dictionary: [
      ...BENCODE_TOKENS,
      '1:m',
      '6:ut_pex',
      '11:ut_metadata',
      '13:metadata_size',
      '6:yourip',
      '4:reqq',
    ],
  },
  {
    name: 'ut_metadata',
    seeds: () => [
      encodeMetadataMessage({ type: 'request', piece: 0 }),
      Buffer.concat([Buffer.from(encode({ msg_type: 1, piece: 0, total_size: 5 })), Buffer.from('abcde')]),
      encodeMetadataMessage({ type: 'reject', piece: 2 }),
    ],
    run: (b) => void decodeMetadataMessage(b),
    dictionary: [...BENCODE_TOKENS, '8:msg_type', '5:piece', '10:total_size'],
  },
  {
    name: 'ut_pex',
    seeds: () => [
      encodePex({
        added: [
          { host: '1.2.3.4', port: 5, flags: 0x10 },
          { host: '::1', port: 6, flags: 0x02 },
        ],
        dropped: [{ host: '5.6.7.8', port: 9 }],
      }),
    ],
    run: (b) => void decodePex(b),
    dictionary: [...BENCODE_TOKENS, '5:added', '7:added.f', '6:added6', '7:dropped', '8:dropped6'],
  },
  ...MSE_TARGETS,
  {
    name: 'krpc',
    seeds: () => [
      encodeKrpc({ t: Buffer.from('aa'), y: 'q', q: 'get_peers', a: { id: HASH, infoHash: HASH } }),
      Buffer.from('d1:rd2:id20:abcdefghij01234567895:nodes26:abcdefghij0123456789ABCDEFe1:t2:aa1:y1:re'),
      Buffer.from('d1:eli201e5:errore1:t2:aa1:y1:ee'),
    ],
    run: (b) => void decodeKrpc(b),
    dictionary: [
      ...BENCODE_TOKENS,
      '1:y',
      '1:q',
      '1:r',
      '1:a',
      '1:t',
      '2:id',
      '9:info_hash',
      '5:nodes',
      '6:values',
      '5:token',
      '9:find_node',
      '9:get_peers',
      '13:announce_peer',
      '4:port',
      '12:implied_port',
    ],
  },
  {
    name: 'tracker-http-response',
    seeds: () => [
      encode({
        interval: 1800,
        'min interval': 60,
        complete: 3,
        incomplete: 4,
        peers: Buffer.from([1, 2, 3, 4, 0x1a, 0xe1]),
        peers6: Buffer.alloc(18, 1),
      }),
      encode({ interval: 60, peers: [{ ip: '1.2.3.4', port: 6881, 'peer id': Buffer.alloc(20) }] }),
      encode({ files: { [HASH.toString('latin1')]: { complete: 1, downloaded: 2, incomplete: 3 } } }),
      encode({ 'failure reason': 'no' }),
    ],
    run: (b) => {
      try {
        parseAnnounceResponse(b);
      } catch (e) {
        if (!(e instanceof NbtError)) throw e;
      }
      parseScrapeResponse(b);
    },
    dictionary: [
      ...BENCODE_TOKENS,
      '8:interval',
      '5:peers',
      '6:peers6',
      '14:failure reason',
      '5:files',
      '2:ip',
      '4:port',
    ],
  },
  {
    name: 'tracker-udp-response',
    seeds: () => [
      Buffer.concat([
        Buffer.from([0, 0, 0, 1, 0, 0, 0, 7]),
        Buffer.alloc(12, 0),
        Buffer.from([1, 2, 3, 4, 0x1a, 0xe1]),
      ]),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8]),
      Buffer.concat([Buffer.from([0, 0, 0, 3, 0, 0, 0, 7]), Buffer.from('bad tracker')]),
    ],
    run: (b) => {
      try {
        decodeTrackerResponse(b, 4);
      } catch (e) {
        if (!(e instanceof NbtError)) throw e;
      }
      decodeTrackerResponse(b, 6);
    },
  },
  (() => {
    const store = new SwarmStore({ maxTorrents: 50, maxPeersPerTorrent: 20 });
    const ids = new ConnectionIds(Buffer.alloc(32, 1));
    const conn = ids.issue('127.0.0.1', 9, 0);
    const ih = percentEncodeBytes(HASH);
    let now = 0;
    return {
      name: 'tracker-server',
      seeds: () => [
        Buffer.concat([
          Buffer.from([0]),
          Buffer.from(
            `/announce?info_hash=${ih}&peer_id=${'p'.repeat(20)}&port=6881&left=0&event=started&compact=0`,
          ),
        ]),
        Buffer.concat([Buffer.from([0]), Buffer.from(`/scrape?info_hash=${ih}&info_hash=${ih}`)]),
        Buffer.concat([Buffer.from([1]), encodeConnectRequest(1)]),
        Buffer.concat([
          Buffer.from([1]),
          encodeAnnounceRequest({
            connectionId: conn,
            transactionId: 1,
            infoHash: HASH,
            peerId: Buffer.alloc(20),
            downloaded: 1,
            left: 2,
            uploaded: 3,
            event: 'completed',
            key: 1,
            numwant: 5,
            port: 80,
          }),
        ]),
      ],
      // First byte: 0 = an HTTP request line's path and query, else a UDP packet.
      run: (b: Buffer) => {
        now += 1000;
        if (b[0] === 0) {
          const reply = handleTrackerHttp(store, b.subarray(1).toString('latin1'), '127.0.0.1', now, {
            trustIpParam: true,
          });
          if (reply.body.length === 0) throw new Error('empty HTTP reply');
        } else {
          const p = b.subarray(1);
          try {
            decodeTrackerRequest(p);
          } catch (e) {
            if (!(e instanceof NbtError)) throw e;
          }
          handleTrackerUdp(store, ids, p, '127.0.0.1', 9, now);
        }
        if (store.torrentCount > 50) throw new Error(`tracker holds ${store.torrentCount} torrents`);
      },
      dictionary: [
        'info_hash=',
        'peer_id=',
        'port=',
        '&',
        '%',
        'numwant=',
        'event=',
        'ip=',
        'compact=',
        '/announce?',
        '/scrape?',
      ],
    };
  })(),
  {
    name: 'resume',
    seeds: () => [
      encodeResume({
        version: 1,
        infoHash: HASH,
        have: new Bitfield(8, Buffer.from([0xf0])),
        files: [{ size: 100, mtimeMs: 5 }, undefined],
        unfinished: [],
        peers: [{ host: '1.2.3.4', port: 5 }],
        uploaded: 10,
        downloaded: 20,
        savePath: '/tmp/x',
        renamed: [[0, ['a', 'b']]],
      }),
    ],
    run: (b) => void decodeResume(b),
  },
  {
    name: 'utp-packet',
    seeds: () => [
      Buffer.from(
        encodePacket({
          type: 2,
          connectionId: 7,
          timestamp: 1,
          timestampDiff: 2,
          window: 65536,
          seq: 1,
          ack: 0,
          payload: new Uint8Array(0),
        }),
      ),
      Buffer.from(
        encodePacket({
          type: 0,
          connectionId: 7,
          timestamp: 1,
          timestampDiff: 2,
          window: 65536,
          seq: 5,
          ack: 4,
          payload: new Uint8Array(30),
          sack: new Uint8Array(4),
        }),
      ),
    ],
    run: (b) => void decodePacket(b),
  },
  {
    name: 'utp-connection',
    seeds: () => [
      asRecords([
        encodePacket({
          type: 0,
          connectionId: 101,
          timestamp: 1,
          timestampDiff: 2,
          window: 65536,
          seq: 2,
          ack: 1,
          payload: new Uint8Array(20),
        }),
        encodePacket({
          type: 2,
          connectionId: 101,
          timestamp: 3,
          timestampDiff: 2,
          window: 65536,
          seq: 3,
          ack: 1,
          payload: new Uint8Array(0),
          sack: new Uint8Array(4).fill(0xff),
        }),
        encodePacket({
          type: 1,
          connectionId: 101,
          timestamp: 5,
          timestampDiff: 2,
          window: 0,
          seq: 4,
          ack: 1,
          payload: new Uint8Array(0),
        }),
      ]),
    ],
    // A connected pair; every record is one datagram into the accepting side, decoded first.
    run: (b) => {
      const link = new UtpLink({ delay: 10, seed: 9 });
      link.run(5000, () => link.a.state === 'connected');
      const c = link.acceptor!;
      let t = link.now;
      for (const r of records(b)) {
        let p;
        try {
          p = decodePacket(r);
        } catch (e) {
          if (e instanceof NbtError) continue;
          throw e;
        }
        c.handle(p, (t += 7));
        while (c.pollTransmit(t));
        c.read();
        if (c.state === 'closed') break;
      }
      if (c.bytesInFlight < 0) throw new Error('negative bytes in flight');
    },
  },
];
