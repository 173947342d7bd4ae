/**
 * Window frames as PostgreSQL defines them (SQL:2011, nodeWindowAgg.c): which rows of a sorted
 * partition a frame-based window function (an aggregate, first_value, last_value, nth_value) sees
 * for each row.
 *
 * - ROWS counts rows from the current one; GROUPS counts peer groups (rows equal under ORDER BY);
 *   RANGE with an offset takes the rows whose single ORDER BY key lies within `offset` of the
 *   current row's key (in the sort direction); RANGE without offsets and CURRENT ROW in RANGE or
 *   GROUPS mode include all peers of the current row.
 * - NULL keys are peers of each other; under RANGE with an offset a NULL current row's frame bound
 *   is its peer group, and a non-NULL row's frame never reaches NULL keys.
 * - EXCLUDE CURRENT ROW / GROUP / TIES removes rows from the frame, which is then not contiguous.
 *
 * INVARIANT: bounds are positions in the sorted partition, 0 <= lo and hi <= n - 1; lo > hi is an
 * empty frame.
 */
import { PgError, SqlState } from '@strata/common';
import { addIntervalToTimestamp, intervalMicros, isInfiniteDateTime, usPerDay } from '../types/datetime.js';
import type { Interval } from '../types/datetime.js';
import { Decimal } from '../types/numeric.js';
import { SqlStateX } from '../sqlstate.js';
import { compareValues } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import type { ExecCtx } from './context.js';
import type { Row } from './context.js';
import type { Ev } from './operators.js';

export type FrameEdge =
  | { type: 'unbounded_preceding' | 'unbounded_following' | 'current_row' }
  | { type: 'preceding' | 'following'; offset: Ev };

export type FrameExclusion = 'no_others' | 'current_row' | 'group' | 'ties';

export interface FrameSpec {
  mode: 'rows' | 'range' | 'groups';
  start: FrameEdge;
  end: FrameEdge;
  exclude: FrameExclusion;
  /** RANGE with offsets: the single ORDER BY key's type and direction. */
  rangeKey?: { type: SqlType; desc: boolean; nullsFirst: boolean };
}

/** One sorted partition: its rows' sort keys and peer groups. */
export interface SortedPartition {
  n: number;
  /** The first and last position of each position's peer group. */
  peerStart: number[];
  peerEnd: number[];
  /** The sort keys of the row at each position. */
  keys: Value[][];
  /** The input row at each position (offsets are evaluated on the current row). */
  row: (i: number) => Row;
}

/** Peer group numbers, computed once per partition for GROUPS frames. */
function groupIndex(part: SortedPartition): { groupOf: number[]; starts: number[]; ends: number[] } {
  const groupOf: number[] = new Array<number>(part.n);
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < part.n; i++) {
    if (part.peerStart[i] === i) {
      starts.push(i);
      ends.push(part.peerEnd[i] as number);
    }
    groupOf[i] = starts.length - 1;
  }
  return { groupOf, starts, ends };
}

function offsetValue(e: Ev, row: Row, ctx: ExecCtx, isStart: boolean): Value {
  const v = e(row, ctx);
  if (v === null)
    throw new PgError(
      SqlState.NullValueNotAllowed,
      `frame ${isStart ? 'starting' : 'ending'} offset must not be null`,
    );
  const negative =
    typeof v === 'bigint'
      ? v < 0n
      : typeof v === 'number'
        ? v < 0
        : v instanceof Decimal
          ? v.sign() < 0
          : intervalMicros(v as Interval) < 0 || (v as Interval).months < 0 || (v as Interval).days < 0;
  if (negative || (v instanceof Decimal && v.isNaN()) || (typeof v === 'number' && Number.isNaN(v)))
    throw new PgError(
      SqlStateX.InvalidPrecedingOrFollowingSize,
      'invalid preceding or following size in window function',
    );
  return v;
}

