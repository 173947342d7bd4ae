/**
 * time_bucket_gapfill and interpolate (KWDB; TimescaleDB has the same pair): after GROUP BY, every
 * series (the rows sharing the other group keys) gets a row for each bucket between the query's
 * time bounds (from WHERE; else the series' first and last bucket), with NULL aggregates where
 * there was no data. interpolate(expr, mode) values are then computed per series in bucket order
 * and appended to each row: 'null' (leave NULL), 'prev' (last value before), 'next' (first value
 * after), 'linear' (between the two neighbours), or a constant.
 */
import { PgError, SqlState } from '@strata/common';
import { Decimal } from '../types/numeric.js';
import { hashKey } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import { batchRowsMax } from './context.js';
import type { Batches, Column, ExecCtx, Operator, Row } from './context.js';
import type { Ev } from './operators.js';

/** Buckets one series may be filled with at most (a guard against a tiny width over years). */
export const gapfillBucketsMax = 1_000_000;

export type InterpolateMode = 'null' | 'prev' | 'next' | 'linear' | { constant: number };

export interface InterpolateSpec {
  ev: Ev;
  mode: InterpolateMode;
}

function toNumber(v: Value): number | null {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Decimal) return v.toNumber();
  return null;
}

export class GapFill implements Operator {
  constructor(
    readonly input: Operator,
    readonly columns: Column[],
    /** Position of the bucket among the row's group keys, the other keys, and the key types. */
    readonly bucketIdx: number,
    readonly keyIdx: number[],
    readonly keyTypes: SqlType[],
    readonly widthUs: number,
    readonly originUs: number,
    /** The query's time bounds (inclusive), or null to use each series' own first/last bucket. */
    readonly range: (ctx: ExecCtx) => { lo: number; hi: number } | null,
    /** Number of values per input row (group keys + aggregates). */
    readonly width: number,
    readonly interps: InterpolateSpec[],
  ) {}

  private bucketOf(ts: number): number {
    return this.originUs + Math.floor((ts - this.originUs) / this.widthUs) * this.widthUs;
  }

  *exec(ctx: ExecCtx): Batches {
    const series = new Map<string, { keys: Row; byBucket: Map<number, Row> }>();
    for (const b of this.input.exec(ctx)) {
      if (b.length === 0) {
        yield b;
        continue;
      }
      for (const r of b) {
        const k = this.keyIdx.map((i, j) => hashKey(r[i] as Value, this.keyTypes[j] as SqlType)).join('\u0001');
        let s = series.get(k);
        if (!s) series.set(k, (s = { keys: r, byBucket: new Map() }));
        const bucket = r[this.bucketIdx];
        if (typeof bucket === 'number') s.byBucket.set(bucket, r);
      }
    }
    const range = this.range(ctx);
    const out: Row[] = [];
    for (const s of series.values()) {
      const have = [...s.byBucket.keys()];
      // A loop, not Math.min(...have): spreading a million buckets overflows the stack.
      let minB = Infinity;
      let maxB = -Infinity;
      for (const x of have) {
        if (x < minB) minB = x;
        if (x > maxB) maxB = x;
      }
      const lo = this.bucketOf(range ? range.lo : minB);
      const hi = this.bucketOf(range ? range.hi : maxB);
      if ((hi - lo) / this.widthUs + 1 > gapfillBucketsMax) {
        throw new PgError(SqlState.ProgramLimitExceeded, `time_bucket_gapfill would create more than ${gapfillBucketsMax} buckets; narrow the time range or widen the bucket`);
      }
      const rows: Row[] = [];
      for (let t = lo; t <= hi; t += this.widthUs) {
        const existing = s.byBucket.get(t);
        if (existing) rows.push(existing.slice(0, this.width));
        else {
          const r: Row = new Array<Value>(this.width).fill(null);
          for (const i of this.keyIdx) r[i] = s.keys[i] as Value;
          r[this.bucketIdx] = t;
          rows.push(r);
        }
      }
      // Buckets outside the range (when WHERE bounds did not cover the data) keep their rows.
      for (const [t, r] of s.byBucket) if (t < lo || t > hi) rows.push(r.slice(0, this.width));
      for (const spec of this.interps) {
        const vals = rows.map((r) => toNumber(spec.ev(r, ctx)));
        const ts = rows.map((r) => r[this.bucketIdx] as number);
        const filled = interpolate(vals, ts, spec.mode);
        rows.forEach((r, i) => r.push(filled[i] ?? null));
      }
      for (const r of rows) {
        out.push(r);
        if (out.length >= batchRowsMax) yield out.splice(0);
      }
    }
    if (out.length > 0) yield out;
  }

  explain() {
    return { label: `gapfill (bucket ${this.widthUs / 1e6} s${this.interps.length ? `, ${this.interps.length} interpolated` : ''})`, children: [this.input] };
  }
}

/** Fills the NULLs of one series (values by bucket, ascending) per the mode. */
export function interpolate(vals: (number | null)[], ts: number[], mode: InterpolateMode): (number | null)[] {
  if (mode === 'null') return vals;
  if (typeof mode === 'object') return vals.map((v) => (v === null ? mode.constant : v));
  const n = vals.length;
  const prevIdx = new Array<number>(n).fill(-1);
  const nextIdx = new Array<number>(n).fill(-1);
  for (let i = 0, last = -1; i < n; i++) {
    prevIdx[i] = last;
    if (vals[i] !== null) last = i;
  }
  for (let i = n - 1, last = -1; i >= 0; i--) {
    nextIdx[i] = last;
    if (vals[i] !== null) last = i;
  }
  return vals.map((v, i) => {
    if (v !== null) return v;
    const p = prevIdx[i] as number;
    const q = nextIdx[i] as number;
    if (mode === 'prev') return p >= 0 ? (vals[p] as number) : null;
    if (mode === 'next') return q >= 0 ? (vals[q] as number) : null;
    if (p < 0 || q < 0) return null;
    const t0 = ts[p] as number;
    const t1 = ts[q] as number;
    const v0 = vals[p] as number;
    const v1 = vals[q] as number;
    return v0 + ((v1 - v0) * ((ts[i] as number) - t0)) / (t1 - t0);
  });
}
