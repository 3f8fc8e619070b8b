/**
 * The engine settings (src/settings/definitions.ts) as the daemon edits and remembers them: a
 * change goes to the running Client and into session.json's `engine`, which the next start puts
 * on top of daemon.json's `engine`. Settings the daemon sets itself (the rate and peer limits
 * from its session settings, the save path, the listen port) are not editable here.
 */
import type { Client } from '../client/index.js';
import {
  SettingsError,
  SettingsStore,
  isSettingName,
  settingNames,
  settingSpec,
  type SettingName,
  type SettingSpec,
  type SettingsPack,
} from '../settings/index.js';

/**
 * Engine settings the daemon sets itself (src/daemon/settings.ts, its add path and its --port),
 * with what sets them: a value saved here would fight them.
 */
export const DAEMON_OWNED: ReadonlyMap<SettingName, string> = new Map<SettingName, string>([
  ['download_rate_limit', 'the session settings speed-limit-down / alt-speed-down'],
  ['upload_rate_limit', 'the session settings speed-limit-up / alt-speed-up'],
  ['connections_limit', 'the session setting peer-limit-global'],
  ['peers_per_torrent_limit', 'the session setting peer-limit-per-torrent'],
  ['save_path', 'the session setting download-dir'],
  ['listen_port', "the daemon's --port"],
  ['listen_port_range', "the daemon's --port"],
  ['listen_host', 'daemon.json "engine" (read at start)'],
]);

/** One setting as the web UI's editor shows it. */
export interface EngineSettingView {
  name: SettingName;
  spec: SettingSpec;
  value: unknown;
  /** Whether it can change on the running daemon (not construction-only nor session-owned). */
  editable: boolean;
  /** Why it cannot, when it cannot. */
  note?: string;
}

export function engineSettingsView(client: Client): EngineSettingView[] {
  const values = client.settings() as Record<SettingName, unknown>;
  return settingNames.map((name) => {
    const spec = settingSpec(name);
    const owner = DAEMON_OWNED.get(name);
    const note =
      owner !== undefined
        ? `set by ${owner}`
        : spec.applies === 'construction'
          ? 'fixed at start: set it in daemon.json "engine"'
          : undefined;
    return { name, spec, value: values[name], editable: note === undefined, ...(note ? { note } : {}) };
  });
}

/**
 * Applies `pack` to the running Client (validated as a whole first: a SettingsError names the
 * setting at fault and nothing changes) and returns the remembered overrides with it merged.
 */
export function applyEngineSettings(client: Client, saved: SettingsPack, pack: unknown): SettingsPack {
  if (typeof pack !== 'object' || pack === null || Array.isArray(pack))
    throw new SettingsError('SETTINGS_INVALID', '', 'settings must be an object of name: value');
  for (const name of Object.keys(pack)) {
    const owner = isSettingName(name) ? DAEMON_OWNED.get(name) : undefined;
    if (owner !== undefined)
      throw new SettingsError('SETTINGS_READ_ONLY', name, `setting ${name} is set by ${owner}`);
  }
  client.applySettings(pack as SettingsPack);
  const now = client.settings() as Record<SettingName, unknown>;
  const next: Record<string, unknown> = { ...saved };
  for (const name of Object.keys(pack)) next[name] = now[name as SettingName];
  return next as SettingsPack;
}

/**
 * The remembered overrides that are still valid (a setting renamed or a bound tightened since
 * they were saved is dropped, named in `dropped`, rather than stopping the daemon).
 */
export function validSavedEngineSettings(raw: unknown): { pack: SettingsPack; dropped: string[] } {
  const pack: Record<string, unknown> = {};
  const dropped: string[] = [];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { pack, dropped };
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    try {
      if (isSettingName(name) && DAEMON_OWNED.has(name)) throw new Error('daemon-owned');
      new SettingsStore({ [name]: v });
      pack[name] = v;
    } catch {
      dropped.push(name);
    }
  }
  return { pack: pack as SettingsPack, dropped };
}
