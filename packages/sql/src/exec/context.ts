import { PgError, SqlState, assert } from '@strata/common';
import type { Txn } from '@strata/kv';
import type { CatalogView } from '../catalog/catalog.js';
import type { AuthView } from '../auth/view.js';
import type { SqlType, Value, ValueContext } from '../types/types.js';
import type { PgRegex } from '../regex/regex.js';
import { estimateRowBytes } from './memory.js';
import type { MemoryAccount, StatementMemory } from './memory.js';
import type { TempFiles } from './spill.js';

export type Row = Value[];

/**
 * Operators are synchronous generators of row batches. THE YIELD CONTRACT — every operator and
 * every caller of `exec` keeps it, so that no statement holds the event loop for long (other
 * sessions, CancelRequest, statement_timeout and shutdown get their turn; later, in a cluster, Raft
 * heartbeats):
 *
 * 1. An empty batch is a yield point. The driver (exec/pump.ts) returns to the event loop there
 *    (at least every few milliseconds) and checks for cancellation and the statement timeout.
 * 2. An empty batch may carry a promise (`waitFor(p)`, read with `waitOf(b)`): the driver awaits it
 *    before pulling the next batch. This is how a leaf waits for I/O (a spill file today; a remote
 *    range read once leaves are asynchronous) without blocking the loop. A producer creates one
 *    only when `canWait(ctx)`: inside a synchronous drain (`collect`, used where a caller cannot
 *    yield) it must do its I/O synchronously instead.
 * 3. An operator that consumes an input forwards every empty batch it receives, immediately and as
 *    the same object (never a fresh `[]`: it may carry a promise). `drain` does this for operators
 *    that materialize an input.
 * 4. An operator whose own work grows with its input (sorting, hashing, window frames, writes)
 *    yields an empty batch at least every `yieldEveryRows` units of that work; leaves yield every
 *    `yieldEveryRows` rows. `ctx.work` counts rows produced by leaves anywhere in the statement,
 *    including inside synchronous drains, so an operator evaluating expensive expressions (a
 *    correlated subquery per row) can yield between rows when it grew.
 * 5. Expressions cannot yield. An uncorrelated subquery in an expression is materialized once per
 *    statement: evaluated under an operator that catches `NeedSubplan` (`ctx.suspendable`), the
 *    expression throws it, the operator runs the subplan through its own generator (forwarding its
 *    yield points), caches the rows in `ctx.subplans`, and evaluates the row again. Elsewhere,
 *    and for correlated subqueries (whose result depends on the row), the subplan is drained
 *    synchronously: a bounded amount of work per row, after which rule 4 applies. An expression
 *    that must wait for a value (nextval of a sequence with no reserved values) throws `NeedWait`
 *    in the same places when `canWait(ctx)`; the operator yields `waitFor(…)` and evaluates the
 *    row again (`evalSuspendable`).
 *
 * INVARIANT: a batch carrying a promise is empty.
 */
export type Batches = Generator<Row[], void, undefined>;

export const batchRowsMax = 1024;
export const yieldEveryRows = 4096;

/** A yield point that asks the driver to wait for `p` (rule 2). */
export function waitFor(p: Promise<unknown>): Row[] {
  return Object.assign([] as Row[], { wait: p });
}

/** The promise an empty batch carries, if any. */
export function waitOf(b: Row[]): Promise<unknown> | undefined {
  return b.length === 0 ? (b as Row[] & { wait?: Promise<unknown> }).wait : undefined;
}

/** Whether a producer may yield a promise now (not inside a synchronous drain). */
export function canWait(ctx: ExecCtx): boolean {
  return ctx.syncDrains === 0;
}

/**
 * Thrown by an uncorrelated subquery's expression when its rows are not materialized yet and the
 * evaluating operator can materialize them (rule 5). Not an error.
 */
export class NeedSubplan {
  constructor(
    readonly id: number,
    readonly plan: Operator,
    /** Rows needed at most (EXISTS needs 1, a scalar subquery 2 to see that there are too many). */
    readonly rowsMax: number,
  ) {}
}

/**
 * Thrown by an expression that needs an asynchronous result first (sequence values being
 * reserved: sequences.ts) when the evaluating operator can wait (`ctx.suspendable` and
 * `canWait(ctx)`): the operator yields `waitFor(wait)` and evaluates the row again. Not an error.
 */
export class NeedWait {
  constructor(readonly wait: Promise<unknown>) {}
}

/**
 * Evaluates `f` as an operator that can suspend (rule 5): a subquery it needs is materialized, a
 * value it waits for is awaited (by the driver), and `f` runs again. `f` may therefore run more
 * than once: it must not have effects other than those that may repeat (a nextval that ran before
 * the suspension leaves a gap, as a rolled-back one does).
 */
export function* evalSuspendable<T>(ctx: ExecCtx, f: () => T): Generator<Row[], T, undefined> {
  for (;;) {
    const prev = ctx.suspendable;
    ctx.suspendable = true;
    try {
      return f();
    } catch (e) {
      ctx.suspendable = prev;
      if (e instanceof NeedSubplan) yield* materializeSubplan(e, ctx);
      else if (e instanceof NeedWait) yield waitFor(e.wait);
      else throw e;
    } finally {
      ctx.suspendable = prev;
    }
  }
}

