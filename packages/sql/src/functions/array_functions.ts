/**
 * Array functions of PostgreSQL 15 beyond concatenation and search: array_remove, array_replace,
 * array_positions, trim_array, array_fill and width_bucket(operand, thresholds). Their arguments
 * are polymorphic ("anycompatible"): the element type is the common type of the array's element
 * type and the other element arguments; an untyped literal array takes that type. Errors and
 * messages are PostgreSQL's (arrayfuncs.c, array_userfuncs.c).
 */
import { PgError, SqlState } from '@strata/common';
import { arrayDims, flattenArray, isMultiDim, nestArray, require1D } from '../types/array_md.js';
import { castValue } from '../types/cast.js';
import { T, arrayOf, commonType, compareValues } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import type { ExecCtx } from '../exec/context.js';
import { ANY, def } from './registry.js';
import type { Args, Fn } from './registry.js';

/** Elements an array_fill may build (PostgreSQL's MaxAllocSize / sizeof(Datum) bound, rounded). */
const arrayFillElementsMax = 134_217_727;

/**
 * The array type of a call whose argument `arrIdx` is the array and `elemIdxs` are elements of it:
 * their common element type (an untyped array literal takes the elements' type; all untyped: text).
 */
function compatibleArrayType(ts: SqlType[], arrIdx: number, elemIdxs: number[], fn: string): SqlType {
  const at = ts[arrIdx] ?? T.unknown;
  const parts: SqlType[] = [];
  if (at.kind === 'array') parts.push(at.elem as SqlType);
  for (const i of elemIdxs) {
    const t = ts[i] ?? T.unknown;
    if (t.kind !== 'unknown') parts.push(t);
  }
  if (parts.length === 0) return arrayOf(T.text);
  try {
    return arrayOf(commonType(parts, fn));
  } catch (e) {
    // The binder gives untyped literals (NULL, '…') of "any" arguments the type text; beside a
    // typed array they take its element type, as PostgreSQL's unknown literals do.
    if (at.kind !== 'array') throw e;
    const typedParts = parts.filter((t) => t.kind !== 'text');
    return arrayOf(commonType(typedParts.length === 0 ? [at.elem as SqlType] : typedParts, fn));
  }
}

/** A value of type `from` as type `to` (NULL stays NULL; an untyped literal is read as text first). */
function as(v: Value, from: SqlType, to: SqlType, ctx: ExecCtx): Value {
  if (v === null) return null;
  if (from.kind === to.kind && (to.kind !== 'array' || from.elem?.kind === to.elem?.kind)) return v;
  return castValue(v, from.kind === 'unknown' ? T.text : from, to, ctx.vctx);
}

/** IS NOT DISTINCT FROM on elements of type `t`. */
function sameElement(a: Value, b: Value, t: SqlType): boolean {
  if (a === null || b === null) return a === null && b === null;
  return compareValues(a, b, t) === 0;
}

/** Builds a polymorphic overload: `body` gets the array and the elements already in the result's types. */
function arrayOverload(arity: number, elemIdxs: number[], name: string, result: (at: SqlType) => SqlType, body: (arr: Value[], elems: Value[], at: SqlType) => Value, nullable = true) {
  const typed = (ts: SqlType[]): Fn => {
    const at = compatibleArrayType(ts, 0, elemIdxs, name);
    return (args: Args, ctx: ExecCtx) => {
      const arr = as(args[0], ts[0] as SqlType, at, ctx);
      if (arr === null) return null;
      const elems = elemIdxs.map((i) => as(args[i] as Value, ts[i] as SqlType, at.elem as SqlType, ctx));
      return body(arr as Value[], elems, at);
    };
  };
  return {
    args: Array.from({ length: arity }, () => ANY),
    result: (ts: SqlType[]) => result(compatibleArrayType(ts, 0, elemIdxs, name)),
    nullable,
    fn: typed(Array.from({ length: arity }, () => T.unknown)),
    typed,
  };
}

def(
  'array_remove',
  arrayOverload(2, [1], 'array_remove', (at) => at, (arr, [x], at) => {
    require1D(arr, 'removing elements from multidimensional arrays is not supported');
    return arr.filter((e) => !sameElement(e, x as Value, at.elem as SqlType));
  }),
);
def(
  'array_replace',
  arrayOverload(3, [1, 2], 'array_replace', (at) => at, (arr, [from, to], at) => {
    // array_replace works on every element whatever the dimensions (array_replace_internal).
    const et = at.elem as SqlType;
    const flat = flattenArray(arr).map((e) => (sameElement(e, from as Value, et) ? (to as Value) : e));
    return isMultiDim(arr) ? nestArray(flat, arrayDims(arr)) : flat;
  }),
);
def(
  'array_positions',
  arrayOverload(2, [1], 'array_positions', () => arrayOf(T.int4), (arr, [x], at) => {
    require1D(arr, 'searching for elements in multidimensional arrays is not supported');
    const out: Value[] = [];
    arr.forEach((e, i) => {
      if (sameElement(e, x as Value, at.elem as SqlType)) out.push(i + 1);
    });
    return out;
  }),
);

