export { StrataNode } from './node.js';
export type { NodeOptions } from './node.js';
export { NodeMetrics } from './metrics.js';
