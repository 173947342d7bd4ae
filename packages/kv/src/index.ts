export * from './constants.js';
export * from './keys.js';
export * from './engine.js';
export * from './mvcc.js';
export * from './batch.js';
export * from './txn.js';
export * from './api.js';
