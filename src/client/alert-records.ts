/**
 * Builds the alert record of each Client event (src/client/alerts.ts): the typed events and the
 * alerts come from the same emit, so every event has its record. Buffers become hex strings,
 * peers "host:port", errors their code and message.
 */
import type { Peer } from '../peer/index.js';
import { formatAddress } from '../util/compact.js';
import { errorMessage } from '../util/errors.js';
import type { Torrent } from '../torrent/torrent.js';
import type { ClientEvents } from './events.js';
import { alertCategories, type Alert, type AlertPayloads, type AlertType } from './alerts.js';

type Ctx = { time: number; infoHash?: string; peer?: string };

/** An alert of `type` with its category, the context fields and the payload. */
export function makeAlert<K extends AlertType>(type: K, ctx: Ctx, payload: AlertPayloads[K]): Alert {
  return { type, category: alertCategories[type], ...ctx, ...payload } as Alert;
}

export function peerAddress(p: Peer<unknown>): string {
  return formatAddress({ host: p.host, port: p.port });
}

function codeOf(e: Error): string {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' ? c : e.name;
}

/** The alert type each Client event maps to (`alert` itself has none). */
export const eventAlertType: { readonly [K in keyof ClientEvents]: AlertType | undefined } = {
  alert: undefined,
  listening: 'listening',
  'torrent-added': 'torrent-added',
  'torrent-removed': 'torrent-removed',
  'peer-connect': 'peer-connect',
  'peer-disconnect': 'peer-disconnect',
  'piece-hash-pass': 'piece-hash-pass',
  'piece-hash-fail': 'piece-hash-fail',
  'check-progress': 'check-progress',
  'torrent-state': 'torrent-state',
  'lsd-peer': 'lsd-peer',
  'torrent-done': 'torrent-done',
  'torrent-error': 'torrent-error',
  'file-error': 'file-error',
  banned: 'banned',
  'resume-saved': 'resume-saved',
  'tracker-announce': 'tracker-announce',
  'tracker-warning': 'tracker-warning',
  'tracker-error': 'tracker-error',
  'web-seed-error': 'web-seed-error',
  'peer-error': 'peer-error',
  'listener-error': 'listener-error',
  'settings-changed': 'settings-changed',
  warning: 'warning',
  'port-mapped': 'port-mapped',
  'port-mapping-error': 'port-mapping-error',
};

