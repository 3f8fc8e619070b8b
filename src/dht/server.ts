/**
 * Answers incoming KRPC queries (ping, find_node, get_peers, announce_peer) from the routing
 * table, token manager and peer store. Pure: a decoded query and its source address in, the
 * reply out (plus the peer to store, for announce_peer).
 */
import type { PeerAddress } from '../util/compact.js';
import {
  ErrorCode,
  type KrpcError,
  type KrpcQuery,
  type KrpcResponse,
  type NodeInfo,
  type ResponseBody,
} from './krpc.js';
import type { PeerStore } from './peer-store.js';
import type { RoutingTable } from './routing-table.js';
import type { TokenManager } from './tokens.js';

export interface QueryServerContext {
  id: Buffer;
  /** Our table for our socket's family (BEP 32: one table per family). */
  table: RoutingTable;
  family: 4 | 6;
  tokens: TokenManager;
  peers: PeerStore;
  /** Most peers returned in one get_peers answer (keeps the datagram small). */
  maxValues?: number;
}

export interface QueryOutcome {
  reply: KrpcResponse | KrpcError;
  /** Set when a valid announce_peer asked us to store a peer. */
  announced?: { infoHash: Buffer; peer: PeerAddress };
}

function error(q: KrpcQuery, from: PeerAddress, code: number, message: string): QueryOutcome {
  return { reply: { y: 'e', t: q.t, code, message, ip: from } };
}

function closestNodes(
  ctx: QueryServerContext,
  target: Buffer,
  want: QueryServerContext['family'][],
): Partial<ResponseBody> {
  const nodes: NodeInfo[] = ctx.table
    .closest(target, ctx.table.k)
    .map((n) => ({ id: n.id, host: n.host, port: n.port }));
  // We hold one family's nodes; a request that wants only the other family gets an empty list.
  if (want.length > 0 && !want.includes(ctx.family)) return ctx.family === 4 ? { nodes6: [] } : { nodes: [] };
  return ctx.family === 4 ? { nodes } : { nodes6: nodes };
}

export function answerQuery(q: KrpcQuery, from: PeerAddress, ctx: QueryServerContext): QueryOutcome {
  const want = (q.a.want ?? []).map((w) => (w === 'n4' ? 4 : 6) as 4 | 6);
  const ok = (body: Omit<ResponseBody, 'id'>): QueryOutcome => ({
    reply: { y: 'r', t: q.t, r: { id: ctx.id, ...body }, ip: from },
  });
  switch (q.q) {
    case 'ping':
      return ok({});
    case 'find_node':
      return ok(closestNodes(ctx, q.a.target!, want));
    case 'get_peers': {
      const infoHash = q.a.infoHash!;
      const token = ctx.tokens.tokenFor(from.host);
      const values = ctx.peers.get(infoHash, ctx.maxValues ?? 50);
      if (values.length > 0) return ok({ token, values });
      return ok({ token, ...closestNodes(ctx, infoHash, want) });
    }
    case 'announce_peer': {
      if (!q.a.token || !ctx.tokens.isValid(q.a.token, from.host))
        return error(q, from, ErrorCode.PROTOCOL, 'bad token');
      const port = q.a.impliedPort ? from.port : q.a.port;
      if (port === undefined || port < 1 || port > 65535)
        return error(q, from, ErrorCode.PROTOCOL, 'bad port');
      const peer = { host: from.host, port };
      ctx.peers.add(q.a.infoHash!, peer);
      return { ...ok({}), announced: { infoHash: q.a.infoHash!, peer } };
    }
    default:
      return error(q, from, ErrorCode.METHOD_UNKNOWN, 'Method Unknown');
  }
}
