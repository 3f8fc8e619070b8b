/**
 * What a video player does against a streaming HTTP server, timed: play from the start for a
 * while, then seek to the middle; the figure is the time from the seek's request to its first
 * body byte. Shared by our run and WebTorrent's child process.
 */
import { request } from 'node:http';

/** Milliseconds from sending a GET with `Range: bytes=<start>-` to the first body byte. */
export function firstByteMs(url: string, start: number, readBytes = 1): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let got = 0;
    let first = -1;
    const req = request(url, { headers: { Range: `bytes=${start}-` } }, (res) => {
      if (res.statusCode !== 206) reject(new Error(`status ${res.statusCode} for ${url}`));
      res.on('data', (c: Buffer) => {
        if (first < 0) first = performance.now() - t0;
        got += c.length;
        if (got >= readBytes) {
          req.destroy();
          resolve(first);
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (e) => (first >= 0 ? resolve(first) : reject(e)));
    req.setTimeout(120_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

/** Plays `warmBytes` from the start (the player's first seconds), then seeks to the middle. */
export async function seekTtfb(url: string, length: number, warmBytes = 4 << 20): Promise<number> {
  await firstByteMs(url, 0, warmBytes);
  return firstByteMs(url, Math.floor(length / 2));
}
