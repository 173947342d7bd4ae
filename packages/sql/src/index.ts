export { SqlEngine, pgVersion, strataVersion } from './engine.js';
export { Session, parseDurationMs, reportedSettings, settingDisplayName } from './session.js';
export type { Prepared, Portal, TxnStatus, ExecuteSink, CopySink } from './session.js';
export type { Column, Row } from './exec/context.js';
export * from './types/types.js';
export { castValue } from './types/cast.js';
export { Decimal } from './types/numeric.js';
export { parseStatements } from './parser/parser.js';
export * from './auth/index.js';
