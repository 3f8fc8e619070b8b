/**
 * One torrent in a session, as users see it: its state machine (checking → downloading ⇄
 * seeding, paused, stopped, error), its connected peers and candidate addresses, its files,
 * limits and events. The state its parts share and the glue between them (download, upload,
 * choking, checks, storage) are in TorrentCore (src/torrent/core.ts); this class keeps the
 * public API and its checks. Connections are made and limited by the Client; a Torrent
 * receives peers that completed their handshake.
 */
import type { Peer } from '../peer/index.js';
import { DisconnectReason } from '../peer/disconnect.js';
import type { PeerSource } from '../peer/types.js';
import type { Metainfo } from '../metainfo/types.js';
import { sameTorrent, type InfoHashes } from '../metainfo/info-hash.js';
import type { Storage } from '../storage/storage.js';
import { Bitfield } from '../util/bitfield.js';
import { NbtError } from '../util/errors.js';
import type { PeerAddress } from '../util/compact.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { ChokeTimings } from './choke-link.js';
import type { PieceDeadlines } from './deadlines.js';
import { torrentFiles, type TorrentFileEntry } from '../stream/torrent-file.js';
import { createStreamServer, type StreamServer, type StreamServerOptions } from '../stream/http-server.js';
import type { CandidateList, HintedAddress } from './candidates.js';
import { TorrentCore } from './core.js';
import { torrentStats } from './stats.js';
import { knownAddresses } from './peer-addresses.js';
import type { WebSeedStats } from './web-seeds.js';
import type { WebSeedKind } from './web-seed.js';
import type { TorrentInit } from './torrent-init.js';
import { TorrentBandwidth, type TorrentRateLimits } from './rate-limits.js';
import type { FileRenames } from '../storage/renames.js';
import type { StorageLayout } from '../storage/layout.js';
import type { TorrentEventRecord, TorrentEvents, TorrentState, TorrentStats } from './types.js';
import type { TrackerScrape, TrackerStatus } from '../tracker/index.js';

export type { TorrentHost, TorrentInit } from './torrent-init.js';

export class Torrent extends TypedEmitter<TorrentEvents> {
  /** The 20 bytes that name the torrent in handshakes, at trackers and in the DHT. */
  readonly infoHash: Buffer;
  readonly infoHashHex: string;
  name: string;
  /** This torrent's own limits and priority (src/torrent/rate-limits.ts); the client's peers pass them. @internal */
  readonly bandwidth: TorrentBandwidth;
  /** Set by the client's tracker service (src/torrent/tracker-link.ts). */
  trackerLink: { readonly status: TrackerStatus[]; scrape(): Promise<TrackerScrape[]> } | undefined;

  /** The state and parts every link shares (src/torrent/core.ts). */
  private readonly core: TorrentCore;
  private readonly previous: { downloaded: number; uploaded: number };

  /** Torrents are made by `Client.addTorrent`. @internal */
  constructor(init: TorrentInit) {
    super();
    const m = init.metainfo;
    this.infoHash = m.infoHash;
    this.infoHashHex = m.infoHashHex;
    this.core = new TorrentCore(this, init);
    this.name = this.core.paths.currentName();
    this.previous = init.previous ?? { downloaded: 0, uploaded: 0 };
    this.bandwidth = new TorrentBandwidth(init.host.clock);
    if (init.rateLimits) this.bandwidth.set(init.rateLimits);
  }

  /** Replaced once when a magnet's metadata arrives (installMetainfo). */
  get metainfo(): Metainfo {
    return this.core.metainfo;
  }

  /** Verified pieces that are on disk. */
  get have(): Bitfield {
    return this.core.have;
  }

  /** The last error (state 'error'). */
  get error(): Error | undefined {
    return this.core.error;
  }

  /** Piece reads for uploading that reused an evicted buffer (src/torrent/read-cache.ts). @internal */
  get readBuffersReused(): number {
    return this.core.transfers.cache?.reused ?? 0;
  }

