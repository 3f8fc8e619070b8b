export * from './messages.js';
export * from './handshake.js';
export * from './extension.js';
