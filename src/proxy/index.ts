export {
  parseProxyUrl,
  checkProxyConfig,
  describeProxy,
  MAX_PROXY_FIELD,
  type ProxyConfig,
  type ProxyType,
} from './config.js';
export {
  encodeSocksUdp,
  decodeSocksUdp,
  encodeSocksAddress,
  decodeSocksAddress,
  type SocksUdpDatagram,
} from './socks5-udp.js';
export {
  encodeConnectRequest,
  ConnectResponseParser,
  MAX_HEAD_BYTES,
  type ConnectVerdict,
} from './http-connect.js';
export { openSocksBind, type SocksBind, type SocksBindOptions } from './socks-bind.js';
export { openTunnel, openUdpAssociation, type TunnelOptions, type PendingTunnel } from './tunnel.js';
export { ProxyConnector, TunnelTransport, type ProxyConnectorOptions } from './connector.js';
export { httpAgents, type HttpAgents, type HttpRoute } from './agent.js';
export { SocksUdpSocket, type SocksUdpOptions, type SocksUdpStats } from './udp-associate.js';
export { resolveBindAddress } from './bind.js';
