/**
 * The alt-speed schedule (window, day mask, wrapping past midnight, transitions only) and the
 * watch directory (added → .added, bad → .invalid), driven by the daemon's tick with a fake
 * wall clock and FakeClock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inAltSpeedWindow, type AltSpeedTime } from '../../../src/daemon/schedule.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { FakeClock } from '../../../src/util/clock.js';
import { makeFixture } from '../client/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

const at = (day: number, hh: number, mm: number): Date => new Date(2026, 10, 1 + day, hh, mm); // 2026-11-01 is a Sunday
const win = (begin: number, end: number, days = 127): AltSpeedTime => ({
  'alt-speed-time-enabled': true,
  'alt-speed-time-begin': begin,
  'alt-speed-time-end': end,
  'alt-speed-time-day': days,
});

test('the alt-speed window: inside/outside, the day mask, a window that wraps midnight', () => {
  assert.equal(at(0, 12, 0).getDay(), 0);
  const day = win(9 * 60, 17 * 60);
  assert.equal(inAltSpeedWindow(at(1, 8, 59), day), false);
  assert.equal(inAltSpeedWindow(at(1, 9, 0), day), true);
  assert.equal(inAltSpeedWindow(at(1, 16, 59), day), true);
  assert.equal(inAltSpeedWindow(at(1, 17, 0), day), false);
  const weekdays = win(9 * 60, 17 * 60, 0b0111110);
  assert.equal(inAltSpeedWindow(at(0, 10, 0), weekdays), false, 'Sunday is off');
  assert.equal(inAltSpeedWindow(at(1, 10, 0), weekdays), true, 'Monday is on');
  const night = win(22 * 60, 6 * 60, 0b0000010); // Monday night only
  assert.equal(inAltSpeedWindow(at(1, 23, 0), night), true);
  assert.equal(inAltSpeedWindow(at(2, 5, 59), night), true, "Tuesday morning is Monday's window");
  assert.equal(inAltSpeedWindow(at(2, 23, 0), night), false);
  assert.equal(inAltSpeedWindow(at(1, 5, 0), night), false, "Monday morning is Sunday's");
});

test('the daemon follows the schedule at its transitions and adds .torrent files from the watch directory', async () => {
  const dir = await tempDir('nbt-daemon-sched-');
  const clock = new FakeClock();
  let wall = at(1, 8, 58).getTime() / 1000;
  const watch = join(dir.path, 'watch');
  await mkdir(watch);
  const daemon = await Daemon.open({
    configDir: join(dir.path, 'cfg'),
    downloadDir: join(dir.path, 'dl'),
    port: 0,
    now: () => wall,
    client: { clock, dht: false, trackers: false, pex: false, host: '127.0.0.1' },
  });
  try {
    await daemon.setSettings({
      ...win(9 * 60, 17 * 60),
      'alt-speed-down': 10,
      'alt-speed-up': 5,
      'watch-dir': watch,
      'watch-dir-enabled': true,
    });
    await daemon.tick();
    assert.equal(daemon.settings['alt-speed-enabled'], false);
    assert.equal(daemon.client.settings().download_rate_limit, 0);
    wall += 3 * 60;
    await daemon.tick();
    await new Promise((r) => setImmediate(r));
    assert.equal(daemon.settings['alt-speed-enabled'], true, 'on at 09:00');
    assert.equal(daemon.client.settings().download_rate_limit, 10_000);
    assert.equal(daemon.client.settings().upload_rate_limit, 5_000);
    // A manual toggle holds until the next transition.
    await daemon.setSettings({ 'alt-speed-enabled': false });
    wall += 60;
    await daemon.tick();
    assert.equal(daemon.settings['alt-speed-enabled'], false);
    wall = at(1, 17, 1).getTime() / 1000;
    await daemon.tick();
    wall = at(2, 9, 0).getTime() / 1000;
    await daemon.tick();
    await new Promise((r) => setImmediate(r));
    assert.equal(daemon.settings['alt-speed-enabled'], true, 'on again the next morning');

    const fx = await makeFixture(join(dir.path, 'src'), { name: 'w', files: [{ path: 'f', size: 5000 }] });
    await writeFile(join(watch, 'w.torrent'), fx.torrent);
    await writeFile(join(watch, 'bad.torrent'), 'not bencode');
    await writeFile(join(watch, 'notes.txt'), 'ignored');
    clock.advance(5_000); // the periodic tick
    for (let i = 0; i < 100 && !(await readdir(watch)).includes('w.torrent.added'); i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual((await readdir(watch)).sort(), ['bad.torrent.invalid', 'notes.txt', 'w.torrent.added']);
    assert.equal(daemon.byHash(fx.metainfo.infoHashHex)?.record.name, 'w');
  } finally {
    await daemon.close();
    await dir.cleanup();
  }
});
