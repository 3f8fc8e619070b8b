/** qBittorrent's peer flags from a peer's choke/interest state, direction, encryption, transport and source. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerFlags } from '../../../src/rpc/qbittorrent/peers.js';

type Peer = Parameters<typeof peerFlags>[0];

function peer(o: Partial<Record<string, unknown>>): Peer {
  return {
    amInterested: false,
    amChoking: true,
    peerInterested: false,
    peerChoking: true,
    incoming: false,
    encryption: 'none',
    transport: 'tcp',
    source: { kind: 'tracker' },
    ...o,
  } as unknown as Peer;
}

test('peer flags follow qBittorrent: D/d, U/u, K, ?, then I E P and the source', () => {
  assert.deepEqual(peerFlags(peer({})), ['', '']);
  assert.equal(peerFlags(peer({ amInterested: true, peerChoking: false }))[0], 'D');
  assert.equal(peerFlags(peer({ amInterested: true }))[0], 'd');
  assert.equal(peerFlags(peer({ peerInterested: true, amChoking: false }))[0], 'U');
  assert.equal(peerFlags(peer({ peerInterested: true }))[0], 'u');
  assert.equal(peerFlags(peer({ peerChoking: false }))[0], 'K');
  assert.equal(peerFlags(peer({ amChoking: false }))[0], '?');
  const [all, legend] = peerFlags(
    peer({
      amInterested: true,
      peerChoking: false,
      peerInterested: true,
      amChoking: false,
      incoming: true,
      encryption: 'rc4',
      transport: 'utp',
      source: { kind: 'pex' },
    }),
  );
  assert.equal(all, 'D U I E P X');
  assert.equal(legend.split('\n').length, 6);
  assert.match(legend, /^D = downloading$/m);
  assert.equal(peerFlags(peer({ source: { kind: 'dht' } }))[0], 'H');
  assert.equal(peerFlags(peer({ source: { kind: 'lsd' } }))[0], 'L');
});
