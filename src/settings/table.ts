/** The settings as a Markdown table (docs/engine.md; scripts/settings-table.mjs writes it there). */
import { settingDefinitions, type SettingSpec } from './definitions.js';

function typeOf(s: SettingSpec): string {
  switch (s.type) {
    case 'int':
    case 'number':
      return `${s.type} ${s.min}..${s.max === Number.MAX_SAFE_INTEGER ? 'max' : s.max}`;
    case 'enum':
      return s.values.map((v) => `'${v}'`).join(' \\| ');
    case 'flags':
      return `subset of ${s.values.join(', ')}`;
    default:
      return s.type;
  }
}

function defaultOf(s: SettingSpec): string {
  if (s.type === 'flags') return s.default.length === s.values.length ? 'all' : s.default.join(', ');
  if (s.type === 'string' || s.type === 'enum') return `'${s.default}'`;
  return String(s.default);
}

/** One row per setting: name, type, default, when it applies, description. */
export function settingsTable(): string {
  const rows = ['| setting | type | default | applies | description |', '| --- | --- | --- | --- | --- |'];
  for (const [name, spec] of Object.entries(settingDefinitions) as [string, SettingSpec][])
    rows.push(
      `| \`${name}\` | ${typeOf(spec)} | ${defaultOf(spec)} | ${spec.applies} | ${spec.description.replace(/\|/g, '\\|')} |`,
    );
  return `${rows.join('\n')}\n`;
}
