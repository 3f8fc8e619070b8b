/**
 * Watch the peers of a download: who connects, with what, and why each connection ends.
 *
 *   node dist/examples/peers.js <file.torrent> [save-dir] [host:port ...]
 */
import { Client, DisconnectReason, parseAddress } from 'net-bittorrent';

const [torrentFile = 'example.torrent', savePath = '.', ...peers] = process.argv.slice(2);

// Offer MSE, accept plaintext. NBT_DHT=0 keeps the run off the public DHT (it is on by default).
// NBT_LSD=0 keeps it off the LAN (local service discovery, BEP 14: also on by default).
const client = new Client({
  encryption: 'enabled',
  dht: process.env.NBT_DHT === '0' ? false : {},
  lsd: process.env.NBT_LSD === '0' ? false : {},
});
await client.listen(0);

client.on('peer-connect', (torrent, peer) => {
  const how = `${peer.incoming ? 'incoming' : 'outgoing'}, ${peer.encryption}, via ${peer.source.kind}`;
  console.log(`connect    ${peer.host}:${peer.port} ${peer.clientName} (${how}) to ${torrent.name}`);
});

// Every connection ends with exactly one reason, including refused handshakes and failed dials.
client.on('peer-disconnect', (peer, info) => {
  const detail = info.errno ?? info.message;
  const why = `${info.name} (${info.reason}): ${info.description}${detail ? ` — ${detail}` : ''}`;
  console.log(`disconnect ${peer.host}:${peer.port} ${why}`);
  if (info.reason === DisconnectReason.CORRUPT_DATA)
    console.log(`  ${peer.host} sent bad data and is banned`);
});

const torrent = await client.addTorrent(torrentFile, { savePath, peers: peers.map(parseAddress) });
torrent.on('state', async (state) => {
  if (state !== 'seeding') return;
  for (const peer of torrent.peers) console.log(peer.asString()); // Net::BitTorrent's as_string
  await client.close(); // the remaining peers close with CLIENT_CLOSED
});
