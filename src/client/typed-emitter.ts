/**
 * A small typed wrapper around EventEmitter: event names and payload tuples come from an event
 * map, so `on('peer-connect', (info) => …)` is checked at compile time and no `any` leaks out.
 */
import { EventEmitter } from 'node:events';

/** Maps event names to their argument tuples. */
export type EventMap<E> = { [K in keyof E]: unknown[] };

type Args<E, K extends keyof E> = E[K] extends unknown[] ? E[K] : never;

export class TypedEmitter<E extends EventMap<E>> {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Many torrents and tools may listen to one client; the default warning at 10 is noise.
    this.emitter.setMaxListeners(0);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: Args<E, K>) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: Args<E, K>) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: Args<E, K>) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Resolves with the arguments of the next `event`. */
  next<K extends keyof E & string>(event: K): Promise<Args<E, K>> {
    return new Promise((resolve) => this.once(event, (...args: Args<E, K>) => resolve(args)));
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }

  /**
   * Emits to listeners. A listener that throws must not leave the engine half-updated, so the
   * error is rethrown from a microtask (an uncaught exception, as with EventEmitter) after every
   * listener ran and the engine's own step finished.
   */
  emit<K extends keyof E & string>(event: K, ...args: Args<E, K>): boolean {
    const listeners = this.emitter.listeners(event) as ((...a: Args<E, K>) => void)[];
    for (const l of listeners) {
      try {
        l(...args);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    return listeners.length > 0;
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }
}
