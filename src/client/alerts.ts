/**
 * The session's one stream of serialisable records (libtorrent's alerts): every typed Client
 * event, and the Torrent events the Client does not re-emit, posted as `{ type, category, time,
 * infoHash?, peer?, ...payload }` with hex strings instead of Buffers and no live objects, so
 * that JSON.stringify works on any of them (an RPC, a web UI or a log consumes them as they are).
 * Consumers: `client.on('alert', …)` (synchronous) or `client.alerts()` (an async iterator with a
 * bounded queue that drops the oldest records for a slow consumer, counting them).
 */
import type { ALERT_CATEGORIES } from '../settings/definitions.js';
import type { FileErrorInfo, TorrentState } from '../torrent/types.js';
import type { PeerEncryption, PeerSourceKind } from '../peer/types.js';
import type { SessionCounters } from './counters.js';
import type { MapperName } from '../portmap/types.js';

export type AlertCategory = (typeof ALERT_CATEGORIES)[number];

/** Fields of every alert. */
export interface AlertBase {
  /** Clock milliseconds (the Client's clock) when it was posted. */
  time: number;
  /** Hex info-hash of the torrent it concerns. */
  infoHash?: string;
  /** "host:port" of the peer it concerns. */
  peer?: string;
}

/** The payload of each alert type (besides `type`, `category` and the AlertBase fields). */
export interface AlertPayloads {
  listening: { port: number };
  'torrent-added': { name: string };
  'torrent-removed': { name: string };
  'torrent-state': { state: TorrentState; previous: TorrentState };
  'torrent-done': { name: string };
  /** Every wanted piece is verified (with skipped files, before or instead of torrent-done). */
  'torrent-finished': { name: string };
  'torrent-error': { code: string; message: string };
  /** A magnet link's metadata arrived and verified. */
  'metadata-received': { name: string; pieces: number; length: number };
  'file-error': FileErrorInfo;
  'check-progress': { checked: number; total: number };
  'resume-saved': Record<never, never>;
  'peer-connect': { incoming: boolean; source: PeerSourceKind; encryption: PeerEncryption; client: string };
  /** `reason` is the numeric DisconnectReason, `name` its name. */
  'peer-disconnect': {
    reason: number;
    name: string;
    description: string;
    incoming: boolean;
    source: PeerSourceKind;
    /** The connection had joined a torrent. */
    joined: boolean;
    errno?: string;
    message?: string;
  };
  'peer-error': { message: string };
  /** Addresses were added to a torrent's candidates. */
  'peers-added': { count: number; source: PeerSourceKind };
  banned: { host: string };
  /** An LSD announce from the LAN named the torrent; `peer` is the sender ("host:port"). */
  'lsd-peer': { source: 'lsd' };
  'piece-hash-pass': { piece: number };
  /** `senders`: the "host:port" of every peer that sent blocks of the bad piece. */
  'piece-hash-fail': { piece: number; senders: string[] };
  'tracker-announce': {
    url: string;
    event: string;
    peers: number;
    seeders?: number;
    leechers?: number;
    interval: number;
  };
  'tracker-warning': { url: string; message: string };
  'tracker-error': { url: string; event: string; code: string; message: string };
  /** A web seed failed: it rests `retryInMs` and tries again, or was dropped (WEBSEED_CORRUPT, …). */
  'web-seed-error': { url: string; code: string; message: string; dropped: boolean; retryInMs?: number };
  /** A listener (user code) threw; the engine carried on. */
  'listener-error': {
    emitter: 'client' | 'torrent' | 'peer';
    event: string;
    message: string;
    stack?: string;
  };
  warning: { code?: string; message: string };
  /** A listen port is mapped on the gateway (or its mapping renewed). */
  'port-mapped': {
    mapper: MapperName;
    protocol: 'tcp' | 'udp';
    internalPort: number;
    externalPort: number;
    externalAddress?: string;
    /** Seconds granted (0: permanent). */
    leaseSec: number;
    renewal: boolean;
  };
  'port-mapping-error': {
    mapper: MapperName;
    protocol: 'tcp' | 'udp';
    internalPort: number;
    code: string;
    message: string;
  };
  'settings-changed': { names: string[] };
  /** The session counters, posted by `client.postSessionStats()`. */
  'session-stats': SessionCounters;
}

