/**
 * Where outgoing connections come from: an IP address, or a network interface by name (its
 * first IPv4 address, else its first IPv6 one). Node cannot bind a socket to a device
 * (SO_BINDTODEVICE), so an interface means its address, read once when the session starts.
 */
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { NbtError } from '../util/errors.js';

export function resolveBindAddress(
  spec: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string {
  const text = spec.trim();
  if (isIP(text)) return text;
  const list = interfaces[text];
  if (!list || list.length === 0)
    throw new NbtError('BIND_NO_INTERFACE', `no address or network interface named "${text.slice(0, 60)}"`);
  const pick = list.find((a) => a.family === 'IPv4') ?? list.find((a) => a.family === 'IPv6' && !a.scopeid);
  if (!pick) throw new NbtError('BIND_NO_INTERFACE', `network interface ${text} has no usable address`);
  return pick.address;
}
