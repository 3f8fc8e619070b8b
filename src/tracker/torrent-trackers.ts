/**
 * The trackers of one torrent: wires the pure AnnounceScheduler to the HTTP and UDP clients and
 * a Clock, and reports what happens as typed events. The engine calls start / completed / stop;
 * peers arrive as 'peers' events tagged with the tracker they came from.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import { NbtError, errorMessage, isNbtError } from '../util/errors.js';
import type { PeerAddress } from '../util/compact.js';
import { AnnounceScheduler, type Decision, type SchedulerOptions } from './announce-scheduler.js';
import { HttpTrackerClient } from './http-client.js';
import { TrackerFailure } from './http-codec.js';
import { UdpTrackerClient } from './udp-client.js';
import type {
  AnnounceEvent,
  AnnounceRequest,
  ScrapeEntry,
  TrackerPeerSource,
  TrackerTransport,
} from './types.js';

export interface TransferStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

export interface TorrentTrackersOptions {
  /** Announce URLs by tier (BEP 12); http, https and udp URLs are used, others are ignored. */
  tiers: readonly (readonly string[])[];
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** Our TCP listen port. */
  port: number;
  stats: () => TransferStats;
  clock?: Clock;
  /** Peers asked for per announce (default 50). */
  numwant?: number;
  /** 32-bit announce key (default random). */
  key?: number;
  /** Shared transports of the client session; created (and closed) here when not given. */
  http?: TrackerTransport;
  udp?: TrackerTransport;
  /** Deadline of one announce or scrape (default 60 s). */
  requestTimeoutMs?: number;
  /** How long stop() waits for `stopped` announces (default 5 s). */
  stopTimeoutMs?: number;
  /** BEP 7 addresses to send to HTTP trackers. */
  ipv4?: string;
  ipv6?: string;
  scheduler?: SchedulerOptions;
}

export interface AnnounceInfo {
  url: string;
  event: AnnounceEvent;
  peers: number;
  seeders: number | undefined;
  leechers: number | undefined;
  /** Seconds until the next regular announce. */
  interval: number;
}

export interface TrackerErrorInfo {
  url: string;
  event: AnnounceEvent | 'scrape';
  /** NbtError code, e.g. TRACKER_FAILURE, TRACKER_TIMEOUT, TRACKER_BAD_RESPONSE. */
  code: string;
  message: string;
}

export interface TorrentTrackersEvents {
  peers: [peers: PeerAddress[], source: TrackerPeerSource];
  announce: [info: AnnounceInfo];
  warning: [info: { url: string; message: string }];
  error: [info: TrackerErrorInfo];
}

export interface TrackerStatus {
  url: string;
  tier: number;
  /** Clock time of the last successful announce. */
  lastAnnounce: number | undefined;
  /** Clock time of the next planned announce to this tracker, if one is planned. */
  nextAnnounce: number | undefined;
  lastError: string | undefined;
  failures: number;
  seeders: number | undefined;
  leechers: number | undefined;
  /** From the last scrape. */
  downloaded: number | undefined;
}

export interface TrackerScrape {
  url: string;
  tier: number;
  result?: ScrapeEntry;
  error?: string;
}

const SUPPORTED = /^(https?|udp):\/\//i;

export class TorrentTrackers extends EventEmitter<TorrentTrackersEvents> {
  private readonly o: TorrentTrackersOptions;
  private readonly clock: Clock;
  private readonly scheduler: AnnounceScheduler;
  private readonly key: number;
  private readonly downloads = new Map<string, number>();
  private http: TrackerTransport | undefined;
  private udp: TrackerTransport | undefined;
  private timer: TimerHandle | undefined;
  private inFlight: { ctrl: AbortController; deadline: TimerHandle } | undefined;

  constructor(o: TorrentTrackersOptions) {
    super();
    this.o = o;
    this.clock = o.clock ?? systemClock;
    this.key = o.key ?? randomBytes(4).readUInt32BE(0);
    this.http = o.http;
    this.udp = o.udp;
    this.scheduler = new AnnounceScheduler(
      o.tiers.map((tier) => tier.filter((u) => SUPPORTED.test(u))),
      o.scheduler,
    );
  }

  get trackers(): TrackerStatus[] {
    const now = this.clock.now();
    const current = this.scheduler.current;
    return this.scheduler.all().map((t) => ({
      url: t.url,
      tier: t.tier,
      lastAnnounce: t.lastAnnounce,
      nextAnnounce:
        this.scheduler.isRunning && t === current && Number.isFinite(this.scheduler.nextAnnounceAt)
          ? this.scheduler.nextAnnounceAt
          : t.retryAt > now
            ? t.retryAt
            : undefined,
      lastError: t.lastError,
      failures: t.failures,
      seeders: t.seeders,
      leechers: t.leechers,
      downloaded: this.downloads.get(t.url),
    }));
  }

  start(): void {
    this.scheduler.start(this.clock.now());
    this.pump();
  }

  /** The download finished; `completed` is announced once. */
  completed(): void {
    this.scheduler.completed(this.clock.now());
    this.pump();
  }

  /** Re-announce as soon as the tracker's min interval allows (e.g. when short of peers). */
  announceNow(): void {
    this.scheduler.announceNow(this.clock.now());
    this.pump();
  }