/** `v + off` (or `v - off`) in the key's type, computed without overflow. */
function shifted(v: Value, off: Value, subtract: boolean, t: SqlType, tz: string): Value {
  switch (t.kind) {
    case 'int2':
    case 'int4':
    case 'int8': {
      const a = BigInt(v as number | bigint);
      const b = BigInt(off as number | bigint);
      return subtract ? a - b : a + b;
    }
    case 'float4':
    case 'float8': {
      const a = v as number;
      const b = Number(off);
      return subtract ? a - b : a + b;
    }
    case 'numeric': {
      const a = v as Decimal;
      const b = off instanceof Decimal ? off : Decimal.parse(String(off));
      if (a.isNaN()) return a;
      return subtract ? a.sub(b) : a.add(b);
    }
    case 'date':
    case 'timestamp':
    case 'timestamptz': {
      const us = t.kind === 'date' && !isInfiniteDateTime(v) ? (v as number) * usPerDay : (v as number);
      const iv = off as Interval;
      const d = subtract ? { months: -iv.months, days: -iv.days, micros: -iv.micros } : iv;
      return addIntervalToTimestamp(us, d, t.kind === 'timestamptz' ? tz : null);
    }
    case 'interval': {
      const a = v as Interval;
      const b = off as Interval;
      const s = subtract ? -1 : 1;
      return { months: a.months + s * b.months, days: a.days + s * b.days, micros: a.micros + s * b.micros };
    }
    default:
      throw new PgError(
        SqlState.FeatureNotSupported,
        `RANGE with offset PRECEDING/FOLLOWING is not supported for column type ${t.kind}`,
      );
  }
}

/** +1 / -1 for an infinite float or numeric, 0 otherwise. */
function infiniteSign(v: Value): number {
  if (typeof v === 'number') return v === Infinity ? 1 : v === -Infinity ? -1 : 0;
  if (v instanceof Decimal && v.isInf()) return v.sign();
  return 0;
}

function isNaNValue(v: Value): boolean {
  return typeof v === 'number' ? Number.isNaN(v) : v instanceof Decimal && v.isNaN();
}

/** Compares a key with a shifted bound (which may be of a wider representation). */
function cmpKeyBound(key: Value, bound: Value, t: SqlType): number {
  switch (t.kind) {
    case 'int2':
    case 'int4':
    case 'int8': {
      const a = BigInt(key as number | bigint);
      const b = bound as bigint;
      return a < b ? -1 : a > b ? 1 : 0;
    }
    case 'date': {
      const a = isInfiniteDateTime(key) ? (key as number) : (key as number) * usPerDay;
      const b = bound as number;
      return a < b ? -1 : a > b ? 1 : 0;
    }
    default:
      return compareValues(key, bound, t);
  }
}

/**
 * The frame of position `i`: [lo, hi] and, under EXCLUDE, a test for excluded positions.
 * Callers iterate lo..hi and skip positions where `excluded(j)` is true.
 */
export class FrameCalculator {
  private groups: { groupOf: number[]; starts: number[]; ends: number[] } | null = null;
  /** The non-NULL keys occupy positions [nonNullLo, nonNullHi) (RANGE offsets). */
  private nonNullLo = 0;
  private nonNullHi = 0;

  constructor(
    readonly spec: FrameSpec | null,
    readonly hasOrderBy: boolean,
    readonly part: SortedPartition,
    readonly ctx: ExecCtx,
  ) {
    if (spec?.mode === 'groups') this.groups = groupIndex(part);
    if (spec?.mode === 'range' && spec.rangeKey) {
      let a = 0;
      let b = part.n;
      if (spec.rangeKey.nullsFirst) while (a < b && (part.keys[a] as Value[])[0] === null) a++;
      else while (b > a && (part.keys[b - 1] as Value[])[0] === null) b--;
      this.nonNullLo = a;
      this.nonNullHi = b;
    }
  }

  /** True when every frame starts at the partition's first row and contains no exclusions (ends then never move back). */
  growing(): boolean {
    const s = this.spec;
    if (!s) return true;
    return s.start.type === 'unbounded_preceding' && s.exclude === 'no_others';
  }

