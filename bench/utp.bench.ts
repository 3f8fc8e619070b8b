/**
 * uTP on loopback (NBT_BENCH_UTP_MB, default 256 MiB, in 1 MiB pieces), one run each, in one
 * process run so the ratios compare like with like:
 *  - download from a uTP-only libtorrent seed: our wall / a uTP-only libtorrent leech's wall,
 *    CPU ratio, our peak RSS;
 *  - our uTP throughput / our TCP throughput on the same transfer (libtorrent seeding over TCP);
 *  - the simulator: link utilisation of one uTP flow on a 10 Mbit/s link with 1 % loss at 50 and
 *    200 ms RTT (virtual time, test/helpers/utp-link.ts).
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ltPeerScript, peerInstalled } from '../test/helpers/real-peers.js';
import { UtpLink } from '../test/helpers/utp-link.js';
import { writeBenchData, measureProcess, type ProcessMeasure, type Reporter } from './harness.js';
import { doneSeconds, startSeed } from './download.bench.js';

const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'leech-child.js');

/** Share of a 10 Mbit/s link one uTP flow uses over 30 virtual seconds. */
function simUtilisation(rttMs: number): number {
  const rate = 1_250_000;
  const link = new UtpLink({ seed: 5, delay: rttMs / 2, loss: 0.01, rate, queueBytes: rate / 2 });
  link.run(10_000, () => link.a.state === 'connected');
  const start = link.now;
  const seconds = 30;
  const chunk = Buffer.alloc(1 << 20);
  const feed = (): void => {
    while (link.a.writableLength < 4 << 20) link.a.write(chunk);
  };
  feed();
  while (link.now < start + seconds * 1000) {
    link.run(link.now + 500);
    feed();
  }
  return link.bytes(1).length / (rate * seconds);
}

/**
 * UDP datagrams the kernel dropped for a full receive buffer, machine-wide (/proc/net/snmp's
 * RcvbufErrors; undefined off Linux). Each drop costs a uTP sender half its window.
 */
function udpReceiveDrops(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')]);
  } catch {
    return undefined;
  }
}

export async function run(report: Reporter): Promise<void> {
  for (const rtt of [50, 200]) {
    report.figure(`utp sim: link utilisation, ${rtt} ms RTT, 1 % loss`, simUtilisation(rtt) * 100, '%', {
      target: '>= 80',
    });
  }
  if (!peerInstalled('libtorrent')) {
    report.note('libtorrent is not installed: loopback figures skipped');
    return;
  }
  const mb = Number(process.env.NBT_BENCH_UTP_MB ?? 256);
  const root = join(tmpdir(), `nbt-bench-utp-${process.pid}`);
  const seedDir = join(root, 'seed');
  const torrentPath = join(root, 'data.torrent');
  try {
    await writeBenchData(seedDir, mb, torrentPath);
    report.note(`${mb} MiB in 1 MiB pieces, loopback, plaintext, one run each`);
    const py = '/usr/bin/python3';
    const ours = (dir: string, port: number, transport: 'utp' | 'tcp'): Promise<ProcessMeasure> =>
      measureProcess(process.execPath, [child, torrentPath, join(root, dir), 'disabled', String(port)], {
        timeoutMs: 900_000,
        env: { NBT_TRANSPORT: transport },
      });
    const seedArgs = [ltPeerScript, 'seed', torrentPath, seedDir, '--enc', 'disabled'];
    let ourUtp: ProcessMeasure;
    const utpSeed = await startSeed(py, [...seedArgs, '--utp-only']);
    try {
      const lt = await measureProcess(
        py,
        [ltPeerScript, 'leech', torrentPath, join(root, 'lt'), '--enc', 'disabled', '--utp-only'].concat([
          '--connect',
          `127.0.0.1:${utpSeed.port}`,
          '--timeout',
          '900',
        ]),
        { timeoutMs: 900_000 },
      );
      await rm(join(root, 'lt'), { recursive: true, force: true });
      const dropsBefore = udpReceiveDrops();
      ourUtp = await ours('ours-utp', utpSeed.port, 'utp');
      const dropsAfter = udpReceiveDrops();
      await rm(join(root, 'ours-utp'), { recursive: true, force: true });
      doneSeconds(lt);
      report.figure('utp download: libtorrent uTP leech wall', lt.wallSeconds, 's');
      report.figure('utp download: our wall', ourUtp.wallSeconds, 's');
      report.figure('utp download: our wall / libtorrent wall', ourUtp.wallSeconds / lt.wallSeconds, 'x', {
        target: '<= 1.0',
      });
      report.figure('utp download: our CPU / libtorrent CPU', ourUtp.cpuSeconds / lt.cpuSeconds, 'x', {
        target: '<= 1.2',
      });
      report.figure('utp download: libtorrent CPU', lt.cpuSeconds, 's');
      report.figure('utp download: our CPU', ourUtp.cpuSeconds, 's');
      report.figure('utp download: our peak RSS', ourUtp.maxRssMB, 'MB');
      if (dropsBefore !== undefined && dropsAfter !== undefined)
        report.figure('utp download: UDP receive-buffer drops (machine-wide)', dropsAfter - dropsBefore, '');
    } finally {
      await utpSeed.stop();
    }
    const tcpSeed = await startSeed(py, seedArgs);
    try {
      const ourTcp = await ours('ours-tcp', tcpSeed.port, 'tcp');
      const utpRate = mb / doneSeconds(ourUtp);
      const tcpRate = mb / doneSeconds(ourTcp);
      report.figure('utp download: our uTP throughput', utpRate, 'MiB/s');
      report.figure('utp download: our TCP throughput', tcpRate, 'MiB/s');
      report.figure('utp download: our TCP CPU', ourTcp.cpuSeconds, 's');
      report.figure('utp download: our uTP / our TCP throughput', utpRate / tcpRate, 'x', {
        target: '>= 0.5',
      });
    } finally {
      await tcpSeed.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