  /** A joined peer's listen address is connected (engine plumbing, for twin resolution). @internal */
  markPeerConnected(peer: Peer<unknown>): void {
    this.core.peerSet.markConnected(peer);
  }

  /** Addresses to dial (engine plumbing; `stats().peers.candidates` counts them). @internal */
  get candidates(): CandidateList {
    return this.core.candidates;
  }

  /** Hosts banned for corrupt data. */
  get banned(): Set<string> {
    return this.core.banned;
  }

  /** Stream readers' time-critical windows (src/torrent/deadlines.ts), served first by the picker. */
  get deadlines(): PieceDeadlines {
    return this.core.deadlines;
  }

  /** The session observes every event through one shared hook (TorrentHost.torrentEvent). */
  protected override observe(event: string, args: readonly unknown[]): void {
    this.core.host.torrentEvent?.(this, { event, args } as TorrentEventRecord);
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
    if (this.core.awaitingMetadata) return [];
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
    return !this.core.awaitingMetadata;
  }

  /**
   * A magnet's verified metadata (src/torrent/metadata-exchange.ts): the same Torrent becomes a
   * full one — connected peers learn the piece count, then existing data is checked and the
   * download starts.
   */
  installMetainfo(m: Metainfo): void {
    if (!this.core.awaitingMetadata || this.core.removed) return;
    if (!sameTorrent(m.infoHashes, this.infoHashes))
      throw new NbtError('METADATA_MISMATCH', 'metadata of another torrent');
    this.core.awaitingMetadata = false;
    this.core.metainfo = m;
    this.name = m.name;
    this.core.have = new Bitfield(m.pieceCount);
    this.core.completion.recount();
    this.core.transfers.renewUpload();
    this.core.transfers.renewDownload();
    for (const s of this.core.peerSessions.values()) s.peer.setPieceCount(m.pieceCount);
    this.emit('metadata', m);
    if (this.core.state === 'metadata') void this.core.checks.start();
  }

  // ---- state ----------------------------------------------------------------------------------

  get state(): TorrentState {
    return this.core.state;
  }

  get paused(): boolean {
    return this.core.paused;
  }

  /** Every piece is verified and on disk. */
  get complete(): boolean {
    return this.core.complete;
  }

  /**
   * Every wanted piece (of files with priority > 0) is verified and on disk. Pieces verified in
   * memory but still being written do not count: a reader may start on `finished`.
   */
  get finished(): boolean {
    return this.core.completion.finished;
  }

  /** One priority per file: 0 skips the file, 1 is normal, up to 7 first. */
  get filePriorities(): readonly number[] {
    return this.core.completion.filePriorities;
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
    this.core.completion.setFilePriorities(priorities);
    const map = this.core.completion.pickerPriorities();
    if (map) this.core.transfers.downloader.picker.setPiecePriorities(map);
    this.core.completion.recount();
    for (const s of this.core.peerSessions.values()) this.core.transfers.downloader.updateInterest(s);
    this.core.completion.report();
    if (this.core.state === 'downloading' && !this.finished) this.core.connectSoon();
  }

  /** Peers may exchange data (not checking, paused, stopped or in error). */
  get transferring(): boolean {
    return this.core.transferring;
  }

  /** Accepts new connections (refused while checking, stopped or in error). */
  get acceptsPeers(): boolean {
    return this.transferring || this.core.state === 'paused' || this.core.state === 'metadata';
  }

  /** The torrent's storage, opened on first use. */
  storage(): Storage {
    return this.core.storage();
  }

  /** Starts (or restarts after stop/error): checks the data, then downloads or seeds. */
  start(): void {
    if (this.core.removed) throw new NbtError('TORRENT_REMOVED', 'torrent was removed');
    if (this.core.state !== 'stopped' && this.core.state !== 'error') return;
    this.core.error = undefined;
    if (this.core.awaitingMetadata) {
      this.core.setState('metadata');
      // Peers (x.pe, trackers, DHT) are the only way to the metadata: dial them now, not at
      // the client's next periodic round.
      this.core.connectSoon();
    } else void this.core.checks.start();
  }

