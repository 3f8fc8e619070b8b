/**
 * Stream a download: pieces are fetched in order (sequential mode), and the torrent's first file
 * is written to stdout as soon as its next bytes are verified, long before the download ends
 * (pipe it into a player, a decompressor, a hash...).
 *
 *   node dist/examples/stream.js <file.torrent> [save-dir] [host:port ...] > copy.bin
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, parseAddress } from 'net-bittorrent';

const [torrentFile = 'example.torrent', savePath = '.', ...peers] = process.argv.slice(2);

// The DHT is on by default (public bootstrap routers); NBT_DHT=0 keeps this run off it.
// NBT_LSD=0 keeps it off the LAN (local service discovery, BEP 14: also on by default).
const client = new Client({
  dht: process.env.NBT_DHT === '0' ? false : {},
  lsd: process.env.NBT_LSD === '0' ? false : {},
});
await client.listen(0);
const torrent = await client.addTorrent(torrentFile, {
  savePath,
  peers: peers.map(parseAddress),
  sequential: true, // in-order piece picking instead of rarest-first
});
const file = torrent.metainfo.files[0]!;
const path = join(torrent.savePath, ...file.path);

let sent = 0; // bytes of the file already written to stdout
let copying = Promise.resolve();

/** Copies the file's verified prefix that stdout has not seen yet. */
async function copyVerifiedPrefix(): Promise<void> {
  const m = torrent.metainfo;
  let piece = Math.floor((file.offset + sent) / m.pieceLength);
  while (piece < m.pieceCount && torrent.have.has(piece)) piece++;
  const verifiedEnd = Math.min(file.offset + file.length, piece * m.pieceLength) - file.offset;
  if (verifiedEnd <= sent) return;
  const fh = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(verifiedEnd - sent);
    await fh.read(chunk, 0, chunk.length, sent);
    await new Promise((done) => process.stdout.write(chunk, done));
    sent = verifiedEnd;
  } finally {
    await fh.close();
  }
}

torrent.on('piece-hash-pass', () => (copying = copying.then(copyVerifiedPrefix)));
torrent.on('state', async (state) => {
  if (state !== 'seeding') return;
  await (copying = copying.then(copyVerifiedPrefix));
  console.error(`streamed ${sent} bytes of ${file.name}`);
  await client.close();
});
