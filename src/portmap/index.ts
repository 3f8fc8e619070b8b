export * from './natpmp-codec.js';
export * from './upnp-codec.js';
export * from './types.js';
export { NatPmpClient, type NatPmpClientOptions } from './natpmp-client.js';
export { UpnpClient, type UpnpClientOptions } from './upnp-client.js';
export { PortMapper, type PortMapperOptions, type PortMapperEvents } from './port-mapper.js';
export { gatewayHttp, type GatewayHttpRequest, type GatewayHttpAnswer } from './http.js';
