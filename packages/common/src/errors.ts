/**
 * The error hierarchy (STYLE.md §4). Only PgErrors reach the wire; anything else is logged and
 * becomes XX000 "internal error" without leaking internals.
 */

/** SQLSTATE codes used by Strata (PostgreSQL Appendix A). */
export const SqlState = {
  SuccessfulCompletion: '00000',
  Warning: '01000',
  NameTooLong: '42622',
  InvalidNameSyntax: '42602',
  NoData: '02000',
  ConnectionException: '08000',
  ProtocolViolation: '08P01',
  FeatureNotSupported: '0A000',
  InvalidGrantor: '0L000',
  InvalidGrantOperation: '0LP01',
  InvalidRoleSpecification: '0P000',
  InvalidTransactionState: '25000',
  ActiveSqlTransaction: '25001',
  NoActiveSqlTransaction: '25P01',
  InFailedSqlTransaction: '25P02',
  IdleInTransactionSessionTimeout: '25P03',
  ReadOnlySqlTransaction: '25006',
  InvalidAuthorizationSpecification: '28000',
  InvalidPassword: '28P01',
  CardinalityViolation: '21000',
  DataException: '22000',
  StringDataRightTruncation: '22001',
  NumericValueOutOfRange: '22003',
  NullValueNotAllowed: '22004',
  InvalidDatetimeFormat: '22007',
  DatetimeFieldOverflow: '22008',
  InvalidParameterValue: '22023',
  DivisionByZero: '22012',
  InvalidTimeZoneDisplacementValue: '22009',
  ArraySubscriptError: '2202E',
  InvalidTextRepresentation: '22P02',
  BadCopyFileFormat: '22P04',
  InvalidBinaryRepresentation: '22P03',
  InvalidEscapeSequence: '22025',
  InvalidRegularExpression: '2201B',
  InvalidUseOfEscapeCharacter: '2200C',
  InvalidRowCountInLimitClause: '2201W',
  InvalidRowCountInResultOffsetClause: '2201X',
  CharacterNotInRepertoire: '22021',
  IntegrityConstraintViolation: '23000',
  NotNullViolation: '23502',
  ForeignKeyViolation: '23503',
  UniqueViolation: '23505',
  CheckViolation: '23514',
  InvalidCursorName: '34000',
  InvalidSqlStatementName: '26000',
  InvalidSavepointSpecification: '3B001',
  InvalidCatalogName: '3D000',
  InvalidSchemaName: '3F000',
  SerializationFailure: '40001',
  StatementCompletionUnknown: '40003',
  DeadlockDetected: '40P01',
  SyntaxError: '42601',
  InsufficientPrivilege: '42501',
  UndefinedColumn: '42703',
  UndefinedFunction: '42883',
  UndefinedTable: '42P01',
  UndefinedParameter: '42P02',
  UndefinedObject: '42704',
  DuplicateColumn: '42701',
  DuplicateDatabase: '42P04',
  DuplicateSchema: '42P06',
  DuplicateTable: '42P07',
  DuplicateObject: '42710',
  ReservedName: '42939',
  DuplicatePreparedStatement: '42P05',
  DuplicateCursor: '42P03',
  AmbiguousColumn: '42702',
  AmbiguousFunction: '42725',
  AmbiguousAlias: '42P09',
  DatatypeMismatch: '42804',
  WrongObjectType: '42809',
  InvalidColumnReference: '42P10',
  GroupingError: '42803',
  WindowingError: '42P20',
  InvalidRecursion: '42P19',
  CannotCoerce: '42846',
  IndeterminateDatatype: '42P18',
  InvalidTableDefinition: '42P16',
  InvalidColumnDefinition: '42611',
  InvalidObjectDefinition: '42P17',
  InvalidFunctionDefinition: '42P13',
  DuplicateFunction: '42723',
  UndefinedPreparedStatement: '26000',
  ObjectNotInPrerequisiteState: '55000',
  SequenceGeneratorLimitExceeded: '2200H',
  DependentObjectsStillExist: '2BP01',
  ObjectInUse: '55006',
  CantChangeRuntimeParam: '55P02',
  ProgramLimitExceeded: '54000',
  StatementTooComplex: '54001',
  TooManyColumns: '54011',
  TooManyArguments: '54023',
  InsufficientResources: '53000',
  DiskFull: '53100',
  OutOfMemory: '53200',
  TooManyConnections: '53300',
  ConfigurationLimitExceeded: '53400',
  QueryCanceled: '57014',
  AdminShutdown: '57P01',
  SystemError: '58000',
  CannotConnectNow: '57P03',
  IdleSessionTimeout: '57P05',
  InternalError: 'XX000',
  DataCorrupted: 'XX001',
} as const;
export type SqlState = (typeof SqlState)[keyof typeof SqlState];

