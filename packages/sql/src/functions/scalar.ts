/**
 * Built-in scalar functions and operators. Each overload states its argument types (arguments
 * are implicitly cast to them by the binder) and its result type.
 */
import { arrayDims, flattenArray, formatArrayDims, require1D } from '../types/array_md.js';
import { inetArithmetic, inetContains, inetFunctions } from '../types/inet.js';
import { makeTimeTz } from '../types/timetz.js';
import { createHash, randomUUID } from 'node:crypto';
import { PgError, SqlState } from '@strata/common';
import { Decimal } from '../types/numeric.js';
import {
  addIntervalToTimestamp,
  addIntervals,
  civilFromDays,
  checkDate,
  daysFromCivil,
  isInfiniteDateTime,
  localParts,
  daysInMonth,
  negateInterval,
  usPerDay,
  usPerHour,
  usPerMin,
  usPerSec,
  zoneOffsetSeconds,
  offsetForLocal,
  zoneArgOffsetAt,
  zoneArgOffsetForLocal,
  zoneArgZone,
  parseInterval,
  timestamptzFromEpochSeconds,
} from '../types/datetime.js';
import type { Interval } from '../types/datetime.js';
import { T, arrayOf, checkInt8, checkIntRange, commonType, compareValues, formatJsonb, formatType, formatValue, isInteger, isNumeric, numericRankOf } from '../types/types.js';
import type { JsonValue, SqlType, Value } from '../types/types.js';
import type { ExecCtx } from '../exec/context.js';
import { regexTest, regexpCount, regexpInstr, regexpLike, regexpMatch, regexpReplace, regexpSplit, regexpSubstr, substringRegex, substringSimilar } from '../regex/functions.js';

import { ANY, def } from './registry.js';
export { functionNames, lookupFunction } from './registry.js';
export type { Args, Fn, Overload } from './registry.js';
import type { Args } from './registry.js';
import { floatPower, glibcCbrt } from './math.js';
import { numberFromChar, numberToChar } from './to_char_number.js';
import { castValue } from '../types/cast.js';
import { formatJsonbPretty, jsonTextElement } from '../types/json.js';
import { jsonbConcat, jsonbContains } from '../types/jsonb_ops.js';
import { intervalDiv, intervalMul } from '../types/interval_math.js';
import './json_build.js';
import './binary_strings.js';
import './justify.js';
import './backend_signals.js';
import './large_object_functions.js';
import './make_datetime.js';
import './array_functions.js';
import { resolveJsonOp } from './json_functions.js';
import { extractField } from './extract.js';
import { toCharDateTime } from './to_char_datetime.js';
export { quoteIdent } from './format.js';
import { numericPower } from '../types/numeric_math.js';

const str = (v: Value) => v as string;

// ---- arithmetic ----------------------------------------------------------------------------

export function intOverflow(t: SqlType): PgError {
  return new PgError(SqlState.NumericValueOutOfRange, `${t.kind === 'int2' ? 'smallint' : t.kind === 'int4' ? 'integer' : 'bigint'} out of range`);
}

function divZero(): PgError {
  return new PgError(SqlState.DivisionByZero, 'division by zero');
}

/** + - * / % on JS numbers; integer division truncates toward zero. */
function numberArith(op: string, x: number, y: number, integer: boolean): number {
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      if (y === 0) throw divZero();
      return integer ? Math.trunc(x / y) : x / y;
    case '%':
      if (y === 0) throw divZero();
      return x % y;
    default:
      throw new PgError(SqlState.UndefinedFunction, `operator does not exist: ${op}`);
  }
}

/** Arithmetic on two values of the same numeric type. */
export function arith(op: string, a: Value, b: Value, t: SqlType): Value {
  switch (t.kind) {
    case 'int2':
    case 'int4': {
      const r = numberArith(op, a as number, b as number, true);
      try {
        return checkIntRange(r, t);
      } catch {
        throw intOverflow(t);
      }
    }
    case 'int8': {
      const x = a as bigint;
      const y = b as bigint;
      switch (op) {
        case '+':
          return checkInt8(x + y);
        case '-':
          return checkInt8(x - y);
        case '*':
          return checkInt8(x * y);
        case '/':
          if (y === 0n) throw divZero();
          return checkInt8(x / y);
        case '%':
          if (y === 0n) throw divZero();
          return x % y;
      }
      break;
    }
    case 'numeric': {
      const x = a as Decimal;
      const y = b as Decimal;
      switch (op) {
        case '+':
          return x.add(y);
        case '-':
          return x.sub(y);
        case '*':
          return x.mulStored(y);
        case '/':
          return x.div(y);
        case '%':
          return x.mod(y);
      }
      break;
    }
    case 'float4':
    case 'float8': {
      const x = a as number;
      const y = b as number;
      if (op === '%') throw new PgError(SqlState.UndefinedFunction, 'operator does not exist: double precision % double precision');
      const r0 = numberArith(op, x, y, false);
      const r = t.kind === 'float4' ? Math.fround(r0) : r0;
      // float.c: an infinite result from finite inputs overflows; a zero product or quotient of nonzero inputs underflows.
      if (!Number.isFinite(r) && Number.isFinite(x) && Number.isFinite(y)) throw new PgError(SqlState.NumericValueOutOfRange, 'value out of range: overflow');
      if (r === 0 && (op === '*' ? x !== 0 && y !== 0 : op === '/' ? x !== 0 && Number.isFinite(y) : false)) throw new PgError(SqlState.NumericValueOutOfRange, 'value out of range: underflow');
      return r;
    }
  }
  throw new PgError(SqlState.UndefinedFunction, `operator does not exist: ${formatType(t)} ${op} ${formatType(t)}`);
}

/** The result type of arithmetic between two numeric types (PostgreSQL's operator resolution). */
export function arithType(a: SqlType, b: SqlType): SqlType {
  const ra = numericRankOf(a);
  const rb = numericRankOf(b);
  const t = ra >= rb ? a : b;
  if (t.kind === 'int2' && (a.kind !== 'int2' || b.kind !== 'int2')) return T.int4;
  return { kind: t.kind, typmod: -1 };
}

export interface BinaryOpResolution {
  left: SqlType;
  right: SqlType;
  result: SqlType;
  fn: (a: Value, b: Value, ctx: ExecCtx) => Value;
}

const intervalT = T.interval;

