/**
 * Column-at-a-time aggregation straight off a time-series scan — the shape of most time-series
 * queries: GROUP BY time_bucket(ts, const) and/or tags, with count/sum/avg/min/max of data
 * columns, over a WHERE the scan answers exactly (time range, tags).
 *
 * Instead of turning every stored value into a SQL value (an int8 into a BigInt) and every row
 * into a row array, it reads each entity's decoded column arrays directly: timestamps and int8
 * values through their 32-bit halves as doubles, a bucket per row by arithmetic, and one group
 * lookup per bucket change (rows of an entity arrive in time order). Results are built exactly
 * as the row-at-a-time accumulators build them (aggregate.ts), so answers do not change; if an
 * int8 value leaves ±2^53 (where doubles stop being exact) it hands over to that path.
 */
import { getInt64AsNumber, getInt64AsSafeNumber, halvesOf } from '@strata/ts';
import type { ColumnData } from '@strata/ts';
import { Decimal } from '../types/numeric.js';
import { hashKey } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import type { TsScan } from '../ts_dml.js';
import { batchRowsMax } from './context.js';
import type { Batches, Column, ExecCtx, Operator, Row } from './context.js';

export type TsGroupKey = { kind: 'bucket'; widthUs: number; originUs: number } | { kind: 'tag'; pos: number; type: SqlType };

export interface TsAggFn {
  fn: 'count' | 'sum' | 'avg' | 'min' | 'max';
  /** Data column position, or -1 for count(*). */
  col: number;
  type: SqlType | null;
}

interface GroupState {
  keys: Value[];
  count: Float64Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** Σ|v|: while below 2^53 every partial integer sum was exact. */
  abs: Float64Array;
}

/** Thrown when a value cannot be folded exactly as a double: the row-at-a-time plan takes over. */
class NotExact extends Error {}

export class TsColumnarAggregate implements Operator {
  constructor(
    readonly scan: TsScan,
    readonly groups: TsGroupKey[],
    readonly aggs: TsAggFn[],
    readonly columns: Column[],
    /** The row-at-a-time plan for the same statement (used when a value is out of exact range). */
    readonly fallback: Operator,
  ) {}

  *exec(ctx: ExecCtx): Batches {
    let rows: Row[];
    try {
      const it = this.fold(ctx);
      for (;;) {
        const n = it.next();
        if (n.done) {
          rows = n.value;
          break;
        }
        yield [];
      }
    } catch (e) {
      if (!(e instanceof NotExact)) throw e;
      yield* this.fallback.exec(ctx);
      return;
    }
    for (let i = 0; i < rows.length; i += batchRowsMax) yield rows.slice(i, i + batchRowsMax);
  }

