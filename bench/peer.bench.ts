/**
 * Peer wire throughput: two of our Peers on loopback in one process, one serving 16 KiB blocks
 * from memory, the other keeping a request pipeline full; plus the bare decoder speed.
 * CPU is process.cpuUsage() for both ends together.
 */
import { createServer } from 'node:net';
import { Peer, type EncryptionPolicy } from '../src/peer/index.js';
import { Bitfield } from '../src/util/bitfield.js';
import { WireDecoder, WireEncoder } from '../src/wire/index.js';
import type { Reporter } from './harness.js';

const MiB = 1024 * 1024;
const BLOCK = 16 * 1024;
const PIECE = 256 * 1024;

async function transfer(
  totalBytes: number,
  encryption: EncryptionPolicy,
  pipeline = 128,
): Promise<{ seconds: number; cpu: number }> {
  const pieces = Math.ceil(totalBytes / PIECE);
  const data = Buffer.alloc(PIECE, 0x42);
  const infoHash = Buffer.alloc(20, 9);
  const server = createServer((socket) => {
    const seed = Peer.accept(socket, {
      peerId: Buffer.from('-NB0100-seedseedseed'),
      encryption,
      infoHashes: () => [infoHash],
      maxIncomingRequests: pipeline * 2,
      onHandshake: () => ({ torrent: 0, pieceCount: pieces, have: Bitfield.full(pieces) }),
    });
    seed.on('message', (m) => {
      if (m.type === 'interested') seed.unchoke();
      else if (m.type === 'request') seed.piece(m.index, m.begin, data.subarray(m.begin, m.begin + m.length));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const leech = Peer.connect({
      host: '127.0.0.1',
      port,
      infoHash,
      peerId: Buffer.from('-NB0100-leechleechle'),
      encryption,
      onHandshake: () => ({ torrent: 0, pieceCount: pieces }),
    });
    const blocksPerPiece = PIECE / BLOCK;
    const totalBlocks = pieces * blocksPerPiece;
    let next = 0;
    let received = 0;
    const fill = (): void => {
      while (leech.requestsOut < pipeline && next < totalBlocks) {
        leech.request(Math.floor(next / blocksPerPiece), (next % blocksPerPiece) * BLOCK, BLOCK);
        next++;
      }
    };
    leech.on('message', (m) => {
      if (m.type === 'unchoke') fill();
      else if (m.type === 'piece') {
        received++;
        if (received === totalBlocks) {
          leech.close();
          resolve();
        } else fill();
      }
    });
    leech.on('handshake', () => leech.interested());
    leech.on(
      'close',
      (i) => received < totalBlocks && reject(new Error(`closed: ${i.name} ${i.message ?? ''}`)),
    );
  });
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  server.close();
  return { seconds, cpu: (c.user + c.system) / 1e6 };
}

function decodeSpeed(totalBytes: number): number {
  const enc = new WireEncoder();
  const block = Buffer.alloc(BLOCK, 1);
  for (let i = 0; i < 64; i++) enc.queue({ type: 'piece', index: i, begin: 0, block });
  const stream = Buffer.concat(enc.flush()); // 1 MiB + headers
  const chunks: Buffer[] = [];
  for (let o = 0; o < stream.length; o += 65536) chunks.push(stream.subarray(o, o + 65536));
  const t0 = performance.now();
  let bytes = 0;
  let n = 0;
  const d = new WireDecoder();
  while (bytes < totalBytes) {
    for (const c of chunks) d.push(c, () => n++);
    bytes += stream.length;
  }
  return bytes / MiB / ((performance.now() - t0) / 1000);
}

export async function run(report: Reporter): Promise<void> {
  report.figure('wire decoder, piece messages in 64 KiB chunks', decodeSpeed(2048 * MiB), 'MiB/s');
  for (const [enc, size] of [
    ['disabled', 1024],
    ['required', 256],
  ] as const) {
    const r = await transfer(size * MiB, enc);
    const label = enc === 'disabled' ? 'plaintext' : 'RC4';
    report.figure(`Peer→Peer loopback ${size} MiB ${label}: time`, r.seconds, 's');
    report.figure(`Peer→Peer loopback ${size} MiB ${label}: throughput`, size / r.seconds, 'MiB/s');
    report.figure(`Peer→Peer loopback ${size} MiB ${label}: CPU both ends`, r.cpu, 's');
  }
}