export type AlertType = keyof AlertPayloads;

/** One alert: a discriminated union on `type`. */
export type Alert = {
  [K in AlertType]: { type: K; category: AlertCategory } & AlertBase & AlertPayloads[K];
}[AlertType];

/** The category of every alert type. */
export const alertCategories: Readonly<Record<AlertType, AlertCategory>> = {
  listening: 'status',
  'torrent-added': 'status',
  'torrent-removed': 'status',
  'torrent-state': 'status',
  'torrent-done': 'status',
  'torrent-finished': 'status',
  'torrent-error': 'error',
  'metadata-received': 'status',
  'file-error': 'storage',
  'check-progress': 'storage',
  'resume-saved': 'storage',
  'peer-connect': 'peer',
  'peer-disconnect': 'peer',
  'peer-error': 'error',
  'peers-added': 'peer',
  banned: 'peer',
  'lsd-peer': 'peer',
  'piece-hash-pass': 'piece',
  'piece-hash-fail': 'piece',
  'tracker-announce': 'tracker',
  'tracker-warning': 'tracker',
  'tracker-error': 'tracker',
  'web-seed-error': 'peer',
  'listener-error': 'error',
  warning: 'error',
  'port-mapped': 'status',
  'port-mapping-error': 'error',
  'settings-changed': 'status',
  'session-stats': 'stats',
};

/** An async iterator over alerts with its own bounded queue. */
export interface AlertSubscription extends AsyncIterableIterator<Alert> {
  /** Alerts dropped (oldest first) because the consumer fell more than the queue size behind. */
  readonly dropped: number;
  /** Alerts waiting to be read. */
  readonly pending: number;
  /** Ends the iteration (also what `break` in a for-await does). */
  close(): void;
}

class Subscription implements AlertSubscription {
  private readonly queue: Alert[] = [];
  private head = 0;
  private waiter: ((r: IteratorResult<Alert>) => void) | undefined;
  private done = false;
  dropped = 0;

  constructor(
    private readonly limit: () => number,
    private readonly detach: (s: Subscription) => void,
  ) {}

  get pending(): number {
    return this.queue.length - this.head;
  }

  push(a: Alert): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: a, done: false });
      return;
    }
    this.queue.push(a);
    const over = this.pending - this.limit();
    if (over > 0) {
      this.head += over;
      this.dropped += over;
    }
    // Compact now and then, so the array does not keep consumed slots.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  next(): Promise<IteratorResult<Alert>> {
    if (this.pending > 0) {
      const value = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Alert;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<Alert>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  close(): void {
    this.queue.length = 0;
    this.head = 0;
    this.finish();
  }

  /** No more alerts: what is queued can still be read, then the iteration ends. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.detach(this);
    const w = this.waiter;
    this.waiter = undefined;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Alert> {
    return this;
  }
}

/** Posts alerts to the synchronous sink and the iterators, filtered by the category mask. */
export class AlertHub {
  private readonly subs = new Set<Subscription>();
  private mask: ReadonlySet<AlertCategory>;
  private queueSize: number;

  constructor(
    categories: readonly AlertCategory[],
    queueSize: number,
    /** Whether anyone listens synchronously (the Client's 'alert' listeners). */
    private readonly listening: () => boolean,
    private readonly sink: (a: Alert) => void,
  ) {
    this.mask = new Set(categories);
    this.queueSize = queueSize;
  }

  configure(categories: readonly AlertCategory[], queueSize: number): void {
    this.mask = new Set(categories);
    this.queueSize = queueSize;
  }

  /** Someone would receive an alert of this type: build it only then (the hot path stays cheap). */
  wants(type: AlertType): boolean {
    return (this.subs.size > 0 || this.listening()) && this.mask.has(alertCategories[type]);
  }

  post(a: Alert): void {
    if (!this.mask.has(a.category)) return;
    for (const s of this.subs) s.push(a);
    this.sink(a);
  }

  subscribe(): AlertSubscription {
    const s = new Subscription(
      () => this.queueSize,
      (x) => this.subs.delete(x),
    );
    this.subs.add(s);
    return s;
  }

  /** The session closed: iterators end once their queues are read. */
  close(): void {
    for (const s of [...this.subs]) s.finish();
  }
}
