/** tcpNetwork on loopback: listen/connect, the shared-buffer read path, errors as a socket gives them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tcpNetwork, type Transport } from '../../../src/net/index.js';

test('tcpNetwork: listen, connect with onRead (shared buffer), kind and addresses, EADDRINUSE', async () => {
  const accepted: Transport[] = [];
  const listener = await tcpNetwork.listen('127.0.0.1', 0, (t) => {
    accepted.push(t);
    t.write(Buffer.from('hello over tcp'));
  });
  try {
    assert.ok(listener.port > 0);
    await assert.rejects(
      tcpNetwork.listen('127.0.0.1', listener.port, () => {}),
      (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE',
    );
    const reads: string[] = [];
    const dataEvents: Buffer[] = [];
    let gotAll: () => void = () => {};
    const all = new Promise<void>((r) => (gotAll = r));
    const client = tcpNetwork.connect('127.0.0.1', listener.port, {
      onRead: (chunk) => {
        reads.push(chunk.toString());
        if (reads.join('').length >= 14) gotAll();
      },
    });
    client.on('data', (c) => dataEvents.push(c));
    assert.equal(client.kind, 'tcp');
    await new Promise<void>((r) => client.once('connect', r));
    assert.equal(client.remotePort, listener.port);
    await all;
    assert.equal(reads.join(''), 'hello over tcp');
    assert.deepEqual(dataEvents, [], 'with onRead the bytes come only through it');
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.kind, 'tcp');
    assert.equal(accepted[0]!.remoteAddress, '127.0.0.1');
    const closed = new Promise<void>((r) => accepted[0]!.once('close', r));
    client.destroy();
    await closed;
    assert.ok(client.destroyed);
  } finally {
    await listener.close();
  }
  // Refused: 'error' with the errno, then 'close', as a net.Socket does.
  const refused = tcpNetwork.connect('127.0.0.1', listener.port);
  const err = await new Promise<NodeJS.ErrnoException>((r) => refused.on('error', r));
  assert.equal(err.code, 'ECONNREFUSED');
  await new Promise<void>((r) => refused.once('close', r));
});

/** Node keeps the option behind a private symbol; reading it is the only way to see Nagle's state. */
function noDelayOf(t: Transport): boolean | undefined {
  const socket = (t as unknown as { socket: object }).socket;
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
  assert.ok(key, 'this Node version keeps kSetNoDelay on sockets');
  return (socket as Record<symbol, boolean>)[key];
}

test('tcpNetwork: both ends turn Nagle off (small request writes must not wait for a delayed ACK)', async () => {
  const accepted: Transport[] = [];
  const listener = await tcpNetwork.listen('127.0.0.1', 0, (t) => accepted.push(t));
  const clients = [
    tcpNetwork.connect('127.0.0.1', listener.port),
    tcpNetwork.connect('127.0.0.1', listener.port, { onRead: () => {} }),
  ];
  try {
    for (const c of clients) await new Promise<void>((r) => c.once('connect', r));
    while (accepted.length < clients.length) await new Promise((r) => setImmediate(r));
    for (const c of clients) assert.equal(noDelayOf(c), true, 'outgoing');
    for (const t of accepted) assert.equal(noDelayOf(t), true, 'incoming');
  } finally {
    for (const t of [...clients, ...accepted]) t.destroy();
    await listener.close();
  }
});
