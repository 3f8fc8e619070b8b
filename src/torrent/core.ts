/**
 * A Torrent's insides: the state its parts share (metainfo, `have`, the state machine's value,
 * flags, connected sessions) and the parts themselves ("links": paths, completion, choking,
 * disk, transfers, peers, web seeds, lifecycle, hashes, super-seeding, checks). Every link holds
 * this one object and reads what it needs from it; what a link asks of its siblings or of the
 * Torrent's events are methods here. One shared prototype instead of a bag of `() => this.x`
 * callbacks per link: a session of 1,000 idle torrents held ~106 such closures per torrent.
 * Each link's host type is a `Pick<>` of this class, so its dependencies stay visible and tests
 * can pass small fakes. The public Torrent (src/torrent/torrent.ts) wraps it.
 */
import type { Peer } from '../peer/index.js';
import { DisconnectReason } from '../peer/disconnect.js';
import type { Message } from '../wire/index.js';
import type { Metainfo } from '../metainfo/types.js';
import type { Storage } from '../storage/storage.js';
import type { HashPool } from '../hash/pool.js';
import { Bitfield } from '../util/bitfield.js';
import type { Clock } from '../util/clock.js';
import { RateMeter } from '../util/rate.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import { CandidateList } from './candidates.js';
import { TorrentCheck } from './check-link.js';
import { TorrentChoking } from './choke-link.js';
import { TorrentCompletion } from './completion-link.js';
import { PieceDeadlines } from './deadlines.js';
import { TorrentDisk } from './disk-link.js';
import { defaultDownloaderTuning, type DownloaderTuning } from './downloader.js';
import { TorrentHashes } from './hash-link.js';
import { TorrentLifecycle } from './lifecycle-link.js';
import { TorrentPaths } from './paths-link.js';
import type { PeerLink } from './peer-link.js';
import { TorrentPeers } from './peers-link.js';
import type { PeerSession } from './session.js';
import { SuperSeedLink } from './super-seed-link.js';
import type { TorrentHost, TorrentInit } from './torrent-init.js';
import { TorrentTransfers } from './transfers-link.js';
import type { TorrentEvents, TorrentState } from './types.js';
import { WebSeedSet } from './web-seeds.js';

/** A connected wire peer's session (web seeds have sessions of their own kind). */
export type WireSession = PeerSession<Peer<unknown>>;

const NO_SESSIONS: ReadonlyMap<PeerLink, WireSession> = new Map();

export class TorrentCore {
  /** The public Torrent: links emit its events. */
  readonly events: TypedEmitter<TorrentEvents>;
  readonly host: TorrentHost;
  readonly clock: Clock;
  readonly hashPool: HashPool;
  /** Replaced once when a magnet's metadata arrives (Torrent.installMetainfo). */
  metainfo: Metainfo;
  /** Verified pieces that are on disk. */
  have: Bitfield;
  /** The state machine's value; changed through setState only. */
  state: TorrentState = 'stopped';
  /** The user paused it (the state is 'paused' only while it would otherwise transfer). */
  paused: boolean;
  /** A magnet whose metadata has not arrived: `metainfo` is a placeholder. */
  awaitingMetadata: boolean;
  /** Removed from the session for good. */
  removed = false;
  /** Pieces are picked in order (streaming) rather than rarest first. */
  sequential: boolean;
  /** The last error (state 'error'). */
  error: Error | undefined;
  private sessions: Map<PeerLink, WireSession> | undefined;
  /**
   * Keyed by link, so the download machinery finds a session from the PeerLink it holds. Made
   * by the first peer and dropped with the last: an idle torrent holds no Map (~0.2 KB).
   */
  get peerSessions(): ReadonlyMap<PeerLink, WireSession> {
    return this.sessions ?? NO_SESSIONS;
  }
  addPeerSession(peer: PeerLink, s: WireSession): void {
    (this.sessions ??= new Map()).set(peer, s);
  }
  /** False when `peer` had no session. */
  removePeerSession(peer: PeerLink): boolean {
    const removed = this.sessions?.delete(peer) ?? false;
    if (removed && this.sessions!.size === 0) this.sessions = undefined;
    return removed;
  }
  /** Addresses to dial. */
  readonly candidates = new CandidateList();
  private bannedHosts: Set<string> | undefined;
  /** Hosts banned for corrupt data (made on first use: most torrents never ban anyone). */
  get banned(): Set<string> {
    return (this.bannedHosts ??= new Set());
  }
  isBanned(host: string): boolean {
    return this.bannedHosts?.has(host) ?? false;
  }
  readonly tuning: DownloaderTuning;
  /** Stream readers' time-critical windows, served first by the picker. */
  readonly deadlines: PieceDeadlines;
  /** Payload rate over verified pieces. */
  readonly downMeter: RateMeter;

