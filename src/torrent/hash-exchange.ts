/**
 * BEP 52 hash exchange for one v2 torrent, sans-I/O: answers peers' hash requests from the piece
 * layers we know (and the tree layers above them, computed once per file), and fetches the piece
 * layers we lack (a v2 magnet's info dict has none) in 512-hash chunks, each proven against the
 * file's `pieces root` before it is kept. Messages and clock times in, answers and requests out.
 */
import {
  HASH_BYTES,
  MERKLE_BLOCK,
  blockHashes,
  merkleLayers,
  merkleRoot,
  nextPow2,
  rootFromProof,
  splitHashes,
} from '../hash/merkle.js';
import type { Metainfo } from '../metainfo/types.js';
import type { HashRef } from '../wire/index.js';

/** Piece hashes per request: libtorrent's chunk (16 KiB of hashes). */
export const PIECE_HASH_CHUNK = 512;
/** A request not answered in this long is asked of another peer. */
export const HASH_REQUEST_TIMEOUT_MS = 30_000;
/** Hash requests we keep outstanding per peer. */
export const HASH_REQUESTS_PER_PEER = 4;

/** One file's Merkle tree shape (files longer than a piece only: the others need no layer). */
interface FileTree {
  root: Buffer;
  hex: string;
  /** Pieces of the file (hashes in its piece layer, before padding). */
  pieces: number;
  /** 16 KiB leaves of the file (before padding), and its length. */
  blocks: number;
  fileLength: number;
  /** Layers above the leaves: the root is at layer `height`. */
  height: number;
  /** Index of the piece layer above the leaves (log2 of blocks per piece). */
  pieceLayer: number;
  /** First piece of the file in the torrent. */
  firstPiece: number;
}

interface Chunk {
  received: boolean;
  /** The peer asked and when, while a request is outstanding. */
  asked: { peer: object; at: number } | undefined;
  /** Peers that refused it (or sent a bad answer): not asked again. */
  refused: Set<object>;
}

interface PendingLayer {
  tree: FileTree;
  hashes: Buffer;
  chunks: Chunk[];
}

interface LeafWant {
  tree: FileTree;
  ref: HashRef;
  chunk: Chunk;
}

/** Failed pieces whose leaves we ask for at once (each answer is one piece's worth). */
const MAX_LEAF_WANTS = 64;

export type HashesVerdict = 'unsolicited' | 'bad' | 'ok';

export class HashExchange {
  private readonly trees = new Map<string, FileTree>();
  /** Tree layers from the piece layer up, per root hex, built on first request. */
  private readonly served = new Map<string, Buffer[][]>();
  private readonly pending = new Map<string, PendingLayer>();
  private readonly inFlight = new Map<object, number>();
  private readonly blocksPerPiece: number;

  /**
   * `layers` (hex root → concatenated piece hashes) is the map the torrent's verification reads:
   * layers completed here are added to it. `fetch`: fetch missing layers (v2-only torrents).
   */
  constructor(
    m: Metainfo,
    private readonly layers: Map<string, Buffer> = m.pieceLayers,
    fetch = true,
  ) {
    const pieceLayer = Math.log2(m.pieceLength / MERKLE_BLOCK);
    this.blocksPerPiece = m.pieceLength / MERKLE_BLOCK;
    for (const f of m.files) {
      if (!f.piecesRoot || f.pad || f.length === 0) continue;
      const pieces = Math.ceil(f.length / m.pieceLength);
      const blocks = Math.ceil(f.length / MERKLE_BLOCK);
      const hex = f.piecesRoot.toString('hex');
      const tree: FileTree = {
        root: f.piecesRoot,
        hex,
        pieces,
        blocks,
        fileLength: f.length,
        height: Math.log2(nextPow2(blocks)),
        pieceLayer,
        firstPiece: f.offset / m.pieceLength,
      };
      this.trees.set(hex, tree);
      if (fetch && pieces > 1 && !layers.has(hex)) {
        const chunks: Chunk[] = [];
        for (let i = 0; i < Math.ceil(pieces / PIECE_HASH_CHUNK); i++)
          chunks.push({ received: false, asked: undefined, refused: new Set() });
        this.pending.set(hex, { tree, hashes: Buffer.alloc(pieces * HASH_BYTES), chunks });
      }
    }
  }

