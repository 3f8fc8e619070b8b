import type { Bitfield } from '../util/bitfield.js';
import { formatAddress } from '../util/compact.js';
import type { PeerEncryption, PeerSource, PeerState } from './types.js';

/** What asString needs from a Peer (kept structural so this file does not import the class). */
export interface PeerView {
  host: string;
  port: number;
  incoming: boolean;
  source: PeerSource;
  transport: string;
  peerId: Buffer | undefined;
  clientName: string;
  infoHash: Buffer | undefined;
  state: PeerState;
  encryption: PeerEncryption;
  fastExtension: boolean;
  extensionProtocol: boolean;
  amChoking: boolean;
  amInterested: boolean;
  peerChoking: boolean;
  peerInterested: boolean;
  downloadRate: number;
  uploadRate: number;
  downloadRateTotal: number;
  uploadRateTotal: number;
  downloaded: number;
  uploaded: number;
  bytesReceived: number;
  bytesSent: number;
  requestsOut: number;
  requestsIn: number;
  bitfield: Bitfield;
  connectedAt: number | undefined;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

export function formatRate(n: number): string {
  return `${formatBytes(Math.round(n))}/s`;
}

function printableId(id: Buffer): string {
  const s = id.toString('latin1');
  return /^[\x20-\x7e]*$/.test(s) ? s : id.toString('hex');
}

/**
 * Net::BitTorrent's as_string, modernised: one header line, then indented fields. Flags use its
 * words: Interested (the peer wants our data), Interesting (we want theirs), Choked (the peer
 * chokes us), Choking (we choke the peer).
 */
export function formatPeer(p: PeerView, verbose: boolean, now: number): string {
  const lines: string[] = [];
  const dir = p.incoming
    ? 'incoming'
    : `outgoing (${p.source.kind}${p.source.url ? ` ${p.source.url}` : ''})`;
  lines.push(`Peer ${formatAddress(p)} — ${dir}, ${p.transport}, ${p.state}`);
  const id = p.peerId ? `${printableId(p.peerId)} (${p.clientName})` : '(no handshake yet)';
  lines.push(`  id:          ${id}`);
  if (p.infoHash) lines.push(`  info-hash:   ${p.infoHash.toString('hex')}`);
  const flags = [
    p.peerInterested ? 'Interested' : 'not interested',
    p.amInterested ? 'Interesting' : 'not interesting',
    p.peerChoking ? 'Choked' : 'not choked',
    p.amChoking ? 'Choking' : 'not choking',
  ];
  lines.push(`  flags:       ${flags.join(', ')}`);
  const features = [p.fastExtension ? 'fast' : '', p.extensionProtocol ? 'extended' : ''].filter(Boolean);
  lines.push(`  encryption:  ${p.encryption}${features.length ? `; features: ${features.join(', ')}` : ''}`);
  lines.push(
    `  rates:       down ${formatRate(p.downloadRate)} (total ${formatRate(p.downloadRateTotal)}), ` +
      `up ${formatRate(p.uploadRate)} (total ${formatRate(p.uploadRateTotal)})`,
  );
  lines.push(
    `  transferred: down ${formatBytes(p.downloaded)} (total ${formatBytes(p.bytesReceived)}), ` +
      `up ${formatBytes(p.uploaded)} (total ${formatBytes(p.bytesSent)})`,
  );
  lines.push(`  requests:    ${p.requestsOut} out, ${p.requestsIn} in`);
  if (p.connectedAt !== undefined)
    lines.push(`  connected:   ${Math.round((now - p.connectedAt) / 1000)} s ago`);
  const bf = p.bitfield;
  if (bf.size > 0) {
    const pct = ((bf.count / bf.size) * 100).toFixed(1);
    lines.push(`  pieces:      ${bf.count}/${bf.size} (${pct}%)`);
    if (verbose) lines.push(`  map:         [${bf.map(64)}]`);
  } else if (verbose) lines.push('  pieces:      unknown');
  return lines.join('\n');
}
