/**
 * One torrent in a session: its state machine (checking → downloading ⇄ seeding, paused,
 * stopped, error), its connected peers and candidate addresses, and the glue between the
 * download side (Downloader), the upload side (Uploader), the Choker and storage. Connections
 * are made and limited by the Client; a Torrent receives peers that completed their handshake.
 */
import type { Peer } from '../peer/index.js';
import { DisconnectReason } from '../peer/disconnect.js';
import type { PeerSource } from '../peer/types.js';
import type { Message } from '../wire/index.js';
import type { Metainfo } from '../metainfo/types.js';
import { sameTorrent, type InfoHashes } from '../metainfo/info-hash.js';
import type { Storage } from '../storage/storage.js';
import { Bitfield } from '../util/bitfield.js';
import { NbtError } from '../util/errors.js';
import type { PeerAddress } from '../util/compact.js';
import { RateMeter } from '../util/rate.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { TorrentChoking, type ChokeTimings } from './choke-link.js';
import { TorrentCompletion } from './completion-link.js';
import { PieceDeadlines } from './deadlines.js';
import { torrentFiles, type TorrentFileEntry } from '../stream/torrent-file.js';
import { createStreamServer, type StreamServer, type StreamServerOptions } from '../stream/http-server.js';
import { defaultDownloaderTuning, type DownloaderTuning } from './downloader.js';
import { TorrentTransfers } from './transfers-link.js';
import { TorrentPeers } from './peers-link.js';
import { TorrentLifecycle } from './lifecycle-link.js';
import { PeerSession } from './session.js';
import { TorrentHashes } from './hash-link.js';
import { TorrentDisk } from './disk-link.js';
import type { PeerLink } from './peer-link.js';
import { CandidateList, type HintedAddress } from './candidates.js';
import { TorrentCheck } from './check-link.js';
import { torrentStats } from './stats.js';
import { knownAddresses } from './peer-addresses.js';
import { WebSeedSet, type WebSeedStats } from './web-seeds.js';
import { SuperSeedLink } from './super-seed-link.js';
import type { WebSeedKind } from './web-seed.js';
import type { TorrentHost, TorrentInit } from './torrent-init.js';
import { TorrentBandwidth, type TorrentRateLimits } from './rate-limits.js';
import type { FileRenames } from '../storage/renames.js';
import type { StorageLayout } from '../storage/layout.js';
import { TorrentPaths } from './paths-link.js';
import type { TorrentEventRecord, TorrentEvents, TorrentState, TorrentStats } from './types.js';
import type { TrackerScrape, TrackerStatus } from '../tracker/index.js';

export type { TorrentHost, TorrentInit } from './torrent-init.js';

/** A connected wire peer's session (web seeds will have sessions of their own kind). */
type WireSession = PeerSession<Peer<unknown>>;

export class Torrent extends TypedEmitter<TorrentEvents> {
  /** Replaced once when a magnet's metadata arrives (installMetainfo). */
  metainfo: Metainfo;
  /** The 20 bytes that name the torrent in handshakes, at trackers and in the DHT. */
  readonly infoHash: Buffer;
  readonly infoHashHex: string;
  name: string;
  /** Verified pieces that are on disk. */
  have: Bitfield;
  /** Addresses to dial (engine plumbing; `stats().peers.candidates` counts them). @internal */
  readonly candidates = new CandidateList();
  /** Hosts banned for corrupt data. */
  readonly banned = new Set<string>();
  /** The last error (state 'error'). */
  error: Error | undefined;
  /** Stream readers' time-critical windows (src/torrent/deadlines.ts), served first by the picker. */
  readonly deadlines: PieceDeadlines;
  /** This torrent's own limits and priority (src/torrent/rate-limits.ts); the client's peers pass them. @internal */
  readonly bandwidth: TorrentBandwidth;
  /** Set by the client's tracker service (src/torrent/tracker-link.ts). */
  trackerLink: { readonly status: TrackerStatus[]; scrape(): Promise<TrackerScrape[]> } | undefined;