  /**
   * Leaf hashes wanted for a failed piece (exact blame): asked of a peer that has the piece,
   * proven against the piece's hash. Bounded: a piece is only wanted once at a time.
   */
  wantLeaves(piece: number): boolean {
    if (this.leafWants.has(piece) || this.leafWants.size >= MAX_LEAF_WANTS) return false;
    for (const tree of this.trees.values()) {
      if (piece < tree.firstPiece || piece >= tree.firstPiece + tree.pieces || tree.blocks < 2) continue;
      if (tree.pieces > 1 && !this.layers.has(tree.hex)) return false;
      const width = Math.min(this.blocksPerPiece, 2 ** tree.height);
      const ref: HashRef = {
        piecesRoot: tree.root,
        baseLayer: 0,
        index: (piece - tree.firstPiece) * this.blocksPerPiece,
        length: width,
        // Enough layers for the leaves alone to make the piece's hash: no uncles needed.
        proofLayers: Math.log2(width) - 1,
      };
      this.leafWants.set(piece, {
        tree,
        ref,
        chunk: { received: false, asked: undefined, refused: new Set() },
      });
      return true;
    }
    return false;
  }
  private readonly leafWants = new Map<number, LeafWant>();

  /**
   * The leaves a failed piece's bytes give, as its file's tree would hold them (blocks past the
   * file's end are not leaves), or undefined for a piece outside any v2 file.
   */
  leavesOf(piece: number, data: Buffer): Buffer[] | undefined {
    for (const tree of this.trees.values()) {
      if (piece < tree.firstPiece || piece >= tree.firstPiece + tree.pieces) continue;
      const start = (piece - tree.firstPiece) * this.blocksPerPiece * MERKLE_BLOCK;
      return blockHashes(data.subarray(0, Math.min(data.length, tree.fileLength - start)));
    }
    return undefined;
  }

  /** Piece layers still to fetch. */
  get missingLayers(): number {
    return this.pending.size;
  }

  /** Something to ask peers for: piece layers or a failed piece's leaves. */
  get wantsHashes(): boolean {
    return this.pending.size > 0 || this.leafWants.size > 0;
  }

  // ---- serving --------------------------------------------------------------------------------

  /**
   * The `hashes` payload answering `ref` (base hashes then uncles, libtorrent's order), or
   * undefined to reject: an unknown root, a layer below the piece layer (we keep no leaf
   * hashes), a range or proof outside the tree (libtorrent's `validate_hash_request`), or a
   * piece layer we do not know ourselves.
   */
  answer(ref: HashRef): Buffer | undefined {
    const tree = this.trees.get(ref.piecesRoot.toString('hex'));
    if (!tree || ref.length < 2 || tree.pieces < 2) return undefined;
    const { baseLayer: base, index, length, proofLayers } = ref;
    if (base < tree.pieceLayer || base > tree.height) return undefined;
    const width = 2 ** (tree.height - base);
    if (index + length > width || proofLayers >= tree.height - base) return undefined;
    const layers = this.servedLayers(tree);
    if (!layers) return undefined;
    const row = layers[base - tree.pieceLayer]!;
    const out: Buffer[] = row.slice(index, index + length);
    const covered = Math.log2(length) - 1;
    for (let i = covered; i < proofLayers; i++) {
      const node = Math.floor(index / 2 ** (i + 1));
      out.push(layers[base - tree.pieceLayer + i + 1]![node ^ 1]!);
    }
    return Buffer.concat(out);
  }

  /**
   * A leaf-layer request (base 0) within one piece: the torrent piece whose bytes answer it
   * (read it, if we have it, and pass it to `answerLeaves`), or undefined when the request is
   * not of that kind or does not fit the file's tree.
   */
  leafPiece(ref: HashRef): number | undefined {
    const tree = this.trees.get(ref.piecesRoot.toString('hex'));
    if (!tree || ref.baseLayer !== 0 || ref.length < 2) return undefined;
    const width = Math.min(this.blocksPerPiece, 2 ** tree.height);
    if (ref.length > width || ref.index >= tree.blocks || ref.proofLayers >= tree.height) return undefined;
    if (tree.pieces > 1 && !this.layers.has(tree.hex)) return undefined;
    return tree.firstPiece + Math.floor(ref.index / this.blocksPerPiece);
  }