  /** BEP 16 super-seeding (src/torrent/super-seed-link.ts). */
  readonly superSeed: SuperSeedLink;
  /** Data checks: start-up, resume data's spot check, again after changes (check-link.ts). */
  readonly checks: TorrentCheck;
  /** Save path, renamed files, the storage layout (paths-link.ts). */
  readonly paths: TorrentPaths;
  /** File priorities, wanted pieces missing, 'finished' (completion-link.ts). */
  readonly completion: TorrentCompletion;
  /** The tick and the choking rounds (choke-link.ts). */
  readonly choking: TorrentChoking;
  /** Verification, read cache, disk watch (disk-link.ts). */
  readonly disk: TorrentDisk;
  /** Downloader, uploader and read cache, made anew with each metainfo (transfers-link.ts). */
  readonly transfers: TorrentTransfers;
  /** Peers joining and leaving, bans, payload sent (peers-link.ts). */
  readonly peerSet: TorrentPeers;
  /** Web seeds: sessions of their own, beside the wire peers (web-seeds.ts). */
  readonly seeds: WebSeedSet;
  /** BEP 52 hash requests, answers and rejects of our peers (hash-link.ts). */
  readonly hashes: TorrentHashes;
  /** State transitions' bodies: pause, resume, stop, pieces had, disk errors (lifecycle-link.ts). */
  readonly life: TorrentLifecycle;

  private readonly makeStorage: () => Storage;
  private storageInstance: Storage | undefined;

  constructor(events: TypedEmitter<TorrentEvents>, init: TorrentInit) {
    const m = init.metainfo;
    this.events = events;
    this.host = init.host;
    this.clock = init.host.clock;
    this.hashPool = init.host.hashPool;
    this.metainfo = m;
    this.have = new Bitfield(m.pieceCount);
    this.makeStorage = init.storage;
    this.paused = init.paused ?? false;
    this.sequential = init.sequential ?? false;
    this.awaitingMetadata = init.awaitingMetadata ?? false;
    // A complete tuning is kept as given (the session shares one among its torrents).
    const t = init.tuning;
    this.tuning =
      t &&
      (Object.keys(defaultDownloaderTuning) as (keyof DownloaderTuning)[]).every((k) => t[k] !== undefined)
        ? (t as DownloaderTuning)
        : { ...defaultDownloaderTuning, ...t };
    this.deadlines = new PieceDeadlines(this.clock, this);
    this.downMeter = new RateMeter(this.clock);
    // Links only keep `this` here: none reads a sibling before all are made.
    this.superSeed = new SuperSeedLink(this);
    this.checks = new TorrentCheck(this, init);
    this.paths = new TorrentPaths(this, init.savePath, init.renames);
    this.completion = new TorrentCompletion(this, init.filePriorities);
    this.choking = new TorrentChoking(this, init.unchokeSlots ?? 8, init.choke);
    this.disk = new TorrentDisk(this, init.readCacheBytes ?? 16 * 1024 * 1024);
    this.transfers = new TorrentTransfers(this);
    this.peerSet = new TorrentPeers(this);
    this.seeds = new WebSeedSet(this, init.host.webSeedFetcher, init.host.webSeedTuning);
    this.hashes = new TorrentHashes(this);
    this.life = new TorrentLifecycle(this);
    for (const url of [...m.urlList, ...(init.webSeeds ?? [])]) this.seeds.add(url);
    for (const url of m.httpSeeds) this.seeds.add(url, 'httpseed');
    this.transfers.renewUpload();
    this.completion.recount();
    if (init.superSeeding) this.superSeed.set(true);
  }

  // ---- derived state ---------------------------------------------------------------------------

