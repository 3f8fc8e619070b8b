/**
 * Field parity with a real transmission-daemon (3.00): the same torrent-get and session-get
 * requests return the same keys with the same JSON types (nested objects and lists included).
 * Fields Transmission 3.00 does not know (it leaves them out) are not compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon/daemon.js';
import { TransmissionRpcServer } from '../../src/rpc/transmission/server.js';
import { torrentFieldNames } from '../../src/rpc/transmission/torrent-fields.js';
import { makeFixture } from '../unit/client/fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { RpcClient } from '../helpers/rpc-client.js';
import { TransmissionPeer } from '../helpers/transmission.js';

/** Sonarr's (and Radarr's) torrent-get fields. */
export const SONARR_FIELDS = [
  'id',
  'hashString',
  'name',
  'downloadDir',
  'totalSize',
  'leftUntilDone',
  'isFinished',
  'eta',
  'status',
  'secondsDownloading',
  'secondsSeeding',
  'errorString',
  'uploadedEver',
  'downloadedEver',
  'seedRatioLimit',
  'seedRatioMode',
  'seedIdleLimit',
  'seedIdleMode',
  'fileCount',
  'file-count',
  'labels',
];

/**
 * Transmission 4.0's fields, which 3.00 answers with a placeholder 0 because it does not know
 * them; ours have 4.0's types.
 */
const NEWER_THAN_3_00 = new Set(['group', 'primary-mime-type', 'sequentialDownload', 'trackerList']);

/** A value's JSON shape: its type, an object's keys' shapes, a list's first element's shape. */
function shape(v: unknown): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as object)
        .sort()
        .map(([k, x]) => [k, shape(x)]),
    );
  return typeof v;
}

test(
  'torrent-get and session-get: the keys and JSON types of a real transmission-daemon',
  { timeout: 60_000 },
  async () => {
    const dir = await tempDir('nbt-daemon-parity-');
    const fx = await makeFixture(dir.path, {
      files: [
        { path: 'a.bin', size: 200_000 },
        { path: 'b.bin', size: 10_000 },
      ],
    });
    const daemon = await Daemon.open({
      configDir: join(dir.path, 'cfg'),
      downloadDir: fx.dir,
      port: 0,
      client: { dht: false, trackers: false, pex: false, host: '127.0.0.1' },
    });
    const server = new TransmissionRpcServer(daemon, { port: 0 });
    const ours = new RpcClient(await server.listen());
    const real = await TransmissionPeer.start();
    try {
      const theirs = new RpcClient(real.rpcPort);
      const add = { metainfo: fx.torrent.toString('base64'), 'download-dir': fx.dir };
      await ours.ok('torrent-add', add);
      await theirs.ok('torrent-add', add);
      const seeding = async (c: RpcClient): Promise<void> => {
        for (let i = 0; i < 200; i++) {
          const t = (
            (await c.ok('torrent-get', { fields: ['status'] }))['torrents'] as { status: number }[]
          )[0];
          if (t?.status === 6) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('not seeding');
      };
      await seeding(ours);
      await seeding(theirs);

      const fields = [...new Set([...SONARR_FIELDS, ...torrentFieldNames])];
      const a = ((await ours.ok('torrent-get', { fields }))['torrents'] as Record<string, unknown>[])[0]!;
      const b = ((await theirs.ok('torrent-get', { fields }))['torrents'] as Record<string, unknown>[])[0]!;
      const compared = Object.keys(b).filter((k) => !NEWER_THAN_3_00.has(k));
      assert.ok(compared.length >= 60, `transmission answered ${compared.length} fields`);
      const missing = compared.filter((k) => !(k in a));
      assert.deepEqual(missing, [], 'fields transmission has and we lack');
      const differ = compared.filter((k) => JSON.stringify(shape(a[k])) !== JSON.stringify(shape(b[k])));
      assert.deepEqual(
        differ.map((k) => [k, shape(a[k]), shape(b[k])]),
        [],
        'fields of another JSON type',
      );
      // Same values where they are facts about the torrent.
      for (const k of [
        'hashString',
        'name',
        'totalSize',
        'leftUntilDone',
        'pieceCount',
        'pieceSize',
        'status',
        'percentDone',
        'sizeWhenDone',
        'files',
        'wanted',
        'priorities',
        'isPrivate',
        'downloadDir',
      ])
        assert.deepEqual(a[k], b[k], k);

      const sa = await ours.ok('session-get');
      const sb = await theirs.ok('session-get');
      const sessionMissing = Object.keys(sb).filter((k) => !(k in sa));
      assert.deepEqual(sessionMissing, [], 'session keys transmission has and we lack');
      const sessionDiffer = Object.keys(sb).filter(
        (k) => JSON.stringify(shape(sa[k])) !== JSON.stringify(shape(sb[k])),
      );
      assert.deepEqual(
        sessionDiffer.map((k) => [k, shape(sa[k]), shape(sb[k])]),
        [],
      );

      const stA = await ours.ok('session-stats');
      const stB = await theirs.ok('session-stats');
      assert.deepEqual(shape(stA), shape(stB));
    } finally {
      await server.close();
      await daemon.close();
      await real.kill();
      await dir.cleanup();
    }
  },
);
