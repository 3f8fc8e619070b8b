/**
 * Download a torrent, show progress, and exit once every piece is verified and written.
 *
 *   node dist/examples/download.js <file.torrent> [save-dir] [host:port ...]
 *
 * Peers come from the torrent's trackers, plus any host:port given after the save directory.
 */
import { Client, formatBytes, formatRate, parseAddress } from 'net-bittorrent';

const [torrentFile = 'example.torrent', savePath = '.', ...peers] = process.argv.slice(2);

// The DHT is on by default (public bootstrap routers); NBT_DHT=0 keeps this run off it.
// NBT_LSD=0 keeps it off the LAN (local service discovery, BEP 14: also on by default).
const client = new Client({
  dht: process.env.NBT_DHT === '0' ? false : {},
  lsd: process.env.NBT_LSD === '0' ? false : {},
});
await client.listen(0); // any free port; peers may connect to us too
const torrent = await client.addTorrent(torrentFile, { savePath, peers: peers.map(parseAddress) });

const progress = setInterval(() => {
  const s = torrent.stats();
  console.log(`${(s.progress * 100).toFixed(1)}% ${formatRate(s.downloadRate)} from ${s.peers.total} peers`);
}, 1000);

torrent.on('state', async (state) => {
  // 'seeding' comes after the last piece is written, or right after the check if nothing was missing.
  if (state !== 'seeding' && state !== 'error') return;
  clearInterval(progress);
  const s = torrent.stats();
  console.log(
    `${state === 'seeding' ? 'complete' : 'failed'}: ${formatBytes(s.bytesDone)} of ${torrent.name}`,
  );
  process.exitCode = state === 'seeding' ? 0 : 1;
  await client.close(); // saves nothing here (no resumeDir), closes peers and files
});
torrent.on('error', (e) => console.error(`error: ${e.message}`));
