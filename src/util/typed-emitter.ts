/**
 * A small typed wrapper around EventEmitter: event names and payload tuples come from an event
 * map, so `on('peer-connect', (info) => …)` is checked at compile time and no `any` leaks out.
 *
 * The engine's one listener error policy lives here: a listener that throws never kills the
 * session and never skips the other listeners; the error goes to the emitter's listener-error
 * handler (the Client routes every Client and Torrent emitter to its `listener-error` event
 * and alert stream) and the engine carries on.
 */
import { EventEmitter } from 'node:events';

/** Maps event names to their argument tuples. */
export type EventMap<E> = { [K in keyof E]: unknown[] };

type Args<E, K extends keyof E> = E[K] extends unknown[] ? E[K] : never;

/** One event of map `E` as a record (name and arguments, narrowed by `event`), for observers. */
export type EventRecord<E> = {
  [K in keyof E]: { readonly event: K; readonly args: E[K] };
}[keyof E];

/** Where a listener's exception goes: the event it was emitted for and what it threw. */
export type ListenerErrorHandler = (error: Error, event: string) => void;

/** The last resort for a listener's error nobody handles: a process warning, never a crash. */
export function warnListenerError(error: Error, event: string): void {
  process.emitWarning(error.message, { type: 'ListenerError', code: event, detail: error.stack ?? '' });
}

const NO_LISTENERS: readonly never[] = [];

export class TypedEmitter<E extends EventMap<E>> {
  // Made for the first listener: a torrent nobody listens to (most of a large session's) would
  // hold an EventEmitter and its listener table, ~0.35 KB, for nothing.
  private inner: EventEmitter | undefined;
  private listenerErrorHandler: ListenerErrorHandler | undefined;

  private get emitter(): EventEmitter {
    if (!this.inner) {
      this.inner = new EventEmitter();
      // Many torrents and tools may listen to one client; the default warning at 10 is noise.
      this.inner.setMaxListeners(0);
    }
    return this.inner;
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
    return this.inner?.listenerCount(event) ?? 0;
  }

  /**
   * Routes the errors thrown by this emitter's listeners (the owner of the emitter sets it; the
   * Client does for itself and every Torrent). Without one they become process warnings.
   */
  setListenerErrorHandler(handler: ListenerErrorHandler | undefined): void {
    this.listenerErrorHandler = handler;
  }

  /**
   * Emits to listeners. A listener that throws must neither leave the engine half-updated nor
   * skip the other listeners: every listener runs, and each failure is reported afterwards.
   */
  emit<K extends keyof E & string>(event: K, ...args: Args<E, K>): boolean {
    const listeners = (this.inner?.listeners(event) ?? NO_LISTENERS) as ((...a: Args<E, K>) => void)[];
    let failures: Error[] | undefined;
    try {
      this.observe(event, args);
    } catch (e) {
      failures = [e instanceof Error ? e : new Error(String(e))];
    }
    for (const l of listeners) {
      try {
        l(...args);
      } catch (e) {
        (failures ??= []).push(e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.afterEmit(event, args);
    if (failures) for (const f of failures) this.listenerFailed(f, event);
    return listeners.length > 0;
  }

  /**
   * Called before the listeners of every event: the owner's one observer of all its emitters
   * (a Torrent's session), which sees each event first, as listeners registered first would.
   */
  protected observe(_event: string, _args: readonly unknown[]): void {}

  /** Called after the listeners of every event (the Client posts the event's alert here). */
  protected afterEmit(_event: string, _args: readonly unknown[]): void {}

  /** A listener threw: hand it to the handler; a failing handler must not loop or escape. */
  private listenerFailed(error: Error, event: string): void {
    const h = this.listenerErrorHandler;
    if (h) {
      try {
        h(error, event);
        return;
      } catch (e) {
        error = e instanceof Error ? e : new Error(String(e));
      }
    }
    warnListenerError(error, event);
  }

  removeAllListeners(): void {
    this.inner?.removeAllListeners();
  }
}