  /** False for a magnet link until its metadata arrived. */
  get hasMetadata(): boolean {
    return !this.awaitingMetadata;
  }

  /** Peers may exchange data (not checking, paused, stopped or in error). */
  get transferring(): boolean {
    return this.state === 'downloading' || this.state === 'seeding';
  }

  /** Every piece is verified and on disk. */
  get complete(): boolean {
    // Pieces trusted from resume data are complete only once their spot check passed: a
    // download that exits when complete must not exit on resume data that lies.
    return !this.awaitingMetadata && this.have.complete && !this.checks.spotPending;
  }

  /** Peers or web seeds are connected (the tick has work). */
  get hasPeers(): boolean {
    return this.peerSessions.size > 0 || this.seeds.size > 0;
  }

  /** The file priorities' piece priorities for the picker (undefined: all normal). */
  pickerPriorities(): Uint8Array | undefined {
    return this.completion.pickerPriorities();
  }

  // ---- storage ---------------------------------------------------------------------------------

  storage(): Storage {
    this.storageInstance ??= this.makeStorage();
    return this.storageInstance;
  }

  async closeStorage(): Promise<void> {
    const s = this.storageInstance;
    this.storageInstance = undefined;
    if (s) await s.close().catch(() => undefined);
  }

  // ---- what links ask of each other ------------------------------------------------------------

  /** There are addresses to dial (or a free slot): the client should dial. */
  connectSoon(): void {
    this.host.connectSoon();
  }

  setState(next: TorrentState): void {
    const prev = this.state;
    if (prev === next) return;
    this.state = next;
    this.seeds.sync();
    this.superSeed.stateChanged(next);
    this.events.emit('state', next, prev);
  }

  /** A wire peer's message, to the links that handle it (registered first, in peers-link.ts). */
  onMessage(s: WireSession, m: Message): void {
    switch (m.type) {
      case 'interested':
        this.choking.interested(s);
        return;
      case 'notInterested':
        this.choking.notInterested(s);
        return;
      case 'request':
        this.choking.requested(s);
        this.transfers.uploader.onMessage(s, m);
        return;
      case 'cancel':
        this.transfers.uploader.onMessage(s, m);
        return;
      case 'hashRequest':
      case 'hashes':
      case 'hashReject':
        this.hashes.onMessage(s, m);
        return;
      default:
        break;
    }
    if (this.state === 'checking' || this.state === 'stopped' || this.state === 'metadata') return;
    this.transfers.downloader.onMessage(s, m);
    if (m.type === 'bitfield' || m.type === 'haveAll' || m.type === 'have') {
      this.superSeed.onMessage(s, m);
      if (this.complete && s.seed) s.peer.close(DisconnectReason.SEED);
      else this.hashes.request(s);
    }
  }

  /** We choked this peer: its queued uploads go. */
  peerChoked(s: PeerSession): void {
    this.transfers.uploader.choked(s);
  }

  /** The rest of each choking tick: downloader timeouts, upload pumps, hash request retries. */
  tick(): void {
    this.transfers.downloader.tick();
    for (const s of this.peerSessions.values()) if (s.uploadQueue.length > 0) this.transfers.uploader.pump(s);
    this.hashes.requestAll(); // requests that timed out go to other peers
  }

  /** A stream reader's window changed: pipelines top up with the critical pieces. */
  criticalChanged(): void {
    if (this.transferring) this.transfers.downloader.criticalChanged();
  }

  /** A piece failed its hash check; `senders` sent its blocks. */
  pieceHashFailed(piece: number, senders: string[]): void {
    this.events.emit('piece-hash-fail', piece, senders);
    this.seeds.pieceFailed(piece, senders);
  }

  /** The data check found these pieces on disk: they are `have` now, with a fresh downloader. */
  checkFound(found: Bitfield): void {
    this.have.clearAll();
    for (const i of found.indices()) this.have.set(i);
    this.completion.recount();
    this.completion.rearm();
    this.transfers.renewDownload();
  }

  /** The data check is done: timers and transfers start, peers that waited join. */
  checkDone(): void {
    this.choking.start();
    this.life.enterTransferState();
    if (this.peerSessions.size > 0) this.peerSet.rejoin();
    this.connectSoon();
  }
}
