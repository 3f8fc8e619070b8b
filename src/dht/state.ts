/** Saved DHT state (node id + routing table contacts), validated on load. */
import { isIP } from 'node:net';
import { NbtError } from '../util/errors.js';
import type { NodeInfo } from './krpc.js';

export interface DhtState {
  /** Our node id, 40 hex digits. */
  id: string;
  nodes: { id: string; host: string; port: number }[];
}

const MAX_SAVED_NODES = 2000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hexId(v: unknown): Buffer | undefined {
  return typeof v === 'string' && /^[0-9a-fA-F]{40}$/.test(v) ? Buffer.from(v, 'hex') : undefined;
}

/** Checks a saved state (e.g. from JSON.parse); bad node entries are skipped, a bad id throws. */
export function parseDhtState(state: unknown): { id: Buffer; nodes: NodeInfo[] } {
  if (!isRecord(state)) throw new NbtError('DHT_BAD_STATE', 'DHT state is not an object');
  const id = hexId(state.id);
  if (!id) throw new NbtError('DHT_BAD_STATE', 'DHT state has no valid "id"');
  const nodes: NodeInfo[] = [];
  const list = Array.isArray(state.nodes) ? state.nodes.slice(0, MAX_SAVED_NODES) : [];
  for (const n of list) {
    if (!isRecord(n)) continue;
    const nid = hexId(n.id);
    const { host, port } = n;
    if (
      !nid ||
      typeof host !== 'string' ||
      !isIP(host) ||
      typeof port !== 'number' ||
      !Number.isInteger(port) ||
      port < 1 ||
      port > 65535
    )
      continue;
    nodes.push({ id: nid, host, port });
  }
  return { id, nodes };
}
