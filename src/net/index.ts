export type { Transport, Connector, Listener, Network } from './transport.js';
export { TcpTransport, tcpNetwork, boundTcpConnector } from './tcp.js';
export { Dial, dialPlan, type DialAttempt, type DialEvents, type DialFailure } from './dial.js';
export * from './udp.js';
export {
  bindDatagramSocket,
  openUdpEndpoint,
  SocketEndpoint,
  type DatagramSocket,
  type BindOptions,
} from './udp-socket.js';
export { UdpMux, classifyDatagram, type UdpMuxStats } from './udp-mux.js';
export { MemoryUdpNetwork, MemoryDatagramSocket, memoryEndpointPair } from './udp-memory.js';
