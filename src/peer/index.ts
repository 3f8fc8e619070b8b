export { Peer } from './peer.js';
export * from './types.js';
export * from './disconnect.js';
