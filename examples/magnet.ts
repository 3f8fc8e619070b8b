/**
 * Download from a magnet link: the info dictionary is fetched from peers first (BEP 9), then the
 * content, exactly as for a .torrent. The fetched .torrent is kept beside the resume data.
 *
 *   node dist/examples/magnet.js '<magnet:?xt=urn:btih:...>' [save-dir]
 *
 * Peers come from the link's trackers (tr=), its peer addresses (x.pe=) and the DHT.
 */
import { Client, formatBytes, parseMagnet } from 'net-bittorrent';

const [link = '', savePath = '.'] = process.argv.slice(2);
const { infoHashHex, name } = parseMagnet(link); // throws NbtError on a malformed link
console.log(`magnet ${infoHashHex} ${name ?? ''}`);

// NBT_DHT=0 keeps this run off the public DHT (on by default, usually the main source of peers).
// NBT_LSD=0 keeps it off the LAN (local service discovery, BEP 14: also on by default).
const client = new Client({
  dht: process.env.NBT_DHT === '0' ? false : {},
  lsd: process.env.NBT_LSD === '0' ? false : {},
  resumeDir: `${savePath}/.resume`,
});
await client.listen(0);
const torrent = await client.addTorrent(link, { savePath }); // state 'metadata' until the info dict arrives

torrent.on('metadata', (m) => {
  console.log(
    `metadata: ${m.name}, ${m.files.length} file(s), ${formatBytes(m.length)} in ${m.pieceCount} pieces`,
  );
});
torrent.on('state', async (state) => {
  if (state !== 'seeding' && state !== 'error') return;
  console.log(`${state === 'seeding' ? 'complete' : 'failed'}: ${torrent.name} in ${torrent.savePath}`);
  process.exitCode = state === 'seeding' ? 0 : 1;
  await client.close();
});