  private stateValue: TorrentState = 'stopped';
  private pausedFlag: boolean;
  private readonly host: TorrentHost;
  private readonly makeStorage: () => Storage;
  private storageInstance: Storage | undefined;
  /** Keyed by link, so the download machinery finds a session from the PeerLink it holds. */
  private readonly peerSessions = new Map<PeerLink, WireSession>();
  /** The tick and the choking rounds (src/torrent/choke-link.ts). */
  private readonly choking: TorrentChoking;
  /** Downloader, uploader and read cache, made anew with each metainfo (src/torrent/transfers-link.ts). */
  private readonly transfers: TorrentTransfers;
  /** Web seeds (src/torrent/web-seeds.ts): sessions of their own, beside the wire peers. */
  private readonly seeds: WebSeedSet;
  private awaitingMetadata: boolean;
  private readonly tuning: DownloaderTuning;
  private readonly downMeter: RateMeter;
  private readonly upMeter: RateMeter;
  private readonly previous: { downloaded: number; uploaded: number };
  private sequentialFlag: boolean;
  /** Save path, renamed files, the storage layout (src/torrent/paths-link.ts). */
  private readonly paths: TorrentPaths;
  /** File priorities, wanted pieces missing, 'finished' (src/torrent/completion-link.ts). */
  private readonly completion: TorrentCompletion;
  /** Data checks: start-up, resume data's spot check, again after changes (src/torrent/check-link.ts). */
  private readonly checks: TorrentCheck;
  private removed = false;
  /** State transitions' bodies: pause, resume, stop, pieces had, disk errors (src/torrent/lifecycle-link.ts). */
  private readonly life: TorrentLifecycle;
  /** Peers joining and leaving, bans, payload sent (src/torrent/peers-link.ts). */
  private readonly peerSet: TorrentPeers;
  /** BEP 16 super-seeding (src/torrent/super-seed-link.ts). */
  private readonly superSeed = new SuperSeedLink({
    state: () => this.stateValue,
    have: () => this.have,
    sessions: () => this.peerSessions.values(),
  });

