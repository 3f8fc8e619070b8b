export { Peer } from './peer.js';
export * from './types.js';
export * from './disconnect.js';
export { clientNameFromPeerId } from './client-id.js';
export { RateMeter } from './rate.js';
export { formatBytes, formatRate } from './format.js';
export { reasonForError } from './error-reason.js';
export { DEFAULT_TIMEOUTS, CLIENT_VERSION } from './defaults.js';
export { InputBudget, DEFAULT_INPUT_BUDGET, type InputBudgetLimits } from './input-budget.js';
