import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_INPUT_BUDGET, InputBudget } from '../../../src/peer/input-budget.js';
import type { Message } from '../../../src/wire/index.js';

const keepAlive: Message = { type: 'keepAlive' };
const extHs = (size = 10): Message => ({ type: 'extended', id: 0, payload: Buffer.alloc(size) });
const piece: Message = { type: 'piece', index: 0, begin: 0, block: Buffer.alloc(16384) };

test('keep-alives: a polite rate passes for hours, a flood is over budget within the window', () => {
  const b = new InputBudget();
  for (let t = 0; t < 6 * 3600_000; t += 120_000) assert.equal(b.charge(keepAlive, t), undefined);
  const f = new InputBudget();
  let over: string | undefined;
  let n = 0;
  while (!over && n < 1000) over = f.charge(keepAlive, 1000 + n++);
  assert.equal(n, DEFAULT_INPUT_BUDGET.keepAlives + 1);
  assert.match(over!, /keep-alives/);
});

test('the window resets: 2 keep-alives a second forever is fine', () => {
  const b = new InputBudget();
  for (let t = 0; t < 600_000; t += 500) assert.equal(b.charge(keepAlive, t), undefined);
});

test('extension handshakes: a few per window, then over budget', () => {
  const b = new InputBudget();
  for (let i = 0; i < DEFAULT_INPUT_BUDGET.extendedHandshakes; i++)
    assert.equal(b.charge(extHs(), i), undefined);
  assert.match(b.charge(extHs(), 5)!, /extension handshakes/);
  // Ten seconds later an update is welcome again.
  assert.equal(new InputBudget().charge(extHs(), 0), undefined);
});

test('extended bytes and control messages are bounded; block traffic is never counted', () => {
  const b = new InputBudget({ ...DEFAULT_INPUT_BUDGET, extendedBytes: 100_000, controlMessages: 50 });
  for (let i = 0; i < 1_000_000; i++) assert.equal(b.charge(piece, 0), undefined);
  for (let i = 0; i < 10_000; i++)
    assert.equal(b.charge({ type: 'request', index: 0, begin: 0, length: 16384 }, 0), undefined);
  let over: string | undefined;
  for (let i = 0; i < 20 && !over; i++)
    over = b.charge({ type: 'extended', id: 3, payload: Buffer.alloc(16384) }, 0);
  assert.match(over!, /bytes of extended/);
  const c = new InputBudget({ ...DEFAULT_INPUT_BUDGET, controlMessages: 50 });
  for (let i = 0; i < 50; i++) assert.equal(c.charge({ type: 'have', index: 1 }, 0), undefined);
  assert.match(c.charge({ type: 'have', index: 1 }, 0)!, /messages/);
});

test('BEP 52 hash messages have their own budget per window', () => {
  const b = new InputBudget({ ...DEFAULT_INPUT_BUDGET, hashMessages: 3 });
  const req = {
    type: 'hashRequest' as const,
    piecesRoot: Buffer.alloc(32),
    baseLayer: 0,
    index: 0,
    length: 2,
    proofLayers: 0,
  };
  for (let i = 0; i < 3; i++) assert.equal(b.charge(req, 0), undefined);
  assert.match(b.charge({ ...req, type: 'hashReject' }, 1) ?? '', /more than 3 hash messages/);
  // a new window starts over
  assert.equal(b.charge(req, DEFAULT_INPUT_BUDGET.windowMs + 1), undefined);
});