  /** Torrents are made by `Client.addTorrent`. @internal */
  constructor(init: TorrentInit) {
    super();
    const m = init.metainfo;
    this.metainfo = m;
    this.infoHash = m.infoHash;
    this.infoHashHex = m.infoHashHex;
    this.name = m.name;
    this.host = init.host;
    this.makeStorage = init.storage;
    this.pausedFlag = init.paused ?? false;
    this.checks = this.newCheck(init);
    this.sequentialFlag = init.sequential ?? false;
    this.paths = new TorrentPaths(
      {
        metainfo: () => this.metainfo,
        hasMetadata: () => !this.awaitingMetadata,
        storage: () => this.storage(),
      },
      init.savePath,
      init.renames,
    );
    this.name = this.paths.currentName();
    this.completion = new TorrentCompletion(
      {
        metainfo: () => this.metainfo,
        have: () => this.have,
        hasMetadata: () => !this.awaitingMetadata,
        state: () => this.stateValue,
        pickerPriority: (piece) => this.transfers.downloader.picker.priority(piece),
        finished: () => this.emit('finished'),
      },
      init.filePriorities,
    );
    this.previous = init.previous ?? { downloaded: 0, uploaded: 0 };
    this.have = new Bitfield(m.pieceCount);
    this.choking = new TorrentChoking(
      {
        clock: init.host.clock,
        transferring: () => this.transferring,
        seeding: () => this.stateValue === 'seeding',
        sessions: () => this.peerSessions.values(),
        hasPeers: () => this.peerSessions.size > 0 || this.seeds.size > 0,
        choked: (s) => this.transfers.uploader.choked(s),
        tick: () => {
          this.transfers.downloader.tick();
          for (const s of this.peerSessions.values())
            if (s.uploadQueue.length > 0) this.transfers.uploader.pump(s);
          this.hashes.requestAll(); // requests that timed out go to other peers
        },
      },
      init.unchokeSlots ?? 8,
      init.choke,
    );
    this.tuning = { ...defaultDownloaderTuning, ...init.tuning };
    this.deadlines = new PieceDeadlines(() => init.host.clock.now());
    this.bandwidth = new TorrentBandwidth(init.host.clock);
    if (init.rateLimits) this.bandwidth.set(init.rateLimits);
    this.deadlines.onChange = () => {
      if (this.transferring) this.transfers.downloader.criticalChanged();
    };
    // Before the downloader: it verifies pieces the disk's way.
    this.disk = new TorrentDisk(
      { clock: init.host.clock, metainfo: () => this.metainfo, storage: () => this.storage() },
      init.readCacheBytes ?? 16 * 1024 * 1024,
    );
    this.transfers = new TorrentTransfers({
      clock: init.host.clock,
      hashPool: init.host.hashPool,
      tuning: this.tuning,
      deadlines: this.deadlines,
      disk: this.disk,
      peerSessions: this.peerSessions,
      metainfo: () => this.metainfo,
      have: () => this.have,
      state: () => this.stateValue,
      transferring: () => this.transferring,
      removed: () => this.removed,
      sequential: () => this.sequentialFlag,
      pickerPriorities: () => this.completion.pickerPriorities(),
      seeds: () => this.seeds,
      hashes: () => this.hashes,
      mayServe: (s, piece) => this.superSeed.mayServe(s, piece),
      pieceDone: (piece) => this.life.pieceDone(piece),
      pieceFailed: (piece, senders) => {
        this.emit('piece-hash-fail', piece, senders);
        this.seeds.pieceFailed(piece, senders);
      },
      ban: (host) => this.peerSet.ban(host),
      diskError: (e, operation, piece) => this.life.diskError(e, operation, piece),
      fileError: (info) => this.emit('file-error', info),
      checkAgain: (trusted, recheck) => this.checks.again(trusted, recheck),
    });
    this.peerSet = new TorrentPeers({
      clock: init.host.clock,
      candidates: this.candidates,
      banned: this.banned,
      peerSessions: this.peerSessions,
      transfers: this.transfers,
      choking: this.choking,
      superSeed: this.superSeed,
      metainfo: () => this.metainfo,
      have: () => this.have,
      hashes: () => this.hashes,
      seeds: () => this.seeds,
      pickerPriorities: () => this.completion.pickerPriorities(),
      transferring: () => this.transferring,
      removed: () => this.removed,
      complete: () => this.complete,
      connectSoon: () => this.host.connectSoon(),
      connected: (peer) => this.emit('peer-connect', peer),
      disconnected: (peer, info) => this.emit('peer-disconnect', peer, info),
      layersArrived: () => this.emit('piece-layers'),
      hostBanned: (host) => this.emit('banned', host),
    });
    this.awaitingMetadata = init.awaitingMetadata ?? false;
    this.seeds = new WebSeedSet({
      clock: init.host.clock,
      fetcher: init.host.webSeedFetcher,
      ...(init.host.webSeedTuning ? { tuning: init.host.webSeedTuning } : {}),
      metainfo: () => this.metainfo,
      downloader: () => this.transfers.downloader,
      wantsSeeds: () =>
        (this.stateValue === 'downloading' || this.stateValue === 'paused') &&
        !this.awaitingMetadata &&
        !this.have.complete,
      joined: () => this.choking.resumeTick(),
      error: (info) => this.emit('web-seed-error', info),
    });
    for (const url of [...m.urlList, ...(init.webSeeds ?? [])]) this.seeds.add(url);
    for (const url of m.httpSeeds) this.seeds.add(url, 'httpseed');
    this.transfers.renewUpload();
    this.downMeter = new RateMeter(init.host.clock);
    this.upMeter = new RateMeter(init.host.clock);
    this.life = new TorrentLifecycle({
      peerSessions: this.peerSessions,
      transfers: this.transfers,
      choking: this.choking,
      checks: this.checks,
      completion: this.completion,
      deadlines: this.deadlines,
      downMeter: this.downMeter,
      seeds: this.seeds,
      metainfo: () => this.metainfo,
      have: () => this.have,
      state: () => this.stateValue,
      setState: (next) => this.setState(next),
      paused: () => this.pausedFlag,
      removed: () => this.removed,
      storage: () => this.storage(),
      closeStorage: () => this.closeStorage(),
      connectSoon: () => this.host.connectSoon(),
      pieceVerified: (piece) => this.emit('piece-hash-pass', piece),
      done: () => this.emit('done'),
      fileError: (info) => this.emit('file-error', info),
      setError: (err) => (this.error = err),
      errored: (err) => this.emit('error', err),
    });
    this.completion.recount();
    if (init.superSeeding) this.superSeed.set(true);
  }

  /** Verification, read cache, disk watch (src/torrent/disk-link.ts). */
  private readonly disk: TorrentDisk;

  /** BEP 52 hash requests, answers and rejects of our peers (src/torrent/hash-link.ts). */
  private readonly hashes: TorrentHashes = new TorrentHashes({
    now: () => this.host.clock.now(),
    metainfo: () => this.metainfo,
    hasMetadata: () => !this.awaitingMetadata,
    transferring: () => this.transferring,
    have: (piece) => this.have.has(piece),
    readPiece: (piece) => this.transfers.cache.get(piece),
    sessions: () => this.peerSessions.values(),
    layersArrived: () => this.peerSet.layersArrived(),
    leavesKnown: (piece, leaves) => void this.transfers.downloader.leavesKnown(piece, leaves),
  });

