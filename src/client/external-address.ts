/**
 * Our IP as peers see it, from the `yourip` of their extension handshakes (BEP 10): the
 * address most distinct peers named. BEP 40 ranks peers by it. One vote per peer host, and a
 * bounded number of voters, so one host (or a flood of them) moves it no more than its share.
 */
import { decodeCompactPeers6 } from '../util/compact.js';

const MAX_VOTERS = 200;

export class ExternalAddress {
  /** Voter host → the address it named (insertion order: oldest first). */
  private readonly votes = new Map<string, string>();
  private readonly tally = new Map<string, number>();
  private best: string | undefined;

  /** The address most peers named, or undefined before any did. */
  get current(): string | undefined {
    return this.best;
  }

  /** `voter` (a peer's host) says we are `yourip` (4 or 16 bytes). Returns true if `current` changed. */
  vote(voter: string, yourip: Uint8Array | undefined): boolean {
    const ip = yourip ? ipString(yourip) : undefined;
    if (!ip) return false;
    const before = this.votes.get(voter);
    if (before === ip) return false;
    if (before !== undefined) this.count(before, -1);
    this.votes.delete(voter);
    if (this.votes.size >= MAX_VOTERS) {
      const [oldVoter, oldIp] = this.votes.entries().next().value!;
      this.votes.delete(oldVoter);
      this.count(oldIp, -1);
    }
    this.votes.set(voter, ip);
    this.count(ip, 1);
    const previous = this.best;
    let top = 0;
    for (const [addr, n] of this.tally)
      if (n > top || (n === top && addr === previous)) {
        top = n;
        this.best = addr;
      }
    return this.best !== previous;
  }

  private count(ip: string, delta: number): void {
    const n = (this.tally.get(ip) ?? 0) + delta;
    if (n > 0) this.tally.set(ip, n);
    else this.tally.delete(ip);
  }
}

function ipString(b: Uint8Array): string | undefined {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return undefined;
  const withPort = Buffer.concat([b, Buffer.from([0, 1])]);
  return decodeCompactPeers6(withPort)[0]?.host;
}
