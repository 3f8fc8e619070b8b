export * from './krpc.js';
export * from './node-id.js';
export {
  RoutingTable,
  K,
  NODE_GOOD_MS,
  BUCKET_REFRESH_MS,
  MAX_FAILURES,
  type NodeState,
  type RoutingNode,
  type InsertResult,
  type RoutingTableOptions,
} from './routing-table.js';
export { TokenManager, TOKEN_ROTATE_MS } from './tokens.js';
export { PeerStore, PEER_TTL_MS, type PeerStoreOptions } from './peer-store.js';
export { SourceRateLimiter, type RateLimitOptions } from './rate-limit.js';
export { Lookup, type LookupOptions, type AnsweredNode } from './lookup.js';
export { answerQuery, type QueryServerContext, type QueryOutcome } from './server.js';
export { TransactionTable, type Pending } from './transactions.js';
export { parseDhtState, type DhtState } from './state.js';
export {
  DhtNode,
  DEFAULT_BOOTSTRAP,
  type DhtNodeOptions,
  type DhtPeer,
  type DhtStats,
  type AnnounceResult,
} from './node.js';