  private *fold(ctx: ExecCtx): Generator<void, Row[]> {
    const groups = new Map<string, GroupState>();
    const order: GroupState[] = [];
    const nAggs = this.aggs.length;
    const bucketAt = this.groups.findIndex((g) => g.kind === 'bucket');
    const bucket = bucketAt >= 0 ? (this.groups[bucketAt] as { widthUs: number; originUs: number }) : null;
    const newGroup = (keys: Value[]): GroupState => ({
      keys,
      count: new Float64Array(nAggs),
      sum: new Float64Array(nAggs),
      min: new Float64Array(nAggs).fill(Infinity),
      max: new Float64Array(nAggs).fill(-Infinity),
      abs: new Float64Array(nAggs),
    });
    for (const b of this.scan.rawBatches(ctx)) {
      const n = (b.columns[0] as ColumnData).values.length;
      if (n === 0) continue;
      if (b.keep) throw new NotExact(); // a row mask means a filter above: not this plan's case
      const keys: Value[] = this.groups.map((g) => (g.kind === 'tag' ? (b.tags[g.pos] ?? null) : null));
      const tagKey = this.groups.map((g, i) => (g.kind === 'tag' ? hashKey(keys[i] as Value, g.type) : '')).join('\u0001');
      const ts = halvesOf((b.columns[0] as ColumnData).values as BigInt64Array);
      if (!ts) throw new NotExact();
      const readers = this.aggs.map((a) => (a.col < 0 ? null : reader(b.columns[a.col] as ColumnData)));
      const nulls = this.aggs.map((a) => (a.col < 0 ? null : (b.columns[a.col] as ColumnData).nulls));
      let g: GroupState | null = null;
      let lastBucket = NaN;
      for (let r = 0; r < n; r++) {
        if (bucket) {
          const t = getInt64AsNumber(ts, r);
          const k = bucket.originUs + Math.floor((t - bucket.originUs) / bucket.widthUs) * bucket.widthUs;
          if (k !== lastBucket || !g) {
            lastBucket = k;
            const hk = `${tagKey}\u0002${k}`;
            g = groups.get(hk) ?? null;
            if (!g) {
              const ks = keys.slice();
              ks[bucketAt] = k;
              g = newGroup(ks);
              groups.set(hk, g);
              order.push(g);
            }
          }
        } else if (!g) {
          g = groups.get(tagKey) ?? null;
          if (!g) {
            g = newGroup(keys.slice());
            groups.set(tagKey, g);
            order.push(g);
          }
        }
        const st = g as GroupState;
        for (let j = 0; j < nAggs; j++) {
          const read = readers[j];
          if (!read) {
            (st.count[j] as number)++; // count(*)
            continue;
          }
          const nl = nulls[j];
          if (nl && nl[r]) continue;
          const v = read(r);
          (st.count[j] as number)++;
          (st.sum[j] as number) += v;
          (st.abs[j] as number) += v < 0 ? -v : v;
          if (v < (st.min[j] as number)) st.min[j] = v;
          if (v > (st.max[j] as number)) st.max[j] = v;
        }
      }
      yield;
    }
    if (order.length === 0 && this.groups.length === 0) order.push(newGroup([]));
    return order.map((g) => [...g.keys, ...this.aggs.map((a, j) => result(a, g, j))]);
  }

  explain() {
    return { label: 'group (columnar, on the time-series scan)', children: [this.scan] };
  }
}

/** A reader of a column's values as doubles (int8 through its halves; NotExact beyond ±2^53). */
function reader(c: ColumnData): (r: number) => number {
  const v = c.values;
  if (v instanceof Float64Array || v instanceof Int32Array) return (r) => v[r] as number;
  if (v instanceof BigInt64Array) {
    const u = halvesOf(v);
    if (!u) throw new NotExact();
    return (r) => {
      const x = getInt64AsSafeNumber(u, r);
      if (Number.isNaN(x)) throw new NotExact();
      return x;
    };
  }
  throw new NotExact();
}

/**
 * The aggregate's value as the row-at-a-time accumulators give it: count int8; sum of int2/int4
 * int8, of int8 numeric, of floats float8; avg of integers numeric, of floats float8; min/max in
 * the column's type. Integer sums are exact when Σ|v| stayed below 2^53 (then so did every
 * partial sum); otherwise NotExact hands the statement to the exact row-at-a-time path.
 */
function result(a: TsAggFn, g: GroupState, j: number): Value {
  const count = g.count[j] as number;
  if (a.fn === 'count') return BigInt(count);
  if (count === 0) return null;
  const t = (a.type as SqlType).kind;
  const isInt = t === 'int2' || t === 'int4' || t === 'int8';
  const sum = g.sum[j] as number;
  if ((a.fn === 'sum' || a.fn === 'avg') && isInt && !((g.abs[j] as number) < 2 ** 53)) throw new NotExact();
  switch (a.fn) {
    case 'min':
    case 'max': {
      const v = (a.fn === 'min' ? g.min[j] : g.max[j]) as number;
      return t === 'int8' ? BigInt(v) : v;
    }
    case 'sum':
      if (t === 'int8') return Decimal.fromInt(BigInt(sum));
      return isInt ? BigInt(sum) : sum;
    case 'avg':
      return isInt ? Decimal.fromInt(BigInt(sum)).div(Decimal.fromInt(BigInt(count))) : sum / count;
  }
}
