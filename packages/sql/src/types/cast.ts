import { mapArray } from './array_md.js';
import { inetFunctions } from './inet.js';
import { makeTimeTz, timeTzOf } from './timetz.js';
import { PgError, SqlState } from '@strata/common';
import { Decimal } from './numeric.js';
import { isInfiniteDateTime, offsetForLocal, usPerDay, zoneOffsetSeconds, usPerSec } from './datetime.js';
import type { Interval } from './datetime.js';
import { adjustIntervalForTypmod } from './interval_parse.js';
import {
  T,
  applyStringTypmod,
  category,
  checkInt8,
  checkIntRange,
  formatJsonb,
  formatType,
  formatValue,
  isInteger,
  isNumeric,
  isString,
  parseValue,
} from './types.js';
import type { JsonValue, SqlType, Value, ValueContext } from './types.js';

function toBigInt(v: Value, from: SqlType): bigint {
  switch (from.kind) {
    case 'int8':
      return v as bigint;
    case 'int2':
    case 'int4':
    case 'oid':
      return BigInt(v as number);
    case 'float4':
    case 'float8': {
      const f = v as number;
      if (!Number.isFinite(f)) throw new PgError(SqlState.NumericValueOutOfRange, 'bigint out of range');
      return BigInt(Math.round(roundHalfEven(f)));
    }
    case 'numeric': {
      const d = v as Decimal;
      if (d.isNaN()) throw new PgError(SqlState.FeatureNotSupported, 'cannot convert NaN to bigint');
      if (d.isInf()) throw new PgError(SqlState.FeatureNotSupported, 'cannot convert infinity to bigint');
      return d.rescale(0).unscaled;
    }
    case 'bool':
      return v ? 1n : 0n;
    default:
      throw new PgError(SqlState.CannotCoerce, `cannot cast type ${formatType(from)} to bigint`);
  }
}