  /**
   * Answers a leaf request (`leafPiece` said which piece) from that piece's bytes: the leaves
   * are hashed here, the uncles come from the piece's own subtree and, above it, from the
   * piece layer. Undefined when the bytes do not hash to what the tree says.
   */
  answerLeaves(ref: HashRef, pieceData: Buffer): Buffer | undefined {
    const tree = this.trees.get(ref.piecesRoot.toString('hex'));
    if (!tree || this.leafPiece(ref) === undefined) return undefined;
    const width = Math.min(this.blocksPerPiece, 2 ** tree.height);
    const inPiece = Math.floor(ref.index / this.blocksPerPiece);
    const dataBytes = Math.min(
      width * MERKLE_BLOCK,
      tree.fileLength - inPiece * this.blocksPerPiece * MERKLE_BLOCK,
    );
    if (pieceData.length < dataBytes) return undefined;
    const sub = merkleLayers(blockHashes(pieceData.subarray(0, dataBytes)), width);
    const upper = tree.pieces > 1 ? this.servedLayers(tree) : undefined;
    const expected = upper ? upper[0]![inPiece]! : tree.root;
    if (!sub[sub.length - 1]![0]!.equals(expected)) return undefined;
    const local = ref.index % this.blocksPerPiece;
    const out: Buffer[] = sub[0]!.slice(local, local + ref.length);
    const subHeight = Math.log2(width);
    for (let i = Math.log2(ref.length) - 1; i < ref.proofLayers; i++) {
      const layer = i + 1;
      const node = Math.floor(ref.index / 2 ** layer) ^ 1;
      if (layer < subHeight) out.push(sub[layer]![node % 2 ** (subHeight - layer)]!);
      else out.push(upper![layer - tree.pieceLayer]![node]!);
    }
    return Buffer.concat(out);
  }

  private servedLayers(tree: FileTree): Buffer[][] | undefined {
    const cached = this.served.get(tree.hex);
    if (cached) return cached;
    const layer = this.layers.get(tree.hex);
    if (!layer) return undefined;
    const built = merkleLayers(splitHashes(layer), 2 ** (tree.height - tree.pieceLayer), tree.pieceLayer);
    this.served.set(tree.hex, built);
    return built;
  }

  // ---- fetching -------------------------------------------------------------------------------

  /**
   * The next piece-layer request to send `peer` (one that announced a piece of that chunk), or
   * undefined. Timed-out requests become askable again here.
   */
  nextRequest(peer: object, hasPiece: (piece: number) => boolean, now: number): HashRef | undefined {
    if ((this.inFlight.get(peer) ?? 0) >= HASH_REQUESTS_PER_PEER) return undefined;
    for (const [piece, w] of this.leafWants) {
      if (!hasPiece(piece) || !this.askable(w.chunk, peer, now)) continue;
      return this.ask(w.chunk, peer, now, w.ref);
    }
    for (const p of this.pending.values()) {
      const { tree } = p;
      for (let c = 0; c < p.chunks.length; c++) {
        const chunk = p.chunks[c]!;
        if (!this.askable(chunk, peer, now)) continue;
        const first = c * PIECE_HASH_CHUNK;
        const last = Math.min(tree.pieces, first + PIECE_HASH_CHUNK);
        let has = false;
        for (let i = first; i < last && !has; i++) has = hasPiece(tree.firstPiece + i);
        if (!has) continue;
        return this.ask(chunk, peer, now, chunkRef(tree, c));
      }
    }
    return undefined;
  }

  /** Not received, not refused by this peer, and not outstanding (or timed out). */
  private askable(chunk: Chunk, peer: object, now: number): boolean {
    if (chunk.received || chunk.refused.has(peer)) return false;
    if (chunk.asked) {
      if (now - chunk.asked.at < HASH_REQUEST_TIMEOUT_MS) return false;
      this.release(chunk);
    }
    return true;
  }

  private ask(chunk: Chunk, peer: object, now: number, ref: HashRef): HashRef {
    chunk.asked = { peer, at: now };
    this.inFlight.set(peer, (this.inFlight.get(peer) ?? 0) + 1);
    return ref;
  }

  /**
   * A `hashes` answer to one of our leaf requests: the piece's leaves when they make the
   * piece's hash ('ok'), 'bad' when not, undefined when it answers no leaf request of ours.
   */
  onLeaves(
    peer: object,
    ref: HashRef,
    hashes: Buffer,
  ): { verdict: HashesVerdict; piece?: number; leaves?: Buffer[] } | undefined {
    if (ref.baseLayer !== 0) return undefined;
    for (const [piece, w] of this.leafWants) {
      const r = w.ref;
      if (w.chunk.asked?.peer !== peer || !r.piecesRoot.equals(ref.piecesRoot) || r.index !== ref.index)
        continue;
      if (r.length !== ref.length || r.proofLayers !== ref.proofLayers) continue;
      this.release(w.chunk);
      const leaves = splitHashes(hashes);
      const upper = w.tree.pieces > 1 ? this.layers.get(w.tree.hex) : undefined;
      const at = (piece - w.tree.firstPiece) * HASH_BYTES;
      const expected = upper ? upper.subarray(at, at + HASH_BYTES) : w.tree.root;
      if (leaves.length !== r.length || !merkleRoot(leaves, r.length).equals(expected)) {
        w.chunk.refused.add(peer);
        return { verdict: 'bad' };
      }
      this.leafWants.delete(piece);
      return { verdict: 'ok', piece, leaves };
    }
    return undefined;
  }

