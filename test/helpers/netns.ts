/**
 * Network namespaces for interop tests that need each client on its own (non-loopback) address,
 * e.g. Transmission, which ignores tracker/PEX/DHT peers on 127.0.0.0/8.
 *
 * Layout of one lab (root only):
 *   root namespace:  bridge nbtb<pid>-<k>, address 10.77.X.1/24 (X unused by any other lab)
 *   namespace i:     nbt-<pid>-<k>-<i>, lo up, eth0 = 10.77.X.(i+2)/24, veth peer on the bridge
 * No default route anywhere and no forwarding: the /24 exists only on that bridge.
 * Names carry the creating pid, so a crashed run's leftovers are found and deleted by the next run.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { TestContext } from 'node:test';

// Labs may carry a prefix of their own (`nbtlsd`, …): names always start with `nbt`.
const NS_RE = /^nbt[a-z]*-(\d+)-\d+-\d+$/;
const LINK_RE = /^(?:nv|nbt[a-z]+)(\d+)-/;

export interface NetnsNode {
  /** Namespace name, for `ip netns exec`. */
  readonly name: string;
  /** Its eth0 address on the lab bridge. */
  readonly address: string;
  /** The root-namespace end of its veth pair (on the bridge). */
  readonly veth: string;
}

export interface LabOptions {
  /**
   * Names start with this (`nbt` + lowercase letters, at most `nbtxxx` so that interface names
   * stay within 15 characters): namespaces `<prefix>-<pid>-<k>-<i>`, bridge `<prefix><pid>-<k>`.
   * Default `nbt` (bridge `nbtb<pid>-<k>`).
   */
  prefix?: string;
  /**
   * Multicast between the nodes: a 239.0.0.0/8 route on each node's eth0 (there is no default
   * route to carry it) and no IGMP snooping on the bridge (no querier), for BEP 14 tests.
   */
  multicast?: boolean;
}

export interface ShapeOptions {
  /** Node's upload (egress of its eth0), kbit/s. */
  upKbit?: number;
  /** Node's download (egress of the bridge-side veth towards it), kbit/s. */
  downKbit?: number;
}

