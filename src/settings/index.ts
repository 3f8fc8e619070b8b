export {
  settingDefinitions,
  ALERT_CATEGORIES,
  type SettingName,
  type Settings,
  type SettingsPack,
  type SettingSpec,
  type SettingApplies,
  type IntSpec,
  type NumberSpec,
  type BoolSpec,
  type EnumSpec,
  type StringSpec,
  type FlagsSpec,
} from './definitions.js';
export {
  SettingsError,
  SettingsStore,
  settingNames,
  settingSpec,
  isSettingName,
  defaultSettings,
} from './registry.js';
