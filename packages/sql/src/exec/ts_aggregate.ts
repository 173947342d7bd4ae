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
import { ColumnType, getInt64AsNumber, getInt64AsSafeNumber, halvesOf } from '@strata/ts';
import type { BlockHeader, ColumnData } from '@strata/ts';
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
        yield n.value;
      }
    } catch (e) {
      if (!(e instanceof NotExact)) throw e;
      yield* this.fallback.exec(ctx);
      return;
    }
    for (let i = 0; i < rows.length; i += batchRowsMax) yield rows.slice(i, i + batchRowsMax);
  }

  private *fold(ctx: ExecCtx): Generator<Row[], Row[]> {
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
    const keysOf = (tags: Value[]) => {
      const keys: Value[] = this.groups.map((g) => (g.kind === 'tag' ? (tags[g.pos] ?? null) : null));
      const tagKey = this.groups.map((g, i) => (g.kind === 'tag' ? hashKey(keys[i] as Value, g.type) : '')).join('\u0001');
      return { keys, tagKey };
    };
    const groupAt = (keys: Value[], tagKey: string, k: number): GroupState => {
      const hk = bucket ? `${tagKey}\u0002${k}` : tagKey;
      let g = groups.get(hk);
      if (!g) {
        const ks = keys.slice();
        if (bucket) ks[bucketAt] = k;
        g = newGroup(ks);
        groups.set(hk, g);
        order.push(g);
      }
      return g;
    };
    const bucketOf = (t: number) => (bucket ? bucket.originUs + Math.floor((t - bucket.originUs) / bucket.widthUs) * bucket.widthUs : 0);
    /**
     * A block wholly in one group and in the scanned range, untouched by deletes and duplicates
     * (the scan checks those), is folded from its header: count always; min/max/sum of integer
     * columns while every value and the block's Σ|v| stay below 2^53 (exact as doubles). Float
     * columns are decoded for anything but count: headers leave NaN out of min/max/sum, and
     * summing block sums would round differently from summing rows.
     */
    const fromHeader = (tags: Value[], h: BlockHeader, positions: number[], types: ColumnType[]): boolean => {
      const lo = Number(h.minTs);
      const hi = Number(h.maxTs);
      if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) return false;
      const k = bucketOf(lo);
      if (bucket && bucketOf(hi) !== k) return false;
      const stats: (BlockHeader['columns'][number] | null)[] = [];
      for (const a of this.aggs) {
        const p = a.col < 0 ? -1 : (positions[a.col] as number);
        const st = p < 0 ? null : (h.columns[p] as BlockHeader['columns'][number]);
        stats.push(st);
        if (!st) continue; // count(*), or a column the block predates (all NULL)
        if (st.type !== types[a.col]) return false;
        if (a.fn === 'count' || st.nonNull === 0) continue;
        if (st.type !== ColumnType.Int32 && st.type !== ColumnType.Int64) return false;
        if (!(Math.max(Math.abs(st.min), Math.abs(st.max)) * st.nonNull < 2 ** 53)) return false;
      }
      const { keys, tagKey } = keysOf(tags);
      const g = groupAt(keys, tagKey, k);
      this.aggs.forEach((a, j) => {
        const st = stats[j];
        if (a.col < 0) {
          (g.count[j] as number) += h.rows;
          return;
        }
        if (!st || st.nonNull === 0) return;
        (g.count[j] as number) += st.nonNull;
        if (a.fn === 'count') return;
        (g.sum[j] as number) += st.sum;
        (g.abs[j] as number) += Math.max(Math.abs(st.min), Math.abs(st.max)) * st.nonNull;
        if (st.min < (g.min[j] as number)) g.min[j] = st.min;
        if (st.max > (g.max[j] as number)) g.max[j] = st.max;
      });
      return true;
    };
    for (const b of this.scan.rawBatches(ctx, fromHeader)) {
      if (Array.isArray(b)) {
        yield b; // a yield point (maybe waiting for the next page): forwarded as is
        continue;
      }
      const n = (b.columns[0] as ColumnData).values.length;
      if (n === 0) continue;
      if (b.keep) throw new NotExact(); // a row mask means a filter above: not this plan's case
      const { keys, tagKey } = keysOf(b.tags);
      const ts = halvesOf((b.columns[0] as ColumnData).values as BigInt64Array);
      if (!ts) throw new NotExact();
      const readers = this.aggs.map((a) => (a.col < 0 ? null : reader(b.columns[a.col] as ColumnData)));
      const nulls = this.aggs.map((a) => (a.col < 0 ? null : (b.columns[a.col] as ColumnData).nulls));
      let g: GroupState | null = null;
      let lastBucket = NaN;
      for (let r = 0; r < n; r++) {
        if (bucket) {
          const k = bucketOf(getInt64AsNumber(ts, r));
          if (k !== lastBucket || !g) {
            lastBucket = k;
            g = groupAt(keys, tagKey, k);
          }
        } else if (!g) g = groupAt(keys, tagKey, 0);
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
      yield [];
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
