/**
 * Where an expression's subquery gets its rows (the yield contract's rule 5, exec/context.ts).
 *
 * An uncorrelated subquery (one that references nothing of the enclosing queries) has one answer
 * per statement: like PostgreSQL's InitPlan it is computed once, at first use, and kept in
 * ctx.subplans. When the evaluating operator can suspend (ctx.suspendable) the expression throws
 * NeedSubplan and the operator materializes the rows through its generator, yielding as it goes;
 * otherwise the rows are drained synchronously once.
 *
 * A correlated subquery is run again for every row, synchronously, with the row pushed on
 * ctx.outer; its leaves count into ctx.work so the operator above can yield between rows. In a
 * cluster its TS scans read local replicas, which must first be caught up to their leaseholders
 * (an asynchronous wait): the first row that needs them throws NeedWait for the catch-up where
 * the operator can wait, and is evaluated again once the replicas are caught up.
 */
import { ReplicasNotCaughtUpError } from '@strata/common';
import { NeedSubplan, NeedWait, canWait, collect } from '../exec/context.js';
import type { ExecCtx, Operator, Row } from '../exec/context.js';
import { hashKey } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';

let nextSubplanId = 1;

export type SubplanRows = (r: Row, ctx: ExecCtx) => Row[];

export function subplanRows(plan: Operator, correlated: boolean, rowsMax = Infinity): SubplanRows {
  if (correlated) {
    return (r, ctx) => {
      ctx.outer.push(r);
      try {
        return collect(plan, ctx, rowsMax);
      } catch (e) {
        // (Inner drains rethrow it: only the outermost one, outside every drain, can wait.)
        if (!(e instanceof ReplicasNotCaughtUpError) || !ctx.suspendable || !canWait(ctx)) throw e;
        const caughtUp = (ctx.tsCaughtUp ??= new Set());
        throw new NeedWait(e.catchUp().then((ids) => ids.forEach((id) => caughtUp.add(id))));
      } finally {
        ctx.outer.pop();
      }
    };
  }
  const id = nextSubplanId++;
  return (_r, ctx) => {
    const hit = ctx.subplans.get(id);
    if (hit) return hit;
    if (ctx.suspendable) throw new NeedSubplan(id, plan, rowsMax);
    const rows = collect(plan, ctx, rowsMax);
    ctx.subplans.set(id, rows);
    return rows;
  };
}

/** The rows of a one-column subquery as a hash set (IN over an uncorrelated subquery). */
export interface ValueSet {
  keys: Set<string>;
  sawNull: boolean;
}

/**
 * A hashed view of materialized subquery rows, built once per materialization (keyed by the rows
 * array, which is per statement). `convert` casts a value to the comparison type.
 */
export function valueSetOf(
  cache: WeakMap<Row[], ValueSet>,
  rows: Row[],
  type: SqlType,
  convert: (v: Value) => Value,
): ValueSet {
  let s = cache.get(rows);
  if (s) return s;
  s = { keys: new Set(), sawNull: false };
  for (const row of rows) {
    const v = row[0] as Value;
    if (v === null) s.sawNull = true;
    else s.keys.add(hashKey(convert(v), type));
  }
  cache.set(rows, s);
  return s;
}