/** float → int rounds half to even (rint), as PostgreSQL does. */
function roundHalfEven(f: number): number {
  const r = Math.round(f);
  if (Math.abs(f % 1) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

function toNumber(v: Value, from: SqlType): number {
  switch (from.kind) {
    case 'int2':
    case 'int4':
    case 'oid':
    case 'float4':
    case 'float8':
      return v as number;
    case 'int8':
      return Number(v as bigint);
    case 'numeric':
      return (v as Decimal).toNumber();
    case 'bool':
      return v ? 1 : 0;
    default:
      throw new PgError(SqlState.CannotCoerce, `cannot cast type ${formatType(from)} to double precision`);
  }
}

function toDecimal(v: Value, from: SqlType): Decimal {
  switch (from.kind) {
    case 'int2':
    case 'int4':
    case 'oid':
      return Decimal.fromInt(v as number);
    case 'int8':
      return Decimal.fromInt(v as bigint);
    case 'float4':
      // float4_numeric: the value printed with FLT_DIG (6) significant digits, then read as numeric.
      return Decimal.fromFloat(v as number, 6);
    case 'float8':
      // float8_numeric: DBL_DIG (15) significant digits.
      return Decimal.fromFloat(v as number, 15);
    case 'numeric':
      return v as Decimal;
    default:
      throw new PgError(SqlState.CannotCoerce, `cannot cast type ${formatType(from)} to numeric`);
  }
}

/** 2000-01-01 in µs since 1970: PostgreSQL rounds timestamps relative to its own epoch. */
const pgEpochMicros = 946_684_800_000_000;

/**
 * AdjustTimestampForTypmod / AdjustTimeForTypmod: microseconds rounded to `precision` fractional
 * digits, half away from zero counted from 2000-01-01 (so a value before 2000 rounds as
 * PostgreSQL's negative internal value does). Infinite timestamps are unchanged.
 */
function roundDateTimeToTypmod(us: number, t: SqlType): number {
  const p = t.typmod;
  if (p >= 6 || isInfiniteDateTime(us)) return us;
  const scale = 10 ** (6 - p);
  const half = scale / 2;
  if (t.kind === 'time') return Math.floor((us + half) / scale) * scale;
  const x = us - pgEpochMicros;
  if (!Number.isSafeInteger(x)) return us; // beyond ±2^53 µs a double holds no sub-second digits to round
  const r = x >= 0 ? Math.floor((x + half) / scale) * scale : -Math.floor((-x + half) / scale) * scale;
  return r + pgEpochMicros;
}

/** The SQL types a jsonb scalar casts to (jsonb_bool, jsonb_numeric, jsonb_int4, …), by name as PostgreSQL's messages write them. */
const jsonbScalarTargets: Partial<Record<SqlType['kind'], string>> = {
  bool: 'boolean',
  numeric: 'numeric',
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
};

/** jsonb → boolean or a number type: only a top-level scalar of the matching kind converts (22023 otherwise). */
function jsonbScalarCast(j: unknown, to: SqlType, ctx: ValueContext): Value {
  const kind =
    j === null ? 'null' : Array.isArray(j) ? 'array' : typeof j === 'string' ? 'string' : typeof j === 'boolean' ? 'boolean' : typeof j === 'number' || j instanceof Decimal ? 'numeric' : 'object';
  const want = to.kind === 'bool' ? 'boolean' : 'numeric';
  if (kind !== want) throw new PgError(SqlState.InvalidParameterValue, `cannot cast jsonb ${kind} to type ${jsonbScalarTargets[to.kind] as string}`);
  if (to.kind === 'bool') return j as boolean;
  const d = j instanceof Decimal ? j : Decimal.parse(String(j));
  return castValue(d, T.numeric, to, ctx);
}

/**
 * Converts a non-null value from one type to another. `explicit` distinguishes CAST/:: (which
 * truncates strings to varchar(n)) from assignment (which errors).
 */
/**
 * A record to a composite type (or a record with known fields): field by field, each with the cast
 * its types have (42846 when the field counts differ, as PostgreSQL's).
 */
function castRecord(v: Value[], from: SqlType, to: SqlType, ctx: ValueContext, explicit: boolean): Value {
  const fs = to.fields as { name: string; type: SqlType }[];
  if (v.length !== fs.length) {
    throw new PgError(SqlState.CannotCoerce, `cannot cast type ${formatType(from)} to ${formatType(to)}`, { detail: `Input has too ${v.length < fs.length ? 'few' : 'many'} columns.` });
  }
  return v.map((x, i) => castValue(x, from.fields?.[i]?.type ?? (fs[i] as { type: SqlType }).type, (fs[i] as { type: SqlType }).type, ctx, explicit));
}

export function castValue(v: Value, from: SqlType, to: SqlType, ctx: ValueContext, explicit = true): Value {
  if (v === null) return null;
  // interval → INTERVAL YEAR / DAY TO MINUTE / interval(p): AdjustIntervalForTypmod (interval_scale).
  if (from.kind === 'interval' && to.kind === 'interval') return to.typmod >= 0 ? adjustIntervalForTypmod(v as Interval, to.typmod) : v;
  if (from.kind === 'record' && to.kind === 'record' && to.fields && Array.isArray(v)) return castRecord(v as Value[], from, to, ctx, explicit);
  if (to.typmod >= 0 && (to.kind === 'timestamp' || to.kind === 'timestamptz' || to.kind === 'time')) {
    const u = castValue(v, from, { kind: to.kind, typmod: -1 }, ctx, explicit);
    return u === null ? null : roundDateTimeToTypmod(u as number, to);
  }
  if (from.kind === to.kind && to.kind !== 'varchar' && to.kind !== 'bpchar' && to.kind !== 'numeric' && to.kind !== 'array') return v;
  if (from.kind === 'jsonb' && jsonbScalarTargets[to.kind] !== undefined) return jsonbScalarCast((v as JsonValue).jsonb, to, ctx);
  if (from.kind === 'unknown' || (isString(from) && !isString(to) && to.kind !== 'char')) {
    if (to.kind === 'unknown') return v;
    const s = typeof v === 'string' ? v : String(v);
    if (to.kind === 'varchar' || to.kind === 'bpchar') return applyStringTypmod(from.kind === 'bpchar' ? s.replace(/ +$/, '') : s, to, explicit);
    return parseValue(from.kind === 'bpchar' ? s.replace(/ +$/, '') : s, to, ctx);
  }
  switch (to.kind) {
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name': {
      let s: string;
      if (from.kind === 'bpchar') s = (v as string).replace(/ +$/, '');
      else if (isString(from)) s = v as string;
      else if (from.kind === 'bool') s = v ? 'true' : 'false';
      // inet's text cast always shows the width (network_show), unlike its output.
      else if (from.kind === 'inet') s = inetFunctions.text(v as string);
      else s = formatValue(v, from, ctx) as string;
      return to.kind === 'varchar' || to.kind === 'bpchar' ? applyStringTypmod(s, to, explicit) : s;
    }
    case 'char':
      return String(v).slice(0, 1);
    case 'int2':
    case 'int4': {
      if (from.kind === 'bool') return v ? 1 : 0;
      const b = toBigInt(v, from);
      if (b > 2147483647n || b < -2147483648n) checkIntRange(Infinity, to);
      return checkIntRange(Number(b), to);
    }
    case 'int8':
      return checkInt8(toBigInt(v, from));
    case 'oid':
    case 'regclass':
    case 'regtype':
    case 'regproc':
      if (isNumeric(from) || from.kind === 'oid' || from.kind === 'regclass' || from.kind === 'regtype' || from.kind === 'regproc') {
        const b = toBigInt(v, from.kind === 'regclass' || from.kind === 'regtype' || from.kind === 'regproc' ? T.oid : from);
        // int8 → oid: within the unsigned 32-bit range (int8_to_oid); negative int4 values wrap as in PostgreSQL.
        if (from.kind === 'int8' && (b < 0n || b > 4294967295n)) throw new PgError(SqlState.NumericValueOutOfRange, 'OID out of range');
        return Number(b);
      }
      break;
    case 'float4': {
      const x = toNumber(v, from);
      const f = Math.fround(x);
      if (!Number.isFinite(f) && Number.isFinite(x)) throw new PgError(SqlState.NumericValueOutOfRange, 'value out of range: overflow');
      if (f === 0 && x !== 0) throw new PgError(SqlState.NumericValueOutOfRange, 'value out of range: underflow');
      return f;
    }
    case 'float8': {
      const x = toNumber(v, from);
      // numeric → float8 goes through text (numeric_float8): beyond the double range is 22003.
      // (PostgreSQL 15 refuses +Infinity this way too, but returns -Infinity.)
      if (from.kind === 'numeric' && (v as Decimal).isInf()) {
        if ((v as Decimal).sign() > 0) throw new PgError(SqlState.NumericValueOutOfRange, '"Infinity" is out of range for type double precision');
        return x;
      }
      if (from.kind === 'numeric' && !(v as Decimal).isNaN()) {
        if (!Number.isFinite(x)) throw new PgError(SqlState.NumericValueOutOfRange, `"${(v as Decimal).toString().slice(0, 40)}" is out of range for type double precision`);
        if (x === 0 && (v as Decimal).sign() !== 0) throw new PgError(SqlState.NumericValueOutOfRange, `"${(v as Decimal).toString().slice(0, 40)}" is out of range for type double precision`);
      }
      return x;
    }
    case 'numeric': {
      if (!isNumeric(from) && from.kind !== 'oid') break;
      const d = toDecimal(v, from);
      return to.typmod >= 0 ? d.applyTypmod(to.typmod >> 16, to.typmod & 0xffff) : d;
    }
    case 'bool':
      if (isInteger(from)) return toBigInt(v, from) !== 0n;
      break;
    case 'date':
      // ±infinity stays ±infinity across date, timestamp and timestamptz (one representation).
      if (isInfiniteDateTime(v) && (from.kind === 'timestamp' || from.kind === 'timestamptz')) return v;
      if (from.kind === 'timestamp') return Math.floor((v as number) / usPerDay);
      if (from.kind === 'timestamptz') {
        const us = (v as number) + zoneOffsetSeconds(ctx.timeZone, v as number) * usPerSec;
        return Math.floor(us / usPerDay);
      }
      break;
    case 'timestamp':
      if (isInfiniteDateTime(v) && (from.kind === 'date' || from.kind === 'timestamptz')) return v;
      if (from.kind === 'date') return (v as number) * usPerDay;
      if (from.kind === 'timestamptz') return (v as number) + zoneOffsetSeconds(ctx.timeZone, v as number) * usPerSec;
      break;
    case 'timestamptz':
      if (from.kind === 'date' || from.kind === 'timestamp') {
        if (isInfiniteDateTime(v)) return v;
        const local = from.kind === 'date' ? (v as number) * usPerDay : (v as number);
        let g = local - zoneOffsetSeconds(ctx.timeZone, local) * usPerSec;
        g = local - zoneOffsetSeconds(ctx.timeZone, g) * usPerSec;
        return g;
      }
      break;
    case 'time':
      // timestamp_time / timestamptz_time: an infinite timestamp has no time of day (NULL).
      if (isInfiniteDateTime(v) && (from.kind === 'timestamp' || from.kind === 'timestamptz')) return null;
      if (from.kind === 'timestamp') return (((v as number) % usPerDay) + usPerDay) % usPerDay;
      if (from.kind === 'timestamptz') {
        const us = (v as number) + zoneOffsetSeconds(ctx.timeZone, v as number) * usPerSec;
        return ((us % usPerDay) + usPerDay) % usPerDay;
      }
      if (from.kind === 'interval') return (v as Interval).micros % usPerDay;
      if (from.kind === 'timetz') return timeTzOf(v as string).us;
      break;
    case 'timetz': {
      // time → timetz takes the session zone's offset today (time_timetz); timestamptz → timetz
      // its local time and offset in the session zone (timestamptz_timetz).
      if (from.kind === 'time') {
        const t = ctx.now();
        const today = Math.floor((t + zoneOffsetSeconds(ctx.timeZone, t) * usPerSec) / usPerDay);
        const off = offsetForLocal(ctx.timeZone, today * usPerDay + (v as number));
        return makeTimeTz(v as number, -off);
      }
      if (from.kind === 'timestamptz') {
        if (isInfiniteDateTime(v)) return null;
        const off = zoneOffsetSeconds(ctx.timeZone, v as number);
        const local = (v as number) + off * usPerSec;
        return makeTimeTz(((local % usPerDay) + usPerDay) % usPerDay, -off);
      }
      break;
    }
    case 'interval':
      if (from.kind === 'time') return { months: 0, days: 0, micros: v as number };
      break;
    case 'jsonb':
      if (from.kind === 'json') return { jsonb: JSON.parse((v as { json: string }).json) };
      break;
    case 'json':
      if (from.kind === 'jsonb') return { json: formatJsonb((v as JsonValue).jsonb) };
      break;
    case 'array':
      if (from.kind === 'array') {
        return mapArray(v as Value[], (e) => (e === null ? null : castValue(e, from.elem as SqlType, to.elem as SqlType, ctx, explicit)));
      }
      break;
    case 'inet':
      if (from.kind === 'cidr') return inetFunctions.toInet(v as string);
      break;
    case 'cidr':
      if (from.kind === 'inet') return inetFunctions.toCidr(v as string);
      break;
    case 'unknown':
      return v;
    default:
      break;
  }
  throw new PgError(SqlState.CannotCoerce, `cannot cast type ${formatType(from)} to ${formatType(to)}`);
}

/** Whether a cast is allowed implicitly (in expressions and function arguments). */
export function canImplicitCast(from: SqlType, to: SqlType): boolean {
  if (from.kind === to.kind) return true;
  if (from.kind === 'unknown') return true;
  if (isNumeric(from) && isNumeric(to)) {
    const rank: Record<string, number> = { int2: 1, int4: 2, int8: 3, numeric: 4, float4: 5, float8: 6 };
    return (rank[from.kind] as number) <= (rank[to.kind] as number);
  }
  if (isString(from) && isString(to)) return true;
  if (from.kind === 'date' && (to.kind === 'timestamp' || to.kind === 'timestamptz')) return true;
  if (from.kind === 'timestamp' && to.kind === 'timestamptz') return true;
  if ((from.kind === 'oid' || isInteger(from)) && (to.kind === 'regclass' || to.kind === 'regtype' || to.kind === 'oid' || to.kind === 'regproc')) return true;
  if ((from.kind === 'regclass' || from.kind === 'regtype' || from.kind === 'regproc') && to.kind === 'oid') return true;
  if (from.kind === 'json' && to.kind === 'jsonb') return true;
  if (from.kind === 'cidr' && to.kind === 'inet') return true;
  if (from.kind === 'time' && to.kind === 'timetz') return true;
  if (from.kind === 'char' && isString(to)) return true;
  if (category(from) === 'S' && to.kind === 'char') return true;
  return false;
}

/** Assignment casts (INSERT/UPDATE values): implicit ones plus numeric narrowing and anything to text. */
export function canAssignCast(from: SqlType, to: SqlType): boolean {
  if (canImplicitCast(from, to)) return true;
  if (isNumeric(from) && isNumeric(to)) return true;
  if (isString(to)) return true;
  if (from.kind === 'timestamptz' && (to.kind === 'timestamp' || to.kind === 'date')) return true;
  if (from.kind === 'timestamp' && to.kind === 'date') return true;
  if (from.kind === 'inet' && to.kind === 'cidr') return true;
  if ((from.kind === 'timetz' && to.kind === 'time') || (from.kind === 'timestamptz' && to.kind === 'timetz')) return true;
  return false;
}
