/**
 * A Torrent's connected wire peers: a peer joining (its session, its address marked busy, the
 * download, upload and super-seed machinery told) and leaving (its address released for a
 * retry unless final), peers that joined before the metadata rejoining the new downloader,
 * piece layers arriving, bans, and the payload sent to peers since gone. Each peer's messages
 * go straight to the core's dispatch (src/torrent/core.ts), not through here.
 */
import type { Peer } from '../peer/index.js';
import type { Message } from '../wire/index.js';
import { DisconnectReason, type DisconnectInfo } from '../peer/disconnect.js';
import { formatAddress } from '../util/compact.js';
import { PeerSession } from './session.js';
import { DEFAULT_PRIORITY } from './picker-types.js';
import { releaseAddress } from './peer-addresses.js';
import type { TorrentCore, WireSession } from './core.js';

export type PeersHost = Pick<
  TorrentCore,
  | 'clock'
  | 'candidates'
  | 'banned'
  | 'peerSessions'
  | 'transfers'
  | 'choking'
  | 'superSeed'
  | 'metainfo'
  | 'have'
  | 'hashes'
  | 'seeds'
  | 'pickerPriorities'
  | 'transferring'
  | 'removed'
  | 'complete'
  | 'connectSoon'
  | 'events'
  | 'onMessage'
>;

export class TorrentPeers {
  /** Payload bytes sent to peers that have since disconnected (this session). */
  private uploadedByGone = 0;

  constructor(private readonly host: PeersHost) {}

  /**
   * A peer finished its handshake: its session joins. The core's message dispatch is its first
   * listener, as it always was.
   */
  attach(peer: Peer<unknown>): void {
    const { host } = this;
    const s = new PeerSession(peer, formatAddress({ host: peer.host, port: peer.port }), host.clock.now());
    host.peerSessions.set(peer, s);
    host.candidates.markBusy({ host: peer.host, port: peer.listenPort ?? peer.port });
    host.transfers.downloader.peerAdded(s);
    host.superSeed.attached(s);
    peer.on('message', (m: Message) => host.onMessage(s, m));
    peer.on('drain', () => host.transfers.uploader.pump(s));
    peer.on('extended-handshake', () => host.transfers.downloader.fill(s));
    // `on`: a peer emits 'close' exactly once (a once wrapper would hold ~0.2 KB per peer).
    peer.on('close', (info: DisconnectInfo) => this.detach(s, info));
    host.choking.resumeTick();
    host.events.emit('peer-connect', peer);
    // Someone interested while we have a free slot should not wait for the next choke round.
    if (host.transferring) host.transfers.downloader.updateInterest(s);
  }

  private detach(s: WireSession, info: DisconnectInfo): void {
    const { host } = this;
    if (!host.peerSessions.delete(s.peer)) return;
    this.uploadedByGone += s.peer.uploaded;
    if (host.peerSessions.size === 0 && host.seeds.size === 0) host.choking.pauseTick();
    host.choking.peerGone(s.peer);
    host.transfers.downloader.peerRemoved(s);
    host.hashes.peerGone(s);
    host.superSeed.detached(s);
    s.uploadQueue = [];
    const mayRetry = !host.removed && !host.banned.has(s.peer.host);
    releaseAddress(host.candidates, s.peer, info, () => host.clock.now(), mayRetry);
    host.events.emit('peer-disconnect', s.peer, info);
    if (!host.complete) host.connectSoon();
  }

  /** Peers that joined while the metadata was unknown join the new downloader after the check. */
  rejoin(): void {
    const { host } = this;
    const d = host.transfers.downloader;
    for (const s of host.peerSessions.values()) {
      d.peerAdded(s);
      for (const i of host.have.indices()) s.peer.have(i);
      if (s.peer.bitfield.size > 0 && !s.peer.bitfield.empty)
        d.onMessage(s, { type: 'bitfield', bits: s.peer.bitfield.bytes });
      d.updateInterest(s);
    }
    host.hashes.requestAll();
    host.choking.run(true);
  }

  /** Piece layers arrived: their pieces are verifiable now, so the picker may request them. */
  layersArrived(): void {
    const { host } = this;
    const d = host.transfers.downloader;
    const map = host.pickerPriorities() ?? new Uint8Array(host.metainfo.pieceCount).fill(DEFAULT_PRIORITY);
    d.picker.setPiecePriorities(map);
    for (const s of host.peerSessions.values()) {
      d.updateInterest(s);
      d.fill(s);
    }
    host.events.emit('piece-layers');
  }

  /** Sent corrupt data: banned, its address dropped, its connections (wire and web seed) closed. */
  ban(address: string): void {
    const { host } = this;
    if (!host.banned.has(address)) {
      host.banned.add(address);
      host.candidates.removeHost(address);
      host.events.emit('banned', address);
    }
    host.seeds.banned(address);
    for (const s of [...host.peerSessions.values()])
      if (s.peer.host === address) s.peer.close(DisconnectReason.CORRUPT_DATA);
  }

  /**
   * Payload bytes that went out this session: counted as each block enters the peer's encoder,
   * after the upload rate limit let it through (the uploader hands blocks over earlier).
   */
  uploadedPayload(): number {
    let n = this.uploadedByGone;
    for (const s of this.host.peerSessions.values()) n += s.peer.uploaded;
    return n;
  }
}