/** Resolves non-comparison binary operators by operand types. Returns null if none fits. */
export function resolveBinaryOp(op: string, l: SqlType, r: SqlType): BinaryOpResolution | null {
  const lk = l.kind === 'unknown' ? (r.kind === 'unknown' ? T.text : r) : l;
  const rk = r.kind === 'unknown' ? lk : r;
  // json/jsonb #> #>> - #- ?| ?& (functions/json_functions.ts)
  const jsonOp = resolveJsonOp(op, l, r);
  if (jsonOp) return jsonOp;
  // inet ± integer, inet − inet, inet & | inet (types/inet.ts)
  const isNet = (t: SqlType) => t.kind === 'inet' || t.kind === 'cidr';
  if (isNet(lk) && (op === '+' || op === '-') && isInteger(rk)) return { left: T.inet, right: T.int8, result: T.inet, fn: (a, b) => inetArithmetic.plus(a as string, op === '+' ? (b as bigint) : -(b as bigint), false) };
  if (op === '+' && isInteger(lk) && isNet(rk)) return { left: T.int8, right: T.inet, result: T.inet, fn: (a, b) => inetArithmetic.plus(b as string, a as bigint, false) };
  if (op === '-' && isNet(lk) && isNet(rk)) return { left: T.inet, right: T.inet, result: T.int8, fn: (a, b) => inetArithmetic.minus(a as string, b as string) };
  if ((op === '&' || op === '|') && isNet(lk) && isNet(rk)) return { left: T.inet, right: T.inet, result: T.inet, fn: (a, b) => inetArithmetic.bitwise(op, a as string, b as string) };
  // numeric arithmetic
  if (['+', '-', '*', '/', '%'].includes(op) && isNumeric(lk) && isNumeric(rk)) {
    const t = arithType(lk, rk);
    // PostgreSQL has no float % operator, and float4 with an integer or numeric is float8
    // arithmetic (its operator resolution prefers float8, the category's preferred type).
    if (op === '%' && (t.kind === 'float4' || t.kind === 'float8')) return null;
    if (t.kind === 'float4' && (lk.kind !== 'float4' || rk.kind !== 'float4')) {
      return { left: T.float8, right: T.float8, result: T.float8, fn: (a, b) => arith(op, a, b, T.float8) };
    }
    return { left: t, right: t, result: t, fn: (a, b) => arith(op, a, b, t) };
  }
  if (op === '^' && isNumeric(lk) && isNumeric(rk)) {
    if (lk.kind === 'numeric' || rk.kind === 'numeric') {
      return { left: T.numeric, right: T.numeric, result: T.numeric, fn: (a, b) => numericPower(a as Decimal, b as Decimal) };
    }
    return { left: T.float8, right: T.float8, result: T.float8, fn: (a, b) => floatPower(a as number, b as number) };
  }
  // string concatenation: anything || text
  if (op === '||') {
    if (l.kind === 'array' || r.kind === 'array') {
      const at = l.kind === 'array' ? l : r;
      return { left: l.kind === 'array' ? l : (at.elem as SqlType), right: r.kind === 'array' ? r : (at.elem as SqlType), result: at, fn: (a, b) => concatArrays(a, b, l.kind === 'array', r.kind === 'array') };
    }
    if ((l.kind === 'jsonb' && (r.kind === 'jsonb' || r.kind === 'unknown')) || (r.kind === 'jsonb' && l.kind === 'unknown')) {
      return { left: T.jsonb, right: T.jsonb, result: T.jsonb, fn: (a, b) => jsonConcat(a as JsonValue, b as JsonValue) };
    }
    if (l.kind === 'bytea' && r.kind === 'bytea') return { left: T.bytea, right: T.bytea, result: T.bytea, fn: (a, b) => Buffer.concat([a as Buffer, b as Buffer]) };
    // text || text, anynonarray || text, text || anynonarray: one side must be a string (an
    // untyped literal is one); `3 || 4.0` is 42883 as in PostgreSQL.
    const stringy = (t: SqlType) => t.kind === 'unknown' || t.kind === 'text' || t.kind === 'varchar' || t.kind === 'bpchar' || t.kind === 'name' || t.kind === 'char';
    if (!stringy(l) && !stringy(r)) return null;
    return { left: T.text, right: T.text, result: T.text, fn: (a, b) => (a as string) + (b as string) };
  }
  // date/time arithmetic
  const tsLike = (t: SqlType) => t.kind === 'timestamp' || t.kind === 'timestamptz';
  if (op === '+' || op === '-') {
    if (lk.kind === 'date' && (rk.kind === 'int4' || rk.kind === 'int2' || rk.kind === 'int8')) {
      return { left: T.date, right: T.int4, result: T.date, fn: (a, b) => (isInfiniteDateTime(a) ? a : checkDate((a as number) + (op === '+' ? 1 : -1) * Number(b))) };
    }
    if (op === '+' && (lk.kind === 'int4' || lk.kind === 'int2') && rk.kind === 'date') return { left: T.int4, right: T.date, result: T.date, fn: (a, b) => (isInfiniteDateTime(b) ? b : checkDate((a as number) + (b as number))) };
    if (op === '-' && lk.kind === 'date' && rk.kind === 'date') {
      return {
        left: T.date,
        right: T.date,
        result: T.int4,
        fn: (a, b) => {
          if (isInfiniteDateTime(a) || isInfiniteDateTime(b)) throw new PgError(SqlState.DatetimeFieldOverflow, 'cannot subtract infinite dates');
          return (a as number) - (b as number);
        },
      };
    }
    if ((tsLike(lk) || lk.kind === 'date') && rk.kind === 'interval') {
      const res = lk.kind === 'date' ? T.timestamp : lk;
      return {
        left: lk.kind === 'date' ? T.timestamp : lk,
        right: intervalT,
        result: res,
        fn: (a, b, ctx) => addIntervalToTimestamp(a as number, op === '+' ? (b as Interval) : negateInterval(b as Interval), res.kind === 'timestamptz' ? ctx.vctx.timeZone : null),
      };
    }
    if (op === '+' && lk.kind === 'interval' && (tsLike(rk) || rk.kind === 'date')) {
      const res = rk.kind === 'date' ? T.timestamp : rk;
      return { left: intervalT, right: res, result: res, fn: (a, b, ctx) => addIntervalToTimestamp(b as number, a as Interval, res.kind === 'timestamptz' ? ctx.vctx.timeZone : null) };
    }
    if (op === '-' && tsLike(lk) && (tsLike(rk) || rk.kind === 'date')) {
      const t = lk.kind === 'timestamptz' || rk.kind === 'timestamptz' ? T.timestamptz : T.timestamp;
      return {
        left: t,
        right: t,
        result: intervalT,
        fn: (a, b) => {
          if (isInfiniteDateTime(a) || isInfiniteDateTime(b)) throw new PgError(SqlState.DatetimeFieldOverflow, 'cannot subtract infinite timestamps');
          return microsToInterval((a as number) - (b as number));
        },
      };
    }
    if (lk.kind === 'interval' && rk.kind === 'interval') {
      return { left: intervalT, right: intervalT, result: intervalT, fn: (a, b) => addIntervals(a as Interval, op === '+' ? (b as Interval) : negateInterval(b as Interval)) };
    }
    if (lk.kind === 'date' && rk.kind === 'time' && op === '+') return { left: T.date, right: T.time, result: T.timestamp, fn: (a, b) => (isInfiniteDateTime(a) ? a : (a as number) * usPerDay + (b as number)) };
  }
  if ((op === '*' || op === '/') && lk.kind === 'interval' && isNumeric(rk)) {
    return { left: intervalT, right: T.float8, result: intervalT, fn: (a, b) => (op === '*' ? intervalMul(a as Interval, b as number) : intervalDiv(a as Interval, b as number)) };
  }
  if (op === '*' && isNumeric(lk) && rk.kind === 'interval') return { left: T.float8, right: intervalT, result: intervalT, fn: (a, b) => intervalMul(b as Interval, a as number) };
  // bitwise
  if (['&', '|', '#', '<<', '>>'].includes(op) && (lk.kind === 'int2' || lk.kind === 'int4' || lk.kind === 'int8') && (rk.kind === 'int2' || rk.kind === 'int4' || rk.kind === 'int8')) {
    const t = op === '<<' || op === '>>' ? lk : arithType(lk, rk);
    const rt = op === '<<' || op === '>>' ? T.int4 : t;
    return {
      left: t,
      right: rt,
      result: t,
      fn: (a, b) => {
        if (t.kind === 'int8') {
          const x = a as bigint;
          const y = BigInt(b as bigint | number);
          const r = op === '&' ? x & y : op === '|' ? x | y : op === '#' ? x ^ y : op === '<<' ? BigInt.asIntN(64, x << y) : x >> y;
          return r;
        }
        const x = a as number;
        const y = b as number;
        return op === '&' ? x & y : op === '|' ? x | y : op === '#' ? x ^ y : op === '<<' ? x << y : x >> y;
      },
    };
  }
  // regular expressions
  if (['~', '~*', '!~', '!~*'].includes(op)) {
    const ci = op.includes('*');
    const neg = op.startsWith('!');
    return { left: T.text, right: T.text, result: T.bool, fn: (a, b, ctx) => regexTest(a as string, b as string, ci, ctx as ExecCtx | undefined) !== neg };
  }
  // json
  if ((l.kind === 'jsonb' || l.kind === 'json') && (op === '->' || op === '->>')) {
    const textOut = op === '->>';
    const byIndex = rk.kind === 'int4' || rk.kind === 'int2' || rk.kind === 'int8';
    return {
      left: l,
      right: byIndex ? T.int4 : T.text,
      result: textOut ? T.text : l,
      fn: (a, b) => {
        if (l.kind === 'json') {
          // json keeps its text: the element as written (strings unescaped for ->>).
          const raw = jsonTextElement((a as { json: string }).json, b as string | number);
          if (raw === undefined) return null;
          if (!textOut) return { json: raw };
          if (raw === 'null') return null;
          return raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
        }
        const j = (a as JsonValue).jsonb;
        let v: unknown;
        if (Array.isArray(j) && typeof b === 'number') v = j[b < 0 ? j.length + b : b];
        else if (j !== null && typeof j === 'object' && !Array.isArray(j) && typeof b === 'string') v = (j as Record<string, unknown>)[b];
        if (v === undefined) return null;
        if (textOut) return v === null ? null : typeof v === 'string' ? v : formatJsonb(v);
        return { jsonb: v };
      },
    };
  }
  if (l.kind === 'jsonb' && (op === '@>' || op === '<@')) {
    return { left: T.jsonb, right: T.jsonb, result: T.bool, fn: (a, b) => (op === '@>' ? jsonContains((a as JsonValue).jsonb, (b as JsonValue).jsonb) : jsonContains((b as JsonValue).jsonb, (a as JsonValue).jsonb)) };
  }
  if (l.kind === 'jsonb' && op === '?') {
    return { left: T.jsonb, right: T.text, result: T.bool, fn: (a, b) => { const j = (a as JsonValue).jsonb; return Array.isArray(j) ? j.includes(b) : j !== null && typeof j === 'object' ? Object.prototype.hasOwnProperty.call(j, b as string) : false; } };
  }
  if ((l.kind === 'inet' || l.kind === 'cidr' || r.kind === 'inet' || r.kind === 'cidr') && (op === '<<' || op === '<<=' || op === '>>' || op === '>>=' || op === '&&')) {
    return { left: T.inet, right: T.inet, result: T.bool, fn: (a, b) => inetContains(op, a as string, b as string) };
  }
  if (l.kind === 'array' && (op === '@>' || op === '<@' || op === '&&')) {
    return {
      left: l,
      right: l,
      result: T.bool,
      fn: (a, b) => {
        // Containment and overlap look at the elements whatever the dimensions, as PostgreSQL's.
        const x = flattenArray(a as Value[]);
        const y = flattenArray(b as Value[]);
        const has = (arr: Value[], v: Value) => arr.some((e) => e !== null && String(e) === String(v));
        if (op === '@>') return y.every((v) => has(x, v));
        if (op === '<@') return x.every((v) => has(y, v));
        return x.some((v) => has(y, v));
      },
    };
  }
  return null;
}


