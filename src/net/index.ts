export type { Transport, Connector, Listener, Network } from './transport.js';
export { TcpTransport, tcpNetwork } from './tcp.js';
export { Dial, dialPlan, type DialAttempt, type DialEvents, type DialFailure } from './dial.js';
