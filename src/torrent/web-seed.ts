/**
 * One web seed (BEP 19) as a PeerLink: to the Downloader it is a peer that has every piece, never
 * chokes unless it is resting after an error, and takes block requests. Requests of one batch are
 * coalesced into runs of adjacent bytes; each run is fetched by HTTP range requests (one per file
 * it spans, see src/webseed/plan.ts), a few runs at once, and cut back into blocks as the bytes
 * arrive. An error rests the seed: it "chokes" (its requests go back to the picker), waits
 * (Retry-After, else exponential back-off on the Clock) and "unchokes"; too many errors in a row,
 * or one that cannot get better (missing file, wrong size, no ranges), close it.
 */
import { DisconnectReason, disconnectInfo, type DisconnectInfo } from '../peer/disconnect.js';
import type { Message } from '../wire/index.js';
import { Bitfield } from '../util/bitfield.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { RateMeter } from '../util/rate.js';
import { groupRuns, planHttpSeed, planRange, type BlockRun, type WebSeedTorrent } from '../webseed/plan.js';
import type { FetchHandle, FetchOutcome, RangeFetch } from '../webseed/http-fetcher.js';
import type { PeerLink } from './peer-link.js';

/** BEP 19 (`url-list`, plain files served with ranges) or BEP 17 (`httpseeds`, a script). */
export type WebSeedKind = 'url-list' | 'httpseed';

/** What a web seed fetches with (an HttpRangeFetcher; tests may pass another). */
export interface RangeFetcher {
  fetch(req: RangeFetch): FetchHandle;
}

export interface WebSeedTuning {
  /** HTTP transfers (runs) in flight at once. */
  maxInFlight: number;
  /** Longest run fetched by one transfer (bytes; at least one block). */
  maxRunBytes: number;
  /** First back-off after an error (ms); doubles per error in a row. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Errors in a row (no transfer succeeding in between) after which the seed is dropped. */
  maxFailures: number;
  /** Block requests it accepts at once (its `reqq`). */
  maxRequests: number;
}

/** Runs shorter than this are not split further to use more connections. */
const MIN_RUN_BYTES = 256 * 1024;

export const defaultWebSeedTuning: WebSeedTuning = {
  maxInFlight: 4,
  maxRunBytes: 4 * 1024 * 1024,
  retryBaseMs: 1000,
  retryMaxMs: 300_000,
  maxFailures: 8,
  maxRequests: 2048,
};

/** A web seed's trouble, as events and stats report it. */
export interface WebSeedErrorInfo {
  url: string;
  /** WEBSEED_* code (WEBSEED_UNAVAILABLE for 503, WEBSEED_CORRUPT for bad data, …). */
  code: string;
  message: string;
  /** The seed was dropped for good (else it rests and tries again). */
  dropped: boolean;
  /** Set while it rests before trying again (ms). */
  retryInMs?: number;
}

export interface WebSeedHost {
  readonly clock: Clock;
  readonly torrent: WebSeedTorrent;
  readonly fetcher: RangeFetcher;
  message(seed: WebSeed, m: Message): void;
  error(seed: WebSeed, info: WebSeedErrorInfo): void;
  closed(seed: WebSeed, info: DisconnectInfo): void;
}

interface Block {
  piece: number;
  begin: number;
  length: number;
  /** Still wanted (a cancel clears it; its bytes are then dropped). */
  wanted: boolean;
  /** The transfer fetching it, once dispatched. */
  transfer: Transfer | undefined;
}

interface Transfer {
  run: BlockRun<Block>;
  handle: FetchHandle | undefined;
  /** Blocks of the run still wanted; 0: the transfer is abandoned. */
  wanted: number;
  /** Index of the block being filled and how many of its bytes arrived. */
  block: number;
  filled: number;
  staging: Buffer | undefined;
}

export class WebSeed implements PeerLink {
  readonly host: string;
  readonly bitfield: Bitfield;
  readonly amChoking = true;
  amInterested = false;
  peerChoking = false;
  readonly peerInterested = false;
  readonly fastExtension = false;
  readonly allowedFastSet: ReadonlySet<number> = new Set();
  readonly maxRequests: number;
  readonly uploaded = 0;
  readonly uploadRate = 0;
  readonly congested = false;
  readonly connectedAt: number;
  closed = false;
  /** Payload bytes delivered to the torrent. */
  downloaded = 0;
  /** Errors since the last transfer that succeeded. */
  failures = 0;
  lastError: WebSeedErrorInfo | undefined;
  private readonly meter: RateMeter;
  private readonly tuning: WebSeedTuning;
  /** Requested blocks not yet in a transfer, in request order. */
  private pending: Block[] = [];
  /** Every requested block by torrent offset (pending or in a transfer). */
  private readonly requested = new Map<number, Block>();
  private readonly active = new Set<Transfer>();
  /** Where a file URL was redirected to (later requests go straight there). */
  private readonly redirects = new Map<string, string>();
  private pumpQueued = false;
  private restTimer: TimerHandle | undefined;