  /** Keeps connections but transfers nothing: no requests, every peer choked. */
  pause(): void {
    if (this.core.paused) return;
    this.core.paused = true;
    if (this.transferring) this.core.life.pauseTransfers();
  }

  resume(): void {
    if (!this.core.paused) return;
    this.core.paused = false;
    if (this.core.state === 'paused') this.core.life.resumeTransfers();
  }

  /**
   * Disconnects every peer (TORRENT_STOPPED), stops timers, waits for piece writes, runs
   * `beforeClose` (the client saves resume data there) and closes the files.
   */
  stop(
    reason: DisconnectReason = DisconnectReason.TORRENT_STOPPED,
    beforeClose?: () => Promise<void>,
  ): Promise<void> {
    return this.core.life.stop(reason, beforeClose);
  }

  /** 0..1 of the data check running now (0 when none runs). */
  get checkProgress(): number {
    return this.core.state === 'checking' ? this.core.checks.checked : 0;
  }

  /** The directory the torrent's files are under. */
  get savePath(): string {
    return this.core.paths.savePath;
  }

  /**
   * Moves the data to another save path while the torrent runs (libtorrent's move_storage):
   * every top-level file or folder is renamed there, or copied with its timestamps and deleted
   * across file systems; nothing is checked again. STORAGE_MOVE, before anything moves, when
   * something is already at the target.
   */
  async moveStorage(to: string): Promise<void> {
    if (this.core.removed) throw new NbtError('TORRENT_REMOVED', 'torrent was removed');
    const moved = await this.core.paths.move(to);
    if (moved) this.emit('moved', moved);
  }

  /** Renamed files (index → path components), for resume data. */
  get fileRenames(): FileRenames {
    return this.core.paths.fileRenames;
  }

  /** File `i`'s path components under the save path now (after any rename). */
  filePath(i: number): readonly string[] {
    return this.core.paths.filePath(i);
  }

  /** The storage layout: the metainfo's, with renamed files at their new paths. @internal */
  get storageLayout(): StorageLayout {
    return this.core.paths.layout;
  }

  /**
   * Renames a file, or a folder with everything below it: `from` and `to` are '/'-separated paths
   * relative to the save path, as `files[i].path` shows them (a multi-file torrent's top folder
   * first). Data on disk moves at once (reads and writes wait); renaming the top folder (or a
   * single-file torrent's file) renames the torrent. Throws STORAGE_RENAME for a path that is
   * not there or a target that would collide, before anything moves.
   */
  async renamePath(from: string, to: string): Promise<void> {
    if (this.core.awaitingMetadata)
      throw new NbtError('TORRENT_NO_METADATA', 'rename: the metadata is not here yet');
    if (this.core.removed) throw new NbtError('TORRENT_REMOVED', 'torrent was removed');
    const renamed = await this.core.paths.rename(from, to);
    this.name = this.core.paths.currentName();
    this.fileEntries = undefined;
    this.emit('renamed', renamed);
  }

  /** Pieces are picked in order (streaming) rather than rarest first. */
  get sequential(): boolean {
    return this.core.sequential;
  }

  /** Switches sequential picking on or off at once (requests already sent stay). */
  setSequential(on: boolean): void {
    this.core.sequential = on;
    this.core.transfers.downloader.picker.sequential = on;
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
    this.core.removed = true;
    await this.stop(reason);
    this.bandwidth.close();
    if (this.core.state === 'error') this.core.setState('stopped');
  }

  // ---- peers ----------------------------------------------------------------------------------

  get peers(): Peer<unknown>[] {
    return [...this.core.peerSessions.values()].map((s) => s.peer);
  }

  get peerCount(): number {
    return this.core.peerSessions.size;
  }

  /** A connected peer with this id, if any (PREEXISTING check). */
  peerById(peerId: Buffer): Peer<unknown> | undefined {
    for (const { peer } of this.core.peerSessions.values()) if (peer.peerId?.equals(peerId)) return peer;
    return undefined;
  }

  /** The web seeds (BEP 19) and how each is doing. */
  get webSeeds(): WebSeedStats[] {
    return this.core.seeds.stats();
  }

