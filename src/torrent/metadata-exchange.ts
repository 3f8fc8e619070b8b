/**
 * BEP 9 in the engine: magnet torrents fetch their info dict over ut_metadata from every peer
 * that offers it (MetadataFetcher), verify it against the info-hash and become full torrents
 * (`Torrent.installMetainfo`); torrents with metadata serve it (MetadataServer). Peers whose
 * pieces prove wrong are dropped with METADATA_INVALID. Registered by the Client as both an
 * extension ('ut_metadata') and a service (timers, cleanup).
 */
import type { Peer } from '../peer/index.js';
import { DisconnectReason } from '../peer/disconnect.js';
import type { ExtendedHandshake } from '../wire/index.js';
import type { Metainfo } from '../metainfo/types.js';
import { parseInfoDict, type MagnetLink } from '../metainfo/index.js';
import {
  MetadataFetcher,
  MetadataServer,
  decodeMetadataMessage,
  encodeMetadataMessage,
  DEFAULT_MAX_METADATA_SIZE,
  type FetcherAction,
} from '../extensions/index.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { NbtError, errorMessage } from '../util/errors.js';
import type { ClientService, EngineExtension } from './engine-extension.js';
import type { Torrent } from './torrent.js';

export interface MetadataExchangeOptions {
  clock: Clock;
  /** Largest info dict accepted from peers (default 8 MiB). */
  maxSize?: number;
  /** Unanswered request timeout (default 20 s). */
  requestTimeoutMs?: number;
  /** The metadata of a magnet arrived and verified (the client saves the .torrent). */
  fetched?: (torrent: Torrent, info: Buffer) => void;
  warn?: (e: Error) => void;
}

interface Fetch {
  fetcher: MetadataFetcher;
  peers: Map<string, Peer<unknown>>;
}

const TICK_MS = 2000;

/**
 * A stand-in Metainfo for a magnet link until its info dict is known: no pieces, no files.
 * The Torrent stays in the 'metadata' state while it has one.
 */
export function placeholderMetainfo(link: MagnetLink): Metainfo {
  const none = (): never => {
    throw new NbtError('METADATA_UNKNOWN', 'the metadata of this magnet link is not known yet');
  };
  return {
    version: link.infoHashes.v1 ? (link.infoHashes.v2 ? 'hybrid' : 1) : 2,
    infoHashes: link.infoHashes,
    infoHash: link.infoHash,
    infoHashHex: link.infoHashHex,
    info: Buffer.alloc(0),
    name: link.name ?? link.infoHashHex,
    // Not zero: the (idle) piece picker of the placeholder wants a valid length.
    pieceLength: 16 * 1024,
    pieceCount: 0,
    lastPieceLength: 0,
    length: 0,
    pieces: Buffer.alloc(0),
    pieceLayers: new Map(),
    files: [],
    multiFile: false,
    announce: [],
    urlList: [...link.webSeeds],
    httpSeeds: [],
    nodes: [],
    private: false,
    pieceHash: none,
    pieceSize: none,
    pieceRange: none,
    slices: none,
  };
}

/** A .torrent file holding just the info dict (and the magnet's trackers), to skip a refetch. */
export function torrentFileFromInfo(
  info: Buffer,
  trackers: readonly string[] = [],
  pieceLayers: ReadonlyMap<string, Buffer> = new Map(),
): Buffer {
  const parts: Buffer[] = [Buffer.from('d')];
  const str = (s: string): Buffer => Buffer.from(`${Buffer.byteLength(s)}:${s}`);
  if (trackers.length > 0) {
    parts.push(str('announce'), str(trackers[0]!));
    parts.push(str('announce-list'), Buffer.from('l'));
    for (const t of trackers) parts.push(Buffer.from('l'), str(t), Buffer.from('e'));
    parts.push(Buffer.from('e'));
  }
  parts.push(str('info'), info);
  if (pieceLayers.size > 0) {
    // BEP 52 layers learned from peers (root → hashes), keys in byte order as bencode wants.
    parts.push(str('piece layers'), Buffer.from('d'));
    for (const hex of [...pieceLayers.keys()].sort()) {
      const layer = pieceLayers.get(hex)!;
      parts.push(Buffer.from('32:'), Buffer.from(hex, 'hex'), Buffer.from(`${layer.length}:`), layer);
    }
    parts.push(Buffer.from('e'));
  }
  parts.push(Buffer.from('e'));
  return Buffer.concat(parts);
}

export class MetadataExchange implements EngineExtension, ClientService {
  readonly name = 'ut_metadata';
  private readonly o: MetadataExchangeOptions;
  private readonly fetches = new Map<Torrent, Fetch>();
  private readonly servers = new WeakMap<Metainfo, MetadataServer>();
  private readonly keys = new WeakMap<Peer<unknown>, string>();
  private nextKey = 0;
  private timer: TimerHandle | undefined;

  constructor(o: MetadataExchangeOptions) {
    this.o = { ...o };
  }

  /** A new request timeout for every fetch, running or to come (metadata_request_timeout). */
  setRequestTimeout(ms: number): void {
    this.o.requestTimeoutMs = ms;
    for (const f of this.fetches.values()) f.fetcher.setRequestTimeout(ms);
  }

