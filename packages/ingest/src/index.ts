export * from './constants.js';
export {
  FieldKind,
  ParsedLine,
  ParserState,
  fieldKindNames,
  parseLineProtocol,
  parsePrecision,
} from './line_protocol.js';
export type { LineSink, ParseOptions, Precision, Series } from './line_protocol.js';
export { FieldOccurrences, MeasurementBatch, RequestBatch, parseBody } from './batch.js';
export type { RejectedLine } from './batch.js';
export * from './mapping.js';
export { LineProtocolWriter, TableLocks } from './writer.js';
export type { IngestSession, WriteResult } from './writer.js';
export { BodyBudget, LineProtocolHttp } from './http.js';
export type { LineProtocolHttpOptions } from './http.js';
