export * from './encoding/bits.js';
export * from './encoding/integers.js';
export * from './encoding/floats.js';
export * from './encoding/misc.js';
export * from './block.js';
export * from './segment.js';
export * from './partition.js';
export * from './table.js';