export class StrataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The operation failed but may succeed if retried as a whole (e.g. a serialization conflict). */
export class RetryableError extends StrataError {}

/**
 * The command may or may not have been applied: the client must be told, never a plain failure
 * that it might retry blindly (SQLSTATE 40003 statement_completion_unknown).
 */
export class AmbiguousResultError extends StrataError {}

/**
 * Data could not be reached: no replica of its range answered before the deadline (no quorum
 * reachable from this node). Nothing was applied; retrying later may succeed (SQLSTATE 58000).
 */
export class UnavailableError extends StrataError {}

/** The replica asked is not the leaseholder of the range. */
export class NotLeaseholderError extends RetryableError {
  constructor(
    readonly rangeId: number,
    readonly leaseholderNodeId: number | null,
  ) {
    super(`range ${rangeId}: not the leaseholder (leaseholder: ${leaseholderNodeId ?? 'unknown'})`);
  }
}

/**
 * The store has no replica of the range (never had, or it was removed): the sender's range cache
 * is stale. Certainly not applied.
 */
export class RangeNotFoundError extends RetryableError {
  constructor(
    readonly rangeId: number,
    readonly nodeId: number,
  ) {
    super(`range ${rangeId} not found on node ${nodeId}`);
  }
}

/**
 * The range does not hold what the request is for (a time-series command for hash points outside
 * its span, or for a table it no longer holds whole): the sender's map of ranges is stale.
 * Certainly not applied.
 */
export class RangeKeyMismatchError extends RetryableError {
  constructor(
    readonly rangeId: number,
    why: string,
  ) {
    super(`range ${rangeId}: ${why}`);
  }
}

/**
 * A read at a timestamp found a value written after it but within the clock uncertainty
 * (read timestamp + maximum clock offset): the value may have been written before the read began
 * in real time, so the reader must move its timestamp above `valueTs` (and refresh its reads).
 */
export class ReadWithinUncertaintyIntervalError extends RetryableError {
  constructor(
    readonly readTs: bigint,
    readonly valueTs: bigint,
    readonly key: string,
  ) {
    super(`ReadWithinUncertaintyIntervalError: read at ${readTs} encountered a value at ${valueTs} on ${key} within the uncertainty interval`);
  }
}

/**
 * The replica cannot serve: it stopped after a local fault while applying its log (EIO, ENOSPC),
 * or it is being removed. It recovers by replaying the log after a restart.
 */
export class ReplicaUnavailableError extends RetryableError {
  constructor(
    readonly rangeId: number,
    readonly why: string,
  ) {
    super(`range ${rangeId} is unavailable on this node: ${why}`);
  }
}

export interface PgErrorFields {
  detail?: string;
  hint?: string;
  /** 1-based character position in the query text (for syntax errors). */
  position?: number;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  severity?: 'ERROR' | 'FATAL' | 'PANIC';
}

/** An error meant for the SQL client, carrying a SQLSTATE. */
export class PgError extends StrataError {
  readonly code: SqlState;
  readonly fields: PgErrorFields;
  constructor(code: SqlState, message: string, fields: PgErrorFields = {}) {
    super(message);
    this.code = code;
    this.fields = fields;
  }
}

/**
 * A synchronous read (a correlated subquery drained inside an expression) of ranges whose local
 * replicas have not been caught up to their leaseholders within this statement. `catchUp` does
 * it and resolves to the ranges caught up (it rejects if one cannot be). An expression evaluated
 * where the statement can wait does so and evaluates the row again (sql plan/subquery.ts);
 * elsewhere this is the error the client gets (0A000).
 */
export class ReplicasNotCaughtUpError extends PgError {
  constructor(
    message: string,
    hint: string,
    readonly catchUp: () => Promise<number[]>,
  ) {
    super(SqlState.FeatureNotSupported, message, { hint });
  }
}

export function pgError(code: SqlState, message: string, fields?: PgErrorFields): PgError {
  return new PgError(code, message, fields);
}

/** Maps any error to what the client may see. */
export function toPgError(e: unknown): PgError {
  if (e instanceof PgError) return e;
  if (e instanceof AmbiguousResultError) return new PgError(SqlState.StatementCompletionUnknown, `result is ambiguous: ${e.message}`);
  if (e instanceof RetryableError) return new PgError(SqlState.SerializationFailure, `restart transaction: ${e.message}`);
  if (e instanceof UnavailableError) return new PgError(SqlState.SystemError, e.message, { hint: 'No quorum of the range is reachable from this node (a partition, or too many nodes down). Nothing was applied; retry later.' });
  return new PgError(SqlState.InternalError, 'internal error');
}

export class AssertionError extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionError';
  }
}

/** Assertions stay on in production; a failure is a bug, reported as XX000 to the client. */
export function assert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new AssertionError(typeof message === 'string' ? message : message());
}
