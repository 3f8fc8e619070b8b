/**
 * The daemon: many torrents on one Client, remembered across restarts in a SessionStore. Every
 * change a remote tool asks for is written to the session file before it is acknowledged, so a
 * kill -9 at any moment restarts with every acknowledged torrent in its state; piece progress
 * comes back from the Client's resume files (config-dir/resume), so verified pieces are not
 * downloaded again.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client } from '../client/index.js';
import { parseMagnet, parseTorrent } from '../metainfo/index.js';
import { NbtError } from '../util/errors.js';
import { SessionStore, type DaemonSettings } from './store.js';
import { defaultSettings, applySessionSettings } from './settings.js';
import type { Logger } from './log.js';
import { decide } from './policy.js';
import { inAltSpeedWindow } from './schedule.js';
import { WatchDir } from './watch-dir.js';
import { DaemonBlocklist } from './blocklist.js';
import type { TimerHandle } from '../util/clock.js';
import type { SettingName, SettingsPack } from '../settings/index.js';
import { applyEngineSettings, validSavedEngineSettings } from './engine-settings.js';
import type { AddRequest, AddResult, DaemonOptions, DaemonTorrent } from './daemon-types.js';
import { trackActivity } from './activity.js';
import { readAddSource } from './add-source.js';
import { dataDir, newRecord, rateLimitsOf } from './records.js';
import { restoreAll } from './restore.js';
import { policyFacts } from './policy-facts.js';

export type { AddRequest, AddResult, DaemonOptions, DaemonTorrent } from './daemon-types.js';
export { secondsIn } from './activity.js';
export { dataDir, rateLimitsOf } from './records.js';

/** How often queues and seed limits are looked at (also after every change). */
const POLICY_INTERVAL_MS = 5_000;
/** State changes run the policy at most this often (Transmission's queue pump runs each second). */
const POLICY_COALESCE_MS = 250;

export class Daemon {
  readonly store: SessionStore;
  /** blocklist-url, fetched by blocklist-update, applied to the client's IP filter. */
  readonly blocklist: DaemonBlocklist;
  readonly client: Client;
  private readonly entries = new Map<string, DaemonTorrent>();
  /** Wall-clock Unix seconds. */
  readonly now: () => number;
  private readonly log: Logger | undefined;
  private settingsValue: DaemonSettings;
  /** Unix seconds the daemon started (session-stats' secondsActive). */
  readonly startedAt: number;
  private closing: Promise<void> | undefined;
  private policyTimer: TimerHandle | undefined;
  private readonly watchDir: WatchDir;
  /** The schedule's last verdict: alt speed follows its transitions only. */
  private altScheduled: boolean | undefined;

  private constructor(o: DaemonOptions, store: SessionStore, settings: DaemonSettings) {
    this.store = store;
    this.now = o.now ?? (() => Math.floor(Date.now() / 1000));
    this.log = o.log;
    this.settingsValue = settings;
    this.startedAt = this.now();
    const engine = validSavedEngineSettings(store.session.engine);
    if (engine.dropped.length) this.log?.warn('saved engine settings ignored', { settings: engine.dropped });
    this.client = new Client({
      resumeInterval: 10_000,
      ...o.client,
      settings: { ...o.client?.settings, ...engine.pack },
      resumeDir: store.resumeDir,
      savePath: settings['download-dir'],
      ...(o.port !== undefined ? { port: o.port } : {}),
    });
    applySessionSettings(this.client, settings);
    this.blocklist = new DaemonBlocklist(store.dir, this.client);
    this.watchDir = new WatchDir({
      add: (bytes) => this.add({ metainfo: bytes }),
      warn: (msg, fields) => this.log?.warn(msg, fields),
    });
    this.client.on('warning', (e) => this.log?.warn('warning', { error: e.message }));
    this.client.on('torrent-error', (t, e) =>
      this.log?.warn('torrent error', { infoHash: t.infoHashHex, error: e.message }),
    );
  }

  /** Opens the config directory, restores every remembered torrent and listens. */
  static async open(o: DaemonOptions): Promise<Daemon> {
    const store = new SessionStore(resolve(o.configDir));
    const session = await store.open();
    const settings: DaemonSettings = {
      ...defaultSettings(resolve(o.downloadDir ?? join(o.configDir, 'downloads'))),
      ...session.settings,
    };
    if (o.downloadDir) settings['download-dir'] = resolve(o.downloadDir);
    const d = new Daemon(o, store, settings);
    await d.blocklist.apply(settings['blocklist-enabled']);
    await d.client.listen();
    const restoring: DaemonTorrent[] = [];
    for (const record of [...session.torrents].sort((a, b) => a.queuePosition - b.queuePosition)) {
      const entry: DaemonTorrent = { record, torrent: undefined };
      d.entries.set(record.infoHash, entry);
      restoring.push(entry);
    }
    await restoreAll(
      restoring,
      (entry) => d.startTorrent(entry),
      (entry, e) =>
        d.log?.error('could not restore torrent', { infoHash: entry.record.infoHash, error: String(e) }),
    );
    d.policyTimer = d.client.options.clock.setInterval(() => d.tick(), POLICY_INTERVAL_MS);
    d.applyPolicy();
    d.log?.info('daemon started', { torrents: d.entries.size, port: d.client.port, configDir: store.dir });
    return d;
  }

