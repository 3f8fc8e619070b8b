/**
 * A small WebM (VP8 + Opus, what Debian's Chromium plays) made by ffmpeg, seeded by a
 * rate-limited Client and served by a second Client's stream server while it downloads.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Client } from '../../src/client/index.js';
import { createTorrent } from '../../src/metainfo/index.js';
import { filePath, type StreamServer } from '../../src/stream/index.js';
import type { Torrent } from '../../src/torrent/index.js';

export function run(cmd: string, args: string[], timeout = 60_000): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

/** A `seconds`-long 320x240 test-pattern video with a tone, a keyframe every second. */
export async function makeWebm(path: string, seconds: number): Promise<void> {
  await run('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc=duration=${seconds}:size=320x240:rate=25`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${seconds}`,
    '-c:v',
    'libvpx',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-b:v',
    '800k',
    '-g',
    '25',
    '-c:a',
    'libopus',
    '-b:a',
    '48k',
    '-y',
    path,
  ]);
}

export interface ServedVideo {
  url: string;
  torrent: Torrent;
  server: StreamServer;
  close(): Promise<void>;
}

/** Seeds `dir/video/clip.webm` at `rate` bytes/s and serves it from a leecher's stream server. */
export async function serveVideo(dir: string, seconds: number, rate: number): Promise<ServedVideo> {
  const content = join(dir, 'video');
  await mkdir(content, { recursive: true });
  await makeWebm(join(content, 'clip.webm'), seconds);
  const { torrent } = await createTorrent(content, { pieceLength: 16 * 1024 });
  await writeFile(join(dir, 'video.torrent'), torrent);
  const seedClient = new Client({ host: '127.0.0.1', uploadRateLimit: rate, dht: false, trackers: false });
  const client = new Client({ host: '127.0.0.1', dht: false, trackers: false });
  const seedPort = await seedClient.listen(0);
  await client.listen(0);
  const seed = await seedClient.addTorrent(torrent, { savePath: dir });
  await new Promise<void>((r) => (seed.state === 'seeding' ? r() : seed.once('state', () => r())));
  const t = await client.addTorrent(torrent, { savePath: join(dir, 'leech') });
  t.addPeer('127.0.0.1', seedPort);
  const server = t.createServer();
  await new Promise<void>((r) => server.listen(0, r));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}${filePath(t, t.files[0]!)}`;
  return {
    url,
    torrent: t,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await client.close();
      await seedClient.close();
    },
  };
}
