/**
 * A piece being downloaded: its blocks are kept in memory until the piece is complete, and are
 * SHA-1 hashed as soon as they are contiguous from the start, so completing the piece costs one
 * digest — never a read-back from disk. Only verified pieces are written (one vectored write),
 * so bad data never reaches the files.
 */
import { createHash, type Hash } from 'node:crypto';

export class PieceAssembly {
  private readonly hasher: Hash = createHash('sha1');
  private readonly blocks: (Buffer | undefined)[];
  /** Who sent each block ("host" of the peer), for the corruption tally. */
  readonly senders: (string | undefined)[];
  /** Blocks [0, hashedBlocks) went into the hasher. */
  private hashedBlocks = 0;
  private receivedBlocks = 0;
  private bytes = 0;

  constructor(
    readonly piece: number,
    readonly size: number,
    readonly blockSize: number,
  ) {
    const n = Math.ceil(size / blockSize);
    this.blocks = new Array<Buffer | undefined>(n);
    this.senders = new Array<string | undefined>(n);
  }

  get blockCount(): number {
    return this.blocks.length;
  }

  get complete(): boolean {
    return this.receivedBlocks === this.blocks.length;
  }

  /** Bytes held in memory. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  has(block: number): boolean {
    return this.blocks[block] !== undefined;
  }

  /** Adds a block (the caller checked offset and length); false if it was already there. */
  add(offset: number, data: Buffer, sender: string): boolean {
    const b = offset / this.blockSize;
    if (this.blocks[b] !== undefined) return false;
    this.blocks[b] = data;
    this.senders[b] = sender;
    this.receivedBlocks++;
    this.bytes += data.length;
    while (this.hashedBlocks < this.blocks.length) {
      const next = this.blocks[this.hashedBlocks];
      if (next === undefined) break;
      this.hasher.update(next);
      this.hashedBlocks++;
    }
    return true;
  }

  /** The piece's digest; only when complete. */
  digest(): Buffer {
    return this.hasher.digest();
  }

  /** The blocks, in order (complete pieces only). */
  buffers(): Buffer[] {
    return this.blocks as Buffer[];
  }

  /** SHA-1 of each block, for comparing a failed attempt with the good data later. */
  blockDigests(): Buffer[] {
    return this.blocks.map((b) =>
      createHash('sha1')
        .update(b ?? Buffer.alloc(0))
        .digest(),
    );
  }
}

/**
 * Remembers who sent what in pieces that failed, so that once the piece is downloaded right the
 * peers whose blocks differ from the good data can be named exactly ("smart ban").
 */
export class CorruptionTally {
  private readonly failed = new Map<number, { sender: string; digest: Buffer }[][]>();
  private readonly strikes = new Map<string, number>();

  /** Records a failed piece; returns the senders that are certainly guilty (the only sender). */
  pieceFailed(a: PieceAssembly, strikeLimit: number): string[] {
    const senders = new Set(a.senders.filter((s): s is string => s !== undefined));
    if (senders.size === 1) return [...senders];
    const digests = a.blockDigests();
    const attempts = this.failed.get(a.piece) ?? [];
    attempts.push(digests.map((digest, i) => ({ sender: a.senders[i] ?? '', digest })));
    // Keep the last few attempts only: memory stays bounded even for a hopeless piece.
    if (attempts.length > 4) attempts.shift();
    this.failed.set(a.piece, attempts);
    const guilty: string[] = [];
    for (const s of senders) {
      const n = (this.strikes.get(s) ?? 0) + 1;
      this.strikes.set(s, n);
      if (n >= strikeLimit) guilty.push(s);
    }
    return guilty;
  }

  /** A piece passed: the senders of earlier differing blocks are guilty. */
  piecePassed(a: PieceAssembly): string[] {
    const attempts = this.failed.get(a.piece);
    if (!attempts) return [];
    this.failed.delete(a.piece);
    const good = a.blockDigests();
    const guilty = new Set<string>();
    for (const attempt of attempts)
      attempt.forEach((blk, i) => {
        if (blk.sender && !blk.digest.equals(good[i]!)) guilty.add(blk.sender);
      });
    return [...guilty];
  }

  forget(sender: string): void {
    this.strikes.delete(sender);
  }
}
