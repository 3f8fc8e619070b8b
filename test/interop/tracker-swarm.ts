/**
 * Shared parts of the tracker swarm tests: our clients on loopback that find peers only through
 * trackers, with a record of every tracker event they report.
 */
import { readFile } from 'node:fs/promises';
import { Client } from '../../src/client/index.js';
import type { ClientOptions } from '../../src/client/index.js';
import type { Torrent } from '../../src/torrent/index.js';
import type { AnnounceInfo, TrackerErrorInfo } from '../../src/tracker/index.js';
import { HttpTrackerClient } from '../../src/tracker/index.js';
import type { Defer } from '../helpers/cleanup.js';

export interface Tracked {
  client: Client;
  torrent: Torrent;
  announces: AnnounceInfo[];
  errors: TrackerErrorInfo[];
  /** Sources of connected peers' addresses ('tracker <url>', 'incoming', …). */
  peerSources: string[];
}

/** A client on 127.0.0.1 with the torrent added; every tracker event is recorded. */
export async function trackedClient(
  defer: Defer,
  torrentFile: string | Buffer,
  savePath: string,
  o: ClientOptions = {},
): Promise<Tracked> {
  const client = new Client({
    host: '127.0.0.1',
    limits: { maxPerHost: 16 },
    trackers: { stopTimeoutMs: 2_000, requestTimeoutMs: 5_000 },
    // Peers must meet through the tracker alone: with PEX a leecher may first hear of another
    // one from a peer, and the test checks where every dialed address came from.
    pex: false,
    ...o,
  });
  defer(() => client.close());
  await client.listen(0);
  const announces: AnnounceInfo[] = [];
  const errors: TrackerErrorInfo[] = [];
  const peerSources: string[] = [];
  client.on('tracker-announce', (_t, info) => announces.push(info));
  client.on('tracker-error', (_t, info) => errors.push(info));
  client.on('peer-connect', (_t, p) =>
    peerSources.push(`${p.source?.kind ?? 'incoming'} ${p.source?.url ?? ''}`),
  );
  const torrent = await client.addTorrent(
    typeof torrentFile === 'string' ? await readFile(torrentFile) : torrentFile,
    { savePath },
  );
  return { client, torrent, announces, errors, peerSources };
}

/** Resolves when the torrent's download is complete; rejects after `ms`. */
export function done(t: Torrent, ms: number): Promise<void> {
  if (t.complete && t.state === 'seeding') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${t.name}: not complete in ${ms} ms (${JSON.stringify(t.stats().pieces)})`)),
      ms,
    );
    t.once('done', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Polls until `pred` holds; rejects after `ms`. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** opentracker reads its whitelist after it starts listening: wait until the hash is accepted. */
export async function waitAuthorised(url: string, infoHash: Buffer, ms = 10_000): Promise<void> {
  const http = new HttpTrackerClient();
  const request = {
    infoHash,
    peerId: Buffer.alloc(20, 0x61),
    port: 1,
    uploaded: 0,
    downloaded: 0,
    left: 0,
    event: 'stopped' as const,
    numwant: 0,
    key: 1,
  };
  await until(
    () =>
      http.announce(url, request).then(
        () => true,
        () => false,
      ),
    ms,
    'opentracker to accept the info-hash',
  );
}

export async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([readFile(a), readFile(b)]);
  return x.equals(y);
}
