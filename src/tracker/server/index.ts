export { TrackerServer, type TrackerServerOptions, type TrackerServerEvents } from './tracker-server.js';
export {
  SwarmStore,
  normalizeHost,
  type SwarmOptions,
  type SwarmAnnounce,
  type SwarmReply,
} from './swarm.js';
export { ConnectionIds } from './connection-id.js';
export { handleTrackerHttp, type HttpReply, type HttpHandlerOptions } from './http-handler.js';
export { handleTrackerUdp } from './udp-handler.js';
