/**
 * The package's public face: the root export is the user API (no engine internals), and the
 * protocol layers the docs import by subpath (net-bittorrent/peer, …) resolve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as root from 'net-bittorrent';

const INTERNALS = [
  'Downloader',
  'defaultDownloaderTuning',
  'Uploader',
  'PeerSession',
  'PieceAssembly',
  'PieceBufferPool',
  'BlameLedger',
  'PiecePicker',
  'Choker',
  'CandidateList',
  'ReadCache',
  'PieceReadCache',
  'FilePool',
  'TrackerLink',
  'MetadataExchange',
  'PexExchange',
];

const USER_API = [
  'Client',
  'Torrent',
  'Peer',
  'DisconnectReason',
  'NbtError',
  'SettingsError',
  'settingDefinitions',
  'defaultSettings',
  'alertCategories',
  'createTorrent',
  'parseTorrent',
  'parseMagnet',
  'FileStorage',
  'MemoryStorage',
  'TrackerServer',
  'HttpTrackerClient',
  'UdpTrackerClient',
  'DhtNode',
  'HashPool',
  'sharedHashPool',
  'formatBytes',
  'formatRate',
  'parseAddress',
  'FakeClock',
];

test('the package root exports the user API and no engine internals', () => {
  const names = new Set(Object.keys(root));
  for (const n of USER_API) assert.ok(names.has(n), `missing ${n}`);
  for (const n of INTERNALS) assert.ok(!names.has(n), `engine internal ${n} is exported`);
});

test('the protocol layers resolve by subpath', async () => {
  for (const layer of [
    'bencode',
    'metainfo',
    'wire',
    'peer',
    'mse',
    'tracker',
    'dht',
    'lsd',
    'extensions',
    'storage',
    'hash',
  ]) {
    const m = (await import(`net-bittorrent/${layer}`)) as Record<string, unknown>;
    assert.ok(Object.keys(m).length > 0, layer);
  }
  const peer = (await import('net-bittorrent/peer')) as Record<string, unknown>;
  assert.equal(peer.Peer, root.Peer);
});