export function microsToInterval(us: number): Interval {
  const days = Math.trunc(us / usPerDay);
  return { months: 0, days, micros: us - days * usPerDay };
}


function jsonContains(a: unknown, b: unknown): boolean {
  return jsonbContains(a, b);
}

function jsonConcat(a: JsonValue, b: JsonValue): JsonValue {
  return { jsonb: jsonbConcat(a.jsonb, b.jsonb) };
}

// ---- date/time helpers -----------------------------------------------------------------------

function fromLocal(y: number, m: number, d: number, tod: number, tz: string | null): number {
  const local = daysFromCivil(y, m, d) * usPerDay + tod;
  if (!tz) return local;
  return local - offsetForLocal(tz, local) * usPerSec;
}

export function dateTrunc(field: string, us: number, tz: string | null): number {
  // timestamp_trunc returns an infinite timestamp unchanged, before looking at the unit.
  if (isInfiniteDateTime(us)) return us;
  const p = localParts(us, tz);
  const f = field.toLowerCase();
  switch (f) {
    case 'microseconds':
      return us;
    case 'milliseconds':
      return fromLocal(p.y, p.m, p.d, Math.floor(p.tod / 1000) * 1000, tz);
    case 'second':
      return fromLocal(p.y, p.m, p.d, Math.floor(p.tod / usPerSec) * usPerSec, tz);
    case 'minute':
      return fromLocal(p.y, p.m, p.d, Math.floor(p.tod / usPerMin) * usPerMin, tz);
    case 'hour':
      return fromLocal(p.y, p.m, p.d, Math.floor(p.tod / usPerHour) * usPerHour, tz);
    case 'day':
      return fromLocal(p.y, p.m, p.d, 0, tz);
    case 'week': {
      const days = daysFromCivil(p.y, p.m, p.d);
      const dow = (((days + 3) % 7) + 7) % 7; // 0 = Monday
      const [y, m, d] = civilFromDays(days - dow);
      return fromLocal(y, m, d, 0, tz);
    }
    case 'month':
      return fromLocal(p.y, p.m, 1, 0, tz);
    case 'quarter':
      return fromLocal(p.y, Math.floor((p.m - 1) / 3) * 3 + 1, 1, 0, tz);
    case 'year':
      return fromLocal(p.y, 1, 1, 0, tz);
    case 'decade':
      return fromLocal(Math.floor(p.y / 10) * 10, 1, 1, 0, tz);
    case 'century':
      return fromLocal(Math.floor((p.y - 1) / 100) * 100 + 1, 1, 1, 0, tz);
    case 'millennium':
      return fromLocal(Math.floor((p.y - 1) / 1000) * 1000 + 1, 1, 1, 0, tz);
    default:
      throw new PgError(SqlState.InvalidParameterValue, `unit "${field}" not recognized for type timestamp`);
  }
}


/** to_char for timestamps (the common patterns) and numbers (digits only). */
export function toChar(v: Value, t: SqlType, fmt: string, tz: string): string | null {
  if (t.kind === 'timestamp' || t.kind === 'timestamptz' || t.kind === 'date') {
    // timestamp_to_char: an infinite timestamp has no fields to print (NULL).
    if (isInfiniteDateTime(v)) return null;
    const us = t.kind === 'date' ? (v as number) * usPerDay : (v as number);
    const zone = t.kind === 'timestamptz' ? tz : null;
    const p = localParts(us, zone);
    return toCharDateTime({ ...p, zone, utc: us }, fmt);
  }
  if (t.kind === 'interval') throw new PgError(SqlState.FeatureNotSupported, 'to_char(interval, text) is not supported yet');
  // numbers: formatting.c's number patterns (to_char_number.ts)
  if (t.kind === 'float4' || t.kind === 'float8') return numberToChar({ kind: 'float', v: v as number, float4: t.kind === 'float4' }, fmt);
  if (t.kind === 'numeric') return numberToChar({ kind: 'decimal', v: v as Decimal }, fmt);
  if (t.kind === 'int2' || t.kind === 'int4' || t.kind === 'int8') return numberToChar({ kind: 'decimal', v: Decimal.fromInt(v as number | bigint) }, fmt);
  throw new PgError(SqlState.UndefinedFunction, `function to_char(${formatType(t)}, text) does not exist`);
}

// ---- registrations ---------------------------------------------------------------------------

const txt = T.text;
const i4 = T.int4;
const i8 = T.int8;
const f8 = T.float8;
const numT = T.numeric;
const b = T.bool;
const anyT = ANY;
export { ANY };

function first(ts: SqlType[]): SqlType {
  return ts[0] ?? T.text;
}

