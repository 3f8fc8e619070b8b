/**
 * ffprobe and ffmpeg (Debian's) seek into the middle of a WebM served while it downloads from a
 * rate-limited seed: frames at the seek position arrive long before the download ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { requirePeer } from '../helpers/real-peers.js';
import { tempDir } from '../helpers/tmp.js';
import { run, serveVideo } from '../helpers/stream-media.js';

test('ffprobe/ffmpeg: seeking to the middle of a video that is still downloading', async (t) => {
  if (!requirePeer(t, 'ffmpeg')) return;
  const tmp = await tempDir('nbt-stream-ff-');
  // ~700 KB at 30 KB/s: the whole download takes ~20 s.
  const v = await serveVideo(tmp.path, 20, 30_000);
  try {
    const out = await run('ffprobe', [
      '-v',
      'error',
      '-read_intervals',
      '12%+#3',
      '-select_streams',
      'v:0',
      '-show_entries',
      'frame=pts_time',
      '-of',
      'csv=p=0',
      v.url,
    ]);
    const times = out.trim().split('\n').map(Number);
    assert.ok(times.length >= 1, `frames: ${out}`);
    assert.ok(times[0]! >= 11 && times[0]! < 14, `first frame after seeking at ${times[0]} s`);
    assert.ok(!v.torrent.finished, 'the torrent is still incomplete');
    const still = join(tmp.path, 'still.png');
    await run('ffmpeg', ['-v', 'error', '-ss', '15', '-i', v.url, '-frames:v', '1', '-y', still]);
    assert.ok((await stat(still)).size > 1000, 'a frame decoded at 15 s');
    assert.ok(!v.torrent.finished, 'still incomplete after decoding at 15 s');
    assert.ok(v.torrent.files[0]!.progress < 0.9);
  } finally {
    await v.close();
    await tmp.cleanup();
  }
});