/** `evalSuspendable` where the caller is asynchronous (COPY FROM): waits are awaited here. */
export async function evalAwaiting<T>(ctx: ExecCtx, f: () => T): Promise<T> {
  const it = evalSuspendable(ctx, f);
  for (let step = it.next(); ; step = it.next()) {
    if (step.done) return step.value;
    const w = waitOf(step.value);
    if (w) await w;
  }
}

export interface SessionInfo {
  database: string;
  user: string;
  searchPath: string[];
  applicationName: string;
  backendPid: number;
  settings: Map<string, string>;
  /** The session's SQL cursors as pg_cursors rows. */
  cursors?(): Row[];
  /** The session's open large-object descriptors (large_objects.ts). */
  largeObjects?: LargeObjectDescriptors;
  /** The session's prepared statements (SQL PREPARE and named Parse messages) as pg_prepared_statements rows. */
  preparedStatements?(): Row[];
  /** SET (local: SET LOCAL) with the session's checks; returns the value as shown. */
  set?(name: string, value: string, local: boolean): string;
  /** pg_notify: queues a notification in the session's transaction (sent at commit). */
  notify?(channel: string | null, payload: string | null): void;
  /** pg_listening_channels(): the channels the session listens on (committed LISTENs). */
  listeningChannels?(): string[];
  /** pg_notification_queue_usage(): the fraction of the node's notification queues in use. */
  notificationQueueUsage?(): number;
}

export interface SequenceAccess {
  /** May throw NeedWait (sequences.ts). */
  nextval(seqId: number, ctx: ExecCtx): bigint;
  currval(seqId: number): bigint;
  setval(seqId: number, v: bigint, txn: Txn): bigint;
  /** The last value handed out, or the start value if none (SELECT * FROM seq). */
  currvalOrStart(seqId: number): bigint;
}

import type { TsSender } from '../ts_dml.js';
import type { BackendRegistry } from '../backends.js';
import type { LargeObjectDescriptors } from '../large_objects.js';

export interface ExecCtx {
  txn: Txn;
  catalog: CatalogView;
  /** Users, roles and ACLs as the statement sees them (auth/view.ts); null where none is loaded. */
  auth?: AuthView | null;
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
  /** Rows produced by leaves so far in this statement (the yield contract's work meter). */
  work: number;
  /** Synchronous drains in progress: producers must not yield promises while > 0. */
  syncDrains: number;
  /** Expressions are being evaluated by an operator that catches NeedSubplan. */
  suspendable: boolean;
  /** Materialized uncorrelated subqueries of this statement, by subplan id. */
  subplans: Map<number, Row[]>;
  /**
   * Ranges whose local replicas were caught up to their leaseholders during this statement: a
   * synchronous TS scan (a correlated subquery) may read them here (ReplicasNotCaughtUpError).
   */
  tsCaughtUp?: Set<number>;
  /** This statement's memory budget (work_mem within --max-sql-memory). */
  memory: StatementMemory;
  /** This statement's spill files (deleted when it ends); null where the node has no temp dir. */
  temp: TempFiles | null;
}

export interface ServerInfo {
  version: string;
  nodeId: number;
  startedAt: number;
  uniqueRowId(): bigint;
  engineSizeBytes(): number;
  /** This node's sessions (absent where there are none, e.g. a statement run by the node itself). */
  backends?: BackendRegistry;
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

/**
 * Drains an operator synchronously, where the caller cannot yield (a correlated subquery evaluated
 * inside an expression). Yield points inside are skipped; producers do their I/O synchronously
 * meanwhile (rule 2).
 */
export function collect(op: Operator, ctx: ExecCtx, rowsMax = Infinity): Row[] {
  const out: Row[] = [];
  ctx.syncDrains++;
  try {
    const it = op.exec(ctx);
    for (const b of it) {
      assert(waitOf(b) === undefined, 'a producer yielded a promise inside a synchronous drain');
      for (const r of b) out.push(r);
      if (out.length >= rowsMax) {
        it.return();
        break;
      }
    }
  } finally {
    ctx.syncDrains--;
  }
  return out;
}

/**
 * Materializes an operator's rows into `into`, forwarding its yield points (rule 3), charging
 * each row to `account` (53200 past the budget) when given.
 */
export function* drain(op: Operator, ctx: ExecCtx, into: Row[] = [], account: MemoryAccount | null = null): Generator<Row[], Row[], undefined> {
  for (const b of op.exec(ctx)) {
    if (b.length === 0) {
      yield b;
      continue;
    }
    for (const r of b) {
      if (account) account.grow(estimateRowBytes(r));
      into.push(r);
    }
  }
  return into;
}

/** Materializes the subplan a NeedSubplan asks for into ctx.subplans, forwarding yield points. */
export function* materializeSubplan(need: NeedSubplan, ctx: ExecCtx): Generator<Row[], void, undefined> {
  const rows: Row[] = [];
  const account = ctx.memory.account('a subquery\'s result');
  const it = need.plan.exec(ctx);
  for (const b of it) {
    if (b.length === 0) {
      yield b;
      continue;
    }
    for (const r of b) {
      account.grow(estimateRowBytes(r));
      rows.push(r);
    }
    if (rows.length >= need.rowsMax) {
      it.return();
      break;
    }
  }
  ctx.subplans.set(need.id, rows);
}
