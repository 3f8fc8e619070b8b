/**
 * Run a BitTorrent tracker (HTTP and UDP, BEP 3 / 15 / 23 / 48) until Ctrl-C.
 *
 *   node dist/examples/tracker.js [port]
 *
 * Put the printed announce URLs into a torrent (`nbt create -t URL`) so clients find each other.
 */
import { TrackerServer } from 'net-bittorrent';

const port = Number(process.argv[2] ?? 6969);

const tracker = new TrackerServer({
  http: { port },
  udp: { port }, // port 0: any free port (HTTP and UDP may then differ)
  intervalS: 1800, // seconds between announces, as told to clients
});
tracker.on('request', ({ protocol, from }) => console.log(`${protocol} request from ${from}`));
tracker.on('error', (e) => console.error(`tracker: ${e.message}`));
await tracker.listen();

const urls = tracker.announceUrls();
console.log(`tracker running: ${urls.http} ${urls.udp}`);
process.once('SIGINT', () => void tracker.close());
