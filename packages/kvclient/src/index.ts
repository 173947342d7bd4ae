export * from './errors.js';
export * from './range_cache.js';
export * from './dist_sender.js';
export * from './txn.js';
