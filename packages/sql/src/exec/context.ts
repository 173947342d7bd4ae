import { PgError, SqlState } from '@strata/common';
import type { Txn } from '@strata/kv';
import type { CatalogView } from '../catalog/catalog.js';
import type { SqlType, Value, ValueContext } from '../types/types.js';
import type { PgRegex } from '../regex/regex.js';

export type Row = Value[];

/**
 * Operators are synchronous generators of row batches. An empty batch is a yield point: the
 * driver returns to the event loop there (so other connections are served and a cancel request
 * can arrive) and checks for cancellation. Operators that consume their input forward yield
 * points upward; leaves emit one every `yieldEveryRows` rows.
 */
export type Batches = Generator<Row[], void, undefined>;

export const batchRowsMax = 1024;
export const yieldEveryRows = 4096;

export interface SessionInfo {
  database: string;
  user: string;
  searchPath: string[];
  applicationName: string;
  backendPid: number;
  settings: Map<string, string>;
}

export interface SequenceAccess {
  nextval(seqId: number, txn: Txn): bigint;
  currval(seqId: number): bigint;
  setval(seqId: number, v: bigint, txn: Txn): bigint;
  /** The last value handed out, or the start value if none (SELECT * FROM seq). */
  currvalOrStart(seqId: number): bigint;
}

import type { TsSender } from '../ts_dml.js';

export interface ExecCtx {
  txn: Txn;
  catalog: CatalogView;
  session: SessionInfo;
  params: Value[];
  /** Rows of enclosing queries, innermost last (correlated subqueries). */
  outer: Row[];
  vctx: ValueContext;
  stmtTimestamp: number;
  txnTimestamp: number;
  sequences: SequenceAccess;
  /** Set by pg_sleep: the driver waits until then (cancellable) before continuing. */
  sleepUntil: number;
  /** Materialized CTE results by id. */
  ctes: Map<number, Row[]>;
  /** Server-wide helpers the functions need (sizes, versions). */
  server: ServerInfo;
  /** The store's time-series engine (null where there is none). */
  ts: TsSender | null;
  /** A cluster setting's value as this statement's transaction sees it. */
  clusterSetting(name: string): string;
  /** Regular expressions compiled by this statement (bounded: regexCacheEntriesMax). */
  regexCache: Map<string, PgRegex>;
}

export interface ServerInfo {
  version: string;
  nodeId: number;
  startedAt: number;
  uniqueRowId(): bigint;
  engineSizeBytes(): number;
}

export interface Column {
  name: string;
  type: SqlType;
  /** For RowDescription: the source table OID and column number, 0 if computed. */
  tableOid?: number;
  columnNum?: number;
}

export interface Operator {
  readonly columns: Column[];
  exec(ctx: ExecCtx): Batches;
  /** EXPLAIN: one line describing this node, and its children. */
  explain(): { label: string; children: Operator[] };
}

export function queryCanceled(): PgError {
  return new PgError(SqlState.QueryCanceled, 'canceling statement due to user request');
}

/** Drains an operator synchronously (subqueries, CTE materialization). */
export function collect(op: Operator, ctx: ExecCtx): Row[] {
  const out: Row[] = [];
  for (const b of op.exec(ctx)) for (const r of b) out.push(r);
  return out;
}