// strings
def(['length', 'char_length', 'character_length'], { args: [txt], result: i4, fn: ([s]) => [...str(s)].length }, { args: [T.bytea], result: i4, fn: ([s]) => (s as Buffer).length });
def('octet_length', { args: [txt], result: i4, fn: ([s]) => Buffer.byteLength(str(s)) });
def('bit_length', { args: [txt], result: i4, fn: ([s]) => Buffer.byteLength(str(s)) * 8 });
def('lower', { args: [txt], result: txt, fn: ([s]) => str(s).toLowerCase() });
def('upper', { args: [txt], result: txt, fn: ([s]) => str(s).toUpperCase() });
def('initcap', { args: [txt], result: txt, fn: ([s]) => str(s).toLowerCase().replace(/(^|[^a-z0-9])([a-z])/g, (_m, a: string, c: string) => a + c.toUpperCase()) });
def(['substr', 'substring'],
  { args: [txt, i4], result: txt, fn: ([s, f]) => substring(str(s), f as number, null) },
  { args: [txt, i4, i4], result: txt, fn: ([s, f, n]) => substring(str(s), f as number, n as number) },
);
function substring(s: string, from: number, count: number | null): string {
  const chars = [...s];
  let start = from - 1;
  let end = count === null ? chars.length : start + count;
  if (count !== null && count < 0) throw new PgError(SqlState.InvalidParameterValue, 'negative substring length not allowed');
  if (start < 0) start = 0;
  if (end < start) end = start;
  return chars.slice(start, end).join('');
}
def('strpos', { args: [txt, txt], result: i4, fn: ([s, sub]) => { const i = str(s).indexOf(str(sub)); return i < 0 ? 0 : [...str(s).slice(0, i)].length + 1; } });
def('position', { args: [txt, txt], result: i4, fn: ([s, sub]) => { const i = str(s).indexOf(str(sub)); return i < 0 ? 0 : [...str(s).slice(0, i)].length + 1; } });
def('replace', { args: [txt, txt, txt], result: txt, fn: ([s, a, r]) => (str(a) === '' ? str(s) : str(s).split(str(a)).join(str(r))) });
def('left', { args: [txt, i4], result: txt, fn: ([s, n]) => { const c = [...str(s)]; const k = n as number; return (k >= 0 ? c.slice(0, k) : c.slice(0, Math.max(0, c.length + k))).join(''); } });
def('right', { args: [txt, i4], result: txt, fn: ([s, n]) => { const c = [...str(s)]; const k = n as number; return (k >= 0 ? c.slice(Math.max(0, c.length - k)) : c.slice(-k)).join(''); } });
def('lpad', { args: [txt, i4], result: txt, fn: ([s, n]) => pad(str(s), n as number, ' ', true) }, { args: [txt, i4, txt], result: txt, fn: ([s, n, f]) => pad(str(s), n as number, str(f), true) });
def('rpad', { args: [txt, i4], result: txt, fn: ([s, n]) => pad(str(s), n as number, ' ', false) }, { args: [txt, i4, txt], result: txt, fn: ([s, n, f]) => pad(str(s), n as number, str(f), false) });
function pad(s: string, n: number, fill: string, left: boolean): string {
  const c = [...s];
  if (c.length >= n) return c.slice(0, Math.max(0, n)).join('');
  if (fill === '') return s;
  let p = '';
  while ([...p].length < n - c.length) p += fill;
  p = [...p].slice(0, n - c.length).join('');
  return left ? p + s : s + p;
}
function trimChars(s: string, chars: string, left: boolean, right: boolean): string {
  const set = new Set([...chars]);
  const c = [...s];
  let i = 0;
  let j = c.length;
  if (left) while (i < j && set.has(c[i] as string)) i++;
  if (right) while (j > i && set.has(c[j - 1] as string)) j--;
  return c.slice(i, j).join('');
}
def('btrim', { args: [txt], result: txt, fn: ([s]) => trimChars(str(s), ' ', true, true) }, { args: [txt, txt], result: txt, fn: ([s, c]) => trimChars(str(s), str(c), true, true) });
def('ltrim', { args: [txt], result: txt, fn: ([s]) => trimChars(str(s), ' ', true, false) }, { args: [txt, txt], result: txt, fn: ([s, c]) => trimChars(str(s), str(c), true, false) });
def('rtrim', { args: [txt], result: txt, fn: ([s]) => trimChars(str(s), ' ', false, true) }, { args: [txt, txt], result: txt, fn: ([s, c]) => trimChars(str(s), str(c), false, true) });
def('repeat', { args: [txt, i4], result: txt, fn: ([s, n]) => { if ((n as number) * str(s).length > 64 * 1024 * 1024) throw new PgError(SqlState.ProgramLimitExceeded, 'requested length too large'); return str(s).repeat(Math.max(0, n as number)); } });
def('reverse', { args: [txt], result: txt, fn: ([s]) => [...str(s)].reverse().join('') });
def('split_part', { args: [txt, txt, i4], result: txt, fn: ([s, d, n]) => { const parts = str(d) === '' ? [str(s)] : str(s).split(str(d)); const k = n as number; if (k === 0) throw new PgError(SqlState.InvalidParameterValue, 'field position must not be zero'); const p = k > 0 ? parts[k - 1] : parts[parts.length + k]; return p ?? ''; } });
def('md5', { args: [txt], result: txt, fn: ([s]) => createHash('md5').update(str(s)).digest('hex') });
def('sha256', { args: [T.bytea], result: T.bytea, fn: ([s]) => createHash('sha256').update(s as Buffer).digest() });
def('to_hex', { args: [i8], result: txt, fn: ([n]) => BigInt.asUintN(64, n as bigint).toString(16) });
def('chr', {
  args: [i4],
  result: txt,
  fn: ([n]) => {
    const c = n as number;
    if (c === 0) throw new PgError(SqlState.ProgramLimitExceeded, 'null character not permitted');
    if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) throw new PgError(SqlState.ProgramLimitExceeded, `requested character too large for encoding: ${c}`);
    return String.fromCodePoint(c);
  },
});
def('ascii', { args: [txt], result: i4, fn: ([s]) => str(s).codePointAt(0) ?? 0 });
def('starts_with', { args: [txt, txt], result: b, fn: ([s, p]) => str(s).startsWith(str(p)) });
// Regular expressions (regex/functions.ts): on the linear-time engine, compiled once per statement.
const rctx = (ctx: ExecCtx) => ctx as ExecCtx | undefined;
def('regexp_replace',
  { args: [txt, txt, txt], result: txt, fn: ([s, p, r], ctx) => regexpReplace(str(s), str(p), str(r), 1, null, null, rctx(ctx)) },
  { args: [txt, txt, txt, txt], result: txt, fn: ([s, p, r, f], ctx) => regexpReplace(str(s), str(p), str(r), 1, null, str(f), rctx(ctx)) },
  { args: [txt, txt, txt, i4], result: txt, fn: ([s, p, r, st], ctx) => regexpReplace(str(s), str(p), str(r), st as number, 1, null, rctx(ctx)) },
  { args: [txt, txt, txt, i4, i4], result: txt, fn: ([s, p, r, st, n], ctx) => regexpReplace(str(s), str(p), str(r), st as number, n as number, null, rctx(ctx)) },
  { args: [txt, txt, txt, i4, i4, txt], result: txt, fn: ([s, p, r, st, n, f], ctx) => regexpReplace(str(s), str(p), str(r), st as number, n as number, str(f), rctx(ctx)) },
);
def('regexp_match',
  { args: [txt, txt], result: arrayOf(txt), fn: ([s, p], ctx) => regexpMatch(str(s), str(p), null, rctx(ctx)) },
  { args: [txt, txt, txt], result: arrayOf(txt), fn: ([s, p, f], ctx) => regexpMatch(str(s), str(p), str(f), rctx(ctx)) },
);
def('regexp_split_to_array',
  { args: [txt, txt], result: arrayOf(txt), fn: ([s, p], ctx) => regexpSplit(str(s), str(p), null, rctx(ctx)) },
  { args: [txt, txt, txt], result: arrayOf(txt), fn: ([s, p, f], ctx) => regexpSplit(str(s), str(p), str(f), rctx(ctx)) },
);
def('regexp_like',
  { args: [txt, txt], result: b, fn: ([s, p], ctx) => regexpLike(str(s), str(p), null, rctx(ctx)) },
  { args: [txt, txt, txt], result: b, fn: ([s, p, f], ctx) => regexpLike(str(s), str(p), str(f), rctx(ctx)) },
);
def('regexp_count',
  { args: [txt, txt], result: i4, fn: ([s, p], ctx) => regexpCount(str(s), str(p), 1, null, rctx(ctx)) },
  { args: [txt, txt, i4], result: i4, fn: ([s, p, st], ctx) => regexpCount(str(s), str(p), st as number, null, rctx(ctx)) },
  { args: [txt, txt, i4, txt], result: i4, fn: ([s, p, st, f], ctx) => regexpCount(str(s), str(p), st as number, str(f), rctx(ctx)) },
);
def('regexp_instr',
  { args: [txt, txt], result: i4, fn: ([s, p], ctx) => regexpInstr(str(s), str(p), 1, 1, 0, null, 0, rctx(ctx)) },
  { args: [txt, txt, i4], result: i4, fn: ([s, p, st], ctx) => regexpInstr(str(s), str(p), st as number, 1, 0, null, 0, rctx(ctx)) },
  { args: [txt, txt, i4, i4], result: i4, fn: ([s, p, st, n], ctx) => regexpInstr(str(s), str(p), st as number, n as number, 0, null, 0, rctx(ctx)) },
  { args: [txt, txt, i4, i4, i4], result: i4, fn: ([s, p, st, n, e], ctx) => regexpInstr(str(s), str(p), st as number, n as number, e as number, null, 0, rctx(ctx)) },
  { args: [txt, txt, i4, i4, i4, txt], result: i4, fn: ([s, p, st, n, e, f], ctx) => regexpInstr(str(s), str(p), st as number, n as number, e as number, str(f), 0, rctx(ctx)) },
  { args: [txt, txt, i4, i4, i4, txt, i4], result: i4, fn: ([s, p, st, n, e, f, g], ctx) => regexpInstr(str(s), str(p), st as number, n as number, e as number, str(f), g as number, rctx(ctx)) },
);
def('regexp_substr',
  { args: [txt, txt], result: txt, fn: ([s, p], ctx) => regexpSubstr(str(s), str(p), 1, 1, null, 0, rctx(ctx)) },
  { args: [txt, txt, i4], result: txt, fn: ([s, p, st], ctx) => regexpSubstr(str(s), str(p), st as number, 1, null, 0, rctx(ctx)) },
  { args: [txt, txt, i4, i4], result: txt, fn: ([s, p, st, n], ctx) => regexpSubstr(str(s), str(p), st as number, n as number, null, 0, rctx(ctx)) },
  { args: [txt, txt, i4, i4, txt], result: txt, fn: ([s, p, st, n, f], ctx) => regexpSubstr(str(s), str(p), st as number, n as number, str(f), 0, rctx(ctx)) },
  { args: [txt, txt, i4, i4, txt, i4], result: txt, fn: ([s, p, st, n, f, g], ctx) => regexpSubstr(str(s), str(p), st as number, n as number, str(f), g as number, rctx(ctx)) },
);
// substring(s from pattern) (a POSIX regular expression), and substring(s similar pattern escape e)
// or substring(s from pattern for e) (a SQL regular expression), as overloads of substring.
def('substring',
  { args: [txt, txt], result: txt, fn: ([s, p], ctx) => substringRegex(str(s), str(p), rctx(ctx)) },
  { args: [txt, txt, txt], result: txt, fn: ([s, p, e], ctx) => substringSimilar(str(s), str(p), str(e), rctx(ctx)) },
);
function stringify(v: Value, ctx: ExecCtx, _i: number): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Decimal) return v.toString();
  if (Buffer.isBuffer(v)) return '\\x' + v.toString('hex');
  if (typeof v === 'object' && v !== null && 'jsonb' in v) return formatJsonb((v as JsonValue).jsonb);
  return String(formatValue(v, T.text, ctx.vctx));
}

