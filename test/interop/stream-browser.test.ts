/**
 * A real browser (Debian's headless Chromium driven by puppeteer-core) plays a WebM from the
 * stream server while the torrent downloads from a rate-limited seed, seeks to the middle, and
 * `currentTime` advances there while the torrent is still incomplete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { serveVideo } from '../helpers/stream-media.js';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--mute-audio',
];

test('Chromium plays, seeks to the middle and advances while the torrent is incomplete', async (t) => {
  if (!requirePeer(t, 'chromium')) return;
  if (!requirePeer(t, 'ffmpeg')) return;
  const puppeteer = (await import('puppeteer-core')).default;
  const tmp = await tempDir('nbt-stream-browser-');
  // 30 s of video (~1 MB) at 25 KB/s: ~40 s to download all of it.
  const v = await serveVideo(tmp.path, 30, 25_000);
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...FLAGS, `--user-data-dir=${join(tmp.path, 'profile')}`],
  });
  try {
    const page = await browser.newPage();
    const origin = new URL(v.url).origin;
    await page.goto(`${origin}/`);
    const result = await page.evaluate(async (src: string) => {
      // Runs in the page (the project compiles without DOM types: a minimal shape of what is used).
      interface Video {
        muted: boolean;
        src: string;
        duration: number;
        currentTime: number;
        error: { message: string } | null;
        play(): Promise<void>;
        addEventListener(ev: string, f: () => void, o: { once: boolean }): void;
      }
      const doc = (
        globalThis as unknown as {
          document: { createElement(tag: 'video'): Video; body: { appendChild(v: Video): void } };
        }
      ).document;
      const video = doc.createElement('video');
      video.muted = true;
      video.src = src;
      doc.body.appendChild(video);
      const wait = (ev: string, ms: number) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), ms);
          video.addEventListener(ev, () => (clearTimeout(timer), resolve(true)), { once: true });
        });
      if (!(await wait('loadedmetadata', 30_000))) return { error: `no metadata (${video.error?.message})` };
      const duration = video.duration;
      await video.play();
      video.currentTime = duration / 2;
      if (!(await wait('seeked', 30_000))) return { error: `no seek (${video.error?.message})` };
      const seekedAt = video.currentTime;
      const t0 = performance.now();
      while (video.currentTime < seekedAt + 2 && performance.now() - t0 < 30_000)
        await new Promise((r) => setTimeout(r, 100));
      return { duration, seekedAt, now: video.currentTime, error: video.error?.message };
    }, v.url);
    assert.equal(result.error, undefined, JSON.stringify(result));
    assert.ok(result.duration! > 25, `duration ${result.duration}`);
    assert.ok(Math.abs(result.seekedAt! - result.duration! / 2) < 2, `seeked to ${result.seekedAt}`);
    assert.ok(result.now! >= result.seekedAt! + 2, `currentTime advanced: ${JSON.stringify(result)}`);
    assert.ok(!v.torrent.finished, 'played the middle while the torrent is still incomplete');
  } finally {
    await browser.close();
    await v.close();
    await tmp.cleanup();
  }
});
