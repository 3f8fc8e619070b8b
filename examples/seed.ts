/**
 * Seed a file or a directory: make a .torrent for it, then serve it until Ctrl-C.
 *
 *   node dist/examples/seed.js <file-or-dir> [out.torrent]
 *
 * PORT sets the listen port (default 6881; 0 picks a free one).
 */
import { writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Client, createTorrent } from 'net-bittorrent';

const content = resolve(process.argv[2] ?? '.');
const torrentFile = process.argv[3] ?? `${basename(content)}.torrent`;

const { torrent, metainfo } = await createTorrent(content, {
  trackers: [['udp://tracker.example.org:6969/announce']],
  comment: 'made by examples/seed.ts',
});
await writeFile(torrentFile, torrent);

// The DHT is on by default (public bootstrap routers); NBT_DHT=0 keeps this run off it.
// NBT_LSD=0 keeps it off the LAN (local service discovery, BEP 14: also on by default).
const client = new Client({
  dht: process.env.NBT_DHT === '0' ? false : {},
  lsd: process.env.NBT_LSD === '0' ? false : {},
});
const port = await client.listen(Number(process.env.PORT ?? 6881));
// We just hashed this very data, so there is nothing to check.
const seeding = await client.addTorrent(metainfo, { savePath: dirname(content), skipCheck: true });
console.log(`seeding ${seeding.name} (${seeding.infoHashHex}) on port ${port}, torrent in ${torrentFile}`);

client.on('peer-connect', (_torrent, peer) => console.log(`+ ${peer.host}:${peer.port} ${peer.clientName}`));
process.once('SIGINT', () => void client.close()); // the process ends once everything is closed
