export * from './codec.js';
export * from './announcer.js';
