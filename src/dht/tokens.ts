/**
 * announce_peer write tokens (BEP 5): SHA-1 of the requester's IP and a secret that rotates
 * every 5 minutes; tokens from the current and the previous secret are accepted, so a token
 * lives 5 to 10 minutes. Rotation is lazy (on use), driven by the injected clock.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../util/clock.js';
import { sha1 } from '../util/sha1.js';
import { ipv4Bytes, ipv6Bytes } from '../util/compact.js';

export const TOKEN_ROTATE_MS = 5 * 60_000;
const TOKEN_LENGTH = 8;

export class TokenManager {
  private current = randomBytes(16);
  private previous = randomBytes(16);
  private rotatedAt: number;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly rotateMs = TOKEN_ROTATE_MS,
  ) {
    this.rotatedAt = clock.now();
  }

  /** The token for a requester's IP (the port is not bound: BEP 5 binds tokens to the IP). */
  tokenFor(host: string): Buffer {
    this.rotate();
    return this.make(host, this.current);
  }

  isValid(token: Uint8Array, host: string): boolean {
    this.rotate();
    if (token.length !== TOKEN_LENGTH) return false;
    return [this.current, this.previous].some((secret) => timingSafeEqual(this.make(host, secret), token));
  }

  private make(host: string, secret: Buffer): Buffer {
    const ip = ipv4Bytes(host) ?? ipv6Bytes(host) ?? Buffer.from(host, 'utf8');
    return sha1(ip, secret).subarray(0, TOKEN_LENGTH);
  }

  private rotate(): void {
    const now = this.clock.now();
    const steps = Math.floor((now - this.rotatedAt) / this.rotateMs);
    if (steps <= 0) return;
    this.previous = steps === 1 ? this.current : randomBytes(16);
    this.current = randomBytes(16);
    this.rotatedAt += steps * this.rotateMs;
  }
}