  /** The session observes every event through one shared hook (TorrentHost.torrentEvent). */
  protected override observe(event: string, args: readonly unknown[]): void {
    this.host.torrentEvent?.(this, { event, args } as TorrentEventRecord);
  }

  /** v1 and/or v2 hashes of the info dictionary (a magnet: what its link named, until the metadata). */
  get infoHashes(): InfoHashes {
    return this.metainfo.infoHashes;
  }

  private fileEntries: { meta: Metainfo; files: TorrentFileEntry[] } | undefined;

  /**
   * The torrent's files (pad files left out) with progress, priority and streaming readers
   * (src/stream/torrent-file.ts). Empty for a magnet until its metadata arrived.
   */
  get files(): readonly TorrentFileEntry[] {
    if (this.awaitingMetadata) return [];
    if (this.fileEntries?.meta !== this.metainfo)
      this.fileEntries = { meta: this.metainfo, files: torrentFiles(this) };
    return this.fileEntries.files;
  }

  /** An HTTP server streaming this torrent's files (src/stream/http-server.ts); call `listen(port)`. */
  createServer(opts?: StreamServerOptions): StreamServer {
    return createStreamServer(() => [this], opts);
  }

  /** False for a magnet link until its metadata arrived. */
  get hasMetadata(): boolean {
    return !this.awaitingMetadata;
  }

  /**
   * A magnet's verified metadata (src/torrent/metadata-exchange.ts): the same Torrent becomes a
   * full one — connected peers learn the piece count, then existing data is checked and the
   * download starts.
   */
  installMetainfo(m: Metainfo): void {
    if (!this.awaitingMetadata || this.removed) return;
    if (!sameTorrent(m.infoHashes, this.infoHashes))
      throw new NbtError('METADATA_MISMATCH', 'metadata of another torrent');
    this.awaitingMetadata = false;
    this.metainfo = m;
    this.name = m.name;
    this.have = new Bitfield(m.pieceCount);
    this.completion.recount();
    this.transfers.renewUpload();
    this.transfers.renewDownload();
    for (const s of this.peerSessions.values()) s.peer.setPieceCount(m.pieceCount);
    this.emit('metadata', m);
    if (this.stateValue === 'metadata') void this.checks.start();
  }

  // ---- state ----------------------------------------------------------------------------------