  get settings(): DaemonSettings {
    return { ...this.settingsValue };
  }

  /** Changes session settings; saved before it resolves. */
  async setSettings(pack: Partial<DaemonSettings>): Promise<void> {
    const blocklistWas = this.settingsValue['blocklist-enabled'];
    this.settingsValue = { ...this.settingsValue, ...pack };
    if (this.settingsValue['blocklist-enabled'] !== blocklistWas)
      await this.blocklist.apply(this.settingsValue['blocklist-enabled']);
    applySessionSettings(this.client, this.settingsValue);
    this.store.session.settings = this.settingsValue;
    await this.store.flush();
    this.applyPolicy();
  }

  /**
   * Changes engine settings (src/settings) on the running Client and remembers them in the
   * session file, saved before it resolves. Throws SettingsError naming the setting (nothing
   * changes) for an unknown name, a bad value, a construction-only setting, or one the session
   * settings own (src/daemon/engine-settings.ts).
   */
  async setEngineSettings(pack: unknown): Promise<SettingName[]> {
    const before = this.client.settings() as Record<string, unknown>;
    const saved = applyEngineSettings(this.client, (this.store.session.engine ?? {}) as SettingsPack, pack);
    this.store.session.engine = saved as Record<string, unknown>;
    await this.store.flush();
    const after = this.client.settings() as Record<string, unknown>;
    return (Object.keys(pack as object) as SettingName[]).filter(
      (n) => JSON.stringify(before[n]) !== JSON.stringify(after[n]),
    );
  }

  /** Every torrent in queue order. */
  list(): DaemonTorrent[] {
    return [...this.entries.values()].sort((a, b) => a.record.queuePosition - b.record.queuePosition);
  }

  byId(id: number): DaemonTorrent | undefined {
    for (const e of this.entries.values()) if (e.record.id === id) return e;
    return undefined;
  }

  byHash(hex: string): DaemonTorrent | undefined {
    return this.entries.get(hex.toLowerCase());
  }

  /** Adds a torrent; resolves once its record (and .torrent) are on disk. */
  async add(req: AddRequest): Promise<AddResult> {
    const now = this.now();
    const { bytes, magnet } = await readAddSource(req);
    const parsed = bytes ? parseTorrent(bytes) : parseMagnet(magnet!);
    const infoHash = parsed.infoHashHex;
    const existing = this.entries.get(infoHash);
    if (existing) return { entry: existing, duplicate: true };
    if (bytes) await this.store.saveTorrentFile(infoHash, bytes);
    const record = newRecord({
      id: this.store.allocateId(),
      infoHash,
      name: parsed.name ?? infoHash,
      magnet,
      req,
      settings: this.settingsValue,
      queuePosition: this.entries.size,
      now,
    });
    const entry: DaemonTorrent = { record, torrent: undefined };
    this.entries.set(infoHash, entry);
    this.store.session.torrents.push(record);
    await this.store.flush();
    await this.startTorrent(entry, req.skipCheck ?? false);
    this.applyPolicy();
    this.log?.info('torrent added', { id: record.id, infoHash, name: record.name });
    return { entry, duplicate: false };
  }

  /** Puts the record's torrent on the client (restart, add, move). */
  private async startTorrent(entry: DaemonTorrent, skipCheck = false): Promise<void> {
    const r = entry.record;
    await mkdir(dataDir(r), { recursive: true });
    const input = r.source.kind === 'magnet' ? r.source.uri : this.store.torrentFile(r.infoHash);
    const t = await this.client.addTorrent(input, {
      savePath: dataDir(r),
      paused: r.stopped,
      sequential: r.sequential,
      rateLimits: rateLimitsOf(r),
      ...(skipCheck ? { skipCheck } : {}),
      ...(r.filePriorities ? { filePriorities: r.filePriorities } : {}),
    });
    entry.torrent = t;
    if (r.name === r.infoHash && t.hasMetadata) r.name = t.metainfo.name;
    t.on('finished', () => void this.completed(entry));
    trackActivity(entry, t.state, this.now());
    t.on('state', (s, prev) => {
      trackActivity(entry, s, this.now());
      if (s === 'seeding' && (entry.record.doneDate === 0 || entry.record.incompleteDir))
        void this.completed(entry);
      // A check that ends may free or need a queue slot.
      if (prev === 'checking' || prev === 'metadata') this.policySoon();
    });
  }

