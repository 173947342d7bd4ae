/**
 * Row-value comparisons, `ROW(a, b) op ROW(c, d)`, as PostgreSQL's make_row_comparison_op and
 * RowCompareExpr evaluate them:
 * - `=` is the AND of the pairwise `=`, `<>` the OR of the pairwise `<>` (so a NULL field makes
 *   the answer NULL unless another pair already decides it);
 * - `<`, `<=`, `>`, `>=` compare pairs left to right: the first pair that is not equal decides;
 *   a NULL field met before a deciding pair makes the answer NULL; all pairs equal decide as
 *   the operator does on equal values;
 * - IS [NOT] DISTINCT FROM: distinct when any pair is distinct (NULL equal to NULL);
 * - IS NULL: every field NULL; IS NOT NULL: every field not NULL.
 * Pairs are coerced by the caller (each pair as the scalar operator would be) and evaluated
 * lazily, left to right, as PostgreSQL evaluates them.
 */
import { PgError, SqlState } from '@strata/common';
import { compareValues } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import type { ExecCtx, Row } from '../exec/context.js';
import type { Ev } from '../exec/operators.js';

/** One coerced pair of fields: left, right and the type they compare in. */
export interface RowPair {
  l: Ev;
  r: Ev;
  t: SqlType;
}

/** The row comparison operators. */
export const rowCompareOps: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>=']);

/** Raises PostgreSQL's errors for rows that cannot be compared (before pairs are coerced). */
export function checkRowArity(left: number, right: number, pos: number): void {
  if (left !== right)
    throw new PgError(SqlState.SyntaxError, 'unequal number of entries in row expressions', { position: pos + 1 });
  if (left === 0) throw new PgError(SqlState.FeatureNotSupported, 'cannot compare rows of zero length', { position: pos + 1 });
}

function testFor(op: string): (c: number) => boolean {
  switch (op) {
    case '<':
      return (c) => c < 0;
    case '<=':
      return (c) => c <= 0;
    case '>':
      return (c) => c > 0;
    default:
      return (c) => c >= 0;
  }
}

/** The evaluator of `ROW(…) op ROW(…)` over coerced pairs (op one of rowCompareOps). */
export function rowComparison(op: string, pairs: readonly RowPair[]): Ev {
  if (op === '=' || op === '<>') {
    // = : false as soon as a pair differs; <> : true as soon as one does; else NULL if any was.
    const decided = op === '<>';
    return (row: Row, ctx: ExecCtx): Value => {
      let sawNull = false;
      for (const p of pairs) {
        const a = p.l(row, ctx);
        const b = a === null ? null : p.r(row, ctx);
        if (a === null || b === null) sawNull = true;
        else if (compareValues(a, b, p.t) !== 0) return decided;
      }
      return sawNull ? null : !decided;
    };
  }
  const test = testFor(op);
  return (row: Row, ctx: ExecCtx): Value => {
    for (const p of pairs) {
      const a = p.l(row, ctx);
      if (a === null) return null;
      const b = p.r(row, ctx);
      if (b === null) return null;
      const c = compareValues(a, b, p.t);
      if (c !== 0) return test(c);
    }
    return test(0);
  };
}

/** `ROW(…) IS [NOT] DISTINCT FROM ROW(…)`. */
export function rowDistinct(pairs: readonly RowPair[], negated: boolean): Ev {
  return (row: Row, ctx: ExecCtx): Value => {
    for (const p of pairs) {
      const a = p.l(row, ctx);
      const b = p.r(row, ctx);
      const distinct = a === null || b === null ? a !== b : compareValues(a, b, p.t) !== 0;
      if (distinct) return !negated;
    }
    return negated;
  };
}

/** `ROW(…) IS NULL` (every field NULL) or `IS NOT NULL` (no field NULL). */
export function rowIsNull(fields: readonly Ev[], negated: boolean): Ev {
  return (row: Row, ctx: ExecCtx): Value => {
    for (const f of fields) if ((f(row, ctx) === null) === negated) return false;
    return true;
  };
}