  bounds(i: number): [number, number] {
    const s = this.spec;
    const { n, peerEnd } = this.part;
    if (!s) return this.hasOrderBy ? [0, peerEnd[i] as number] : [0, n - 1];
    const lo = this.edge(s.start, i, true);
    const hi = this.edge(s.end, i, false);
    return [Math.max(0, lo), Math.min(n - 1, hi)];
  }

  /** Whether position j is excluded from the frame of position i. */
  excluded(i: number, j: number): boolean {
    const ex = this.spec?.exclude ?? 'no_others';
    if (ex === 'no_others') return false;
    if (ex === 'current_row') return j === i;
    const inGroup = j >= (this.part.peerStart[i] as number) && j <= (this.part.peerEnd[i] as number);
    if (ex === 'group') return inGroup;
    return inGroup && j !== i;
  }

  private edge(e: FrameEdge, i: number, isStart: boolean): number {
    const s = this.spec as FrameSpec;
    const { n, peerStart, peerEnd } = this.part;
    switch (e.type) {
      case 'unbounded_preceding':
        return 0;
      case 'unbounded_following':
        return n - 1;
      case 'current_row':
        if (s.mode === 'rows') return i;
        return isStart ? (peerStart[i] as number) : (peerEnd[i] as number);
      default:
        break;
    }
    const off = offsetValue(e.offset, this.part.row(i), this.ctx, isStart);
    const back = e.type === 'preceding';
    if (s.mode === 'rows') {
      const k = Number(off);
      return back ? i - k : i + k;
    }
    if (s.mode === 'groups') {
      const g = this.groups as { groupOf: number[]; starts: number[]; ends: number[] };
      const k = Number(off);
      const target = (g.groupOf[i] as number) + (back ? -k : k);
      if (isStart) return target < 0 ? 0 : target >= g.starts.length ? n : (g.starts[target] as number);
      return target < 0 ? -1 : target >= g.ends.length ? n - 1 : (g.ends[target] as number);
    }
    // RANGE with an offset.
    const rk = s.rangeKey as { type: SqlType; desc: boolean; nullsFirst: boolean };
    const key = (this.part.keys[i] as Value[])[0] as Value;
    if (key === null) return isStart ? (peerStart[i] as number) : (peerEnd[i] as number);
    // In sort order, PRECEDING moves towards smaller keys for ASC and larger ones for DESC.
    const subtract = back !== rk.desc;
    const keySign = infiniteSign(key);
    if (keySign !== 0 && infiniteSign(off) !== 0 && (subtract ? keySign > 0 : keySign < 0)) {
      // in_range_float8_float8 / in_range_numeric_numeric: +inf infinitely preceding +inf (or
      // -inf following -inf) is taken to include every non-NaN value.
      const isNaNAt = (j: number) => isNaNValue((this.part.keys[j] as Value[])[0] as Value);
      if (isStart) {
        let b = this.nonNullLo;
        while (b < this.nonNullHi && isNaNAt(b)) b++;
        return b;
      }
      let e = this.nonNullHi - 1;
      while (e >= this.nonNullLo && isNaNAt(e)) e--;
      return e;
    }
    const bound = shifted(key, off, subtract, rk.type, this.ctx.vctx.timeZone);
    const dir = rk.desc ? -1 : 1;
    const keyAt = (j: number) => (this.part.keys[j] as Value[])[0] as Value;
    let a = this.nonNullLo;
    let b = this.nonNullHi;
    if (isStart) {
      // The first position whose key is not before the bound in sort order.
      while (a < b) {
        const m = (a + b) >>> 1;
        if (dir * cmpKeyBound(keyAt(m), bound, rk.type) < 0) a = m + 1;
        else b = m;
      }
      return a >= this.nonNullHi ? n : a;
    }
    // The last position whose key is not after the bound in sort order.
    while (a < b) {
      const m = (a + b) >>> 1;
      if (dir * cmpKeyBound(keyAt(m), bound, rk.type) <= 0) a = m + 1;
      else b = m;
    }
    return a - 1 < this.nonNullLo ? -1 : a - 1;
  }
}
