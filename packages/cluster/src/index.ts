export * from './constants.js';
export * from './keys.js';
export * from './liveness.js';
