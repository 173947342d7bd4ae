/**
 * Multi-dimensional arrays. PostgreSQL has one array type per element type (`int[][]` is `int[]`);
 * a value has 0–6 dimensions. Here a value of N > 1 dimensions is a JS array of N−1-dimensional
 * JS arrays, all of the same shape ("rectangular"), leaves being element values.
 * INVARIANT: an element value is never a JS array (jsonb is `{ jsonb }`, bytea a Buffer), so
 * `Array.isArray(a[0])` tells a multi-dimensional value from a one-dimensional one.
 * INVARIANT: no sub-array is empty (an empty array has zero dimensions: `[]`), and every lower
 * bound is 1 (other bounds are refused where they would be read, 0A000).
 * Pure.
 */
import { PgError, SqlState } from '@strata/common';

/** An array value or element (types.ts's Value; kept structural here so this file imports nothing of types.ts). */
type Value = unknown;

/** PostgreSQL's MAXDIM. */
export const arrayDimsMax = 6;

/** The length of each dimension, outermost first; `[]` for an empty array. */
export function arrayDims(a: Value[]): number[] {
  const dims: number[] = [];
  let cur: Value = a;
  while (Array.isArray(cur) && cur.length > 0) {
    dims.push(cur.length);
    cur = cur[0] as Value;
  }
  return dims;
}

export function isMultiDim(a: Value[]): boolean {
  return a.length > 0 && Array.isArray(a[0]);
}

/** The elements in storage order (row-major), as PostgreSQL's unnest, ANY and array_to_string see them. */
export function flattenArray<T>(a: T[]): T[] {
  if (!isMultiDim(a)) return a;
  const out: T[] = [];
  const walk = (x: T[]): void => {
    for (const e of x) {
      if (Array.isArray(e)) walk(e as T[]);
      else out.push(e);
    }
  };
  walk(a);
  return out;
}

/** Rebuilds the nested form of `flat` (row-major) with the given dimensions. */
export function nestArray<T>(flat: T[], dims: number[]): T[] {
  if (dims.length <= 1) return flat;
  let pos = 0;
  const build = (d: number): T[] => {
    const n = dims[d] as number;
    const out: T[] = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = d === dims.length - 1 ? (flat[pos++] as T) : (build(d + 1) as T);
    return out;
  };
  return build(0);
}

/** Applies `f` to every element, keeping the shape. */
export function mapArray<T>(a: T[], f: (e: T) => T): T[] {
  return a.map((e) => (Array.isArray(e) ? (mapArray(e as T[], f) as T) : f(e)));
}

/** 54000 past MAXDIM, as PostgreSQL. */
export function checkDimCount(n: number): void {
  if (n > arrayDimsMax) throw new PgError(SqlState.ProgramLimitExceeded, `number of array dimensions (${n}) exceeds the maximum allowed (${arrayDimsMax})`);
}

/** For functions defined on one-dimensional arrays only: PostgreSQL's error for the others. */
export function require1D(a: Value[], message: string, code: SqlState = SqlState.FeatureNotSupported): void {
  if (isMultiDim(a)) throw new PgError(code, message);
}

/** `array_dims`: `[1:2][1:3]`; NULL for an empty array. */
export function formatArrayDims(a: Value[]): string | null {
  const d = arrayDims(a);
  return d.length === 0 ? null : d.map((n) => `[1:${n}]`).join('');
}

/**
 * `ARRAY[a, b, …]` and `ARRAY(subquery)` of arrays: one more dimension, as PostgreSQL's
 * ExecEvalArrayExpr — all empty gives an empty array; otherwise every one must be non-NULL with
 * the same dimensions (2202E).
 */
export function stackArrays<T>(subs: (T[] | null)[]): T[] {
  if (subs.every((x) => x !== null && x.length === 0)) return [];
  let dims: number[] | null = null;
  for (const x of subs) {
    const d = x === null ? null : arrayDims(x);
    if (d === null || d.length === 0 || (dims !== null && (d.length !== dims.length || d.some((n, i) => n !== dims![i])))) {
      throw new PgError(SqlState.ArraySubscriptError, 'multidimensional arrays must have array expressions with matching dimensions');
    }
    dims = d;
  }
  checkDimCount((dims as number[]).length + 1);
  return subs as unknown as T[];
}

/**
 * `a[i][j]…`: the element at those subscripts (1-based), or NULL when any is out of range or the
 * number of subscripts is not the number of dimensions, as PostgreSQL's array_ref.
 */
export function arrayElementAt<T>(a: T[], subs: number[]): T | null {
  if (a.length === 0) return null;
  let cur: unknown = a;
  for (const k of subs) {
    if (!Array.isArray(cur)) return null;
    const next: unknown = (cur as unknown[])[k - 1];
    if (next === undefined || k < 1) return null;
    cur = next;
  }
  return Array.isArray(cur) ? null : (cur as T);
}

/**
 * a[lo1:hi1][lo2:hi2]…: array_get_slice with every lower bound 1. Bounds are clamped to the
 * array (a null upper bound is the dimension's end); an empty range in any dimension, or more
 * subscripts than dimensions, gives an empty array. Dimensions not subscripted are kept whole.
 * The result's lower bounds are 1, as PostgreSQL's.
 */
export function arraySlice<T>(a: T[], lo: number[], hi: (number | null)[]): T[] {
  const dims = arrayDims(a as Value[]);
  if (dims.length === 0 || lo.length > dims.length) return [];
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < lo.length; i++) {
    const d = dims[i] as number;
    const l = Math.max(lo[i] as number, 1);
    const h = Math.min(hi[i] ?? d, d);
    if (l > h) return [];
    from.push(l);
    to.push(h);
  }
  const cut = (x: unknown, level: number): unknown => {
    if (level >= from.length || !Array.isArray(x)) return x;
    return (x.slice((from[level] as number) - 1, to[level]) as unknown[]).map((y) => cut(y, level + 1));
  };
  return cut(a, 0) as T[];
}