  /** The wanted data is in: remember the date, and leave the incomplete directory. */
  private async completed(entry: DaemonTorrent): Promise<void> {
    await this.markDone(entry);
    const r = entry.record;
    if (!r.incompleteDir || entry.moving || entry.torrent?.state !== 'seeding') return;
    entry.moving = true;
    try {
      await this.setLocation(entry, r.savePath, true);
      this.log?.info('moved out of the incomplete directory', { id: r.id, to: r.savePath });
    } catch (e) {
      this.log?.warn('could not move a finished torrent', { id: r.id, error: String(e) });
    } finally {
      entry.moving = false;
    }
  }

  private async markDone(entry: DaemonTorrent): Promise<void> {
    if (entry.record.doneDate) return;
    entry.record.doneDate = this.now();
    if (entry.torrent?.hasMetadata) entry.record.name = entry.torrent.metainfo.name;
    await this.store
      .flush()
      .catch((e: unknown) => this.log?.warn('session save failed', { error: String(e) }));
  }

  /** Forgets a torrent (and its data with `deleteData`). */
  async remove(entry: DaemonTorrent, deleteData: boolean): Promise<void> {
    this.entries.delete(entry.record.infoHash);
    const list = this.store.session.torrents;
    const i = list.indexOf(entry.record);
    if (i >= 0) list.splice(i, 1);
    this.renumberQueue();
    await this.store.flush();
    if (entry.torrent) await this.client.removeTorrent(entry.torrent, { deleteFiles: deleteData });
    await this.store.removeTorrentFile(entry.record.infoHash);
    this.log?.info('torrent removed', { id: entry.record.id, infoHash: entry.record.infoHash, deleteData });
  }

  /** Starts (or queues) a torrent; `now` skips the queues (torrent-start-now). */
  async start(entry: DaemonTorrent, now = false): Promise<void> {
    entry.record.stopped = false;
    entry.record.seedLimitReached = false;
    if (now) entry.forceStart = true;
    // The idle seeding limit counts from the start.
    entry.lastUpload = undefined;
    await this.store.flush();
    const t = entry.torrent;
    if (!t) return;
    if (t.state === 'stopped' || t.state === 'error') t.start();
    entry.queued = false;
    t.resume();
    this.applyPolicy();
  }

  async stop(entry: DaemonTorrent): Promise<void> {
    entry.record.stopped = true;
    entry.forceStart = false;
    entry.queued = false;
    this.saveTotals(entry);
    await this.store.flush();
    entry.torrent?.pause();
    if (entry.torrent) await this.client.saveResume(entry.torrent);
  }

  /** Checks the data again (every piece hashed; the resume file's trust is dropped). */
  async verify(entry: DaemonTorrent): Promise<void> {
    const t = entry.torrent;
    if (!t) return;
    await t.stop();
    t.start();
  }

  /** Asks for more peers now: the client dials the known addresses (trackers announce on their schedule). */
  reannounce(entry: DaemonTorrent): void {
    entry.torrent?.addPeers([], { kind: 'user' });
  }

  /**
   * Points the torrent at another directory; with `move` its files go along (rename, or copy and
   * delete across file systems). The torrent is re-added there, checked, and goes on seeding.
   */
  async setLocation(entry: DaemonTorrent, location: string, move: boolean): Promise<void> {
    const to = resolve(location);
    const t = entry.torrent;
    if (to === dataDir(entry.record)) return;
    if (t && move) {
      // The data moves under the running torrent: it keeps seeding and nothing is checked again.
      await t.moveStorage(to);
      entry.record.savePath = to;
      delete entry.record.incompleteDir;
      await Promise.all([this.store.flush(), this.client.saveResume(t)]);
      return;
    }
    if (t) {
      // "Find the data there": the torrent is added again at the new place and checked.
      this.saveTotals(entry);
      await this.client.removeTorrent(t);
      entry.torrent = undefined;
    }
    entry.record.savePath = to;
    delete entry.record.incompleteDir;
    await this.store.flush();
    await this.startTorrent(entry);
  }

