export * from './constants.js';
export * from './range.js';
export * from './logfile.js';
export * from './replica.js';
export * from './store.js';
