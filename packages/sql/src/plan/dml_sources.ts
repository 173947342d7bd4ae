/**
 * Where UPDATE, DELETE and INSERT get their rows: the keys to lock before an UPDATE/DELETE, the
 * target rows of UPDATE … FROM / DELETE … USING, and an INSERT's source (a VALUES list bound
 * expression by expression — row by row as the insert reaches it when long — or a planned query).
 */
import { PgError, SqlState } from '@strata/common';
import { valuesBulkMin } from '../constants.js';
import { primaryKey } from '../catalog/rowcodec.js';
import type { tableCodec } from '../catalog/rowcodec.js';
import { drain, waitOf, yieldEveryRows } from '../exec/context.js';
import type { ExecCtx, Operator, Row } from '../exec/context.js';
import type { Ev } from '../exec/operators.js';
import type { Expr, SelectStmt } from '../parser/ast.js';
import { T } from '../types/types.js';
import type { SqlType } from '../types/types.js';
import type { BoundExpr } from './binder.js';
import type { QueryPlanner } from './query.js';
import { Scope } from './scope.js';

/** Statements touching more rows than this run optimistically instead of locking each row. */
const lockRowsMax = 10_000;

/**
 * Lock keys of UPDATE/DELETE: the primary keys of the target rows, found without recording reads
 * (through the leaseholder: the scan's requests are awaited here, outside the statement's driver).
 */
export function lockKeysOf(source: Operator, codec: ReturnType<typeof tableCodec>): (ctx: ExecCtx) => Promise<Buffer[] | null> {
  return async (ctx) => {
    // At most lockRowsMax + 1 rows are read: beyond that the statement runs optimistically.
    const rows = await ctx.txn.withUntrackedReadsAsync(() => collectAsync(source, ctx, lockRowsMax + 1));
    return rows.length > lockRowsMax ? null : rows.map((r) => primaryKey(codec, r));
  };
}

/** Runs an operator to its first `rowsMax` rows, awaiting the promises its yield points carry. */
async function collectAsync(op: Operator, ctx: ExecCtx, rowsMax: number): Promise<Row[]> {
  const out: Row[] = [];
  const it = op.exec(ctx);
  for (let n = it.next(); !n.done; n = it.next()) {
    const wait = waitOf(n.value);
    if (wait) await wait;
    for (const r of n.value) out.push(r);
    if (out.length >= rowsMax) {
      it.return();
      break;
    }
  }
  return out;
}

/**
 * UPDATE … FROM / DELETE … USING: each target row joined with the first row of the other
 * relations that satisfies the predicate (a row is modified at most once).
 */
export function* joinTargets(
  target: Operator,
  others: Operator,
  pred: BoundExpr | null,
  ctx: ExecCtx,
): Generator<Row[], Row[], undefined> {
  const rest = yield* drain(others, ctx);
  const out: Row[] = [];
  let work = 0;
  for (const r of yield* drain(target, ctx)) {
    work += rest.length;
    if (work >= yieldEveryRows) {
      work = 0;
      yield [];
    }
    for (const o of rest) {
      const comb = r.concat(o);
      if (!pred || pred.ev(comb, ctx) === true) {
        out.push(comb);
        break;
      }
    }
  }
  return out;
}

/**
 * The rows an INSERT inserts: a plain VALUES list bound expression by expression (DEFAULT as
 * null; untyped literals take the target column's type, without silent truncation), or any other
 * query planned as an operator.
 */
export function insertSource(
  q: SelectStmt,
  targets: number,
  explicitColumns: boolean,
  targetType: (i: number) => SqlType,
  planner: QueryPlanner,
): { source: Operator | null; valueRows: Iterable<{ evs: (Ev | null)[]; types: SqlType[] }> | null } {
  const b = planner.binder;
  if (q.body.kind === 'values' && q.with.length === 0 && q.orderBy.length === 0 && !q.limit) {
    const bindRow = (row: Expr[]) => {
      if (row.length > targets)
        throw new PgError(SqlState.SyntaxError, 'INSERT has more expressions than target columns');
      if (row.length < targets && explicitColumns)
        throw new PgError(SqlState.SyntaxError, 'INSERT has more target columns than expressions');
      const evs: (Ev | null)[] = [];
      const types: SqlType[] = [];
      row.forEach((e, i) => {
        if (e.kind === 'default') {
          evs.push(null);
          types.push(T.unknown);
          return;
        }
        let be = b.bind(e, new Scope([]));
        if (be.type.kind === 'unknown') be = b.coerce(be, targetType(i), false); // assignment: no silent truncation
        evs.push(be.ev);
        types.push(be.type);
      });
      return { evs, types };
    };
    const rows = q.body.rows;
    if (rows.length >= valuesBulkMin && rows.every((r) => r.every((e) => e.kind === 'literal'))) {
      // A long list of literal rows (a 10 MB INSERT): checked for shape now, each row bound as
      // the insert reaches it (the insert loop yields), not all while planning.
      for (const row of rows) {
        if (row.length > targets)
          throw new PgError(SqlState.SyntaxError, 'INSERT has more expressions than target columns');
        if (row.length < targets && explicitColumns)
          throw new PgError(SqlState.SyntaxError, 'INSERT has more target columns than expressions');
      }
      return {
        source: null,
        valueRows: {
          *[Symbol.iterator]() {
            for (const row of rows) yield bindRow(row);
          },
        },
      };
    }
    return { source: null, valueRows: rows.map(bindRow) };
  }
  const source = planner.planQuery(q, null);
  if (source.columns.length > targets)
    throw new PgError(SqlState.SyntaxError, 'INSERT has more expressions than target columns');
  return { source, valueRows: null };
}
