import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientNameFromPeerId } from '../../../src/peer/index.js';

const id = (s: string): Buffer =>
  Buffer.concat([Buffer.from(s, 'latin1'), Buffer.alloc(20 - s.length, 0x41)]);

test('Azureus-style, Shadow-style and one-off peer ids', () => {
  const cases: [string, string][] = [
    ['-LT2080-', 'libtorrent 2.0.8'],
    ['-LT1100-', 'libtorrent 1.1.0'],
    ['-lt0D60-', 'libtorrent (rakshasa) 0.13.6'],
    ['-TR3000-', 'Transmission 3.00'],
    ['-TR294Z-', 'Transmission 2.94+'],
    ['-TR4060-', 'Transmission 4.0.6'],
    ['-qB4520-', 'qBittorrent 4.5.2'],
    ['-UT355W-', 'µTorrent 3.5.5'],
    ['-DE13F0-', 'Deluge 1.3.15'],
    ['-AZ5750-', 'Vuze 5.7.5.0'],
    ['-BI3600-', 'BiglyBT 3.6.0.0'],
    ['-NB0100-', 'net-bittorrent 0.1.0'],
    ['-WW0105-', 'WebTorrent 0.1.0.5'],
    ['A2-1-36-0-', 'aria2 1.36.0'],
    ['M7-10-3--', 'BitTorrent (Mainline) 7.10.3'],
    ['S58B-----', 'Shadow 5.8.11'],
    ['T03I--', 'BitTornado 0.3.18'],
    ['NB0050S-', 'Net::BitTorrent 0.050'],
    ['-ZZ1234-', 'unknown ZZ 1234'],
  ];
  for (const [prefix, name] of cases) assert.equal(clientNameFromPeerId(id(prefix)), name, prefix);
  assert.equal(
    clientNameFromPeerId(Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])),
    'unknown ........',
  );
  assert.equal(clientNameFromPeerId(undefined), '');
});
