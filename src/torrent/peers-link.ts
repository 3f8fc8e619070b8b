/**
 * A Torrent's connected wire peers: a peer joining (its session, its address marked busy, the
 * download, upload and super-seed machinery told) and leaving (its address released for a
 * retry unless final), peers that joined before the metadata rejoining the new downloader,
 * piece layers arriving, bans, and the payload sent to peers since gone. It observes its peers
 * (PeerObserver): messages go on to the core's dispatch (src/torrent/core.ts).
 */
import type { Peer } from '../peer/index.js';
import type { PeerEventRecord, PeerObserver } from '../peer/types.js';
import type { Message } from '../wire/index.js';
import { DisconnectReason, type DisconnectInfo } from '../peer/disconnect.js';
import { formatAddress } from '../util/compact.js';
import { NO_BLOCKS, PeerSession } from './session.js';
import { DEFAULT_PRIORITY } from './picker-types.js';
import { listenPortOf, releaseAddress } from './peer-addresses.js';
import type { TorrentCore, WireSession } from './core.js';

export type PeersHost = Pick<
  TorrentCore,
  | 'clock'
  | 'candidates'
  | 'banned'
  | 'isBanned'
  | 'peerSessions'
  | 'addPeerSession'
  | 'removePeerSession'
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

/** Two observers of one peer, in order. */
class ObserverPair implements PeerObserver<unknown> {
  constructor(
    readonly outer: PeerObserver<unknown>,
    private readonly inner: PeerObserver<unknown>,
  ) {}

  peerEvent(peer: Peer<unknown>, e: PeerEventRecord): void {
    this.outer.peerEvent(peer, e);
    this.inner.peerEvent(peer, e);
  }

  peerMessage(peer: Peer<unknown>, m: Message): void {
    this.outer.peerMessage(peer, m);
    this.inner.peerMessage(peer, m);
  }
}

export class TorrentPeers implements PeerObserver<unknown> {
  /** Payload bytes sent to peers that have since disconnected (this session). */
  private uploadedByGone = 0;

  constructor(private readonly host: PeersHost) {}

  /**
   * A peer finished its handshake: its session joins. The core's message dispatch sees each
   * message before any listener, as it always did.
   */
  attach(peer: Peer<unknown>): void {
    const { host } = this;
    const s = new PeerSession(peer, formatAddress({ host: peer.host, port: peer.port }), host.clock.now());
    host.addPeerSession(peer, s);
    this.markConnected(peer);
    host.transfers.downloader.peerAdded(s);
    host.superSeed.attached(s);
    // Its events come to peerEvent, after the session's observer when there is one (the pair is
    // made once per session and torrent): no listeners, so no closures, per peer.
    const outer = peer.observer;
    peer.observer = outer ? this.pairWith(outer) : this;
    host.choking.resumeTick();
    host.events.emit('peer-connect', peer);
    // Someone interested while we have a free slot should not wait for the next choke round.
    if (host.transferring) host.transfers.downloader.updateInterest(s);
  }

  peerEvent(peer: Peer<unknown>, e: PeerEventRecord): void {
    const { host } = this;
    const s = host.peerSessions.get(peer);
    if (!s) return;
    switch (e.event) {
      case 'drain':
        return host.transfers.uploader.pump(s);
      case 'extended-handshake':
        // An incoming peer's listen port may be known only now.
        this.markConnected(peer);
        return host.transfers.downloader.fill(s);
      case 'close':
        return this.detach(s, e.args[0]);
    }
  }

  peerMessage(peer: Peer<unknown>, m: Message): void {
    const s = this.host.peerSessions.get(peer);
    if (s) this.host.onMessage(s, m);
  }

  /** The session's observer, then ours (one pair per session observer). */
  private pairWith(outer: PeerObserver<unknown>): PeerObserver<unknown> {
    if (this.paired?.outer === outer) return this.paired;
    return (this.paired = new ObserverPair(outer, this));
  }

  private paired: ObserverPair | undefined;

  private detach(s: WireSession, info: DisconnectInfo): void {
    const { host } = this;
    if (!host.removePeerSession(s.peer)) return;
    this.uploadedByGone += s.peer.uploaded;
    if (host.peerSessions.size === 0 && host.seeds.size === 0) host.choking.pauseTick();
    host.choking.peerGone(s.peer);
    host.transfers.downloader.peerRemoved(s);
    host.hashes.peerGone(s);
    host.superSeed.detached(s);
    s.uploadQueue = NO_BLOCKS;
    const mayRetry = !host.removed && !host.isBanned(s.peer.host);
    releaseAddress(host.candidates, s.peer, s.busyPort, info, () => host.clock.now(), mayRetry);
    host.events.emit('peer-disconnect', s.peer, info);
    if (!host.complete) host.connectSoon();
  }

  /**
   * Marks a joined peer's listen address connected (not to be dialled; again after a twin that
   * closed released it) and remembers it for its close. Nothing while the address is unknown
   * (an incoming peer before its extended handshake names a port); once marked, the address
   * stays the one first marked, so a peer renaming its port cannot leave entries behind.
   */
  markConnected(peer: Peer<unknown>): void {
    const s = this.host.peerSessions.get(peer);
    const port = s?.busyPort ?? listenPortOf(peer);
    if (!s || port === undefined) return;
    s.busyPort = port;
    this.host.candidates.markBusy({ host: peer.host, port });
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
    if (!host.isBanned(address)) {
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
