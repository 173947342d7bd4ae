/**
 * OFFSET m FETCH FIRST n ROWS WITH TIES: after skipping m sorted rows, the next n rows and every
 * further row equal to the n-th under the ORDER BY keys. It sits directly on the Sort, so the
 * sort keys can be evaluated on its rows.
 */
import { PgError, SqlState } from '@strata/common';
import type { Value } from '../types/types.js';
import type { Batches, ExecCtx, Operator, Row } from './context.js';
import { compareRowsBy } from './operators.js';
import type { Ev, SortKey } from './operators.js';

export class TiesLimit implements Operator {
  constructor(
    readonly input: Operator,
    readonly keys: SortKey[],
    readonly limit: Ev | null,
    readonly offset: Ev | null,
  ) {}

  get columns() {
    return this.input.columns;
  }

  *exec(ctx: ExecCtx): Batches {
    const lim = this.limit ? this.limit([], ctx) : null;
    const off = this.offset ? this.offset([], ctx) : null;
    const limit = lim === null ? Infinity : Number(lim);
    let skip = off === null ? 0 : Number(off);
    if (lim === null && this.limit)
      throw new PgError(
        SqlState.NullValueNotAllowed,
        'row count cannot be null in FETCH FIRST ... WITH TIES clause',
      );
    if (limit < 0) throw new PgError(SqlState.InvalidRowCountInLimitClause, 'LIMIT must not be negative');
    if (skip < 0)
      throw new PgError(SqlState.InvalidRowCountInResultOffsetClause, 'OFFSET must not be negative');
    if (limit === 0) return;
    const cmp = compareRowsBy(this.keys);
    const keyOf = (r: Row) => this.keys.map((k) => k.ev(r, ctx));
    let emitted = 0;
    let lastKey: Value[] | null = null;
    for (const b of this.input.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      const out: Row[] = [];
      for (const r of b) {
        if (skip > 0) {
          skip--;
          continue;
        }
        if (emitted < limit) {
          out.push(r);
          emitted++;
          if (emitted === limit) lastKey = keyOf(r);
          continue;
        }
        if (lastKey !== null && cmp(keyOf(r), lastKey) === 0) {
          out.push(r);
          continue;
        }
        if (out.length > 0) yield out;
        return;
      }
      if (out.length > 0) yield out;
    }
  }

  explain() {
    return { label: 'limit (with ties)', children: [this.input] };
  }
}
