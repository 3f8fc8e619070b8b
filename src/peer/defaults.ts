import type { PeerTimeouts } from './types.js';
import { PACKAGE_VERSION } from '../util/version.js';

/** `v` in our extension handshake unless the caller gives one. */
export const CLIENT_VERSION = `net-bittorrent ${PACKAGE_VERSION}`;

export type ResolvedTimeouts = Required<PeerTimeouts>;

export const DEFAULT_TIMEOUTS: Readonly<ResolvedTimeouts> = {
  connect: 15_000,
  handshake: 30_000,
  keepAlive: 120_000,
  idle: 180_000,
  useless: 180_000,
  race: 500,
};

/** Resolved once per options object: connections that share their options share this too. */
const resolved = new WeakMap<PeerTimeouts, Readonly<ResolvedTimeouts>>();

/** The timeouts in effect (read-only: the object may be shared by many connections). */
export function resolveTimeouts(t?: PeerTimeouts): Readonly<ResolvedTimeouts> {
  if (!t) return DEFAULT_TIMEOUTS;
  let r = resolved.get(t);
  if (!r) {
    r = { ...DEFAULT_TIMEOUTS, ...Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) };
    resolved.set(t, r);
  }
  return r;
}
