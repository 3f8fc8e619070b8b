/**
 * Path MTU discovery for uTP, as libtorrent's: a binary search between a floor known to work
 * and a ceiling, one probe packet at a time. An acked probe raises the floor; a lost one lowers
 * the ceiling (and is not congestion). Node cannot set DF, so on a path that fragments rather
 * than drops, every probe succeeds and the search ends at the ceiling.
 */
export class MtuProbe {
  /** The largest UDP payload known to get through (what packets are cut to). */
  size: number;
  private ceiling: number;
  private probeSeq: number | undefined;

  constructor(start: number, ceiling: number) {
    this.size = start;
    this.ceiling = Math.max(ceiling, start);
  }

  /** The size to probe with next, or undefined (a probe is out, or the search is done). */
  next(): number | undefined {
    if (this.probeSeq !== undefined || this.ceiling - this.size < 16) return undefined;
    return Math.floor((this.size + this.ceiling + 1) / 2);
  }

  /** Packet `seq` went out as the probe. */
  sent(seq: number): void {
    this.probeSeq = seq;
  }

  /** A packet of `bytes` was acked: true when it was the probe (the floor rises). */
  acked(seq: number, bytes: number): boolean {
    if (seq !== this.probeSeq) return false;
    this.size = bytes;
    this.probeSeq = undefined;
    return true;
  }

  /** A packet of `bytes` was lost: true when it was the probe (the ceiling falls, no congestion). */
  lost(seq: number, bytes: number): boolean {
    if (seq !== this.probeSeq) return false;
    this.ceiling = bytes - 1;
    this.probeSeq = undefined;
    return true;
  }
}
