/**
 * Validation and storage of the settings of src/settings/definitions.ts. A pack is checked as a
 * whole before anything changes: one unknown name or bad value rejects the pack, naming the
 * setting, and leaves every value as it was.
 */
import { NbtError } from '../util/errors.js';
import {
  settingDefinitions,
  type SettingName,
  type SettingSpec,
  type Settings,
  type SettingsPack,
} from './definitions.js';

/** A setting that does not exist, has a bad value, or cannot change at runtime. */
export class SettingsError extends NbtError {
  /** The setting at fault. */
  readonly setting: string;

  constructor(code: 'SETTINGS_INVALID' | 'SETTINGS_READ_ONLY', setting: string, message: string) {
    super(code, message);
    this.name = 'SettingsError';
    this.setting = setting;
  }
}

const specs: Readonly<Record<string, SettingSpec>> = settingDefinitions;

/** Every setting name, in table order. */
export const settingNames = Object.keys(settingDefinitions) as SettingName[];

export function isSettingName(name: string): name is SettingName {
  return Object.prototype.hasOwnProperty.call(specs, name);
}

/** The definition of one setting (type, default, bounds, description, when it applies). */
export function settingSpec(name: SettingName): SettingSpec {
  return specs[name]!;
}

/** A fresh object with every default. */
export function defaultSettings(): Settings {
  const out: Record<string, unknown> = {};
  for (const name of settingNames) out[name] = copyValue(specs[name]!.default);
  return out as Settings;
}

function copyValue<V>(v: V): V {
  return (Array.isArray(v) ? [...(v as unknown[])] : v) as V;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'an array';
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v);
}

/** The value, normalised (flags deduplicated), or throws SETTINGS_INVALID naming the setting. */
function checkValue(name: string, spec: SettingSpec, v: unknown): unknown {
  const bad = (want: string): never => {
    throw new SettingsError('SETTINGS_INVALID', name, `setting ${name} must be ${want}, got ${describe(v)}`);
  };
  switch (spec.type) {
    case 'int':
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v))
        return bad(`a ${spec.type === 'int' ? 'integer' : 'number'}`);
      if (spec.type === 'int' && !Number.isInteger(v)) return bad('an integer');
      if (v < spec.min || v > spec.max) return bad(`in ${spec.min}..${spec.max}`);
      return v;
    }
    case 'bool':
      return typeof v === 'boolean' ? v : bad('true or false');
    case 'enum':
      return typeof v === 'string' && spec.values.includes(v) ? v : bad(`one of ${spec.values.join(', ')}`);
    case 'string':
      if (typeof v !== 'string') return bad('a string');
      return v.length <= spec.maxLength ? v : bad(`at most ${spec.maxLength} characters`);
    case 'flags': {
      const want = `an array of ${spec.values.join(', ')}`;
      if (!Array.isArray(v) || v.length > spec.values.length * 4) return bad(want);
      for (const f of v as unknown[]) if (typeof f !== 'string' || !spec.values.includes(f)) return bad(want);
      return [...new Set(v as string[])];
    }
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x) => (b as unknown[]).includes(x));
  return a === b;
}

/** The session's settings: one value per name, changed only through validated packs. */
export class SettingsStore {
  private readonly values: Settings;
  private changes = 0;

  /** Counts the applies that changed a value: what was derived from settings is stale once it moves. */
  get revision(): number {
    return this.changes;
  }

  /** Starts from the defaults with `initial` on top (validated; construction-only settings allowed). */
  constructor(initial: SettingsPack = {}) {
    this.values = defaultSettings();
    this.apply(initial, true);
  }

  get<K extends SettingName>(name: K): Settings[K] {
    return this.values[name];
  }

  /** A copy of every value (plain JSON data). */
  snapshot(): Settings {
    const out: Record<string, unknown> = {};
    for (const name of settingNames) out[name] = copyValue(this.values[name]);
    return out as Settings;
  }

  /**
   * Validates the whole pack, then applies it; returns the names whose value changed. Setting a
   * construction-only setting to another value is refused (SETTINGS_READ_ONLY) unless
   * `construction`; setting it to its current value is fine (a snapshot round-trips).
   */
  apply(pack: unknown, construction = false): SettingName[] {
    if (typeof pack !== 'object' || pack === null || Array.isArray(pack))
      throw new SettingsError('SETTINGS_INVALID', '', 'settings must be an object of name: value');
    const next = new Map<SettingName, unknown>();
    for (const [name, raw] of Object.entries(pack)) {
      if (raw === undefined) continue;
      if (!isSettingName(name)) throw new SettingsError('SETTINGS_INVALID', name, `unknown setting ${name}`);
      const spec = specs[name]!;
      const v = checkValue(name, spec, raw);
      if (sameValue(v, this.values[name])) continue;
      if (spec.applies === 'construction' && !construction)
        throw new SettingsError(
          'SETTINGS_READ_ONLY',
          name,
          `setting ${name} is fixed when the Client is constructed`,
        );
      next.set(name, v);
    }
    const mutable = this.values as Record<SettingName, unknown>;
    for (const [name, v] of next) mutable[name] = v;
    if (next.size > 0) this.changes++;
    return [...next.keys()];
  }
}
