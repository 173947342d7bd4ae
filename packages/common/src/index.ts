export * from './errors.js';
export * from './log.js';
export * from './hlc.js';
export * from './bytes.js';
export * from './timers.js';
export * from './utf8.js';
