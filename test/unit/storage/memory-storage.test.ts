import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage, makeLayout } from '../../../src/storage/index.js';
import { seededBytes } from '../../helpers/tmp.js';

const layout = makeLayout(1000, [
  { path: ['t', 'a.bin'], length: 2500 },
  { path: ['t', 'b.bin'], length: 1500 },
]);

test('memory storage: missing and short parts read as zeros, present parts as written', async () => {
  const data = seededBytes(4000, 3);
  const s = new MemoryStorage(layout);
  // A vector write spanning both files, its parts cut at odd places.
  await s.write(2, 0, [data.subarray(2000, 2100), data.subarray(2100, 2777), data.subarray(2777, 3000)]);
  const buf = Buffer.alloc(4000, 0xee);
  const missing = await s.readInto(0, buf, { allowMissing: true });
  // a.bin holds 2000..2500 (the file grew to 2500 with zeros before); b.bin holds 0..500.
  assert.deepEqual(missing, [{ start: 3000, end: 4000 }]);
  assert.deepEqual(buf.subarray(2000, 3000), data.subarray(2000, 3000));
  assert.ok(buf.subarray(0, 2000).every((b) => b === 0));
  assert.ok(
    buf.subarray(3000).every((b) => b === 0),
    'the part past b.bin’s end is zeroed',
  );
  s.deleteFile(1);
  const again = Buffer.alloc(4000, 0xee);
  assert.deepEqual(await s.readInto(0, again, { allowMissing: true }), [{ start: 2500, end: 4000 }]);
  assert.ok(
    again.subarray(2500).every((b) => b === 0),
    'a deleted file reads as zeros',
  );
});
