export * from './constants.js';
export { PgServer } from './server.js';
export type { PgServerOptions } from './server.js';
export type { WireMetrics } from './connection.js';
export { encodeBinary, decodeBinary } from '@strata/sql';
export { pgTls, signatureHash } from './tls.js';
export type { PgTls } from './tls.js';