/** trim_array(a, n): the first dimension shortened by n. */
def('trim_array', {
  args: [ANY, T.int4],
  result: (ts) => compatibleArrayType(ts, 0, [], 'trim_array'),
  fn: ([a, n]) => trimArray(a as Value[], n as number),
  typed: (ts) => {
    const at = compatibleArrayType(ts, 0, [], 'trim_array');
    return ([a, n], ctx) => trimArray(as(a, ts[0] as SqlType, at, ctx) as Value[], n as number);
  },
});
function trimArray(a: Value[], n: number): Value[] {
  const len = a.length;
  if (n < 0 || n > len) throw new PgError(SqlState.ArraySubscriptError, `number of elements to trim must be between 0 and ${len}`);
  return a.slice(0, len - n);
}

/** array_fill(value, dims [, lower bounds]). Lower bounds other than 1 are refused (array_md.ts). */
function arrayFill(v: Value, dims: Value, lbs: Value | undefined): Value {
  if (dims === null || lbs === null) throw new PgError(SqlState.NullValueNotAllowed, 'dimension array or low bound array cannot be null');
  const d = dims as Value[];
  if (isMultiDim(d)) throw new PgError(SqlState.ArraySubscriptError, 'wrong number of array subscripts', { detail: 'Dimension array must be one dimensional.' });
  if (lbs !== undefined) {
    const l = lbs as Value[];
    if (isMultiDim(l) || l.length !== d.length) throw new PgError(SqlState.ArraySubscriptError, 'wrong number of array subscripts', { detail: 'Low bound array has different size than dimensions array.' });
    if (l.some((x) => x === null)) throw new PgError(SqlState.NullValueNotAllowed, 'dimension values cannot be null');
    if (d.length > 0 && l.some((x) => x !== 1)) throw new PgError(SqlState.FeatureNotSupported, 'array lower bounds other than 1 are not supported');
  }
  if (d.some((x) => x === null)) throw new PgError(SqlState.NullValueNotAllowed, 'dimension values cannot be null');
  if (d.length > 6) throw new PgError(SqlState.ProgramLimitExceeded, `number of array dimensions (${d.length}) exceeds the maximum allowed (6)`);
  const sizes = d.map((x) => x as number);
  if (sizes.length === 0 || sizes.some((x) => x <= 0)) {
    if (sizes.some((x) => x < 0)) throw new PgError(SqlState.ProgramLimitExceeded, 'array size exceeds the maximum allowed (134217727)');
    return [];
  }
  const total = sizes.reduce((p, x) => p * x, 1);
  if (total > arrayFillElementsMax) throw new PgError(SqlState.ProgramLimitExceeded, `array size exceeds the maximum allowed (${arrayFillElementsMax})`);
  const flat = new Array<Value>(total).fill(v);
  return sizes.length === 1 ? flat : nestArray(flat, sizes);
}
const fillType = (ts: SqlType[]): SqlType => {
  const t = ts[0] ?? T.unknown;
  if (t.kind === 'unknown') throw new PgError(SqlState.DatatypeMismatch, 'could not determine polymorphic type because input has type unknown');
  return arrayOf(t);
};
def(
  'array_fill',
  { args: [ANY, arrayOf(T.int4)], result: fillType, nullable: true, fn: ([v, d]) => arrayFill(v, d, undefined), typed: () => ([v, d]) => arrayFill(v, d, undefined) },
  { args: [ANY, arrayOf(T.int4), arrayOf(T.int4)], result: fillType, nullable: true, fn: ([v, d, l]) => arrayFill(v, d, l), typed: () => ([v, d, l]) => arrayFill(v, d, l) },
);

/** width_bucket(operand, thresholds): how many thresholds (sorted ascending) are ≤ operand. */
function widthBucketArray(x: Value, th: Value[], t: SqlType): number {
  if (isMultiDim(th)) throw new PgError(SqlState.ArraySubscriptError, 'thresholds must be one-dimensional array');
  if (th.some((e) => e === null)) throw new PgError(SqlState.NullValueNotAllowed, 'thresholds array must not contain NULLs');
  let left = 0;
  let right = th.length;
  while (left < right) {
    const mid = (left + right) >> 1;
    if (compareValues(x, th[mid] as Value, t) < 0) right = mid;
    else left = mid + 1;
  }
  return left;
}
def('width_bucket', {
  args: [ANY, ANY],
  result: T.int4,
  fn: ([x, a]) => widthBucketArray(x, a as Value[], T.text),
  typed: (ts) => {
    const at = compatibleArrayType(ts, 1, [0], 'width_bucket');
    const et = at.elem as SqlType;
    return ([x, a], ctx) => widthBucketArray(as(x, ts[0] as SqlType, et, ctx), as(a, ts[1] as SqlType, at, ctx) as Value[], et);
  },
});
