/**
 * A scripted BitTorrent peer on a simulated host, for misbehaviour the real engine would never
 * show: it claims every piece, unchokes whoever is interested, and then serves only as much
 * as its script allows — a peer that stalls mid-piece, or one that is merely slow.
 */
import type { Transport } from '../../src/net/transport.js';
import {
  WireDecoder,
  encodeHandshake,
  encodeMessage,
  HANDSHAKE_LENGTH,
  type Message,
} from '../../src/wire/index.js';
import type { SimHost } from './network.js';

export interface FakePeerScript {
  infoHash: Buffer;
  peerId: Buffer;
  pieceCount: number;
  /** The torrent's bytes and piece length (to answer requests with real data). */
  data: Buffer;
  pieceLength: number;
  /** Answer this request? (Unanswered requests are silently ignored: a stall.) */
  serve: (index: number, begin: number, served: number) => boolean;
}

export class FakePeer {
  /** Blocks sent, and requests left unanswered. */
  served = 0;
  ignored = 0;
  readonly connections: Transport[] = [];

  constructor(
    readonly host: SimHost,
    private readonly script: FakePeerScript,
  ) {}

  async listen(port: number): Promise<void> {
    await this.host.listen('0.0.0.0', port, (t) => this.accept(t));
  }

  private accept(t: Transport): void {
    this.connections.push(t);
    const s = this.script;
    const decoder = new WireDecoder({ pieceCount: s.pieceCount });
    let pending: Buffer | undefined = Buffer.alloc(0);
    t.on('error', () => {});
    t.on('data', (chunk) => {
      if (pending) {
        pending = Buffer.concat([pending, chunk]);
        if (pending.length < HANDSHAKE_LENGTH) return;
        const rest = pending.subarray(HANDSHAKE_LENGTH);
        pending = undefined;
        t.write(encodeHandshake({ reserved: Buffer.alloc(8), infoHash: s.infoHash, peerId: s.peerId }));
        const bits = Buffer.alloc((s.pieceCount + 7) >> 3, 0xff);
        if (s.pieceCount % 8) bits[bits.length - 1] = (0xff << (8 - (s.pieceCount % 8))) & 0xff;
        t.write(encodeMessage({ type: 'bitfield', bits }));
        chunk = Buffer.from(rest);
      }
      for (const m of decoder.push(chunk)) this.onMessage(t, m);
    });
  }

  private onMessage(t: Transport, m: Message): void {
    const s = this.script;
    if (m.type === 'interested') t.write(encodeMessage({ type: 'unchoke' }));
    if (m.type !== 'request') return;
    if (!s.serve(m.index, m.begin, this.served)) {
      this.ignored++;
      return;
    }
    this.served++;
    const at = m.index * s.pieceLength + m.begin;
    t.write(
      encodeMessage({
        type: 'piece',
        index: m.index,
        begin: m.begin,
        block: s.data.subarray(at, at + m.length),
      }),
    );
  }
}