  /**
   * A `hashes` message: kept when it answers our request and its hashes lead to the file's root
   * ('ok'; `completed` then lists layers now whole); 'bad' when they do not (the sender lied),
   * 'unsolicited' when we asked nothing of the sort.
   */
  onHashes(peer: object, ref: HashRef, hashes: Buffer): { verdict: HashesVerdict; completed: string[] } {
    const found = this.match(peer, ref);
    if (!found) return { verdict: 'unsolicited', completed: [] };
    const { p, chunk, c } = found;
    this.release(chunk);
    const base = splitHashes(hashes.subarray(0, ref.length * HASH_BYTES));
    const uncles = splitHashes(hashes.subarray(ref.length * HASH_BYTES));
    const sub = merkleRoot(base, ref.length);
    const top = rootFromProof(sub, ref.index / ref.length, uncles);
    if (!top.equals(p.tree.root)) {
      chunk.refused.add(peer);
      return { verdict: 'bad', completed: [] };
    }
    const first = c * PIECE_HASH_CHUNK;
    const real = Math.min(PIECE_HASH_CHUNK, p.tree.pieces - first);
    hashes.copy(p.hashes, first * HASH_BYTES, 0, real * HASH_BYTES);
    chunk.received = true;
    if (!p.chunks.every((k) => k.received)) return { verdict: 'ok', completed: [] };
    this.pending.delete(p.tree.hex);
    this.layers.set(p.tree.hex, p.hashes);
    return { verdict: 'ok', completed: [p.tree.hex] };
  }

  /** A `hash reject` for our request: ask someone else. */
  onReject(peer: object, ref: HashRef): void {
    for (const w of this.leafWants.values())
      if (
        w.chunk.asked?.peer === peer &&
        w.ref.index === ref.index &&
        w.ref.piecesRoot.equals(ref.piecesRoot)
      ) {
        this.release(w.chunk);
        w.chunk.refused.add(peer);
        return;
      }
    const found = this.match(peer, ref);
    if (!found) return;
    this.release(found.chunk);
    found.chunk.refused.add(peer);
  }

  /** The peer is gone: its outstanding requests can go to others. */
  peerGone(peer: object): void {
    for (const w of this.leafWants.values()) {
      if (w.chunk.asked?.peer === peer) this.release(w.chunk);
      w.chunk.refused.delete(peer);
    }
    for (const p of this.pending.values())
      for (const chunk of p.chunks) {
        if (chunk.asked?.peer === peer) this.release(chunk);
        chunk.refused.delete(peer);
      }
    this.inFlight.delete(peer);
  }

  private match(peer: object, ref: HashRef): { p: PendingLayer; chunk: Chunk; c: number } | undefined {
    const p = this.pending.get(ref.piecesRoot.toString('hex'));
    if (!p || ref.index % PIECE_HASH_CHUNK !== 0) return undefined;
    const c = ref.index / PIECE_HASH_CHUNK;
    const chunk = p.chunks[c];
    if (!chunk || chunk.asked?.peer !== peer) return undefined;
    const want = chunkRef(p.tree, c);
    if (
      ref.baseLayer !== want.baseLayer ||
      ref.length !== want.length ||
      ref.proofLayers !== want.proofLayers
    )
      return undefined;
    return { p, chunk, c };
  }

  private release(chunk: Chunk): void {
    const peer = chunk.asked?.peer;
    chunk.asked = undefined;
    if (!peer) return;
    const n = (this.inFlight.get(peer) ?? 1) - 1;
    if (n > 0) this.inFlight.set(peer, n);
    else this.inFlight.delete(peer);
  }
}

/**
 * The request for chunk `c` of a file's piece layer: up to 512 hashes (a power of two, at least
 * 2, padded past the file's last piece), with every proof layer up to just below the root so
 * the answer alone proves itself against `pieces root`.
 */
function chunkRef(tree: FileTree, c: number): HashRef {
  const index = c * PIECE_HASH_CHUNK;
  const length = Math.max(2, Math.min(PIECE_HASH_CHUNK, nextPow2(tree.pieces - index)));
  const proofLayers = tree.height - tree.pieceLayer - 1;
  return { piecesRoot: tree.root, baseLayer: tree.pieceLayer, index, length, proofLayers };
}
