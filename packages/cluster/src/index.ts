export * from './constants.js';
export * from './keys.js';
export * from './liveness.js';
export * from './ident.js';
export * from './join.js';
export * from './registry.js';
