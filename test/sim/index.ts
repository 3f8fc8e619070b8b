/** The simulated network for tests: virtual time, hosts, links, datagrams and TCP-like streams. */
export { Simulation, type SimulationOptions, type RunOptions, type Cancellable } from './scheduler.js';
export { Prng } from './prng.js';
export { Link, defaultLinkParams, mbit, type LinkParams, type LinkStats } from './link.js';
export { SimNetwork, SimHost, TRACE, type HostOptions, type NetworkOptions, type Packet } from './network.js';
export { SimStream, defaultTcpTuning, TCP_HEADER, type TcpTuning } from './tcp.js';
export { SimUdpSocket, UDP_HEADER } from './datagram.js';
export {
  SimSwarm,
  InlineHashPool,
  LISTEN_PORT,
  type Member,
  type MemberOptions,
  type SimTorrent,
} from './swarm.js';
export { FakePeer, type FakePeerScript } from './fake-peer.js';