  constructor(
    readonly url: string,
    private readonly h: WebSeedHost,
    tuning: Partial<WebSeedTuning> = {},
    /** `url-list`: BEP 19 file URLs with Range; `httpseed`: a BEP 17 script. */
    readonly kind: WebSeedKind = 'url-list',
  ) {
    this.host = url;
    this.tuning = { ...defaultWebSeedTuning, ...tuning };
    this.maxRequests = this.tuning.maxRequests;
    this.bitfield = Bitfield.full(h.torrent.pieceCount);
    this.connectedAt = h.clock.now();
    this.meter = new RateMeter(h.clock);
  }

  get downloadRate(): number {
    return this.meter.rate;
  }

  /** Resting after an error until the given clock time. */
  restingUntil: number | undefined;

  /** Block requests outstanding (pending or being fetched). */
  get outstanding(): number {
    return this.requested.size;
  }

  // ---- PeerLink ----------------------------------------------------------------------------

  interested(): void {
    this.amInterested = true;
  }

  notInterested(): void {
    this.amInterested = false;
  }

  request(index: number, begin: number, length: number): void {
    if (this.closed || this.peerChoking) return;
    const key = this.offsetOf(index, begin);
    if (this.requested.has(key)) return;
    const b: Block = { piece: index, begin, length, wanted: true, transfer: undefined };
    this.requested.set(key, b);
    this.pending.push(b);
    // The Downloader sends a batch in one go: dispatch once it is all here, as runs.
    if (!this.pumpQueued) {
      this.pumpQueued = true;
      queueMicrotask(() => {
        this.pumpQueued = false;
        this.pump();
      });
    }
  }

  cancel(index: number, begin: number): void {
    const key = this.offsetOf(index, begin);
    const b = this.requested.get(key);
    if (!b) return;
    this.requested.delete(key);
    b.wanted = false;
    // Still pending (no transfer): the next pump skips it.
    const t = b.transfer;
    if (t && this.active.has(t) && --t.wanted === 0) this.abandon(t);
  }

  // A web seed never downloads from us: the upload side of the link does nothing.
  choke(): void {}
  unchoke(): void {}
  have(): void {}
  piece(): void {}
  reject(): void {}

  close(
    reason: DisconnectReason = DisconnectReason.CLOSED_BY_US,
    detail?: string | Partial<DisconnectInfo>,
  ): void {
    if (this.closed) return;
    this.closed = true;
    this.restTimer?.cancel();
    this.restTimer = undefined;
    this.dropAll();
    const extra = typeof detail === 'string' ? { message: detail } : (detail ?? {});
    this.h.closed(this, disconnectInfo(reason, extra));
  }

  // ---- transfers ---------------------------------------------------------------------------

  private offsetOf(piece: number, begin: number): number {
    return piece * this.h.torrent.pieceLength + begin;
  }

  private pump(): void {
    if (this.closed || this.peerChoking) return;
    if (this.pending.length > 0 && this.pending.some((b) => !b.wanted))
      this.pending = this.pending.filter((b) => b.wanted);
    const free = this.tuning.maxInFlight - this.active.size;
    if (free <= 0 || this.pending.length === 0) return;
    // Spread what is pending over the free connections (servers often limit each one), in runs
    // of at least MIN_RUN_BYTES and at most maxRunBytes.
    let bytes = 0;
    for (const b of this.pending) bytes += b.length;
    const cap = Math.min(this.tuning.maxRunBytes, Math.max(MIN_RUN_BYTES, Math.ceil(bytes / free)));
    while (this.active.size < this.tuning.maxInFlight && this.pending.length > 0) {
      const [run] = groupRuns(this.h.torrent.pieceLength, this.pending, cap);
      this.pending = this.pending.slice(run!.blocks.length);
      void this.runTransfer(run!);
    }
  }

