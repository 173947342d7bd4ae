/**
 * Ordered-set aggregates (orderedsetaggs.c): percentile_cont, percentile_disc and mode, written
 * `f(fraction) WITHIN GROUP (ORDER BY x)`. The planner passes x as the first argument and sorts
 * the group's rows by it, so each accumulator sees the values in order; NULL values of x are
 * ignored, as PostgreSQL's tuplesort-based implementation ignores them.
 */
import { PgError, SqlState } from '@strata/common';
import { compareValues } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import type { Accumulator } from './aggregate.js';

export const orderedSetAggregates = new Set(['percentile_cont', 'percentile_disc', 'mode']);

function checkFraction(p: number): void {
  if (!(p >= 0 && p <= 1))
    throw new PgError(SqlState.NumericValueOutOfRange, `percentile value ${p} is not between 0 and 1`);
}

/** percentile_cont over float8 values: linear interpolation between the two nearest rows. */
function cont(vals: number[], p: number): Value {
  checkFraction(p);
  const n = vals.length;
  const first = Math.floor(p * (n - 1));
  const second = Math.ceil(p * (n - 1));
  const lo = vals[first] as number;
  if (first === second) return lo;
  const hi = vals[second] as number;
  return lo + (p * (n - 1) - first) * (hi - lo);
}

/** percentile_disc: the first value whose position reaches the fraction. */
function disc(vals: Value[], p: number): Value {
  checkFraction(p);
  const rownum = Math.ceil(p * vals.length);
  return vals[Math.max(0, rownum - 1)] as Value;
}

/** args: [x, fraction or fraction[]] (percentiles) or [x] (mode); x arrives sorted. */
export function orderedSetAccumulator(name: string, xType: SqlType): Accumulator {
  const vals: Value[] = [];
  let frac: Value = null;
  let sawFraction = false;
  return {
    add([x, f]) {
      if (!sawFraction) {
        frac = f ?? null;
        sawFraction = true;
      }
      if (x !== null && x !== undefined) vals.push(x);
    },
    result() {
      if (vals.length === 0) return null;
      if (name === 'mode') {
        // The most frequent value; among equally frequent ones, the first in sort order.
        let best: Value = null;
        let bestN = 0;
        for (let i = 0; i < vals.length;) {
          let j = i + 1;
          while (j < vals.length && compareValues(vals[j] as Value, vals[i] as Value, xType) === 0) j++;
          if (j - i > bestN) {
            bestN = j - i;
            best = vals[i] as Value;
          }
          i = j;
        }
        return best;
      }
      if (frac === null) return null;
      const one = (p: Value): Value =>
        p === null
          ? null
          : name === 'percentile_cont'
            ? cont(vals as number[], p as number)
            : disc(vals, p as number);
      return Array.isArray(frac) ? frac.map(one) : one(frac);
    },
  };
}
