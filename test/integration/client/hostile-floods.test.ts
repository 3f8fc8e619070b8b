/**
 * Floods of legal messages (issue 18, item 12): a keep-alive flood and repeated 4,000-entry
 * extension handshakes used to keep A's main thread busy for as long as the attacker liked. Now
 * each peer has an input budget: the flooder is closed with FLOOD within a fraction of what it
 * sent, and A's good download keeps going (checked by the world's finish()).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DisconnectReason as R } from '../../../src/peer/disconnect.js';
import { encode as encodeBencode } from '../../../src/bencode/index.js';
import { frame, hostile, makeWorld, portOf, reasonOf, type World } from '../../unit/client/hostile-world.js';
import type { RawPeer } from '../../unit/client/raw-peer.js';

/** Writes `chunk` as fast as the socket takes it until A closes or `maxBytes` went out. */
async function flood(raw: RawPeer, chunk: Buffer, maxBytes: number): Promise<number> {
  let sent = 0;
  while (!raw.isClosed && sent < maxBytes) {
    const more = raw.socket.write(chunk);
    sent += chunk.length;
    if (!more)
      await new Promise<void>((r) => {
        raw.socket.once('drain', r);
        raw.socket.once('close', r);
      });
  }
  return sent;
}

async function withWorld(body: (w: World) => Promise<void>): Promise<void> {
  const w = await makeWorld();
  try {
    await body(w);
    await w.finish();
  } catch (e) {
    await w.finish().catch(() => undefined);
    throw e;
  }
}

test('a keep-alive flood is closed with FLOOD at once; the good download goes on', async (t) => {
  await withWorld(async (w) => {
    const raw = await hostile(w);
    const t0 = performance.now();
    // 200 MiB of keep-alives, 64 KiB at a time (16,384 keep-alives per write).
    const sent = await flood(raw, Buffer.alloc(64 * 1024), 200 * 1024 * 1024);
    assert.equal(await reasonOf(w, raw), R.FLOOD);
    const ms = performance.now() - t0;
    assert.ok(sent < 16 * 1024 * 1024, `${sent} bytes went out before the close`);
    assert.ok(ms < 3000, `closed after ${ms.toFixed(0)} ms`);
    t.diagnostic(`keep-alive flooder closed after ${sent} bytes, ${ms.toFixed(0)} ms`);
    assert.match(w.closes.get(portOf(raw))!.message ?? '', /keep-alives/);
  });
});

test('repeated 4,000-entry extension handshakes: FLOOD after a few; the good download goes on', async (t) => {
  await withWorld(async (w) => {
    const m = new Map<string, number>();
    for (let i = 0; i < 4000; i++) m.set(`ext_${i}`, i + 1);
    const payload = Buffer.concat([Buffer.from([0]), encodeBencode(new Map([['m', m]]))]);
    const raw = await hostile(w, w.seeded.infoHash, { extended: true });
    const one = frame(20, payload);
    const sent = await flood(raw, one, 500 * one.length);
    assert.equal(await reasonOf(w, raw), R.FLOOD);
    assert.ok(sent <= 100 * one.length, `${sent / one.length} handshakes went out before the close`);
    assert.match(w.closes.get(portOf(raw))!.message ?? '', /extension handshakes/);
    t.diagnostic(`handshake flooder closed after ${sent / one.length} handshakes of ${one.length} bytes`);
  });
});

test('a polite peer is never over budget: one extension handshake, keep-alives, haves', async () => {
  await withWorld(async (w) => {
    const raw = await hostile(w, w.seeded.infoHash, { extended: true });
    raw.socket.write(frame(20, Buffer.concat([Buffer.from([0]), Buffer.from('d1:md6:ut_pexi1eee')])));
    for (let i = 0; i < 10; i++) raw.send({ type: 'keepAlive' });
    for (let i = 0; i < 5000; i++) raw.send({ type: 'have', index: 0 });
    raw.send({ type: 'request', index: 0, begin: 10_000_000, length: 16384 });
    assert.ok(await raw.waitFor((r) => r.messages.some((x) => x.type === 'reject'), 5000));
    assert.ok(!w.closes.has(portOf(raw)), JSON.stringify(w.closes.get(portOf(raw))));
  });
});
