/**
 * A userland TCP relay that delays every chunk by `oneWayMs` in each direction (a round trip of
 * twice that), standing in for netem on a machine where network namespaces are not ours to use.
 * Order is kept per direction; back-pressure is passed on (a paused socket stops reading).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface DelayRelay {
  port: number;
  close(): Promise<void>;
}

function delayed(from: Socket, to: Socket, oneWayMs: number): void {
  const queue: { at: number; data: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let paused = false;
  const flush = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.at <= now) {
      if (!to.write(queue.shift()!.data) && !paused) {
        paused = true;
        from.pause();
        to.once('drain', () => {
          paused = false;
          from.resume();
        });
      }
    }
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0]!.at - now));
  };
  from.on('data', (data: Buffer) => {
    queue.push({ at: performance.now() + oneWayMs, data });
    timer ??= setTimeout(flush, oneWayMs);
  });
  from.on('end', () => {
    const wait = queue.length > 0 ? queue[queue.length - 1]!.at - performance.now() : 0;
    setTimeout(() => to.end(), Math.max(0, wait) + 1);
  });
}

/** Relays 127.0.0.1:<returned port> to `target` with `oneWayMs` of delay each way. */
export function delayRelay(
  targetPort: number,
  oneWayMs: number,
  targetHost = '127.0.0.1',
): Promise<DelayRelay> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(targetPort, targetHost);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    delayed(inbound, outbound, oneWayMs);
    delayed(outbound, inbound, oneWayMs);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a ? a.port : 0,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    }),
  );
}
