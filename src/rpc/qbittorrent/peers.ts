/**
 * sync/torrentPeers: a torrent's connected peers keyed by "ip:port", with qBittorrent's fields
 * and flags (D/d U/u K ? the interest and choke states, I incoming, E encrypted, P uTP, X/H/L
 * from PEX/DHT/LSD). Always a full update: peer lists are small and change every second.
 */
import type { Torrent } from '../../torrent/torrent.js';
import { one, type Endpoint } from './call.js';

type Peer = Torrent['peers'][number];

/** qBittorrent's peer flags and their legend (the web UI shows them too). */
export function peerFlags(p: Peer): [string, string] {
  const out: [string, string][] = [];
  if (p.amInterested)
    out.push(p.peerChoking ? ['d', 'interested (local) and choked (peer)'] : ['D', 'downloading']);
  if (p.peerInterested)
    out.push(p.amChoking ? ['u', 'interested (peer) and choked (local)'] : ['U', 'uploading']);
  if (!p.amInterested && !p.peerChoking) out.push(['K', 'not interested (local) and unchoked (peer)']);
  if (!p.peerInterested && !p.amChoking) out.push(['?', 'not interested (peer) and unchoked (local)']);
  if (p.incoming) out.push(['I', 'incoming connection']);
  if (p.encryption === 'rc4') out.push(['E', 'encrypted traffic']);
  if (p.transport === 'utp') out.push(['P', 'μTP']);
  const from = {
    pex: ['X', 'peer from PEX'],
    dht: ['H', 'peer from DHT'],
    lsd: ['L', 'peer from LSD'],
  } as const;
  const f = from[p.source.kind as keyof typeof from];
  if (f) out.push([f[0], f[1]]);
  return [out.map((x) => x[0]).join(' '), out.map(([k, d]) => `${k} = ${d}`).join('\n')];
}

export const peerEndpoints: Record<string, Endpoint> = {
  'sync/torrentPeers': {
    run: (c) => {
      const e = one(c);
      const t = e.torrent;
      const pieces = t?.hasMetadata ? t.metainfo.pieceCount : 0;
      const peers: Record<string, unknown> = {};
      for (const p of t?.peers ?? []) {
        if (p.state !== 'connected') continue;
        const [f, desc] = peerFlags(p);
        peers[`${p.host}:${p.port}`] = {
          client: p.clientName,
          connection: p.transport === 'utp' ? 'μTP' : 'BT',
          country: '',
          country_code: '',
          dl_speed: Math.round(p.downloadRate),
          downloaded: p.downloaded,
          files: '',
          flags: f,
          flags_desc: desc,
          ip: p.host,
          port: p.port,
          progress: pieces > 0 ? p.bitfield.count / pieces : 0,
          relevance: 0,
          up_speed: Math.round(p.uploadRate),
          uploaded: p.uploaded,
        };
      }
      return { json: { full_update: true, peers, rid: c.nextRid(), show_flags: true } };
    },
  },
};