function ip(args: string[], allowFail = false): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) {
    throw new Error(`ip ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  return r.stdout ?? '';
}

function sysctl(ns: string, setting: string): void {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', setting], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sysctl ${setting} in ${ns} failed: ${(r.stderr || '').trim()}`);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killNamespacePids(ns: string): void {
  for (const p of ip(['netns', 'pids', ns], true).split(/\s+/)) {
    const pid = Number(p);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

function listNamespaces(): string[] {
  return ip(['netns', 'list'], true)
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** Deletes namespaces and links left behind by test processes that no longer run. */
export function deleteStaleNetns(): void {
  for (const ns of listNamespaces()) {
    const m = NS_RE.exec(ns);
    if (m && !alive(Number(m[1]))) {
      killNamespacePids(ns);
      ip(['netns', 'del', ns], true);
    }
  }
  for (const line of ip(['-o', 'link', 'show'], true).split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
    const m = name ? LINK_RE.exec(name) : null;
    if (name && m && !alive(Number(m[1]))) ip(['link', 'del', name], true);
  }
}

let probed: string | null | undefined;

/** Why namespaces cannot be used here, or null when they can (probed once per process). */
export function netnsUnavailableReason(): string | null {
  if (probed !== undefined) return probed;
  if (process.getuid?.() !== 0) return (probed = 'network namespaces need root');
  const name = `nbt-${process.pid}-99-0`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.status !== 0) return (probed = `ip netns add failed: ${(r.stderr || r.error?.message || '').trim()}`);
  ip(['netns', 'del', name], true);
  return (probed = null);
}

/**
 * Call at the top of a namespace test: false (and skip with a notice) when namespaces are not
 * available locally; throws under CI (CI=true), like requirePeer.
 */
export function requireNetns(t: TestContext): boolean {
  const why = netnsUnavailableReason();
  if (why === null) return true;
  if (process.env.CI === 'true') throw new Error(`CI requires network namespaces: ${why}`);
  process.stderr.write(`NOTICE: skipping "${t.name}": ${why}\n`);
  t.skip(why);
  return false;
}

let labCounter = 0;

function pickSubnet(): number {
  const used = new Set<number>();
  for (const m of ip(['-o', '-4', 'addr', 'show'], true).matchAll(/inet 10\.77\.(\d+)\./g))
    used.add(Number(m[1]));
  const start = (process.pid % 200) + 20;
  for (let i = 0; i < 250; i++) {
    const x = ((start + i) % 250) + 1;
    if (!used.has(x)) return x;
  }
  throw new Error('no free 10.77.X.0/24 subnet');
}

/** N namespaces on one private bridge. Always call cleanup() (t.after / finally). */
export class NetnsLab {
  readonly nodes: NetnsNode[] = [];
  /** The bridge, in the root namespace. */
  readonly bridge: string;
  /** The root namespace's address on the bridge (reachable from every node). */
  readonly hostAddress: string;
  private readonly children = new Set<ChildProcess>();
  private cleaned = false;

  private readonly prefix: string;

  private constructor(
    readonly subnet: number,
    private readonly id: number,
    private readonly o: LabOptions,
  ) {
    this.prefix = o.prefix ?? 'nbt';
    this.bridge = o.prefix ? `${o.prefix}${process.pid}-${id}` : `nbtb${process.pid}-${id}`;
    this.hostAddress = `10.77.${subnet}.1`;
  }

  /** Creates `count` namespaces (at most 50); deletes stale ones from dead runs first. */
  static create(count: number, o: LabOptions = {}): NetnsLab {
    if (count < 1 || count > 50) throw new RangeError(`namespace count ${count} out of 1..50`);
    if (o.prefix !== undefined && !/^nbt[a-z]{1,3}$/.test(o.prefix))
      throw new RangeError(`lab prefix "${o.prefix}" must be nbt + 1..3 lowercase letters`);
    deleteStaleNetns();
    const lab = new NetnsLab(pickSubnet(), labCounter++, o);
    try {
      lab.build(count);
    } catch (e) {
      lab.removeAll();
      throw e;
    }
    return lab;
  }

  private build(count: number): void {
    const net = `10.77.${this.subnet}`;
    ip(['link', 'add', 'name', this.bridge, 'type', 'bridge', 'forward_delay', '0']);
    if (this.o.multicast) ip(['link', 'set', this.bridge, 'type', 'bridge', 'mcast_snooping', '0']);
    ip(['addr', 'add', `${this.hostAddress}/24`, 'dev', this.bridge]);
    ip(['link', 'set', this.bridge, 'up']);
    for (let i = 0; i < count; i++) {
      const name = `${this.prefix}-${process.pid}-${this.id}-${i}`;
      const veth = `nv${process.pid}-${this.id}-${i}`.slice(0, 15);
      ip(['netns', 'add', name]);
      this.nodes.push({ name, address: `${net}.${i + 2}`, veth });
      ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
      ip(['link', 'set', veth, 'master', this.bridge]);
      ip(['link', 'set', veth, 'up']);
      // No duplicate address detection: the IPv6 link-local address is usable at once.
      if (this.o.multicast) sysctl(name, 'net.ipv6.conf.eth0.accept_dad=0');
      ip(['-n', name, 'addr', 'add', `${net}.${i + 2}/24`, 'dev', 'eth0']);
      ip(['-n', name, 'link', 'set', 'eth0', 'up']);
      ip(['-n', name, 'link', 'set', 'lo', 'up']);
      if (this.o.multicast) ip(['-n', name, 'route', 'add', '239.0.0.0/8', 'dev', 'eth0']);
    }
  }

  /**
   * Runs `cmd args` inside node i (`ip netns exec`, which execs: the child's pid is the command's).
   * The child is killed by cleanup().
   */
  spawn(i: number, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const node = this.nodes[i];
    if (!node) throw new RangeError(`no namespace ${i}`);
    const child = spawn('ip', ['netns', 'exec', node.name, cmd, ...args], opts);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * Limits node i's link rates with tc tbf (netem, i.e. latency, is not available in this kernel).
   * Replaces earlier limits; the qdiscs vanish with the namespace.
   */
  shape(i: number, o: ShapeOptions): void {
    const node = this.nodes[i];
    if (!node) throw new RangeError(`no namespace ${i}`);
    const tbf = (kbit: number): string[] => {
      // burst must hold at least one MTU-sized packet per timer tick; ~10 ms worth, >= 4 KiB.
      const burst = Math.max(4096, Math.ceil((kbit * 1000) / 8 / 100));
      return ['root', 'tbf', 'rate', `${kbit}kbit`, 'burst', String(burst), 'latency', '200ms'];
    };
    if (o.upKbit) ip(['netns', 'exec', node.name, 'tc', 'qdisc', 'replace', 'dev', 'eth0', ...tbf(o.upKbit)]);
    if (o.downKbit) {
      const r = spawnSync('tc', ['qdisc', 'replace', 'dev', node.veth, ...tbf(o.downKbit)], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`tc on ${node.veth} failed: ${r.stderr.trim()}`);
    }
  }

  /** The argv prefix that runs a command inside node i, for drivers that spawn by themselves. */
  execPrefix(i: number): string[] {
    const node = this.nodes[i];
    if (!node) throw new RangeError(`no namespace ${i}`);
    return ['ip', 'netns', 'exec', node.name];
  }

  /** Kills everything still running inside the namespaces and deletes them and the bridge. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    const exits = [...this.children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
    this.removeAll();
  }

  private removeAll(): void {
    for (const n of this.nodes) {
      killNamespacePids(n.name);
      ip(['netns', 'del', n.name], true);
    }
    ip(['link', 'del', this.bridge], true);
  }
}
