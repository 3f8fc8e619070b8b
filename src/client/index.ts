export { Client, type AddTorrentOptions, type RemoveTorrentOptions } from './client.js';
export type { ClientEvents, ListenerErrorInfo } from './events.js';
export {
  alertCategories,
  type Alert,
  type AlertBase,
  type AlertCategory,
  type AlertPayloads,
  type AlertType,
  type AlertSubscription,
} from './alerts.js';
export type { SessionCounters } from './counters.js';
export {
  type ClientOptions,
  type ConnectionLimits,
  PEER_ID_PREFIX,
  makePeerId,
  defaultLimits,
} from './options.js';
export { IpFilter, type IpFilterHook } from './ip-filter.js';
export {
  TypedEmitter,
  type EventMap,
  type EventRecord,
  type ListenerErrorHandler,
} from '../util/typed-emitter.js';
export { BandwidthLimiter } from '../util/bandwidth.js';
export type { EngineExtension, ClientService } from '../torrent/engine-extension.js';
export {
  TrackerService,
  UNKNOWN_LEFT,
  type TrackerServiceOptions,
  type TrackerServiceHost,
  type MagnetAnnouncer,
} from './tracker-service.js';
export type { PortMapping, PortMappingFailure } from '../portmap/types.js';