  private async runTransfer(run: BlockRun<Block>): Promise<void> {
    const t: Transfer = {
      run,
      handle: undefined,
      wanted: run.blocks.length,
      block: 0,
      filled: 0,
      staging: undefined,
    };
    this.active.add(t);
    for (const b of run.blocks) b.transfer = t;
    let outcome: FetchOutcome = { ok: true, url: this.url };
    try {
      const plan = this.kind === 'httpseed' ? planHttpSeed : planRange;
      for (const seg of plan(this.url, this.h.torrent, run.offset, run.length)) {
        if (t.wanted === 0 || this.closed) return;
        if (seg.kind === 'pad') {
          this.feed(t, Buffer.alloc(seg.length));
          continue;
        }
        t.handle = this.h.fetcher.fetch({
          url: this.redirects.get(seg.url) ?? seg.url,
          start: seg.kind === 'http' ? seg.fileOffset : 0,
          length: seg.length,
          fileLength: seg.kind === 'http' ? seg.fileLength : seg.length,
          ...(seg.kind === 'piece' ? { httpSeed: true } : {}),
          onData: (chunk) => this.feed(t, chunk),
        });
        outcome = await t.handle.done;
        t.handle = undefined;
        if (!outcome.ok) break;
        if (outcome.url !== seg.url && this.redirects.size < this.h.torrent.files.length)
          this.redirects.set(seg.url, outcome.url);
      }
    } catch (e) {
      // planRange refuses a run outside the torrent: a bug, not the server's fault.
      outcome = { ok: false, kind: 'fail', code: 'WEBSEED_BAD_RANGE', message: String(e) };
    } finally {
      this.active.delete(t);
    }
    if (this.closed) return;
    // Abandoned (cancelled, or the seed went to rest): whatever it ended with is not news.
    if (outcome.ok || t.wanted === 0) {
      if (outcome.ok) this.failures = 0;
      this.pump();
      return;
    }
    if (outcome.kind === 'aborted') {
      this.pump();
      return;
    }
    this.failed(outcome.kind === 'fail', outcome.code, outcome.message, outcome.afterMs);
  }

  /** Bytes of a run, in order: cut into blocks and hand each wanted one over. */
  private feed(t: Transfer, chunk: Buffer): void {
    let c = chunk;
    const blocks = t.run.blocks;
    while (c.length > 0 && t.block < blocks.length) {
      const b = blocks[t.block]!;
      const need = b.length - t.filled;
      if (t.filled === 0 && c.length >= need) {
        // The whole block is in this chunk: hand over a view, no copy.
        this.deliver(b, c.subarray(0, need));
        c = c.subarray(need);
        t.block++;
        continue;
      }
      if (!t.staging || t.staging.length < b.length) t.staging = Buffer.allocUnsafe(b.length);
      const n = Math.min(need, c.length);
      c.copy(t.staging, t.filled, 0, n);
      t.filled += n;
      c = c.subarray(n);
      if (t.filled === b.length) {
        this.deliver(b, t.staging.subarray(0, b.length));
        t.block++;
        t.filled = 0;
      }
    }
  }

  private deliver(b: Block, data: Buffer): void {
    if (!b.wanted || this.closed) return;
    b.wanted = false;
    this.requested.delete(this.offsetOf(b.piece, b.begin));
    this.downloaded += data.length;
    this.meter.add(data.length);
    this.h.message(this, { type: 'piece', index: b.piece, begin: b.begin, block: data });
  }

  private abandon(t: Transfer): void {
    t.wanted = 0;
    t.handle?.abort();
  }

  /** Forgets every request (they go back to the picker through the choke that follows). */
  private dropAll(): void {
    for (const t of [...this.active]) this.abandon(t);
    for (const b of this.requested.values()) b.wanted = false;
    this.requested.clear();
    this.pending = [];
  }

  private failed(permanent: boolean, code: string, message: string, afterMs: number | undefined): void {
    this.failures++;
    if (permanent || this.failures > this.tuning.maxFailures) {
      this.lastError = { url: this.url, code, message, dropped: true };
      this.h.error(this, this.lastError);
      this.close(DisconnectReason.USELESS_PEER, { message: `${code}: ${message}` });
      return;
    }
    const backoff = Math.min(this.tuning.retryMaxMs, this.tuning.retryBaseMs * 2 ** (this.failures - 1));
    this.rest(afterMs ?? backoff, { url: this.url, code, message });
  }

  /** Stops asking for a while: the Downloader takes its requests back (choke), then gets it again. */
  rest(ms: number, info: Omit<WebSeedErrorInfo, 'retryInMs' | 'dropped'>): void {
    if (this.closed) return;
    this.lastError = { ...info, dropped: false, retryInMs: ms };
    this.dropAll();
    this.restingUntil = this.h.clock.now() + ms;
    if (!this.peerChoking) {
      this.peerChoking = true;
      this.h.message(this, { type: 'choke' });
    }
    this.h.error(this, this.lastError);
    this.restTimer?.cancel();
    this.restTimer = this.h.clock.setTimeout(
      () => {
        this.restTimer = undefined;
        this.restingUntil = undefined;
        if (this.closed) return;
        this.peerChoking = false;
        this.h.message(this, { type: 'unchoke' });
      },
      Math.max(1, ms),
    );
  }
}