// math
def('abs',
  { args: [T.int4], result: T.int4, fn: ([x]) => { const r = Math.abs(x as number); if (r > 2147483647) throw intOverflow(T.int4); return r; } },
  { args: [i8], result: i8, fn: ([x]) => checkInt8((x as bigint) < 0n ? -(x as bigint) : (x as bigint)) },
  { args: [numT], result: numT, fn: ([x]) => (x as Decimal).abs() },
  { args: [f8], result: f8, fn: ([x]) => Math.abs(x as number) },
);
def(['ceil', 'ceiling'], { args: [numT], result: numT, fn: ([x]) => (x as Decimal).ceil() }, { args: [f8], result: f8, fn: ([x]) => Math.ceil(x as number) });
def('floor', { args: [numT], result: numT, fn: ([x]) => (x as Decimal).floor() }, { args: [f8], result: f8, fn: ([x]) => Math.floor(x as number) });
def('cbrt', { args: [f8], result: f8, fn: ([x]) => glibcCbrt(x as number) });
def('mod', { args: [i4, i4], result: i4, fn: ([x, y]) => arith('%', x, y, T.int4) }, { args: [i8, i8], result: i8, fn: ([x, y]) => arith('%', x, y, T.int8) }, { args: [numT, numT], result: numT, fn: ([x, y]) => (x as Decimal).mod(y as Decimal) });
def('sign', { args: [f8], result: f8, fn: ([x]) => Math.sign(x as number) }, { args: [numT], result: numT, fn: ([x]) => ((x as Decimal).isNaN() ? (x as Decimal) : Decimal.fromInt((x as Decimal).sign())) });
def('pi', { args: [], result: f8, fn: () => Math.PI });
def('random', { args: [], result: f8, volatile: true, fn: () => Math.random() });
for (const [n, f] of [['sin', Math.sin], ['cos', Math.cos], ['tan', Math.tan], ['asin', Math.asin], ['acos', Math.acos], ['atan', Math.atan]] as const) def(n, { args: [f8], result: f8, fn: ([x]) => f(x as number) });
def('atan2', { args: [f8, f8], result: f8, fn: ([y, x]) => Math.atan2(y as number, x as number) });
def('degrees', { args: [f8], result: f8, fn: ([x]) => ((x as number) * 180) / Math.PI });
def('radians', { args: [f8], result: f8, fn: ([x]) => ((x as number) * Math.PI) / 180 });

// conditional (NULL-aware; the binder handles coalesce/nullif/greatest/least specially)

// date/time
def(['now', 'current_timestamp', 'transaction_timestamp'], { args: [], result: T.timestamptz, fn: (_a, ctx) => ctx.txnTimestamp });
def('statement_timestamp', { args: [], result: T.timestamptz, fn: (_a, ctx) => ctx.stmtTimestamp });
def('clock_timestamp', { args: [], result: T.timestamptz, volatile: true, fn: () => Date.now() * 1000 });
def('timeofday', { args: [], result: txt, volatile: true, fn: () => new Date().toString() });
def('current_date', { args: [], result: T.date, fn: (_a, ctx) => Math.floor((ctx.txnTimestamp + zoneOffsetSeconds(ctx.vctx.timeZone, ctx.txnTimestamp) * usPerSec) / usPerDay) });
def('localtimestamp', { args: [], result: T.timestamp, fn: (_a, ctx) => ctx.txnTimestamp + zoneOffsetSeconds(ctx.vctx.timeZone, ctx.txnTimestamp) * usPerSec });
// current_time is time WITH time zone (the session zone's offset now), as PostgreSQL's.
def('current_time', { args: [], result: T.timetz, fn: (_a, ctx) => { const off = zoneOffsetSeconds(ctx.vctx.timeZone, ctx.txnTimestamp); const l = ctx.txnTimestamp + off * usPerSec; return makeTimeTz(((l % usPerDay) + usPerDay) % usPerDay, -off); } });
def('localtime', { args: [], result: T.time, fn: (_a, ctx) => { const l = ctx.txnTimestamp + zoneOffsetSeconds(ctx.vctx.timeZone, ctx.txnTimestamp) * usPerSec; return ((l % usPerDay) + usPerDay) % usPerDay; } });
def('date_trunc',
  { args: [txt, T.timestamptz], result: T.timestamptz, fn: ([f, ts], ctx) => dateTrunc(str(f), ts as number, ctx.vctx.timeZone) },
  { args: [txt, T.timestamp], result: T.timestamp, fn: ([f, ts]) => dateTrunc(str(f), ts as number, null) },
  { args: [txt, T.interval], result: T.interval, fn: ([f, iv]) => truncInterval(str(f), iv as Interval) },
  { args: [txt, T.timestamptz, txt], result: T.timestamptz, fn: ([f, ts, z]) => dateTrunc(str(f), ts as number, zoneArgZone(str(z))) },
);
// time_bucket: KWDB's (ts, '10m') and TimescaleDB's (interval '10 minutes', ts). Buckets are fixed
// widths aligned to the Unix epoch (KWDB) or to 2000-01-03 (TimescaleDB's origin, a Monday).
export const timescaleOriginUs = Date.UTC(2000, 0, 3) * 1000;
export function bucketWidthUs(iv: Interval): number {
  if (iv.months !== 0) throw new PgError(SqlState.FeatureNotSupported, 'time_bucket widths in months or years are not supported');
  const w = iv.days * usPerDay + iv.micros;
  if (!(w > 0)) throw new PgError(SqlState.InvalidParameterValue, 'time_bucket width must be greater than 0');
  return w;
}
const bucketWidths = new Map<string, number>(); // parsed widths; few distinct strings per workload
export function kwdbBucketWidth(s: string): number {
  const hit = bucketWidths.get(s);
  if (hit !== undefined) return hit;
  const w = parseBucketWidth(s);
  if (bucketWidths.size >= 256) bucketWidths.clear();
  bucketWidths.set(s, w);
  return w;
}
function parseBucketWidth(s: string): number {
  const m = /^\s*(\d+)\s*(us|ms|s|m|h|d|w)\s*$/i.exec(s);
  if (!m) return bucketWidthUs(parseInterval(s));
  const unit: Record<string, number> = { us: 1, ms: 1000, s: usPerSec, m: usPerMin, h: usPerHour, d: usPerDay, w: 7 * usPerDay };
  return bucketWidthUs({ months: 0, days: 0, micros: Number(m[1]) * (unit[(m[2] as string).toLowerCase()] as number) });
}
const bucket = (ts: number, width: number, origin: number) => (isInfiniteDateTime(ts) ? ts : origin + Math.floor((ts - origin) / width) * width);
/**
 * Calendar buckets (months and years): whole months counted from the origin's month (KWDB's
 * 1970-01), computed on the UTC calendar.
 */