  /**
   * Renames a file or folder of the torrent (Torrent.renamePath); resolves once the record's
   * name and the resume data (the new paths) are saved, so a crash cannot lose the rename.
   */
  async renamePath(entry: DaemonTorrent, from: string, to: string): Promise<void> {
    const t = entry.torrent;
    if (!t?.hasMetadata) throw new NbtError('TORRENT_NO_METADATA', 'rename: the metadata is not here yet');
    await t.renamePath(from, to);
    entry.record.name = t.name;
    await Promise.all([this.saveRecord(), this.client.saveResume(t)]);
  }

  /** Applies per-file priorities (our scale) and remembers them. */
  async setFilePriorities(entry: DaemonTorrent, priorities: number[]): Promise<void> {
    entry.record.filePriorities = priorities;
    await this.store.flush();
    if (entry.torrent?.hasMetadata) entry.torrent.setFilePriorities(priorities);
  }

  /** Saves a record change made by the caller. */
  async saveRecord(): Promise<void> {
    await this.store.flush();
    this.applyPolicy();
  }

  private policyPending = false;
  private policySoonTimer: TimerHandle | undefined;
  /** Clock ms of the last policy run. */
  private lastPolicyAt = -Infinity;

  /** The periodic round: the alt-speed schedule, the watch directory, queues and seed limits. */
  tick(): Promise<void> {
    const s = this.settingsValue;
    if (s['alt-speed-time-enabled']) {
      const inside = inAltSpeedWindow(new Date(this.now() * 1000), s);
      if (inside !== this.altScheduled) {
        this.altScheduled = inside;
        if (inside !== s['alt-speed-enabled']) {
          this.log?.info('alt speed by schedule', { enabled: inside });
          void this.setSettings({ 'alt-speed-enabled': inside });
        }
      }
    } else this.altScheduled = undefined;
    this.applyPolicy();
    if (!s['watch-dir-enabled'] || this.closing) return Promise.resolve();
    return this.watchDir.scan(s['watch-dir']).then(() => undefined);
  }

  /**
   * applyPolicy on the next turn, once for any number of calls, and at most every
   * POLICY_COALESCE_MS: 1,000 checks ending one by one at start-up would otherwise run it 1,000
   * times over 1,000 torrents.
   */
  private policySoon(): void {
    if (this.policyPending) return;
    this.policyPending = true;
    const run = (): void => {
      this.policyPending = false;
      this.applyPolicy();
    };
    const clock = this.client.options.clock;
    const wait = this.lastPolicyAt + POLICY_COALESCE_MS - clock.now();
    if (wait <= 0) setImmediate(run);
    else this.policySoonTimer = clock.setTimeout(run, wait);
  }

  /** Runs the queue and seed-limit policy (src/daemon/policy.ts) on the torrents' current facts. */
  applyPolicy(): void {
    if (this.closing) return;
    const now = this.client.options.clock.now();
    this.lastPolicyAt = now;
    const facts = policyFacts(this.entries.values(), now);
    const d = decide(facts, this.settingsValue);
    for (const e of this.entries.values()) {
      const id = e.record.id;
      const t = e.torrent;
      if (!t) continue;
      if (d.limitReached.has(id)) {
        e.record.seedLimitReached = true;
        this.log?.info('seed limit reached', { id, infoHash: e.record.infoHash });
        void this.stop(e).catch((err: unknown) => this.log?.warn('stop failed', { id, error: String(err) }));
      } else if (d.queued.has(id) && !e.queued) {
        e.queued = true;
        t.pause();
      } else if (d.run.has(id) && e.queued) {
        e.queued = false;
        t.resume();
      }
    }
  }

  /** Moves a torrent in the queue to `position` (clamped); the others close up. */
  async moveInQueue(entry: DaemonTorrent, position: number): Promise<void> {
    const list = this.list().filter((e) => e !== entry);
    const at = Math.max(0, Math.min(list.length, position));
    list.splice(at, 0, entry);
    list.forEach((e, i) => (e.record.queuePosition = i));
    await this.store.flush();
    this.applyPolicy();
  }

  private renumberQueue(): void {
    this.list().forEach((e, i) => (e.record.queuePosition = i));
  }

  private saveTotals(entry: DaemonTorrent): void {
    const t = entry.torrent;
    if (!t) return;
    const s = t.stats();
    entry.record.uploadedEver = s.uploaded;
    entry.record.downloadedEver = s.downloaded;
  }

  /** Saves everything and closes the client (SIGTERM/SIGINT, session-close). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.policyTimer?.cancel();
      this.policySoonTimer?.cancel();
      for (const e of this.entries.values()) this.saveTotals(e);
      await this.store
        .flush()
        .catch((e: unknown) => this.log?.error('session save failed', { error: String(e) }));
      await this.client.close();
      this.log?.info('daemon stopped', {});
    })();
    return this.closing;
  }
}
