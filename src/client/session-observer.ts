/**
 * What a session reports about itself: the alert stream (src/client/alerts.ts), the counters
 * (src/client/counters.ts) and the listener error policy (a throwing listener of the Client, a
 * Torrent or a Peer becomes a `listener-error` event and alert; the engine carries on).
 */
import type { Clock } from '../util/clock.js';
import type { Peer } from '../peer/index.js';
import type { DisconnectInfo } from '../peer/disconnect.js';
import type { Torrent } from '../torrent/torrent.js';
import type { TorrentEventRecord } from '../torrent/types.js';
import { warnListenerError, type TypedEmitter } from '../util/typed-emitter.js';
import type { AlertCategory } from './alerts.js';
import { AlertHub, type AlertSubscription } from './alerts.js';
import { alertOfEvent, eventAlertType, makeAlert } from './alert-records.js';
import { CounterSet, type SessionCounters } from './counters.js';
import type { ClientEvents, ListenerErrorInfo } from './events.js';

/** What the observer needs from the Client. */
export interface ObserverHost {
  readonly clock: Clock;
  emit: TypedEmitter<ClientEvents>['emit'];
  listenerCount(event: 'alert'): number;
  /** Open connections. */
  connections(): Iterable<Peer<unknown>>;
  torrents(): readonly Torrent[];
}

export class SessionObserver {
  readonly counters = new CounterSet();
  readonly alerts: AlertHub;

  constructor(
    private readonly host: ObserverHost,
    categories: readonly AlertCategory[],
    queueSize: number,
  ) {
    this.alerts = new AlertHub(
      categories,
      queueSize,
      () => host.listenerCount('alert') > 0,
      (a) => host.emit('alert', a),
    );
  }

  /** A Client event was emitted: post its alert. */
  eventEmitted(event: keyof ClientEvents, args: readonly unknown[]): void {
    const type = eventAlertType[event];
    if (type === undefined || !this.alerts.wants(type)) return;
    // A failing 'alert' listener is reported as an event only: its alert would fail again.
    if (event === 'listener-error' && (args[0] as ListenerErrorInfo).event === 'alert') return;
    const a = alertOfEvent(event, args, this.host.clock.now());
    if (a) this.alerts.post(a);
  }

  /** A listener threw (see TypedEmitter.setListenerErrorHandler). */
  listenerFailed(info: ListenerErrorInfo): void {
    // A throwing 'listener-error' listener falls back to a process warning (no loop).
    if (info.event === 'listener-error') throw info.error;
    // Nobody listening: a process warning, so that the bug is not silent.
    if (!this.host.emit('listener-error', info)) warnListenerError(info.error, info.event);
  }

  /** The listener error policy of a new torrent (its events come to torrentEvent). */
  torrentAdded(t: Torrent): void {
    t.setListenerErrorHandler((error, event) =>
      this.listenerFailed({ emitter: 'torrent', event, error, torrent: t }),
    );
  }

  /** Counters, and the alerts of the Torrent events the Client does not re-emit. */
  torrentEvent(t: Torrent, e: TorrentEventRecord): void {
    switch (e.event) {
      case 'piece-hash-pass':
        this.counters.piecePassed();
        break;
      case 'piece-hash-fail':
        this.counters.pieceFailed(t.metainfo.pieceSize(e.args[0]));
        break;
      case 'metadata': {
        const m = e.args[0];
        if (this.alerts.wants('metadata-received'))
          this.alerts.post(
            makeAlert('metadata-received', this.context(t), {
              name: m.name,
              pieces: m.pieceCount,
              length: m.length,
            }),
          );
        break;
      }
      case 'finished':
        if (this.alerts.wants('torrent-finished'))
          this.alerts.post(makeAlert('torrent-finished', this.context(t), { name: t.name }));
        break;
      case 'peers': {
        const [addrs, source] = e.args;
        if (this.alerts.wants('peers-added'))
          this.alerts.post(
            makeAlert('peers-added', this.context(t), { count: addrs.length, source: source.kind }),
          );
        break;
      }
    }
  }

  private context(t: Torrent): { time: number; infoHash: string } {
    return { time: this.host.clock.now(), infoHash: t.infoHashHex };
  }

  torrentRemoved(t: Torrent): void {
    this.counters.torrentGone(t.wastedBytes, webSeedBytes(t));
  }

  /** A connection was dialled or accepted (counters). */
  connectionOpened(peer: Peer<Torrent>): void {
    this.counters.connectionOpened(peer.source.kind);
  }

  /** Engine code listening to the connection threw (the peer closes with INTERNAL_ERROR). */
  connectionFailed(peer: Peer<Torrent>, error: Error, event: string, torrent: Torrent | undefined): void {
    const info: ListenerErrorInfo = { emitter: 'peer', event, error, peer };
    if (torrent) info.torrent = torrent;
    this.listenerFailed(info);
  }

  /** The connection completed its handshake and joined a torrent. */
  connectionJoined(peer: Peer<unknown>): void {
    this.counters.connectionJoined(peer.source.kind);
  }

  connectionClosed(peer: Peer<unknown>, info: DisconnectInfo): void {
    this.counters.connectionClosed(peer, info.reason);
  }

  snapshot(): SessionCounters {
    let wasted = 0;
    let webSeed = 0;
    for (const t of this.host.torrents()) {
      wasted += t.wastedBytes;
      webSeed += webSeedBytes(t);
    }
    return this.counters.snapshot(this.host.connections(), wasted, webSeed);
  }

  /** A `session-stats` alert with the counters (when the stats category is wanted). */
  postStats(): void {
    if (this.alerts.wants('session-stats'))
      this.alerts.post(makeAlert('session-stats', { time: this.host.clock.now() }, this.snapshot()));
  }

  subscribe(): AlertSubscription {
    return this.alerts.subscribe();
  }

  close(): void {
    this.alerts.close();
  }
}

/** Piece bytes a torrent's web seeds delivered this session. */
function webSeedBytes(t: Torrent): number {
  let n = 0;
  for (const w of t.webSeeds) n += w.downloaded;
  return n;
}
