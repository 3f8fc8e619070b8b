/**
 * Piece picker cost: a whole 1 GiB torrent (1024 × 1 MiB pieces, 65536 blocks) picked, received
 * and verified through 50 peers (10 seeds, 40 with random 70 % bitfields). At 60 MB/s a
 * download handles ~3700 blocks/s, so the figure that matters is CPU time per block.
 */
import { PiecePicker } from '../src/torrent/picker.js';
import { Bitfield } from '../src/util/bitfield.js';
import { prng } from '../test/helpers/tmp.js';
import type { Reporter } from './harness.js';

function once(): { ms: number; blocks: number } {
  const pieces = 1024;
  const pk = new PiecePicker({
    pieceCount: pieces,
    pieceLength: 1 << 20,
    random: prng(9),
  });
  const rnd = prng(11);
  for (let p = 0; p < 50; p++) {
    if (p % 5 === 0) pk.peerHasAll(p);
    else {
      const bf = new Bitfield(pieces);
      for (let i = 0; i < pieces; i++) if (rnd() < 0.7) bf.set(i);
      pk.peerHasBitfield(p, bf);
    }
  }
  const t0 = performance.now();
  let blocks = 0;
  let peer = 0;
  while (!pk.finished) {
    peer = (peer + 1) % 50;
    for (const b of pk.pick(peer, 16)) {
      blocks++;
      if (pk.received(peer, b).pieceComplete) pk.pieceVerified(b.piece);
    }
  }
  return { ms: performance.now() - t0, blocks };
}

export async function run(report: Reporter): Promise<void> {
  once(); // warm up the JIT
  let best = Infinity;
  let blocks = 0;
  for (let i = 0; i < 3; i++) {
    const r = once();
    best = Math.min(best, r.ms);
    blocks = r.blocks;
  }
  const usPerBlock = (best * 1000) / blocks;
  report.figure('picker: 1 GiB through 50 peers, total', best, 'ms');
  report.figure('picker: CPU per block (pick + received + verify)', usPerBlock, 'µs');
  report.figure('picker: share of one core at 60 MB/s', (usPerBlock * (60e6 / 16384)) / 1e4, '%', {
    target: '< 2',
  });
}
