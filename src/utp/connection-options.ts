/** What a uTP connection is made with, its events and states, and the tuning defaults. */
import type { NbtError } from '../util/errors.js';
import type { UtpPacket } from './packet.js';

export type UtpState = 'syn-sent' | 'syn-recv' | 'connected' | 'closed';
export type UtpEvent = { type: 'connected' } | { type: 'end' } | { type: 'closed'; error?: NbtError };

export interface UtpConnectionOptions {
  /** Our receive id (packets to us carry it) and send id (packets we send carry it). */
  recvId: number;
  sendId: number;
  /** Our first sequence number (random in production). */
  seq: number;
  /** The SYN when accepting; absent when we dial. */
  syn?: UtpPacket;
  now: number;
  /** Receive buffer, bytes (the window we advertise when empty). */
  receiveBuffer?: number;
  /** UDP payload sizes: start (known good) and the most to probe for. */
  mtu?: number;
  mtuCeiling?: number;
  /** SYN retransmissions before giving up; data timeouts in a row before giving up. */
  synResends?: number;
  maxTimeouts?: number;
  /** An accepted connection that sees no data this long is dropped (ms). */
  halfOpenTimeout?: number;
  keepAliveInterval?: number;
}

/** The tunables, defaults filled in. */
export type ConnectionTuning = Required<
  Omit<UtpConnectionOptions, 'syn' | 'recvId' | 'sendId' | 'seq' | 'now'>
>;

export function withDefaults(o: UtpConnectionOptions): ConnectionTuning {
  return {
    receiveBuffer: o.receiveBuffer ?? 1024 * 1024,
    mtu: o.mtu ?? 1232,
    mtuCeiling: o.mtuCeiling ?? 1472,
    synResends: o.synResends ?? 2,
    maxTimeouts: o.maxTimeouts ?? 8,
    halfOpenTimeout: o.halfOpenTimeout ?? 20_000,
    keepAliveInterval: o.keepAliveInterval ?? 29_000,
  };
}
