/**
 * What both handshake roles share: buffered input, the failed-for-good rule and the receive
 * loop around each role's own `advance()`.
 */
import type { NbtError } from '../util/errors.js';
import { failure, stateError } from './common.js';
import { HandshakeInput } from './input.js';
import type { MseStep } from './types.js';

export abstract class MseParty<S extends string> {
  /** @internal */
  protected state: S | 'done' | 'failed';
  protected error: NbtError | undefined;
  /** @internal */
  protected readonly input = new HandshakeInput();

  protected constructor(
    initial: S,
    /** For error messages: 'MseInitiator' or 'MseResponder'. */
    private readonly role: string,
  ) {
    this.state = initial;
  }

  /** Bytes received but not yet parsed; bounded by the handshake limits (at most ~1.2 KiB plus the IA). */
  get bufferedBytes(): number {
    return this.input.length;
  }

  receive(chunk: Uint8Array): MseStep {
    if (this.state === 'failed') throw this.error!;
    if (this.state === 'done') throw stateError(`${this.role}.receive() after the handshake completed`);
    this.checkCanReceive();
    this.input.push(chunk);
    try {
      const step = this.advance();
      this.input.detach();
      return step;
    } catch (e) {
      this.state = 'failed';
      this.error = failure(e);
      throw this.error;
    }
  }

  /** Throws when the role cannot take input yet (the initiator before `start()`). */
  protected checkCanReceive(): void {}

  /** Parses as much of the input as the current state allows. */
  protected abstract advance(): MseStep;
}