  /**
   * Adds a web seed URL (http or https): BEP 19 by default (a URL ending in '/' is a directory
   * holding the torrent's name), or a BEP 17 `httpseed` script. Returns false for a URL already
   * known or not usable. A dropped one is tried again.
   */
  addWebSeed(url: string, kind: WebSeedKind = 'url-list'): boolean {
    return this.core.seeds.add(url, kind);
  }

  isBanned(host: string): boolean {
    return this.core.isBanned(host);
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
    const added = this.candidates.add(addrs, source, (h) => this.core.isBanned(h));
    if (added.length === 0) return;
    this.emit('peers', added, source);
    this.core.connectSoon();
  }

  /**
   * BEP 16 super-seeding: while this torrent seeds, it hides its bitfield and offers each
   * peer one rare piece at a time (HAVE), the next only once that piece was seen on another
   * peer. For an initial seed; a torrent that is not complete turns it off by itself.
   */
  get superSeeding(): boolean {
    return this.core.superSeed.enabled;
  }

  /** Turns super-seeding on or off (on is ignored, and reads back false, for a torrent downloading). */
  setSuperSeeding(on: boolean): void {
    this.core.superSeed.set(on);
  }

  /** Our pieces as the handshake announces them (none while super-seeding). @internal */
  get advertisedHave(): Bitfield {
    return this.core.superSeed.advertised(this.have);
  }

  /** Wants more connections (the client checks its own limits too). */
  wantsPeers(maxPerTorrent: number): boolean {
    return this.acceptsPeers && !this.core.paused && this.core.peerSessions.size < maxPerTorrent;
  }

  /**
   * A peer finished its handshake for this torrent (the client already applied its limits).
   * From here on the torrent owns it until it closes.
   */
  attach(peer: Peer<unknown>): void {
    this.core.peerSet.attach(peer);
  }

  // ---- stats ----------------------------------------------------------------------------------

  stats(): TorrentStats {
    // Not made for it: a fresh downloader's figures are these zeros.
    const d = this.core.transfers.madeDownloader;
    return torrentStats({
      state: this.core.state,
      metainfo: this.metainfo,
      have: this.have,
      haveBytes: this.core.completion.haveBytes,
      awaitingMetadata: this.core.awaitingMetadata,
      candidates: this.candidates.size,
      sessions: this.core.peerSessions.values(),
      received: d?.received ?? 0,
      sent: this.core.peerSet.uploadedPayload(),
      wasted: d?.wasted ?? 0,
      hashFailures: d?.hashFailures ?? 0,
      previous: this.previous,
      webSeeds: this.core.seeds.stats(),
    });
  }

  /** Payload bytes received and thrown away this session (duplicates, unrequested, failed pieces). */
  get wastedBytes(): number {
    return this.core.transfers.wasted;
  }

  /**
   * Regular upload slots (plus one optimistic) in effect; set a number or 'auto' (rate-based).
   * A change takes effect with a choking round now.
   */
  get unchokeSlots(): number {
    return this.core.choking.slots;
  }

  set unchokeSlots(n: number | 'auto') {
    if (n !== 'auto' && (!Number.isInteger(n) || n < 0))
      throw new RangeError(`unchoke slots must be an integer >= 0 or 'auto', got ${n}`);
    this.core.choking.setSlots(n);
  }

  /** New choking timings (the session's settings changed); in effect from the next round. @internal */
  setChokeTimings(t: ChokeTimings): void {
    this.core.choking.setTimings(t);
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
    if (this.core.state === 'checking' || this.core.state === 'error') return Promise.resolve([]);
    return this.core.transfers.madeDownloader?.persistUnfinished() ?? Promise.resolve([]);
  }

  /** Payload rates measured over verified pieces and served blocks (bytes/s). */
  get verifiedRate(): number {
    return this.core.downMeter.rate;
  }

  override toString(): string {
    return `Torrent(${this.name} ${this.infoHashHex.slice(0, 8)} ${this.core.state} ${this.have.count}/${this.metainfo.pieceCount})`;
  }
}
