/**
 * Every torrent's events reach the session here, through one hook all torrents share
 * (TorrentHost.torrentEvent) instead of some twenty listeners on each torrent: the Client's own
 * events (with the torrent first), resume saves, counters and alerts, then each service's
 * `torrentEvent`. It runs before the torrent's own listeners, as listeners added first did.
 */
import type { Torrent } from '../torrent/torrent.js';
import type { TorrentEventRecord } from '../torrent/types.js';
import type { ClientService } from '../torrent/engine-extension.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import type { ClientEvents } from './events.js';
import type { SessionObserver } from './session-observer.js';

export interface TorrentEventsHost {
  readonly client: TypedEmitter<ClientEvents>;
  readonly observer: SessionObserver;
  services(): readonly ClientService[];
  /** Renamed files must be found after a crash too: renames, moves and completion save at once. */
  saveResume(t: Torrent): void;
}

export function routeTorrentEvent(h: TorrentEventsHost, t: Torrent, e: TorrentEventRecord): void {
  const client = h.client;
  switch (e.event) {
    case 'peer-connect':
      client.emit('peer-connect', t, ...e.args);
      break;
    case 'piece-hash-pass':
      client.emit('piece-hash-pass', t, ...e.args);
      break;
    case 'piece-hash-fail':
      client.emit('piece-hash-fail', t, ...e.args);
      break;
    case 'check-progress':
      client.emit('check-progress', t, ...e.args);
      break;
    case 'state':
      client.emit('torrent-state', t, ...e.args);
      break;
    case 'renamed':
    case 'moved':
      h.saveResume(t);
      break;
    case 'done':
      client.emit('torrent-done', t);
      h.saveResume(t);
      break;
    case 'error':
      client.emit('torrent-error', t, ...e.args);
      break;
    case 'file-error':
      client.emit('file-error', t, ...e.args);
      break;
    case 'banned':
      client.emit('banned', t, ...e.args);
      break;
    case 'web-seed-error':
      client.emit('web-seed-error', t, ...e.args);
      break;
    case 'tracker-announce':
      client.emit('tracker-announce', t, ...e.args);
      break;
    case 'tracker-warning':
      client.emit('tracker-warning', t, ...e.args);
      break;
    case 'tracker-error':
      client.emit('tracker-error', t, ...e.args);
      break;
  }
  h.observer.torrentEvent(t, e);
  // One service's failure must not keep the event from the others.
  let failure: unknown;
  for (const s of h.services()) {
    try {
      s.torrentEvent?.(t, e);
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== undefined) throw failure;
}