function monthBucket(ts: number, months: number, originYear: number): number {
  if (!(months > 0)) throw new PgError(SqlState.InvalidParameterValue, 'time_bucket width must be greater than 0');
  if (isInfiniteDateTime(ts)) return ts;
  const [y, m] = civilFromDays(Math.floor(ts / usPerDay));
  const idx = (y - originYear) * 12 + (m - 1);
  const b = Math.floor(idx / months) * months;
  const by = originYear + Math.floor(b / 12);
  return daysFromCivil(by, b - Math.floor(b / 12) * 12 + 1, 1) * usPerDay;
}
/** KWDB widths in months ('1mon', '3month', '2y', '1yr', '1year'), or null. */
function kwdbMonths(s: string): number | null {
  const m = /^\s*(\d+)\s*(mon|mons|month|months|y|yr|yrs|year|years)\s*$/i.exec(s);
  if (!m) return null;
  return Number(m[1]) * (/^(mon)/i.test(m[2] as string) ? 1 : 12);
}
const kwdbBucket = (ts: number, w: string) => {
  const months = kwdbMonths(w);
  return months !== null ? monthBucket(ts, months, 1970) : bucket(ts, kwdbBucketWidth(w), 0);
};
// TimescaleDB's interval form keeps refusing months (0A000; dialect.test.ts holds that contract).
const timescaleBucket = (ts: number, iv: Interval) => bucket(ts, bucketWidthUs(iv), timescaleOriginUs);
def('time_bucket',
  { args: [T.timestamptz, txt], result: T.timestamptz, fn: ([ts, w]) => kwdbBucket(ts as number, str(w)) },
  { args: [T.timestamp, txt], result: T.timestamp, fn: ([ts, w]) => kwdbBucket(ts as number, str(w)) },
  { args: [T.interval, T.timestamptz], result: T.timestamptz, fn: ([w, ts]) => timescaleBucket(ts as number, w as Interval) },
  { args: [T.interval, T.timestamp], result: T.timestamp, fn: ([w, ts]) => timescaleBucket(ts as number, w as Interval) },
);
def('time_bucket_gapfill',
  { args: [T.timestamptz, txt], result: T.timestamptz, fn: ([ts, w]) => bucket(ts as number, kwdbBucketWidth(str(w)), 0) },
  { args: [T.timestamp, txt], result: T.timestamp, fn: ([ts, w]) => bucket(ts as number, kwdbBucketWidth(str(w)), 0) },
  { args: [T.interval, T.timestamptz], result: T.timestamptz, fn: ([w, ts]) => bucket(ts as number, bucketWidthUs(w as Interval), timescaleOriginUs) },
  { args: [T.interval, T.timestamp], result: T.timestamp, fn: ([w, ts]) => bucket(ts as number, bucketWidthUs(w as Interval), timescaleOriginUs) },
);
function truncInterval(f: string, iv: Interval): Interval {
  switch (f.toLowerCase()) {
    case 'year':
      return { months: Math.trunc(iv.months / 12) * 12, days: 0, micros: 0 };
    case 'month':
      return { months: iv.months, days: 0, micros: 0 };
    case 'day':
      return { months: iv.months, days: iv.days, micros: 0 };
    case 'hour':
      return { ...iv, micros: Math.trunc(iv.micros / usPerHour) * usPerHour };
    case 'minute':
      return { ...iv, micros: Math.trunc(iv.micros / usPerMin) * usPerMin };
    case 'second':
      return { ...iv, micros: Math.trunc(iv.micros / usPerSec) * usPerSec };
    default:
      return iv;
  }
}
def('date_part',
  { args: [txt, T.timestamptz], result: f8, fn: ([f, v], ctx) => extractField(str(f), v, T.timestamptz, ctx.vctx.timeZone)?.toNumber() ?? null },
  { args: [txt, T.timestamp], result: f8, fn: ([f, v], ctx) => extractField(str(f), v, T.timestamp, ctx.vctx.timeZone)?.toNumber() ?? null },
  // date_part(text, date) is SQL: date_part($1, $2::timestamp) — hours of a date are 0, not an error.
  { args: [txt, T.date], result: f8, fn: ([f, v], ctx) => extractField(str(f), isInfiniteDateTime(v) ? v : (v as number) * usPerDay, T.timestamp, ctx.vctx.timeZone)?.toNumber() ?? null },
  { args: [txt, T.interval], result: f8, fn: ([f, v], ctx) => extractField(str(f), v, T.interval, ctx.vctx.timeZone)?.toNumber() ?? null },
);
def('extract',
  { args: [txt, T.timestamptz], result: numT, fn: ([f, v], ctx) => extractField(str(f), v, T.timestamptz, ctx.vctx.timeZone) },
  { args: [txt, T.timestamp], result: numT, fn: ([f, v], ctx) => extractField(str(f), v, T.timestamp, ctx.vctx.timeZone) },
  { args: [txt, T.date], result: numT, fn: ([f, v], ctx) => extractField(str(f), v, T.date, ctx.vctx.timeZone) },
  { args: [txt, T.time], result: numT, fn: ([f, v], ctx) => extractField(str(f), v, T.time, ctx.vctx.timeZone) },
  { args: [txt, T.interval], result: numT, fn: ([f, v], ctx) => extractField(str(f), v, T.interval, ctx.vctx.timeZone) },
);
def('to_char',
  { args: [T.timestamptz, txt], result: txt, fn: ([v, f], ctx) => toChar(v, T.timestamptz, str(f), ctx.vctx.timeZone) },
  { args: [T.timestamp, txt], result: txt, fn: ([v, f], ctx) => toChar(v, T.timestamp, str(f), ctx.vctx.timeZone) },
  { args: [T.interval, txt], result: txt, fn: ([v, f], ctx) => toChar(v, T.interval, str(f), ctx.vctx.timeZone) },
  { args: [numT, txt], result: txt, fn: ([v, f], ctx) => toChar(v, T.numeric, str(f), ctx.vctx.timeZone) },
  { args: [f8, txt], result: txt, fn: ([v, f], ctx) => toChar(v, T.float8, str(f), ctx.vctx.timeZone) },
  { args: [T.float4, txt], result: txt, fn: ([v, f], ctx) => toChar(v, T.float4, str(f), ctx.vctx.timeZone) },
  { args: [i4, txt], result: txt, fn: ([v, f], ctx) => toChar(v, T.int4, str(f), ctx.vctx.timeZone) },
  { args: [i8, txt], result: txt, fn: ([v, f], ctx) => toChar(v, T.int8, str(f), ctx.vctx.timeZone) },
);
def('to_number', { args: [txt, txt], result: numT, fn: ([s, f]) => numberFromChar(str(s), str(f)) });
def('to_timestamp', { args: [f8], result: T.timestamptz, fn: ([s]) => timestamptzFromEpochSeconds(s as number) });
def('make_date', {
  args: [i4, i4, i4],
  result: T.date,
  fn: ([y0, m, d]) => {
    // Negative years are BC (make_date(-44, 3, 15) is 44 BC); there is no year 0.
    const y = y0 as number;
    if (y === 0 || (m as number) < 1 || (m as number) > 12 || (d as number) < 1 || (d as number) > daysInMonth(y < 0 ? y + 1 : y, m as number)) {
      throw new PgError(SqlState.DatetimeFieldOverflow, `date field value out of range: ${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
    }
    return daysFromCivil(y < 0 ? y + 1 : y, m as number, d as number);
  },
});
def('make_interval', { args: [i4, i4, i4, i4, i4, i4, f8], result: T.interval, fn: ([y, mo, w, d, h, mi, s]) => ({ months: (y as number) * 12 + (mo as number), days: (w as number) * 7 + (d as number), micros: Math.round((h as number) * usPerHour + (mi as number) * usPerMin + (s as number) * usPerSec) }) });
def(
  'age',
  { args: [T.timestamp, T.timestamp], result: T.interval, fn: ([a, c]) => ageOf(a as number, c as number, null) },
  { args: [T.timestamptz, T.timestamptz], result: T.interval, fn: ([a, c], ctx) => ageOf(a as number, c as number, ctx.vctx.timeZone) },
  // age(x) is age(current_date, x): midnight of today where the session is.
  { args: [T.timestamp], result: T.interval, fn: ([a], ctx) => ageOf(Math.floor((ctx.txnTimestamp + zoneOffsetSeconds(ctx.vctx.timeZone, ctx.txnTimestamp) * usPerSec) / usPerDay) * usPerDay, a as number, null) },
  { args: [T.timestamptz], result: T.interval, fn: ([a], ctx) => ageOf(dateTrunc('day', ctx.txnTimestamp, ctx.vctx.timeZone), a as number, ctx.vctx.timeZone) },
);
/**
 * PostgreSQL's timestamp_age / timestamptz_age: the field-by-field difference of the two local
 * times (in `tz`; null: timestamps without zone), later minus earlier, negative fields borrowed
 * from the next larger one — a negative day count borrows the length of the EARLIER time's
 * month, as often as needed — and the sign put back.
 */
function ageOf(a: number, c: number, tz: string | null): Interval {
  // timestamp_age breaks both values into fields, which an infinite one has not.
  if (isInfiniteDateTime(a) || isInfiniteDateTime(c)) throw new PgError(SqlState.DatetimeFieldOverflow, 'timestamp out of range');
  const neg = a < c;
  const [x, y] = neg ? [c, a] : [a, c];
  const pa = localParts(x, tz);
  const pb = localParts(y, tz);
  let months = (pa.y - pb.y) * 12 + (pa.m - pb.m);
  let days = pa.d - pb.d;
  let tod = pa.tod - pb.tod;
  if (tod < 0) {
    tod += usPerDay;
    days--;
  }
  const leap = (pb.y % 4 === 0 && pb.y % 100 !== 0) || pb.y % 400 === 0;
  const earlierMonthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][pb.m - 1] as number;
  while (days < 0) {
    days += earlierMonthDays;
    months--;
  }
  const iv = { months, days, micros: tod };
  return neg ? negateInterval(iv) : iv;
}
// The zone argument is read as PostgreSQL reads it: abbreviations first (a dynamic one by its
// meaning at that time), then zone names; a local time is resolved as DetermineTimeZoneOffset does.
// An infinite timestamp stays infinite in any zone (timestamp_zone, timestamptz_zone).
def(
  'timezone',
  { args: [txt, T.timestamptz], result: T.timestamp, fn: ([z, ts]) => (isInfiniteDateTime(ts) ? (zoneArgZone(str(z)), ts) : (ts as number) + zoneArgOffsetAt(str(z), ts as number) * usPerSec) },
  { args: [txt, T.timestamp], result: T.timestamptz, fn: ([z, ts]) => (isInfiniteDateTime(ts) ? (zoneArgZone(str(z)), ts) : (ts as number) - zoneArgOffsetForLocal(str(z), ts as number) * usPerSec) },
);
def(
  'isfinite',
  { args: [T.date], result: b, fn: ([v]) => !isInfiniteDateTime(v) },
  { args: [T.timestamp], result: b, fn: ([v]) => !isInfiniteDateTime(v) },
  { args: [T.timestamptz], result: b, fn: ([v]) => !isInfiniteDateTime(v) },
  { args: [T.interval], result: b, fn: () => true },
);

// uuid, ids
def(['gen_random_uuid', 'uuid_generate_v4'], { args: [], result: T.uuid, volatile: true, fn: () => randomUUID() });
def('unique_rowid', { args: [], result: i8, volatile: true, fn: (_a, ctx) => ctx.server.uniqueRowId() });

// json
def('jsonb_typeof', { args: [T.jsonb], result: txt, fn: ([v]) => jsonTypeof((v as JsonValue).jsonb) });
def('jsonb_array_length', { args: [T.jsonb], result: i4, fn: ([v]) => { const j = (v as JsonValue).jsonb; if (!Array.isArray(j)) throw new PgError(SqlState.InvalidParameterValue, 'cannot get array length of a non-array'); return j.length; } });
def('jsonb_pretty', { args: [T.jsonb], result: txt, fn: ([v]) => formatJsonbPretty((v as JsonValue).jsonb, formatJsonb) });
function jsonTypeof(j: unknown): string {
  if (j === null) return 'null';
  if (Array.isArray(j)) return 'array';
  if (j instanceof Decimal || typeof j === 'number') return 'number';
  if (typeof j === 'object') return 'object';
  return typeof j === 'number' ? 'number' : typeof j === 'boolean' ? 'boolean' : 'string';
}

// arrays
// Any array as is (not cast to text[] element by element: array_length of a 20M-element array is O(1)).
const arr = (v: Value, fn: string): Value[] => {
  if (!Array.isArray(v)) throw new PgError(SqlState.UndefinedFunction, `function ${fn}() requires an array argument`);
  return v;
};
// Per dimension (types/array_md.ts): NULL for a dimension the array does not have.
const dimLen = (a: Value, d: Value, fn: string): number | null => {
  const k = d as number;
  const dims = arrayDims(arr(a, fn));
  return k >= 1 && k <= dims.length ? (dims[k - 1] as number) : null;
};
def('array_length', { args: [anyT, i4], result: i4, fn: ([a, d]) => dimLen(a, d, 'array_length') });
def('cardinality', { args: [anyT], result: i4, fn: ([a]) => flattenArray(arr(a, 'cardinality')).length });
def('array_upper', { args: [anyT, i4], result: i4, fn: ([a, d]) => dimLen(a, d, 'array_upper') });
def('array_lower', { args: [anyT, i4], result: i4, fn: ([a, d]) => (dimLen(a, d, 'array_lower') === null ? null : 1) });
def('array_ndims', { args: [anyT], result: i4, fn: ([a]) => { const n = arrayDims(arr(a, 'array_ndims')).length; return n === 0 ? null : n; } });
def('array_dims', { args: [anyT], result: txt, fn: ([a]) => formatArrayDims(arr(a, 'array_dims')) });

// network addresses (types/inet.ts)
const inetT = T.inet;
const cidrT = T.cidr;
def('host', { args: [inetT], result: txt, fn: ([v]) => inetFunctions.host(v as string) });
def('masklen', { args: [inetT], result: i4, fn: ([v]) => inetFunctions.masklen(v as string) });
def('family', { args: [inetT], result: i4, fn: ([v]) => inetFunctions.family(v as string) });
def('network', { args: [inetT], result: cidrT, fn: ([v]) => inetFunctions.network(v as string) });
def('broadcast', { args: [inetT], result: inetT, fn: ([v]) => inetFunctions.broadcast(v as string) });
def('netmask', { args: [inetT], result: inetT, fn: ([v]) => inetFunctions.netmask(v as string) });
def('hostmask', { args: [inetT], result: inetT, fn: ([v]) => inetFunctions.hostmask(v as string) });
def('abbrev', { args: [cidrT], result: txt, fn: ([v]) => inetFunctions.abbrev(v as string, true) }, { args: [inetT], result: txt, fn: ([v]) => inetFunctions.abbrev(v as string, false) });
def('set_masklen', { args: [cidrT, i4], result: cidrT, fn: ([v, b]) => inetFunctions.setMasklen(v as string, b as number, true) }, { args: [inetT, i4], result: inetT, fn: ([v, b]) => inetFunctions.setMasklen(v as string, b as number, false) });
def('text', { args: [inetT], result: txt, fn: ([v]) => inetFunctions.text(v as string) });

// misc
def('pg_sleep', { args: [f8], result: T.void, volatile: true, fn: ([s], ctx) => { ctx.sleepUntil = Math.max(ctx.sleepUntil, Date.now() + (s as number) * 1000); return ''; } });
def('version', { args: [], result: txt, fn: (_a, ctx) => ctx.server.version });
def(['current_database', 'current_catalog'], { args: [], result: T.name, fn: (_a, ctx) => ctx.session.database });
def(['current_user', 'session_user', 'user', 'current_role', 'getpgusername'], { args: [], result: T.name, fn: (_a, ctx) => ctx.session.user });
/** The search_path's schemas that exist, in order ($user: the session user's schema), as PostgreSQL resolves it. */
function effectiveSearchPath(ctx: ExecCtx): string[] {
  const db = ctx.catalog.database(ctx.session.database);
  const existing = new Set(db ? ctx.catalog.schemasOf(db.id).map((sc) => sc.name) : []);
  const out: string[] = [];
  for (const name of ctx.session.searchPath) {
    const n = name === '$user' ? ctx.session.user : name;
    if ((existing.has(n) || n === 'pg_catalog' || n === 'information_schema') && !out.includes(n)) out.push(n);
  }
  return out;
}
def('current_schema', { args: [], result: T.name, nullable: true, fn: (_a, ctx) => effectiveSearchPath(ctx)[0] ?? null });
def('current_schemas', {
  args: [b],
  result: arrayOf(T.name),
  fn: ([imp], ctx) => {
    const path = effectiveSearchPath(ctx);
    return imp && !path.includes('pg_catalog') ? ['pg_catalog', ...path] : path;
  },
});
def('pg_backend_pid', { args: [], result: i4, fn: (_a, ctx) => ctx.session.backendPid });
def('inet_server_port', { args: [], result: i4, fn: () => 26257 });
def('pg_postmaster_start_time', { args: [], result: T.timestamptz, fn: (_a, ctx) => ctx.server.startedAt });
def('pg_size_pretty', { args: [i8], result: txt, fn: ([n]) => sizePretty(Number(n)) }, { args: [numT], result: txt, fn: ([n]) => sizePretty((n as Decimal).toNumber()) });
function sizePretty(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 10 * 1024 && i < units.length - 1) {
    v = Math.round(v / 1024);
    i++;
  }
  return `${v} ${units[i]}`;
}
def('pg_typeof', { args: [anyT], result: T.regtype, nullable: true, fn: () => 0 }); // replaced in binder
def('nullif', { args: [anyT, anyT], nullable: true, result: first, fn: () => null }); // handled in binder
def('txid_current', { args: [], result: i8, fn: (_a, ctx) => BigInt(Math.floor(ctx.txnTimestamp / 1000)) });
def('pg_is_in_recovery', { args: [], result: b, fn: () => false });
def('current_setting', { args: [txt], result: txt, fn: ([n], ctx) => { const v = ctx.session.settings.get(str(n).toLowerCase()); if (v === undefined) throw new PgError(SqlState.UndefinedObject, `unrecognized configuration parameter "${str(n)}"`); return v; } }, { args: [txt, b], result: txt, nullable: true, fn: ([n], ctx) => ctx.session.settings.get(str(n).toLowerCase()) ?? null });
def('pg_notify', {
  args: [txt, txt],
  result: T.void,
  nullable: true,
  volatile: true,
  fn: ([c, p], ctx) => {
    if (!ctx.session.notify) throw new PgError(SqlState.FeatureNotSupported, 'pg_notify is not available here');
    ctx.session.notify(c as string | null, p as string | null);
    return ''; // void is not NULL (pg_notify(…) IS NULL is false), as pg_sleep's
  },
});
def('pg_notification_queue_usage', { args: [], result: T.float8, volatile: true, fn: (_a, ctx) => ctx.session.notificationQueueUsage?.() ?? 0 });
def('set_config', {
  args: [txt, txt, b],
  result: txt,
  fn: ([n, v, local], ctx) => {
    if (ctx.session.set) return ctx.session.set(str(n), str(v), local === true);
    ctx.session.settings.set(str(n).toLowerCase(), str(v));
    return v;
  },
});

// array_to_string / string_to_array / array_position with PostgreSQL's NULL rules.
def(
  'array_to_string',
  { args: [arrayOf(txt), txt], result: txt, fn: ([a, s], ctx) => flattenArray(a as Value[]).filter((x) => x !== null).map((x) => stringify(x, ctx, 0)).join(str(s)) },
  {
    args: [arrayOf(txt), txt, txt],
    result: txt,
    nullable: true,
    fn: ([a, s, n], ctx) => (a === null || s === null ? null : flattenArray(a as Value[]).flatMap((x) => (x === null ? (n === null ? [] : [str(n)]) : [stringify(x, ctx, 0)])).join(str(s))),
  },
);
export function stringToArray(s: string, d: string | null, nullStr: string | null): Value[] {
  // A NULL delimiter splits into characters; an empty one keeps the string whole.
  const parts = s === '' ? [] : d === null ? [...s] : d === '' ? [s] : s.split(d);
  return parts.map((x) => (nullStr !== null && x === nullStr ? null : x));
}
def(
  'string_to_array',
  { args: [txt, txt], result: arrayOf(txt), nullable: true, fn: ([s, d]) => (s === null ? null : stringToArray(str(s), d as string | null, null)) },
  { args: [txt, txt, txt], result: arrayOf(txt), nullable: true, fn: ([s, d, n]) => (s === null ? null : stringToArray(str(s), d as string | null, n as string | null)) },
);
/**
 * `a || b` on arrays (array_cat / array_append / array_prepend): equal dimensions stack into one
 * more level's worth of rows ({{1,2}} || {{3,4}} = {{1,2},{3,4}}), one dimension fewer adds a row
 * ({{1,2}} || {3,4}), as PostgreSQL's array_cat; an element joins only a one-dimensional array.
 */
function concatArrays(a: Value, b: Value, aIsArray: boolean, bIsArray: boolean): Value {
  if (!aIsArray || !bIsArray) {
    const base = (aIsArray ? a : b) as Value[] | null;
    if (base !== null) require1D(base, 'argument must be empty or one-dimensional array', SqlState.DataException);
    if (aIsArray) return a === null ? [b] : [...(a as Value[]), b];
    return b === null ? [a] : [a, ...(b as Value[])];
  }
  if (a === null) return b;
  if (b === null) return a;
  const x = a as Value[];
  const y = b as Value[];
  if (x.length === 0) return y;
  if (y.length === 0) return x;
  const dx = arrayDims(x);
  const dy = arrayDims(y);
  const same = (p: number[], q: number[]) => p.length === q.length && p.every((n, i) => n === q[i]);
  if (dx.length === dy.length) {
    if (!same(dx.slice(1), dy.slice(1))) throw new PgError(SqlState.ArraySubscriptError, 'cannot concatenate incompatible arrays', { detail: 'Arrays with differing element dimensions are not compatible for concatenation.' });
    return [...x, ...y];
  }
  if (dx.length === dy.length + 1) {
    if (!same(dx.slice(1), dy)) throw new PgError(SqlState.ArraySubscriptError, 'cannot concatenate incompatible arrays', { detail: 'Arrays with differing dimensions are not compatible for concatenation.' });
    return [...x, y];
  }
  if (dy.length === dx.length + 1) {
    if (!same(dy.slice(1), dx)) throw new PgError(SqlState.ArraySubscriptError, 'cannot concatenate incompatible arrays', { detail: 'Arrays with differing dimensions are not compatible for concatenation.' });
    return [x, ...y];
  }
  throw new PgError(SqlState.ArraySubscriptError, 'cannot concatenate incompatible arrays', { detail: `Arrays of ${dx.length} and ${dy.length} dimensions are not compatible for concatenation.` });
}

/** array_cat / array_append / array_prepend: `||` by name, the other argument cast to the array's type. */
const arrayTypeOf = (types: SqlType[], i: number): SqlType => {
  const t = types[i] as SqlType;
  if (t.kind === 'array') return t;
  const o = types[1 - i] as SqlType;
  return o.kind === 'array' ? o : arrayOf(txt);
};
const asArg = (v: Value, from: SqlType, to: SqlType, ctx: ExecCtx): Value => (v === null || from.kind === to.kind ? v : castValue(v, from.kind === 'unknown' ? txt : from, to, ctx.vctx));
def('array_cat', {
  args: [anyT, anyT],
  result: (ts) => arrayTypeOf(ts, 0),
  nullable: true,
  fn: ([a, b]) => concatArrays(a, b, true, true),
  typed: (ts) => {
    const at = arrayTypeOf(ts, 0);
    return ([a, b], ctx) => concatArrays(asArg(a, ts[0] as SqlType, at, ctx), asArg(b, ts[1] as SqlType, at, ctx), true, true);
  },
});
def('array_append', {
  args: [anyT, anyT],
  result: (ts) => arrayTypeOf(ts, 0),
  nullable: true,
  fn: ([a, b]) => concatArrays(a, b, true, false),
  typed: (ts) => {
    const at = arrayTypeOf(ts, 0);
    return ([a, b], ctx) => concatArrays(asArg(a, ts[0] as SqlType, at, ctx), asArg(b, ts[1] as SqlType, at.elem as SqlType, ctx), true, false);
  },
});
def('array_prepend', {
  args: [anyT, anyT],
  result: (ts) => arrayTypeOf(ts, 1),
  nullable: true,
  fn: ([a, b]) => concatArrays(a, b, false, true),
  typed: (ts) => {
    const at = arrayTypeOf(ts, 1);
    return ([a, b], ctx) => concatArrays(asArg(a, ts[0] as SqlType, at.elem as SqlType, ctx), asArg(b, ts[1] as SqlType, at, ctx), false, true);
  },
});

/** array_position(arr, v [, start]): the first element IS NOT DISTINCT FROM v, compared in their common type. */
const arrayPositionFn =
  (types: SqlType[]) =>
  ([a, v, start]: Args, ctx: ExecCtx): Value => {
    if (a === null) return null;
    const arrT = types[0] as SqlType;
    const elemT = arrT.kind === 'array' ? (arrT.elem as SqlType) : T.text;
    const vT = (types[1] as SqlType).kind === 'unknown' ? elemT : (types[1] as SqlType);
    const ct = commonType([elemT, vT], 'array_position');
    const want = v === null ? null : castValue(v, vT, ct, ctx.vctx);
    const arr = a as Value[];
    require1D(arr, 'searching for elements in multidimensional arrays is not supported');
    const from = start === undefined || start === null ? 0 : Math.max(0, (start as number) - 1);
    for (let i = from; i < arr.length; i++) {
      const x = arr[i] as Value;
      if (x === null || want === null) {
        if (x === null && want === null) return i + 1;
        continue;
      }
      if (compareValues(castValue(x, elemT, ct, ctx.vctx), want, ct) === 0) return i + 1;
    }
    return null;
  };
def('array_position', { args: [anyT, anyT], result: i4, nullable: true, fn: arrayPositionFn([arrayOf(txt), txt]), typed: arrayPositionFn }, { args: [anyT, anyT, i4], result: i4, nullable: true, fn: arrayPositionFn([arrayOf(txt), txt]), typed: arrayPositionFn });
