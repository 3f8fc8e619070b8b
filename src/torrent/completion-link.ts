/**
 * What a Torrent's `have` adds up to: the file priorities and the piece priorities they give,
 * the wanted pieces still missing, the bytes had, and the 'finished' transition (once per
 * transition into "every wanted piece verified and written" while downloading). A piece counts
 * only once it is in `have`, i.e. verified and its write completed.
 */
import { DEFAULT_PRIORITY } from './picker-types.js';
import { checkedPriorities, piecePriorities } from './priorities.js';
import { unverifiablePieces } from './verification.js';
import type { TorrentCore } from './core.js';

export type CompletionHost = Pick<
  TorrentCore,
  'metainfo' | 'have' | 'hasMetadata' | 'state' | 'transfers' | 'events'
>;

export class TorrentCompletion {
  private filePrios: number[] | undefined;
  /** Wanted pieces (priority > 0) not yet in `have` (verified and written). */
  private wantedMissing = 0;
  /** Bytes of the pieces in `have`. */
  private haveBytesValue = 0;
  /** 'finished' was emitted (or held from the start) for the current wanted set. */
  private reported = false;

  constructor(
    private readonly host: CompletionHost,
    filePriorities: readonly number[] | undefined,
  ) {
    const count = host.metainfo.files.length;
    if (filePriorities) this.filePrios = checkedPriorities(filePriorities, count);
  }

  get haveBytes(): number {
    return this.haveBytesValue;
  }

  /** Every wanted piece is in `have` (not while checking, nor before a magnet's metadata). */
  get finished(): boolean {
    return this.host.hasMetadata && this.host.state !== 'checking' && this.wantedMissing === 0;
  }

  get filePriorities(): readonly number[] {
    return this.filePrios ?? this.host.metainfo.files.map(() => 1);
  }

  setFilePriorities(priorities: readonly number[]): void {
    this.filePrios = checkedPriorities(priorities, this.host.metainfo.files.length);
  }

  /** A piece joined `have`. */
  pieceAdded(piece: number): void {
    if (!this.filePrios || this.host.transfers.downloader.picker.priority(piece) > 0) this.wantedMissing--;
    this.haveBytesValue += this.host.metainfo.pieceSize(piece);
  }

  /**
   * Recounts what follows from `have`: the wanted pieces missing from it and its bytes (after a
   * check, new metadata or a priority change); pieceAdded keeps both up to date in between.
   */
  recount(): void {
    const map = this.piecePriorityMap();
    const have = this.host.have;
    const m = this.host.metainfo;
    let missing = 0;
    let bytes = 0;
    for (let i = 0; i < have.size; i++) {
      if (have.has(i)) bytes += m.pieceSize(i);
      else if (!map || map[i]! > 0) missing++;
    }
    this.wantedMissing = missing;
    this.haveBytesValue = bytes;
  }

  /** A new `have` (after a check): 'finished' may be reported again. */
  rearm(): void {
    this.reported = false;
  }

  /**
   * Emits 'finished' once per transition into the finished state while downloading; a priority
   * change that wants more pieces re-arms it.
   */
  report(): void {
    if (!this.finished) {
      this.reported = false;
      return;
    }
    if (this.reported) return;
    const state = this.host.state;
    if (state === 'downloading') {
      this.reported = true;
      this.host.events.emit('finished');
    } else if (state === 'seeding') this.reported = true;
  }

  /** The file priorities as piece priorities, once there are files and priorities to map. */
  private piecePriorityMap(): Uint8Array | undefined {
    return this.filePrios && this.host.hasMetadata
      ? piecePriorities(this.host.metainfo, this.filePrios)
      : undefined;
  }

  /**
   * What the picker may request: the file priorities, less the pieces that cannot be verified
   * yet (v2 pieces without their piece layer). Those still count as wanted and missing.
   */
  pickerPriorities(): Uint8Array | undefined {
    const map = this.piecePriorityMap();
    const m = this.host.metainfo;
    const blocked = this.host.hasMetadata ? unverifiablePieces(m) : [];
    if (blocked.length === 0) return map;
    const out = map ?? new Uint8Array(m.pieceCount).fill(DEFAULT_PRIORITY);
    for (const p of blocked) out[p] = 0;
    return out;
  }
}
