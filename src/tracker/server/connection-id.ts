/**
 * Stateless UDP connection ids (BEP 15): an HMAC of the client's address and the current
 * minute under a secret made at start-up, so the tracker keeps nothing per connection and a
 * spoofed source cannot guess a valid id. Ids stay valid for 2–3 minutes (BEP 15 asks for two).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class ConnectionIds {
  private readonly secret: Buffer;
  private readonly windowMs: number;

  constructor(secret: Uint8Array = randomBytes(32), windowMs = 60_000) {
    this.secret = Buffer.from(secret);
    this.windowMs = windowMs;
  }

  issue(host: string, port: number, now: number): Buffer {
    return this.derive(host, port, Math.floor(now / this.windowMs));
  }

  valid(id: Uint8Array, host: string, port: number, now: number): boolean {
    if (id.length !== 8) return false;
    const epoch = Math.floor(now / this.windowMs);
    for (let e = epoch; e >= epoch - 2; e--) if (timingSafeEqual(this.derive(host, port, e), id)) return true;
    return false;
  }

  private derive(host: string, port: number, epoch: number): Buffer {
    return createHmac('sha256', this.secret).update(`${epoch}|${host}|${port}`).digest().subarray(0, 8);
  }
}