/** The alert record of one Client event (undefined for `alert`). */
export function alertOfEvent(
  event: keyof ClientEvents,
  args: readonly unknown[],
  time: number,
): Alert | undefined {
  const t = (i: number): Ctx => ({ time, infoHash: (args[i] as Torrent).infoHashHex });
  const tp = (ti: number, pi: number): Ctx => {
    const torrent = args[ti] as Torrent | undefined;
    const c: Ctx = { time, peer: peerAddress(args[pi] as Peer<unknown>) };
    if (torrent) c.infoHash = torrent.infoHashHex;
    return c;
  };
  switch (event) {
    case 'alert':
      return undefined;
    case 'listening':
      return makeAlert('listening', { time }, { port: args[0] as number });
    case 'torrent-added':
    case 'torrent-removed':
    case 'torrent-done':
      return makeAlert(event, t(0), { name: (args[0] as Torrent).name });
    case 'peer-connect': {
      const [, p] = args as ClientEvents['peer-connect'];
      return makeAlert('peer-connect', tp(0, 1), {
        incoming: p.incoming,
        source: p.source.kind,
        encryption: p.encryption,
        client: p.clientName,
      });
    }
    case 'peer-disconnect': {
      const [p, info, torrent] = args as ClientEvents['peer-disconnect'];
      const payload: AlertPayloads['peer-disconnect'] = {
        reason: info.reason,
        name: info.name,
        description: info.description,
        incoming: p.incoming,
        source: p.source.kind,
        joined: torrent !== undefined,
      };
      if (info.errno !== undefined) payload.errno = info.errno;
      if (info.message !== undefined) payload.message = info.message;
      // A refused handshake still names the torrent the peer asked for.
      const ctx = tp(2, 0);
      if (!torrent && p.infoHash) ctx.infoHash = p.infoHash.toString('hex');
      return makeAlert('peer-disconnect', ctx, payload);
    }
    case 'piece-hash-pass':
      return makeAlert(event, t(0), { piece: args[1] as number });
    case 'piece-hash-fail':
      return makeAlert(event, t(0), { piece: args[1] as number, senders: [...(args[2] as string[])] });
    case 'check-progress':
      return makeAlert(event, t(0), { checked: args[1] as number, total: args[2] as number });
    case 'torrent-state': {
      const [, state, previous] = args as ClientEvents['torrent-state'];
      return makeAlert(event, t(0), { state, previous });
    }
    case 'torrent-error': {
      const e = args[1] as Error;
      return makeAlert(event, t(0), { code: codeOf(e), message: e.message });
    }
    case 'file-error':
      return makeAlert(event, t(0), { ...(args[1] as ClientEvents['file-error'][1]) });
    case 'lsd-peer': {
      const [torrent, peer] = args as ClientEvents['lsd-peer'];
      return makeAlert(
        event,
        { time, infoHash: torrent.infoHashHex, peer: formatAddress(peer) },
        { source: 'lsd' },
      );
    }
    case 'banned':
      return makeAlert(event, t(0), { host: args[1] as string });
    case 'resume-saved':
      return makeAlert(event, t(0), {});
    case 'tracker-announce': {
      const i = (args as ClientEvents['tracker-announce'])[1];
      const payload: AlertPayloads['tracker-announce'] = {
        url: i.url,
        event: i.event,
        peers: i.peers,
        interval: i.interval,
      };
      if (i.seeders !== undefined) payload.seeders = i.seeders;
      if (i.leechers !== undefined) payload.leechers = i.leechers;
      return makeAlert(event, t(0), payload);
    }
    case 'tracker-warning': {
      const i = (args as ClientEvents['tracker-warning'])[1];
      return makeAlert(event, t(0), { url: i.url, message: i.message });
    }
    case 'tracker-error': {
      const i = (args as ClientEvents['tracker-error'])[1];
      return makeAlert(event, t(0), { url: i.url, event: i.event, code: i.code, message: i.message });
    }
    case 'web-seed-error': {
      const i = (args as ClientEvents['web-seed-error'])[1];
      const payload: AlertPayloads['web-seed-error'] = {
        url: i.url,
        code: i.code,
        message: i.message,
        dropped: i.dropped,
      };
      if (i.retryInMs !== undefined) payload.retryInMs = i.retryInMs;
      return makeAlert(event, t(0), payload);
    }
    case 'peer-error': {
      const [, e] = args as ClientEvents['peer-error'];
      return makeAlert(event, tp(2, 0), { message: e.message });
    }
    case 'listener-error': {
      const [i] = args as ClientEvents['listener-error'];
      const ctx: Ctx = { time };
      if (i.torrent) ctx.infoHash = i.torrent.infoHashHex;
      if (i.peer) ctx.peer = peerAddress(i.peer);
      const payload: AlertPayloads['listener-error'] = {
        emitter: i.emitter,
        event: i.event,
        message: errorMessage(i.error),
      };
      if (i.error.stack) payload.stack = i.error.stack;
      return makeAlert(event, ctx, payload);
    }
    case 'settings-changed':
      return makeAlert(event, { time }, { names: [...(args[0] as string[])] });
    case 'port-mapped': {
      const [m, renewal] = args as ClientEvents['port-mapped'];
      const { mapper, protocol, internalPort, externalPort, leaseSec } = m;
      const payload: AlertPayloads['port-mapped'] = {
        mapper,
        protocol,
        internalPort,
        externalPort,
        leaseSec,
        renewal,
      };
      if (m.externalAddress) payload.externalAddress = m.externalAddress;
      return makeAlert(event, { time }, payload);
    }
    case 'port-mapping-error': {
      const [f] = args as ClientEvents['port-mapping-error'];
      const { mapper, protocol, internalPort } = f;
      return makeAlert(
        event,
        { time },
        { mapper, protocol, internalPort, code: codeOf(f.error), message: f.error.message },
      );
    }
    case 'warning': {
      const e = args[0] as Error;
      const code = (e as { code?: unknown }).code;
      return makeAlert(
        event,
        { time },
        typeof code === 'string' ? { code, message: e.message } : { message: e.message },
      );
    }
  }
}
