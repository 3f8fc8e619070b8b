import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '../../../src/bencode/index.js';
import { sha1 } from '../../../src/util/sha1.js';
import { trackerCommand } from '../../../src/cli/commands/tracker.js';
import { scrapeCommand } from '../../../src/cli/commands/scrape.js';
import { HttpTrackerClient } from '../../../src/tracker/http-client.js';
import type { CliIO } from '../../../src/cli/types.js';
import { tempDir } from '../../helpers/tmp.js';

function io(signal: AbortSignal): CliIO & { out: string[] } {
  const out: string[] = [];
  return {
    out,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => out.push(s) },
    verbose: false,
    signal,
    version: 'test',
  };
}

test('nbt tracker serves until aborted; nbt scrape reports its counts per tracker', async (t) => {
  const tmp = await tempDir();
  t.after(() => tmp.cleanup());
  const info = { length: 1, name: 'x', 'piece length': 16384, pieces: sha1(Buffer.from('x')) };
  const infoHash = sha1(encode(info));
  const stop = new AbortController();
  const trackerIo = io(stop.signal);
  const running = trackerCommand.run(
    ['--port', '0', '--host', '127.0.0.1', '--allow', infoHash.toString('hex'), '--interval', '60', '--json'],
    trackerIo,
  );
  try {
    while (trackerIo.out.length === 0) await new Promise((r) => setTimeout(r, 10));
    const listening = JSON.parse(trackerIo.out[0]!) as { http: string; udp: string; open: boolean };
    assert.equal(listening.open, false);
    const announce = (peer: number, left: number) =>
      new HttpTrackerClient().announce(listening.http, {
        infoHash,
        peerId: Buffer.alloc(20, peer),
        port: 7000 + peer,
        uploaded: 0,
        downloaded: 0,
        left,
        event: 'started',
        numwant: 5,
        key: peer,
      });
    await announce(1, 0);
    await announce(2, 1);
    const torrent = join(tmp.path, 'x.torrent');
    await writeFile(
      torrent,
      encode({
        announce: listening.http,
        'announce-list': [[listening.http], [listening.udp], ['wss://nope']],
        info,
      }),
    );
    const scrapeIo = io(new AbortController().signal);
    assert.equal(await scrapeCommand.run([torrent, '--json', '--timeout', '5'], scrapeIo), 0);
    const doc = JSON.parse(scrapeIo.out.join('')) as {
      infoHash: string;
      trackers: Record<string, unknown>[];
    };
    assert.equal(doc.infoHash, infoHash.toString('hex'));
    assert.deepEqual(doc.trackers, [
      { url: listening.http, tier: 0, complete: 1, incomplete: 1, downloaded: 0 },
      { url: listening.udp, tier: 1, complete: 1, incomplete: 1, downloaded: 0 },
      { url: 'wss://nope', tier: 2, error: 'unsupported tracker URL scheme' },
    ]);
    const text = io(new AbortController().signal);
    assert.equal(await scrapeCommand.run([torrent], text), 0);
    assert.match(text.out.join(''), /\s+1\s+1\s+0 {2}http:\/\/127\.0\.0\.1:\d+\/announce\n/);
  } finally {
    stop.abort();
    assert.equal(await running, 0);
  }
  assert.match(trackerIo.out.at(-1)!, /"event":"stopped"/);
  await assert.rejects(trackerCommand.run(['--allow', 'xyz'], io(stop.signal)), { code: 'CLI_USAGE' });
});