  get state(): TorrentState {
    return this.stateValue;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  /** Every piece is verified and on disk. */
  get complete(): boolean {
    // Pieces trusted from resume data are complete only once their spot check passed: a
    // download that exits when complete must not exit on resume data that lies.
    return !this.awaitingMetadata && this.have.complete && !this.checks.spotPending;
  }

  /**
   * Every wanted piece (of files with priority > 0) is verified and on disk. Pieces verified in
   * memory but still being written do not count: a reader may start on `finished`.
   */
  get finished(): boolean {
    return this.completion.finished;
  }

  /** One priority per file: 0 skips the file, 1 is normal, up to 7 first. */
  get filePriorities(): readonly number[] {
    return this.completion.filePriorities;
  }

  /** Sets one file's priority (0 = skip, 1 normal … 7 highest). */
  setFilePriority(file: number, priority: number): void {
    const next = [...this.filePriorities];
    if (!Number.isInteger(file) || file < 0 || file >= next.length)
      throw new RangeError(`file index ${file} out of range 0..${next.length - 1}`);
    next[file] = priority;
    this.setFilePriorities(next);
  }

  /** Sets every file's priority at once; pieces shared by files take the highest. */
  setFilePriorities(priorities: readonly number[]): void {
    this.completion.setFilePriorities(priorities);
    const map = this.completion.pickerPriorities();
    if (map) this.transfers.downloader.picker.setPiecePriorities(map);
    this.completion.recount();
    for (const s of this.peerSessions.values()) this.transfers.downloader.updateInterest(s);
    this.completion.report();
    if (this.stateValue === 'downloading' && !this.finished) this.host.connectSoon();
  }

  /** Peers may exchange data (not checking, paused, stopped or in error). */
  get transferring(): boolean {
    return this.stateValue === 'downloading' || this.stateValue === 'seeding';
  }

  /** Accepts new connections (refused while checking, stopped or in error). */
  get acceptsPeers(): boolean {
    return this.transferring || this.stateValue === 'paused' || this.stateValue === 'metadata';
  }

  private setState(next: TorrentState): void {
    const prev = this.stateValue;
    if (prev === next) return;
    this.stateValue = next;
    this.seeds.sync();
    this.superSeed.stateChanged(next);
    this.emit('state', next, prev);
  }

  /** Starts (or restarts after stop/error): checks the data, then downloads or seeds. */
  start(): void {
    if (this.removed) throw new NbtError('TORRENT_REMOVED', 'torrent was removed');
    if (this.stateValue !== 'stopped' && this.stateValue !== 'error') return;
    this.error = undefined;
    if (this.awaitingMetadata) {
      this.setState('metadata');
      // Peers (x.pe, trackers, DHT) are the only way to the metadata: dial them now, not at
      // the client's next periodic round.
      this.host.connectSoon();
    } else void this.checks.start();
  }

  /** Keeps connections but transfers nothing: no requests, every peer choked. */
  pause(): void {
    if (this.pausedFlag) return;
    this.pausedFlag = true;
    if (this.transferring) this.life.pauseTransfers();
  }

  resume(): void {
    if (!this.pausedFlag) return;
    this.pausedFlag = false;
    if (this.stateValue === 'paused') this.life.resumeTransfers();
  }

  /**
   * Disconnects every peer (TORRENT_STOPPED), stops timers, waits for piece writes, runs
   * `beforeClose` (the client saves resume data there) and closes the files.
   */
  stop(
    reason: DisconnectReason = DisconnectReason.TORRENT_STOPPED,
    beforeClose?: () => Promise<void>,
  ): Promise<void> {
    return this.life.stop(reason, beforeClose);
  }

  /** 0..1 of the data check running now (0 when none runs). */
  get checkProgress(): number {
    return this.stateValue === 'checking' ? this.checks.checked : 0;
  }

  /** The directory the torrent's files are under. */
  get savePath(): string {
    return this.paths.savePath;
  }

  /**
   * Moves the data to another save path while the torrent runs (libtorrent's move_storage):
   * every top-level file or folder is renamed there, or copied with its timestamps and deleted
   * across file systems; nothing is checked again. STORAGE_MOVE, before anything moves, when
   * something is already at the target.
   */
  async moveStorage(to: string): Promise<void> {
    if (this.removed) throw new NbtError('TORRENT_REMOVED', 'torrent was removed');
    const moved = await this.paths.move(to);
    if (moved) this.emit('moved', moved);
  }

  /** Renamed files (index → path components), for resume data. */
  get fileRenames(): FileRenames {
    return this.paths.fileRenames;
  }

  /** File `i`'s path components under the save path now (after any rename). */
  filePath(i: number): readonly string[] {
    return this.paths.filePath(i);
  }

  /** The storage layout: the metainfo's, with renamed files at their new paths. @internal */
  get storageLayout(): StorageLayout {
    return this.paths.layout;
  }

  /**
   * Renames a file, or a folder with everything below it: `from` and `to` are '/'-separated paths
   * relative to the save path, as `files[i].path` shows them (a multi-file torrent's top folder
   * first). Data on disk moves at once (reads and writes wait); renaming the top folder (or a
   * single-file torrent's file) renames the torrent. Throws STORAGE_RENAME for a path that is
   * not there or a target that would collide, before anything moves.
   */
  async renamePath(from: string, to: string): Promise<void> {
    if (this.awaitingMetadata)
      throw new NbtError('TORRENT_NO_METADATA', 'rename: the metadata is not here yet');
    if (this.removed) throw new NbtError('TORRENT_REMOVED', 'torrent was removed');
    const renamed = await this.paths.rename(from, to);
    this.name = this.paths.currentName();
    this.fileEntries = undefined;
    this.emit('renamed', renamed);
  }

  /** Pieces are picked in order (streaming) rather than rarest first. */
  get sequential(): boolean {
    return this.sequentialFlag;
  }

  /** Switches sequential picking on or off at once (requests already sent stay). */
  setSequential(on: boolean): void {
    this.sequentialFlag = on;
    this.transfers.downloader.picker.sequential = on;
  }

  /** Download and upload limits in bytes/s (0 = unlimited), bandwidth priority, session limits. */
  get rateLimits(): TorrentRateLimits {
    return this.bandwidth.limits;
  }

  /**
   * Changes this torrent's limits (bytes/s, 0 = unlimited), its bandwidth priority among
   * torrents under the session's limits, and whether it honours those at all. Takes effect at once.
   */
  setRateLimits(limits: Partial<TorrentRateLimits>): void {
    this.bandwidth.set(limits);
  }

  /** Stops for good (Client.removeTorrent). */
  async destroy(reason: DisconnectReason): Promise<void> {
    this.removed = true;
    await this.stop(reason);
    this.bandwidth.close();
    if (this.stateValue === 'error') this.setState('stopped');
  }

  storage(): Storage {
    this.storageInstance ??= this.makeStorage();
    return this.storageInstance;
  }

  private async closeStorage(): Promise<void> {
    const s = this.storageInstance;
    this.storageInstance = undefined;
    if (s) await s.close().catch(() => undefined);
  }

  private newCheck(init: TorrentInit): TorrentCheck {
    return new TorrentCheck(
      {
        clock: this.host.clock,
        hashPool: this.host.hashPool,
        metainfo: () => this.metainfo,
        storage: () => this.storage(),
        watch: () => this.disk.watch,
        state: () => this.stateValue,
        removed: () => this.removed,
        checking: () => this.setState('checking'),
        progress: (done, total) => this.emit('check-progress', done, total),
        found: (found) => {
          this.have.clearAll();
          for (const i of found.indices()) this.have.set(i);
          this.completion.recount();
          this.completion.rearm();
          this.transfers.renewDownload();
        },
        restoreUnfinished: (unfinished) => this.transfers.downloader.restoreUnfinished(unfinished),
        started: () => {
          this.choking.start();
          this.life.enterTransferState();
          if (this.peerSessions.size > 0) this.peerSet.rejoin();
          this.host.connectSoon();
        },
        spotChecked: (passed) => this.emit('spot-check', passed),
        dropTransfers: () => this.transfers.dropTransfers(),
        retryCandidates: () => this.candidates.retryAllNow(this.host.clock.now()),
        failed: (e) => this.life.diskError(e, 'check'),
      },
      init,
    );
  }

  // ---- peers ----------------------------------------------------------------------------------

  get peers(): Peer<unknown>[] {
    return [...this.peerSessions.values()].map((s) => s.peer);
  }

  get peerCount(): number {
    return this.peerSessions.size;
  }

  /** A connected peer with this id, if any (PREEXISTING check). */
  peerById(peerId: Buffer): Peer<unknown> | undefined {
    for (const { peer } of this.peerSessions.values()) if (peer.peerId?.equals(peerId)) return peer;
    return undefined;
  }

  /** The web seeds (BEP 19) and how each is doing. */
  get webSeeds(): WebSeedStats[] {
    return this.seeds.stats();
  }

  /**
   * Adds a web seed URL (http or https): BEP 19 by default (a URL ending in '/' is a directory
   * holding the torrent's name), or a BEP 17 `httpseed` script. Returns false for a URL already
   * known or not usable. A dropped one is tried again.
   */
  addWebSeed(url: string, kind: WebSeedKind = 'url-list'): boolean {
    return this.seeds.add(url, kind);
  }

  isBanned(host: string): boolean {
    return this.banned.has(host);
  }

  /** Adds a peer address from the user. */
  addPeer(host: string, port: number): void {
    this.addPeers([{ host, port }], { kind: 'user' });
  }

  /** Each tracker's status (announce times, errors, seeders/leechers); empty without trackers. */
  get trackers(): TrackerStatus[] {
    return this.trackerLink?.status ?? [];
  }

  /** Scrapes every tracker of this torrent (each bounded by the request timeout). */
  scrape(): Promise<TrackerScrape[]> {
    return this.trackerLink?.scrape() ?? Promise.resolve([]);
  }

  /** Adds addresses from any source (tracker, DHT, PEX, user, resume); the client dials them. */
  addPeers(addrs: readonly HintedAddress[], source: PeerSource): void {
    // BEP 27: a private torrent takes peers only from its trackers, the user and resume data.
    if (this.metainfo.private && (source.kind === 'dht' || source.kind === 'pex' || source.kind === 'lsd'))
      return;
    const added = this.candidates.add(addrs, source, (h) => this.banned.has(h));
    if (added.length === 0) return;
    this.emit('peers', added, source);
    this.host.connectSoon();
  }

  /**
   * BEP 16 super-seeding: while this torrent seeds, it hides its bitfield and offers each
   * peer one rare piece at a time (HAVE), the next only once that piece was seen on another
   * peer. For an initial seed; a torrent that is not complete turns it off by itself.
   */
  get superSeeding(): boolean {
    return this.superSeed.enabled;
  }

  /** Turns super-seeding on or off (on is ignored, and reads back false, for a torrent downloading). */
  setSuperSeeding(on: boolean): void {
    this.superSeed.set(on);
  }

  /** Our pieces as the handshake announces them (none while super-seeding). @internal */
  get advertisedHave(): Bitfield {
    return this.superSeed.advertised(this.have);
  }

  /** Wants more connections (the client checks its own limits too). */
  wantsPeers(maxPerTorrent: number): boolean {
    return this.acceptsPeers && !this.pausedFlag && this.peerSessions.size < maxPerTorrent;
  }

  /**
   * A peer finished its handshake for this torrent (the client already applied its limits).
   * From here on the torrent owns it until it closes.
   */
  attach(peer: Peer<unknown>): void {
    this.peerSet.attach(peer, (s) => peer.on('message', (m: Message) => this.onMessage(s, m)));
  }

  private onMessage(s: WireSession, m: Message): void {
    const peer = s.peer;
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
    if (this.stateValue === 'checking' || this.stateValue === 'stopped' || this.stateValue === 'metadata')
      return;
    this.transfers.downloader.onMessage(s, m);
    if (m.type === 'bitfield' || m.type === 'haveAll' || m.type === 'have') {
      this.superSeed.onMessage(s, m);
      if (this.complete && s.seed) peer.close(DisconnectReason.SEED);
      else this.hashes.request(s);
    }
  }

  // ---- stats ----------------------------------------------------------------------------------

  stats(): TorrentStats {
    // Not made for it: a fresh downloader's figures are these zeros.
    const d = this.transfers.madeDownloader;
    return torrentStats({
      state: this.stateValue,
      metainfo: this.metainfo,
      have: this.have,
      haveBytes: this.completion.haveBytes,
      awaitingMetadata: this.awaitingMetadata,
      candidates: this.candidates.size,
      sessions: this.peerSessions.values(),
      received: d?.received ?? 0,
      sent: this.peerSet.uploadedPayload(),
      wasted: d?.wasted ?? 0,
      hashFailures: d?.hashFailures ?? 0,
      previous: this.previous,
      webSeeds: this.seeds.stats(),
    });
  }

  /** Payload bytes received and thrown away this session (duplicates, unrequested, failed pieces). */
  get wastedBytes(): number {
    return this.transfers.wasted;
  }

  /**
   * Regular upload slots (plus one optimistic) in effect; set a number or 'auto' (rate-based).
   * A change takes effect with a choking round now.
   */
  get unchokeSlots(): number {
    return this.choking.slots;
  }

  set unchokeSlots(n: number | 'auto') {
    if (n !== 'auto' && (!Number.isInteger(n) || n < 0))
      throw new RangeError(`unchoke slots must be an integer >= 0 or 'auto', got ${n}`);
    this.choking.setSlots(n);
  }

  /** New choking timings (the session's settings changed); in effect from the next round. @internal */
  setChokeTimings(t: ChokeTimings): void {
    this.choking.setTimings(t);
  }

  /** Addresses worth reconnecting to later: connected peers' listen addresses and candidates. */
  knownAddresses(): PeerAddress[] {
    return knownAddresses(this.candidates, this.peers);
  }

  /**
   * Writes the received blocks of pieces in progress to disk and returns their bitmaps, for
   * resume data (a restart then fetches only the missing blocks).
   */
  persistUnfinished(): Promise<{ piece: number; blocks: Bitfield }[]> {
    if (this.stateValue === 'checking' || this.stateValue === 'error') return Promise.resolve([]);
    return this.transfers.madeDownloader?.persistUnfinished() ?? Promise.resolve([]);
  }

  /** Payload rates measured over verified pieces and served blocks (bytes/s). */
  get verifiedRate(): number {
    return this.downMeter.rate;
  }

  override toString(): string {
    return `Torrent(${this.name} ${this.infoHashHex.slice(0, 8)} ${this.stateValue} ${this.have.count}/${this.metainfo.pieceCount})`;
  }
}
