/**
 * WebTorrent 3 under the same conditions as ours, in its own process: it adds the torrent, is
 * given the (delayed) seed as its only peer, serves the torrent with `client.createServer()`, and
 * the same player sequence (play from the start, seek to the middle) is timed against it.
 *   node webtorrent-child.js <file.torrent> <save dir> <peer host:port> <file length>
 * Prints {"event":"ttfb","ms":…}. WebRTC is not used: node-datachannel (a native add-on whose
 * prebuilt binary is not available here) is replaced by an empty stub before WebTorrent loads.
 * WebTorrent is not a dependency (it needs Node >= 22, and one of its dependencies refuses npm
 * install scripts); see stream.bench.ts for NBT_WEBTORRENT_DIR, which brings its own Node 22.
 */
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { seekTtfb } from './stream-measure.js';

const stub =
  'export class PeerConnection {} export class RtcpReceivingSession {} export class Video {} ' +
  'export class Audio {} export function cleanup() {} export default {};';
const hooks = `export async function resolve(spec, ctx, next) {
  if (spec === 'node-datachannel' || spec.startsWith('node-datachannel/'))
    return { url: 'data:text/javascript,' + encodeURIComponent(${JSON.stringify(stub)}), shortCircuit: true };
  return next(spec, ctx);
}`;
register('data:text/javascript,' + encodeURIComponent(hooks));

interface WtFile {
  length: number;
}
interface WtTorrent {
  files: WtFile[];
  infoHash: string;
  addPeer(addr: string): boolean;
  on(ev: 'ready' | 'error' | 'infoHash', f: (e?: unknown) => void): void;
}
interface WtClient {
  add(t: Buffer, o: { path: string }, cb: (t: WtTorrent) => void): WtTorrent;
  createServer(o?: object): { server: Server; listen(port: number, host: string, cb: () => void): void };
  destroy(cb: () => void): void;
}

const [torrentPath, savePath, peer, lengthText] = process.argv.slice(2);
// A variable specifier: WebTorrent ships no types (the shape used is declared above). With
// NBT_WEBTORRENT_DIR, the copy installed there (see stream.bench.ts) instead of ours.
const wtDir = process.env.NBT_WEBTORRENT_DIR;
const wtModule = wtDir
  ? pathToFileURL(join(wtDir, 'node_modules', 'webtorrent', 'index.js')).href
  : 'webtorrent';
const { default: WebTorrent } = (await import(wtModule)) as {
  default: new (o: object) => WtClient;
};
// secure: 0 — plaintext, as our side and the seed use. WebTorrent 3's default (1: MSE with a
// plaintext fallback) never fell back against a plaintext-only seed: every attempt was refused
// and nothing was ever requested.
const client = new WebTorrent({
  dht: false,
  tracker: false,
  lsd: false,
  webSeeds: false,
  utp: false,
  secure: 0,
});
const bytes = await readFile(torrentPath!);
const torrent = await new Promise<WtTorrent>((resolve) => {
  const t = client.add(bytes, { path: savePath! }, resolve);
  // The info-hash of a .torrent buffer may already be known when add() returns.
  if (t.infoHash) t.addPeer(peer!);
  else t.on('infoHash', () => t.addPeer(peer!));
});
const instance = client.createServer();
await new Promise<void>((r) => instance.listen(0, '127.0.0.1', r));
const port = (instance.server.address() as AddressInfo).port;
const url = `http://127.0.0.1:${port}/webtorrent/${torrent.infoHash}/${encodeURI(
  (torrent.files[0] as unknown as { path: string }).path.replace(/\\/g, '/'),
)}`;
const ms = await seekTtfb(url, Number(lengthText));
process.stdout.write(JSON.stringify({ event: 'ttfb', ms }) + '\n');
client.destroy(() => process.exit(0));