  /** Bytes of a magnet torrent's metadata received so far (undefined when not fetching). */
  progress(torrent: Torrent): { received: number; total: number } | undefined {
    return this.fetches.get(torrent)?.fetcher.progress;
  }

  peerAttached(_torrent: Torrent, peer: Peer<unknown>): void {
    this.keys.set(peer, `${peer.host}:${peer.port}#${++this.nextKey}`);
  }

  peerHandshake(torrent: Torrent, peer: Peer<unknown>, hs: ExtendedHandshake): void {
    if (torrent.hasMetadata || torrent.metainfo.private) return;
    if (!hs.m.has('ut_metadata') || !hs.m.get('ut_metadata') || hs.metadataSize === undefined) return;
    const f = this.fetchOf(torrent);
    const key = this.keys.get(peer)!;
    f.peers.set(key, peer);
    this.apply(torrent, f, f.fetcher.addPeer(key, hs.metadataSize));
  }

  message(torrent: Torrent, peer: Peer<unknown>, payload: Buffer): void {
    let msg;
    try {
      msg = decodeMetadataMessage(payload);
    } catch (e) {
      peer.close(DisconnectReason.METADATA_INVALID, errorMessage(e));
      return;
    }
    const key = this.keys.get(peer)!;
    if (msg.type === 'request') {
      const server = this.serverOf(torrent);
      const reply = server
        ? server.respond(key, msg)
        : encodeMetadataMessage({ type: 'reject', piece: msg.piece });
      if (reply) peer.extended('ut_metadata', reply);
      return;
    }
    const f = this.fetches.get(torrent);
    if (f) this.apply(torrent, f, f.fetcher.onMessage(key, msg));
  }

  peerDetached(torrent: Torrent, peer: Peer<unknown>): void {
    const key = this.keys.get(peer);
    if (key === undefined) return;
    if (torrent.hasMetadata) this.servers.get(torrent.metainfo)?.forget(key);
    const f = this.fetches.get(torrent);
    if (f && f.peers.delete(key)) this.apply(torrent, f, f.fetcher.removePeer(key));
  }

  torrentRemoved(torrent: Torrent): void {
    this.fetches.delete(torrent);
    this.stopTimerIfIdle();
  }

  close(): void {
    this.fetches.clear();
    this.timer?.cancel();
    this.timer = undefined;
  }

  private serverOf(torrent: Torrent): MetadataServer | undefined {
    const m = torrent.metainfo;
    if (!torrent.hasMetadata || m.info.length === 0) return undefined;
    let s = this.servers.get(m);
    if (!s) this.servers.set(m, (s = new MetadataServer(m.info)));
    return s;
  }

  private fetchOf(torrent: Torrent): Fetch {
    let f = this.fetches.get(torrent);
    if (!f) {
      f = {
        fetcher: new MetadataFetcher({
          infoHash: torrent.infoHash,
          ...(torrent.metainfo.infoHashes.v2 ? { infoHashV2: torrent.metainfo.infoHashes.v2 } : {}),
          clock: this.o.clock,
          maxSize: this.o.maxSize ?? DEFAULT_MAX_METADATA_SIZE,
          ...(this.o.requestTimeoutMs !== undefined ? { requestTimeoutMs: this.o.requestTimeoutMs } : {}),
        }),
        peers: new Map(),
      };
      this.fetches.set(torrent, f);
      this.timer ??= this.o.clock.setInterval(() => this.tick(), TICK_MS);
    }
    return f;
  }

  private tick(): void {
    for (const [t, f] of this.fetches) this.apply(t, f, f.fetcher.tick());
  }

  private stopTimerIfIdle(): void {
    if (this.fetches.size > 0) return;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private apply(torrent: Torrent, f: Fetch, actions: FetcherAction[]): void {
    for (const a of actions) {
      if (a.type === 'request') {
        f.peers
          .get(a.peer)
          ?.extended('ut_metadata', encodeMetadataMessage({ type: 'request', piece: a.piece }));
      } else if (a.type === 'drop') {
        const peer = f.peers.get(a.peer);
        f.peers.delete(a.peer);
        // A peer that merely lacks the metadata or is slow may still be good for data.
        if (peer && (a.reason === 'bad-data' || a.reason === 'bad-size'))
          peer.close(DisconnectReason.METADATA_INVALID, `ut_metadata: ${a.reason}`);
      } else {
        this.complete(torrent, a.info);
      }
    }
  }

  private complete(torrent: Torrent, info: Buffer): void {
    this.fetches.delete(torrent);
    this.stopTimerIfIdle();
    let m: Metainfo;
    try {
      m = parseInfoDict(info);
    } catch (e) {
      // The hash matched, so the dict is what the creator made; it is just unusable.
      this.o.warn?.(new NbtError('METADATA_UNUSABLE', `verified metadata is invalid: ${errorMessage(e)}`));
      return;
    }
    torrent.installMetainfo(m);
    for (const p of torrent.peers) p.sendExtendedHandshake({ metadataSize: info.length });
    this.o.fetched?.(torrent, info);
  }
}