  /** Stops announcing and tells the trackers we joined; waits at most `stopTimeoutMs`. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    this.inFlight?.deadline.cancel();
    this.inFlight?.ctrl.abort();
    this.inFlight = undefined;
    const joined = this.scheduler.stop();
    const ctrl = new AbortController();
    const deadline = this.clock.setTimeout(() => ctrl.abort(), this.o.stopTimeoutMs ?? 5_000);
    await Promise.all(
      joined.map((t) =>
        this.transportFor(t.url)
          .announce(t.url, this.request('stopped', t.trackerId), ctrl.signal)
          .then(
            () =>
              this.emit('announce', {
                url: t.url,
                event: 'stopped',
                peers: 0,
                seeders: undefined,
                leechers: undefined,
                interval: 0,
              }),
            (e: unknown) => this.emitError(t.url, 'stopped', e),
          ),
      ),
    );
    deadline.cancel();
    this.closeOwnTransports();
  }

  /** Scrapes every tracker (in parallel, each bounded by the request timeout). */
  async scrape(): Promise<TrackerScrape[]> {
    const hex = Buffer.from(this.o.infoHash).toString('hex');
    const all = this.scheduler.all();
    const results = await Promise.all(
      all.map(async (t): Promise<TrackerScrape> => {
        const ctrl = new AbortController();
        const deadline = this.clock.setTimeout(() => ctrl.abort(), this.o.requestTimeoutMs ?? 60_000);
        try {
          const r = await this.transportFor(t.url).scrape(t.url, [this.o.infoHash], ctrl.signal);
          const entry = r.get(hex);
          if (!entry) return { url: t.url, tier: t.tier, error: 'tracker did not report this torrent' };
          t.seeders = entry.complete;
          t.leechers = entry.incomplete;
          this.downloads.set(t.url, entry.downloaded);
          return { url: t.url, tier: t.tier, result: entry };
        } catch (e) {
          return { url: t.url, tier: t.tier, error: errorMessage(e) };
        } finally {
          deadline.cancel();
        }
      }),
    );
    if (!this.scheduler.isRunning) this.closeOwnTransports();
    return results;
  }

  private pump(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const now = this.clock.now();
    const d: Decision = this.scheduler.next(now);
    if (d.kind === 'wait') this.timer = this.clock.setTimeout(() => this.pump(), Math.max(0, d.at - now));
    else if (d.kind === 'announce') this.send(d.url, d.event, d.trackerId);
  }

  private send(url: string, event: AnnounceEvent, trackerId: string | undefined): void {
    const ctrl = new AbortController();
    let timedOut = false;
    const timeoutMs = this.o.requestTimeoutMs ?? 60_000;
    const deadline = this.clock.setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, timeoutMs);
    const flight = { ctrl, deadline };
    this.inFlight = flight;
    Promise.resolve()
      .then(() => this.transportFor(url).announce(url, this.request(event, trackerId), ctrl.signal))
      .then(
        (res) => {
          if (this.inFlight !== flight) return;
          this.inFlight = undefined;
          this.scheduler.onSuccess(url, this.clock.now(), res);
          if (res.warning) this.emit('warning', { url, message: res.warning });
          this.emit('announce', {
            url,
            event,
            peers: res.peers.length,
            seeders: res.seeders,
            leechers: res.leechers,
            interval: res.interval,
          });
          if (res.peers.length) this.emit('peers', res.peers, { kind: 'tracker', url });
        },
        (e: unknown) => {
          if (this.inFlight !== flight) return;
          this.inFlight = undefined;
          const err = timedOut ? new NbtError('TRACKER_TIMEOUT', `no answer within ${timeoutMs} ms`) : e;
          const retry =
            err instanceof TrackerFailure && err.retryInMinutes ? err.retryInMinutes * 60_000 : undefined;
          this.scheduler.onFailure(url, this.clock.now(), errorMessage(err), retry);
          this.emitError(url, event, err);
        },
      )
      .finally(() => {
        deadline.cancel();
        if (this.inFlight === undefined) this.pump();
      });
  }

  private emitError(url: string, event: TrackerErrorInfo['event'], e: unknown): void {
    // An unhandled 'error' event would throw; the engine may not care about tracker errors.
    if (this.listenerCount('error') === 0) return;
    this.emit('error', {
      url,
      event,
      code: isNbtError(e) ? e.code : 'TRACKER_ERROR',
      message: errorMessage(e),
    });
  }

  private request(event: AnnounceEvent, trackerId: string | undefined): AnnounceRequest {
    const s = this.o.stats();
    return {
      infoHash: this.o.infoHash,
      peerId: this.o.peerId,
      port: this.o.port,
      uploaded: s.uploaded,
      downloaded: s.downloaded,
      left: s.left,
      event,
      numwant: event === 'stopped' ? 0 : (this.o.numwant ?? 50),
      key: this.key,
      trackerId,
      ipv4: this.o.ipv4,
      ipv6: this.o.ipv6,
    };
  }

  private transportFor(url: string): TrackerTransport {
    if (/^udp:/i.test(url)) return (this.udp ??= new UdpTrackerClient({ clock: this.clock }));
    return (this.http ??= new HttpTrackerClient({ clock: this.clock }));
  }

  private closeOwnTransports(): void {
    if (this.udp && this.udp !== this.o.udp) {
      this.udp.close?.();
      this.udp = undefined;
    }
    if (this.http && this.http !== this.o.http) {
      this.http.close?.();
      this.http = undefined;
    }
  }
}
