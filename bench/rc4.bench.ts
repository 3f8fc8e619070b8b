/** RC4 throughput and in-memory MSE handshake rate. */
import { MseInitiator, MseResponder, Rc4 } from '../src/mse/index.js';
import type { Reporter } from './harness.js';

const MiB = 1024 * 1024;

function rc4Throughput(totalBytes: number, chunk: number): number {
  const buf = Buffer.alloc(16 * MiB, 0x5a);
  const rc4 = new Rc4(Buffer.from('benchmark key 0123456789'));
  rc4.process(buf.subarray(0, 4 * MiB)); // warm-up (JIT)
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < totalBytes;) {
    for (let o = 0; o < buf.length && done < totalBytes; o += chunk, done += chunk)
      rc4.process(buf.subarray(o, o + chunk));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return totalBytes / MiB / seconds;
}

function handshakesPerSecond(seconds: number): number {
  const infoHash = Buffer.alloc(20, 7);
  const ia = Buffer.alloc(68, 1);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const a = new MseInitiator({ infoHash, provide: ['rc4'], initialPayload: ia });
    const b = new MseResponder({ infoHashes: () => [infoHash], allow: ['rc4'] });
    const step2 = b.receive(a.start()).send!;
    const step3 = a.receive(step2).send!;
    const step4 = b.receive(step3);
    if (!step4.done || !a.receive(step4.send!).done) throw new Error('handshake did not complete');
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

export async function run(report: Reporter): Promise<void> {
  report.figure('RC4 throughput, 256 MiB in 16 KiB chunks', rc4Throughput(256 * MiB, 16 * 1024), 'MiB/s', {
    target: '>= 400',
  });
  report.figure('RC4 throughput, 64 MiB in 1 KiB chunks', rc4Throughput(64 * MiB, 1024), 'MiB/s');
  report.figure('MSE handshakes (both roles, in memory, RC4)', handshakesPerSecond(2), 'handshakes/s');
  await Promise.resolve();
}
