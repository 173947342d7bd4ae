/**
 * The SQL type system: PostgreSQL's types with their OIDs (drivers look them up by OID), the JS
 * representation of their values, text input/output exactly as PostgreSQL writes them, binary
 * wire formats, comparison, and casts.
 */
import { splitRecordText } from './record_in.js';
import { compareEnumLabels } from './enum_order.js';
import { PgError, SqlState } from '@strata/common';
import { Decimal } from './numeric.js';
import { decimalToFloat4 } from './float4_parse.js';
import {
  formatDate,
  formatInterval,
  formatIntervalStyle,
  formatTime,
  formatTimestamp,
  formatTimestamptz,
  parseDate,
  parseTime,
  parseTimeTz,
  parseTimestamp,
  parseTimestamptz,
  usPerDay,
} from './datetime.js';
import type { Interval } from './datetime.js';
import { parseJsonText } from './json.js';
import { compareInet, inetIn } from './inet.js';
import { compareTimeTz, makeTimeTz } from './timetz.js';
import { arrayDims, checkDimCount, flattenArray, isMultiDim } from './array_md.js';
import { decodeInterval } from './interval_parse.js';
import { compareJsonb, jsonbHashKey } from './jsonb_ops.js';

export type TypeKind =
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'float4'
  | 'float8'
  | 'numeric'
  | 'text'
  | 'varchar'
  | 'bpchar'
  | 'name'
  | 'char'
  | 'bytea'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'uuid'
  | 'timetz'
  | 'inet'
  | 'cidr'
  | 'jsonb'
  | 'json'
  | 'oid'
  | 'regclass'
  | 'regtype'
  | 'regproc'
  | 'unknown'
  | 'void'
  | 'record'
  | 'array'
  | 'int2vector'
  | 'oidvector';

export interface SqlType {
  kind: TypeKind;
  /** varchar(n)/bpchar(n): n; numeric(p,s): (p << 16) | s; -1 if none (PostgreSQL's atttypmod minus header). */
  typmod: number;
  /** For arrays: the element type. */
  elem?: SqlType;
  /** For records with known columns (a function's OUT parameters): their names and types, for field selection. */
  fields?: { name: string; type: SqlType }[];
  /**
   * A domain over this type (CREATE DOMAIN; catalog/user_types.ts): values are the base type's,
   * the domain's constraints are checked where a value is cast or assigned to it (plan/domains.ts).
   */
  domain?: { id: number; name: string };
  /**
   * An enum (CREATE TYPE … AS ENUM; catalog/user_types.ts): kind 'text' holding the label, ordered
   * by the labels' declared order (types/enum_order.ts), not by text.
   */
  enumType?: { id: number; name: string };
  /** A composite type (CREATE TYPE … AS (…); kind 'record' with `fields`): its OID and name. */
  composite?: { id: number; name: string };
}

export const T = {
  bool: { kind: 'bool', typmod: -1 },
  int2: { kind: 'int2', typmod: -1 },
  int4: { kind: 'int4', typmod: -1 },
  int8: { kind: 'int8', typmod: -1 },
  float4: { kind: 'float4', typmod: -1 },
  float8: { kind: 'float8', typmod: -1 },
  numeric: { kind: 'numeric', typmod: -1 },
  text: { kind: 'text', typmod: -1 },
  varchar: { kind: 'varchar', typmod: -1 },
  bpchar: { kind: 'bpchar', typmod: -1 },
  name: { kind: 'name', typmod: -1 },
  char: { kind: 'char', typmod: -1 },
  bytea: { kind: 'bytea', typmod: -1 },
  date: { kind: 'date', typmod: -1 },
  time: { kind: 'time', typmod: -1 },
  timestamp: { kind: 'timestamp', typmod: -1 },
  timestamptz: { kind: 'timestamptz', typmod: -1 },
  interval: { kind: 'interval', typmod: -1 },
  uuid: { kind: 'uuid', typmod: -1 },
  inet: { kind: 'inet', typmod: -1 },
  timetz: { kind: 'timetz', typmod: -1 },
  cidr: { kind: 'cidr', typmod: -1 },
  jsonb: { kind: 'jsonb', typmod: -1 },
  json: { kind: 'json', typmod: -1 },
  oid: { kind: 'oid', typmod: -1 },
  regclass: { kind: 'regclass', typmod: -1 },
  regtype: { kind: 'regtype', typmod: -1 },
  regproc: { kind: 'regproc', typmod: -1 },
  unknown: { kind: 'unknown', typmod: -1 },
  void: { kind: 'void', typmod: -1 },
  record: { kind: 'record', typmod: -1 },
  int2vector: { kind: 'int2vector', typmod: -1 },
  oidvector: { kind: 'oidvector', typmod: -1 },
} as const satisfies Record<string, SqlType>;

export function arrayOf(elem: SqlType): SqlType {
  return { kind: 'array', typmod: -1, elem };
}

export type Value = null | boolean | number | bigint | string | Buffer | Decimal | Interval | Value[] | JsonValue | { json: unknown };
export type JsonValue = { jsonb: unknown };

/** OIDs from pg_type.dat. */
const oidOf: Record<TypeKind, number> = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int2vector: 22,
  int4: 23,
  regproc: 24,
  text: 25,
  oid: 26,
  oidvector: 30,
  json: 114,
  float4: 700,
  float8: 701,
  unknown: 705,
  inet: 869,
  cidr: 650,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timetz: 1266,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  regclass: 2205,
  regtype: 2206,
  uuid: 2950,
  jsonb: 3802,
  // pg_type lists record before void, as PostgreSQL's catalog does (pgJDBC's getTypeInfo keeps that order).
  record: 2249,
  void: 2278,
  array: 0,
};

const arrayOidOf: Partial<Record<TypeKind, number>> = {
  bool: 1000,
  bytea: 1001,
  char: 1002,
  name: 1003,
  int2: 1005,
  int4: 1007,
  text: 1009,
  varchar: 1015,
  bpchar: 1014,
  int8: 1016,
  float4: 1021,
  float8: 1022,
  oid: 1028,
  timestamp: 1115,
  date: 1182,
  time: 1183,
  timetz: 1270,
  timestamptz: 1185,
  interval: 1187,
  numeric: 1231,
  uuid: 2951,
  inet: 1041,
  cidr: 651,
  jsonb: 3807,
  json: 199,
  regtype: 2211,
  regclass: 2210,
};

export function typeOid(t: SqlType): number {
  // An enum's values go out under its own OID, as PostgreSQL's (a domain's under its base type's).
  if (t.enumType) return t.enumType.id;
  if (t.composite) return t.composite.id;
  if (t.kind === 'array') return arrayOidOf[(t.elem as SqlType).kind] ?? 1009;
  return oidOf[t.kind];
}

const kindByOid = new Map<number, TypeKind>(Object.entries(oidOf).map(([k, v]) => [v, k as TypeKind]));
const elemByArrayOid = new Map<number, TypeKind>(Object.entries(arrayOidOf).map(([k, v]) => [v as number, k as TypeKind]));

export function typeFromOid(oid: number): SqlType | undefined {
  const k = kindByOid.get(oid);
  if (k && k !== 'array') return { kind: k, typmod: -1 };
  const e = elemByArrayOid.get(oid);
  if (e) return arrayOf({ kind: e, typmod: -1 });
  return undefined;
}

export function allTypeOids(): { oid: number; kind: TypeKind; arrayOid: number }[] {
  return (Object.entries(oidOf) as [TypeKind, number][])
    .filter(([k]) => k !== 'array')
    .map(([kind, oid]) => ({ oid, kind, arrayOid: arrayOidOf[kind] ?? 0 }));
}

/** pg_type.typname */
export function typeName(t: SqlType): string {
  if (t.kind === 'array') return '_' + typeName(t.elem as SqlType);
  return t.kind;
}

/** Type length for RowDescription (pg_type.typlen). */
export function typeLen(t: SqlType): number {
  switch (t.kind) {
    case 'bool':
    case 'char':
      return 1;
    case 'int2':
      return 2;
    case 'int4':
    case 'float4':
    case 'oid':
    case 'regclass':
    case 'regtype':
    case 'regproc':
    case 'date':
      return 4;
    case 'int8':
    case 'float8':
    case 'timestamp':
    case 'timestamptz':
    case 'time':
      return 8;
    case 'timetz':
      return 12;
    case 'interval':
    case 'uuid':
      return 16;
    case 'name':
      return 64;
    default:
      return -1;
  }
}

/** How PostgreSQL's format_type() renders a type with its modifier (\d, SHOW CREATE TABLE). */
export function formatType(t: SqlType): string {
  if (t.domain) return t.domain.name;
  if (t.enumType) return t.enumType.name;
  if (t.composite) return t.composite.name;
  switch (t.kind) {
    case 'int2':
      return 'smallint';
    case 'int4':
      return 'integer';
    case 'int8':
      return 'bigint';
    case 'float4':
      return 'real';
    case 'float8':
      return 'double precision';
    case 'bool':
      return 'boolean';
    case 'varchar':
      return t.typmod >= 0 ? `character varying(${t.typmod})` : 'character varying';
    case 'bpchar':
      return t.typmod >= 0 ? `character(${t.typmod})` : 'bpchar';
    case 'numeric':
      return t.typmod >= 0 ? `numeric(${t.typmod >> 16},${t.typmod & 0xffff})` : 'numeric';
    case 'timestamp':
      return 'timestamp without time zone';
    case 'timestamptz':
      return 'timestamp with time zone';
    case 'time':
      return 'time without time zone';
    case 'timetz':
      return 'time with time zone';
    case 'char':
      return '"char"';
    case 'array':
      return formatType(t.elem as SqlType) + '[]';
    default:
      return t.kind;
  }
}

export type TypeCategory = 'B' | 'N' | 'S' | 'U' | 'D' | 'T' | 'A' | 'X' | 'P' | 'I';

export function category(t: SqlType): TypeCategory {
  switch (t.kind) {
    case 'bool':
      return 'B';
    case 'int2':
    case 'int4':
    case 'int8':
    case 'float4':
    case 'float8':
    case 'numeric':
    case 'oid':
    case 'regclass':
    case 'regtype':
    case 'regproc':
      return 'N';
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
    case 'char':
      return 'S';
    case 'date':
    case 'timestamp':
    case 'timestamptz':
    case 'time':
    case 'timetz':
      return 'D';
    case 'interval':
      return 'T';
    case 'inet':
    case 'cidr':
      return 'I';
    case 'array':
      return 'A';
    case 'unknown':
      return 'X';
    default:
      return 'U';
  }
}

export function isNumeric(t: SqlType): boolean {
  return t.kind === 'int2' || t.kind === 'int4' || t.kind === 'int8' || t.kind === 'float4' || t.kind === 'float8' || t.kind === 'numeric';
}

export function isInteger(t: SqlType): boolean {
  return t.kind === 'int2' || t.kind === 'int4' || t.kind === 'int8';
}

export function isString(t: SqlType): boolean {
  return category(t) === 'S';
}

/** The numeric promotion order used to pick the common type of arithmetic. */
const numericRank: Partial<Record<TypeKind, number>> = { int2: 1, int4: 2, int8: 3, numeric: 4, float4: 5, float8: 6 };

export function numericRankOf(t: SqlType): number {
  return numericRank[t.kind] ?? 0;
}

/** A type without its domain (the domain's base type), as operators and functions compute. */
export function baseType(t: SqlType): SqlType {
  if (!t.domain) return t;
  const { domain: _d, ...rest } = t;
  return rest;
}

export function sameType(a: SqlType, b: SqlType): boolean {
  if (a.kind !== b.kind) return false;
  if (a.enumType?.id !== b.enumType?.id) return false;
  if (a.kind === 'array') return sameType(a.elem as SqlType, b.elem as SqlType);
  return true;
}

/**
 * The common type of a set of types (UNION, CASE, COALESCE, IN lists), as PostgreSQL's
 * select_common_type: unknown yields to anything; numeric types promote; strings go to text.
 */
export function commonType(types0: SqlType[], context: string): SqlType {
  // Inputs of one domain keep it; otherwise the domains' base types meet (select_common_type).
  const domains = new Set(types0.filter((t) => t.kind !== 'unknown').map((t) => t.domain?.id));
  const types = domains.size === 1 ? types0 : types0.map(baseType);
  const known = types.filter((t) => t.kind !== 'unknown');
  if (known.length === 0) return T.text;
  let best = known[0] as SqlType;
  for (const t of known.slice(1)) {
    if (sameType(t, best)) continue;
    const oidLike = (x: SqlType) => x.kind === 'oid' || x.kind === 'regclass' || x.kind === 'regtype' || x.kind === 'regproc';
    if ((oidLike(t) && (oidLike(best) || isInteger(best))) || (oidLike(best) && isInteger(t))) {
      best = T.oid;
      continue;
    }
    if (isNumeric(t) && isNumeric(best)) {
      if (numericRankOf(t) > numericRankOf(best)) best = t;
      continue;
    }
    if (isString(t) && isString(best)) {
      best = T.text;
      continue;
    }
    if ((t.kind === 'timestamp' && best.kind === 'timestamptz') || (t.kind === 'timestamptz' && best.kind === 'timestamp')) {
      best = T.timestamptz;
      continue;
    }
    if ((t.kind === 'date' && (best.kind === 'timestamp' || best.kind === 'timestamptz')) || (best.kind === 'date' && (t.kind === 'timestamp' || t.kind === 'timestamptz'))) {
      best = t.kind === 'date' ? best : t;
      continue;
    }
    if ((t.kind === 'time' || t.kind === 'timetz') && (best.kind === 'time' || best.kind === 'timetz')) {
      best = T.timetz;
      continue;
    }
    if ((t.kind === 'inet' || t.kind === 'cidr') && (best.kind === 'inet' || best.kind === 'cidr')) {
      best = T.inet;
      continue;
    }
    if ((t.kind === 'json' || t.kind === 'jsonb') && (best.kind === 'json' || best.kind === 'jsonb')) {
      best = T.jsonb;
      continue;
    }
    throw new PgError(SqlState.DatatypeMismatch, `${context} types ${formatType(best)} and ${formatType(t)} cannot be matched`);
  }
  if (best.kind === 'varchar' || best.kind === 'bpchar' || best.kind === 'name') {
    // Mixed lengths collapse to the unconstrained type.
    if (known.some((t) => t.typmod !== best.typmod)) return { kind: best.kind, typmod: -1 };
  }
  return best;
}

// ---- session settings that affect values ----

export interface ValueContext {
  timeZone: string;
  /** Statement timestamp in microseconds since the epoch, for now()/'now'. */
  now: () => number;
  extraFloatDigits: number;
  /** DateStyle's field order for ambiguous numeric dates (default MDY). */
  dateOrder?: 'MDY' | 'DMY' | 'YMD';
  /** bytea_output (default hex). */
  byteaOutput?: 'hex' | 'escape';
  /** IntervalStyle (default postgres). */
  intervalStyle?: 'postgres' | 'postgres_verbose' | 'sql_standard' | 'iso_8601';
  /** regclass output: the relation's name, schema-qualified when not on the search_path (null: unknown OID, printed as a number). */
  regclassName?: (oid: number) => string | null;
}

// ---- text output ----

export function formatFloat8(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return 'Infinity';
  if (f === -Infinity) return '-Infinity';
  if (Object.is(f, -0)) return '-0';
  // PostgreSQL 12+ prints the shortest representation that round-trips (like JS), but switches to
  // exponent form when the exponent is < -4 or >= 15 (JS switches at 21).
  const exp = Math.floor(Math.log10(Math.abs(f)));
  if (f !== 0 && (exp < -4 || exp >= 15)) {
    const s = f.toExponential();
    const [mant, e] = s.split('e') as [string, string];
    const en = Number(e);
    return `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  return String(f);
}

/**
 * float4out/float8out with extra_float_digits <= 0: "%.*g" with FLT_DIG/DBL_DIG plus
 * extra_float_digits significant digits (at least 1).
 */
export function formatFloatDigits(f: number, digits0: number): string {
  if (Number.isNaN(f) || !Number.isFinite(f)) return formatFloat8(f);
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const digits = Math.max(1, digits0);
  const [mant, e] = f.toExponential(digits - 1).split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= digits) {
    const m = mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant;
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  // Place the point in the rounded significant digits (so the fixed form is the same rounding).
  const neg = mant.startsWith('-');
  const ds = mant.replace(/^-/, '').replace('.', '');
  let fixed: string;
  if (exp >= 0) fixed = ds.length > exp + 1 ? `${ds.slice(0, exp + 1)}.${ds.slice(exp + 1)}` : ds + '0'.repeat(exp + 1 - ds.length);
  else fixed = `0.${'0'.repeat(-exp - 1)}${ds}`;
  if (fixed.includes('.')) fixed = fixed.replace(/\.?0+$/, '');
  return neg ? `-${fixed}` : fixed;
}

/**
 * f to p significant digits; where f lies exactly halfway between two p-digit decimals,
 * the one with an even last digit (as Ryu's shortest output, PostgreSQL's float4out), not
 * toPrecision's larger one (1190.53125 to 8 digits is 1190.5312).
 */
function shortestTieToEven(f: number, p: number): string {
  const s = f.toPrecision(p);
  const long = Math.abs(f).toPrecision(Math.min(100, p + 30));
  const digits = long.replace(/e.*$/, '').replace('.', '').replace(/^0+/, '');
  if (!/^\d+50*$/.test(digits) || digits.length !== p + 1 + (digits.length - p - 1) || digits[p] !== '5' || !/^0*$/.test(digits.slice(p + 1))) return s;
  const m = /^(-?)(\d+)(\.?)(\d*)(e.*)?$/.exec(s);
  if (!m) return s;
  const all = (m[2] ?? '') + (m[4] ?? '');
  const last = Number(all[all.length - 1]);
  if (last % 2 === 0) return s;
  // toPrecision rounded the tie up (away from zero): the even neighbour is one unit lower.
  const lowered = (BigInt(all) - 1n).toString().padStart(all.length, '0');
  if (lowered.length !== all.length) return s;
  const intLen = (m[2] ?? '').length;
  return `${m[1]}${lowered.slice(0, intLen)}${m[3]}${lowered.slice(intLen)}${m[5] ?? ''}`;
}

export function formatFloat4(f: number): string {
  if (Number.isNaN(f) || !Number.isFinite(f)) return formatFloat8(f);
  // Shortest digits that round-trip through float32.
  for (let p = 1; p <= 9; p++) {
    const s = shortestTieToEven(f, p);
    if (decimalToFloat4(s) === Math.fround(f)) {
      const n = Number(s);
      const exp = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
      if (n !== 0 && (exp < -4 || exp >= 6 + 0)) {
        if (exp >= 6 || exp < -4) {
          const e = Number(s).toExponential(p - 1);
          const [mant, ee] = e.split('e') as [string, string];
          const en = Number(ee);
          const m = mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant;
          return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
        }
      }
      return String(n);
    }
  }
  return String(f);
}

function escapeArrayElem(s: string): string {
  if (s === '' || /[{},"\\\s]/.test(s) || /^null$/i.test(s)) return '"' + s.replace(/["\\]/g, '\\$&') + '"';
  return s;
}

/** The text format of a value, exactly as PostgreSQL's output functions write it. */
export function formatValue(v: Value, t: SqlType, ctx: ValueContext): string | null {
  if (v === null) return null;
  switch (t.kind) {
    case 'bool':
      return v ? 't' : 'f';
    case 'int2':
    case 'int4':
    case 'int8':
    case 'oid':
      return String(v);
    case 'regclass':
      return ctx.regclassName?.(v as number) ?? String(v);
    case 'float8':
      return ctx.extraFloatDigits > 0 ? formatFloat8(v as number) : formatFloatDigits(v as number, 15 + ctx.extraFloatDigits);
    case 'float4':
      return ctx.extraFloatDigits > 0 ? formatFloat4(v as number) : formatFloatDigits(v as number, 6 + ctx.extraFloatDigits);
    case 'numeric':
      return (v as Decimal).toString();
    case 'bytea':
      return ctx.byteaOutput === 'escape' ? byteaEscape(v as Buffer) : '\\x' + (v as Buffer).toString('hex');
    case 'date':
      return formatDate(v as number);
    case 'time':
      return formatTime(v as number);
    case 'timetz':
      return v as string;
    case 'timestamp':
      return formatTimestamp(v as number);
    case 'timestamptz':
      return formatTimestamptz(v as number, ctx.timeZone);
    case 'interval':
      return ctx.intervalStyle && ctx.intervalStyle !== 'postgres' ? formatIntervalStyle(v as Interval, ctx.intervalStyle) : formatInterval(v as Interval);
    case 'jsonb':
      return formatJsonb((v as JsonValue).jsonb);
    case 'json':
      return (v as { json: unknown }).json as string;
    case 'array': {
      const arr = v as Value[];
      const done = preformatted.get(arr);
      if (done && done.type === t && done.timeZone === ctx.timeZone) return done.text;
      const et = t.elem as SqlType;
      // A multi-dimensional array nests braces (array_md.ts): {{1,2},{3,4}}.
      const level = (a: Value[]): string => '{' + a.map((e) => (e === null ? 'NULL' : Array.isArray(e) ? level(e as Value[]) : escapeArrayElem(formatValue(e, et, ctx) as string))).join(',') + '}';
      return level(arr);
    }
    case 'int2vector':
    case 'oidvector':
      return (v as number[]).join(' ');
    case 'regtype': {
      const rt = typeFromOid(v as number);
      return rt ? formatType(rt) : String(v);
    }
    case 'void':
      return '';
    case 'record': {
      if (!Array.isArray(v)) return String(v);
      // record_out: (f1,f2,…); NULL is empty; a field that is empty or holds a quote, backslash,
      // parenthesis, comma or white space is double-quoted with " and \ doubled.
      const fs = t.fields;
      return (
        '(' +
        (v as Value[])
          .map((e, i) => {
            if (e === null) return '';
            const f = formatValue(e, fs?.[i]?.type ?? T.text, ctx) as string;
            return f === '' || /["\\(),\s]/.test(f) ? '"' + f.replace(/["\\]/g, (c) => c + c) + '"' : f;
          })
          .join(',') +
        ')'
      );
    }
    default:
      return String(v);
  }
}

/** bytea_output = escape: printable ASCII as is, a backslash doubled, other bytes as \\ooo (byteaout). */
function byteaEscape(b: Buffer): string {
  let out = '';
  for (const c of b) {
    if (c === 0x5c) out += '\\\\';
    else if (c < 0x20 || c > 0x7e) out += '\\' + c.toString(8).padStart(3, '0');
    else out += String.fromCharCode(c);
  }
  return out;
}

/** Text forms of large arrays computed ahead in slices (formatArraySliced), for formatValue. */
const preformatted = new WeakMap<Value[], { type: SqlType; timeZone: string; text: string }>();

/**
 * Computes the text form of a large array `sliceElements` elements at a time, yielding between
 * slices (the driver returns to the event loop there), and keeps it for formatValue: the result
 * encoding of a 20M-element array_agg then takes many short steps instead of one long one.
 */
export function* formatArraySliced(arr: Value[], t: SqlType, ctx: ValueContext, sliceElements: number): Generator<void, void, undefined> {
  if (isMultiDim(arr)) return; // formatValue nests them; only one-dimensional ones are sliced
  const et = t.elem as SqlType;
  const parts: string[] = [];
  for (let i = 0; i < arr.length; i += sliceElements) {
    const chunk: string[] = [];
    const end = Math.min(arr.length, i + sliceElements);
    for (let j = i; j < end; j++) {
      const e = arr[j] as Value;
      chunk.push(e === null ? 'NULL' : escapeArrayElem(formatValue(e, et, ctx) as string));
    }
    parts.push(chunk.join(','));
    yield;
  }
  preformatted.set(arr, { type: t, timeZone: ctx.timeZone, text: '{' + parts.join(',') + '}' });
}

/** jsonb output: keys sorted (shorter first, then bytewise), ", " and ": " separators. */
export function formatJsonb(j: unknown): string {
  if (j === null) return 'null';
  if (typeof j === 'string') return JSON.stringify(j);
  if (typeof j === 'number' || typeof j === 'boolean') return String(j);
  if (j instanceof Decimal) return j.toString();
  if (Array.isArray(j)) return '[' + j.map(formatJsonb).join(', ') + ']';
  const o = j as Record<string, unknown>;
  const keys = Object.keys(o).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  return '{' + keys.map((k) => `${JSON.stringify(k)}: ${formatJsonb(o[k])}`).join(', ') + '}';
}

/** JSON text to the jsonb representation (types/json.ts: exact numbers, PostgreSQL's errors). */
export function parseJsonb(s: string, jsonb = true): unknown {
  return parseJsonText(s, jsonb);
}

// ---- text input ----

function intOverflow(t: SqlType): PgError {
  const name = t.kind === 'int2' ? 'smallint' : t.kind === 'int4' ? 'integer' : 'bigint';
  return new PgError(SqlState.NumericValueOutOfRange, `${name} out of range`);
}

const intRanges = { int2: [-32768, 32767], int4: [-2147483648, 2147483647] } as const;

export function checkIntRange(n: number, t: SqlType): number {
  if (t.kind === 'int2' || t.kind === 'int4') {
    const [lo, hi] = intRanges[t.kind];
    if (!(n >= lo && n <= hi)) throw intOverflow(t);
  }
  return n;
}

export function checkInt8(n: bigint): bigint {
  if (n < -9223372036854775808n || n > 9223372036854775807n) throw intOverflow(T.int8);
  return n;
}

export function parseBool(s: string): boolean {
  const t = s.trim().toLowerCase();
  if (['t', 'true', 'yes', 'y', 'on', '1'].includes(t) || (t.length > 1 && 'true'.startsWith(t)) || (t.length > 1 && 'yes'.startsWith(t))) return true;
  if (['f', 'false', 'no', 'n', 'off', '0'].includes(t) || (t.length > 1 && 'false'.startsWith(t)) || (t.length > 2 && 'off'.startsWith(t))) return false;
  throw new PgError(SqlState.InvalidTextRepresentation, `invalid input syntax for type boolean: "${s}"`);
}

function parseUuid(s: string): string {
  const h = s.trim().replace(/^\{|\}$/g, '').replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(h)) throw new PgError(SqlState.InvalidTextRepresentation, `invalid input syntax for type uuid: "${s}"`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function parseBytea(s: string): Buffer {
  if (s.startsWith('\\x')) {
    const hex = s.slice(2).replace(/\s/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new PgError(SqlState.InvalidTextRepresentation, `invalid hexadecimal data: odd number of digits`);
    return Buffer.from(hex, 'hex');
  }
  // escape format
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) {
      if (s[i + 1] === '\\') {
        out.push(92);
        i++;
      } else if (/^[0-3][0-7]{2}$/.test(s.slice(i + 1, i + 4))) {
        out.push(parseInt(s.slice(i + 1, i + 4), 8));
        i += 3;
      } else throw new PgError(SqlState.InvalidTextRepresentation, 'invalid input syntax for type bytea');
    } else {
      for (const b of Buffer.from(s[i] as string)) out.push(b);
    }
  }
  return Buffer.from(out);
}

/** int2in/int4in/int8in: out of range is `value "…" is out of range for type …` (not arithmetic's "integer out of range"). */
function parseIntText(s: string, t: SqlType): number | bigint {
  // Fast path: plain short decimals (the common case in bulk loads), exact as doubles.
  if (s.length > 0 && s.length <= 15 && /^-?\d+$/.test(s)) {
    const n = Number(s);
    if (t.kind === 'int8') return BigInt(n);
    if (!fitsInt(n, t)) throw intInputOutOfRange(s, t);
    return n;
  }
  const x = s.trim();
  if (!/^[+-]?\d+$/.test(x)) throw new PgError(SqlState.InvalidTextRepresentation, `invalid input syntax for type ${intTypeName(t)}: "${s}"`);
  if (t.kind === 'int8') {
    const b = BigInt(x);
    if (b < -9223372036854775808n || b > 9223372036854775807n) throw intInputOutOfRange(s, t);
    return b;
  }
  const n = Number(x);
  if (!fitsInt(n, t)) throw intInputOutOfRange(s, t);
  return n;
}

function fitsInt(n: number, t: SqlType): boolean {
  if (t.kind !== 'int2' && t.kind !== 'int4') return true;
  const [lo, hi] = intRanges[t.kind];
  return n >= lo && n <= hi;
}

function intInputOutOfRange(s: string, t: SqlType): PgError {
  return new PgError(SqlState.NumericValueOutOfRange, `value "${s}" is out of range for type ${intTypeName(t)}`);
}

function intTypeName(t: SqlType): string {
  return t.kind === 'int2' ? 'smallint' : t.kind === 'int4' ? 'integer' : 'bigint';
}

export function parseFloatText(s: string, t: SqlType): number {
  const x = s.trim().toLowerCase();
  let f: number;
  if (x === 'nan') f = NaN;
  else if (x === 'infinity' || x === '+infinity' || x === 'inf') f = Infinity;
  else if (x === '-infinity' || x === '-inf') f = -Infinity;
  else if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(x)) f = Number(x);
  else throw new PgError(SqlState.InvalidTextRepresentation, `invalid input syntax for type ${t.kind === 'float4' ? 'real' : 'double precision'}: "${s}"`);
  // strtod/strtof range errors: overflow to infinity, or a nonzero input underflowing to zero.
  const nonzero = /[1-9]/.test(x.replace(/e.*$/, ''));
  const typeName = t.kind === 'float4' ? 'real' : 'double precision';
  if (t.kind === 'float4') {
    // Rounded once from the decimal, as strtof (types/float4_parse.ts).
    const r = Number.isFinite(f) && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(x) ? decimalToFloat4(x) : Math.fround(f);
    if ((!Number.isFinite(r) && Number.isFinite(f)) || (r === 0 && nonzero) || (!Number.isFinite(f) && !/inf/.test(x) && !Number.isNaN(f))) throw new PgError(SqlState.NumericValueOutOfRange, `"${s}" is out of range for type ${typeName}`);
    return r;
  }
  if ((!Number.isFinite(f) && !/inf/.test(x) && !Number.isNaN(f)) || (f === 0 && nonzero)) throw new PgError(SqlState.NumericValueOutOfRange, `"${s}" is out of range for type ${typeName}`);
  return f;
}

/** Parses the text form of a value of type t (casts from text, parameters, literals). */
export function parseValue(s: string, t: SqlType, ctx: ValueContext): Value {
  if (t.kind === 'record' && t.fields) {
    const fs = t.fields;
    return splitRecordText(s, fs.length).map((x, i) => (x === null ? null : parseValue(x, (fs[i] as { type: SqlType }).type, ctx)));
  }
  switch (t.kind) {
    case 'bool':
      return parseBool(s);
    case 'int2':
    case 'int4':
    case 'int8':
      return parseIntText(s, t);
    case 'oid':
    case 'regclass':
    case 'regtype':
    case 'regproc': {
      if (!/^\s*\d+\s*$/.test(s)) throw new PgError(SqlState.InvalidTextRepresentation, `invalid input syntax for type oid: "${s}"`);
      return Number(s);
    }
    case 'float4':
    case 'float8':
      return parseFloatText(s, t);
    case 'numeric': {
      const d = Decimal.parse(s);
      return t.typmod >= 0 ? d.applyTypmod(t.typmod >> 16, t.typmod & 0xffff) : d;
    }
    case 'text':
    case 'name':
    case 'unknown':
      return s;
    case 'varchar':
    case 'bpchar':
      return applyStringTypmod(s, t, false);
    case 'char':
      return s.slice(0, 1);
    case 'bytea':
      return parseBytea(s);
    case 'date':
      return parseDate(s, ctx.timeZone, ctx.now, ctx.dateOrder);
    case 'time':
      return parseTime(s, ctx.timeZone, ctx.now, ctx.dateOrder);
    case 'timetz': {
      const x = parseTimeTz(s, ctx.timeZone, ctx.now, ctx.dateOrder);
      return makeTimeTz(x.us, x.zone);
    }
    case 'timestamp':
      return parseTimestamp(s, ctx.timeZone, ctx.now, ctx.dateOrder);
    case 'timestamptz':
      return parseTimestamptz(s, ctx.timeZone, ctx.now, ctx.dateOrder);
    case 'interval':
      return decodeInterval(s, t.typmod, ctx.intervalStyle === 'sql_standard');
    case 'uuid':
      return parseUuid(s);
    case 'inet':
    case 'cidr':
      return inetIn(s, t.kind === 'cidr');
    case 'jsonb':
      return { jsonb: parseJsonb(s) };
    case 'json':
      parseJsonb(s, false);
      return { json: s };
    case 'array':
      return parseArrayText(s, t.elem as SqlType, ctx);
    default:
      throw new PgError(SqlState.FeatureNotSupported, `cannot parse values of type ${formatType(t)}`);
  }
}

/**
 * An array literal, checked as PostgreSQL's array_in checks it: optional dimensions
 * ("[1:2][1:3]="), nested braces for more dimensions (rectangular, at most 6), quoted elements
 * with backslash escapes, unquoted elements trimmed (NULL is null), nothing after the closing
 * brace. Lower bounds other than 1 cannot be held here and are refused (0A000).
 */
function parseArrayText(s: string, elem: SqlType, ctx: ValueContext): Value[] {
  const malformed = (detail: string) => new PgError(SqlState.InvalidTextRepresentation, `malformed array literal: "${s}"`, { detail });
  let i = 0;
  const n = s.length;
  const isWs = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  while (isWs(s[i])) i++;
  let dims: [number, number][] | null = null;
  if (s[i] === '[') {
    dims = [];
    while (s[i] === '[') {
      const m = /^\[\s*([+-]?\d+)\s*(?::\s*([+-]?\d+)\s*)?\]/.exec(s.slice(i));
      if (!m) throw malformed('Missing array dimension value.');
      const lo = m[2] !== undefined ? Number(m[1]) : 1;
      const hi = Number(m[2] ?? m[1]);
      if (hi < lo - 1) throw new PgError(SqlState.InvalidParameterValue, 'upper bound cannot be less than lower bound');
      dims.push([lo, hi]);
      i += m[0].length;
    }
    while (isWs(s[i])) i++;
    if (s[i] !== '=') throw malformed('Missing "=" after array dimensions.');
    i++;
    while (isWs(s[i])) i++;
  }
  if (s[i] !== '{') throw malformed(dims ? 'Array contents must start with "{".' : 'Array value must start with "{" or dimension information.');
  // One brace level: either sub-arrays or elements. Sub-arrays of one level must have the same
  // shape (array_md.ts); the depth is bounded by MAXDIM.
  const shapes = new Map<number, number>();
  let leafDepth = -1;
  const level = (depth: number): Value[] => {
    checkDimCount(depth + 1);
    i++; // '{'
    const out: Value[] = [];
    let subArrays: boolean | null = null;
    while (isWs(s[i])) i++;
    if (s[i] === '}') {
      i++;
      if (depth > 0) throw malformed('Unexpected "}" character.');
      return out;
    }
    for (;;) {
      while (isWs(s[i])) i++;
      if (s[i] === '{') {
        if (subArrays === false) throw malformed('Unexpected "{" character.');
        subArrays = true;
        out.push(level(depth + 1));
      } else {
        if (subArrays === true) throw malformed('Unexpected array element.');
        if (leafDepth >= 0 && leafDepth !== depth) throw malformed('Multidimensional arrays must have sub-arrays with matching dimensions.');
        subArrays = false;
        leafDepth = depth;
        out.push(element());
      }
      while (isWs(s[i])) i++;
      if (s[i] === ',') {
        i++;
        continue;
      }
      if (s[i] === '}') {
        i++;
        break;
      }
      throw malformed(i >= n ? 'Unexpected end of input.' : 'Unexpected array element.');
    }
    const prev = shapes.get(depth);
    if (prev !== undefined && prev !== out.length) throw malformed('Multidimensional arrays must have sub-arrays with matching dimensions.');
    shapes.set(depth, out.length);
    return out;
  };
  const element = (): Value => {
    let item = '';
    let quoted = false;
    let sawAny = false;
    if (s[i] === '"') {
      quoted = true;
      i++;
      for (;;) {
        if (i >= n) throw malformed('Unexpected end of input.');
        const c = s[i] as string;
        if (c === '\\') {
          if (i + 1 >= n) throw malformed('Unexpected end of input.');
          item += s[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') {
          i++;
          break;
        }
        item += c;
        i++;
      }
      while (isWs(s[i])) i++;
    } else {
      // Unquoted: up to the delimiter or brace; backslash escapes a character; outer whitespace trimmed.
      let trailingWs = 0;
      for (;;) {
        if (i >= n) throw malformed('Unexpected end of input.');
        const c = s[i] as string;
        if (c === ',' || c === '}') break;
        if (c === '{' || c === '"') throw malformed('Unexpected array element.');
        if (c === '\\') {
          if (i + 1 >= n) throw malformed('Unexpected end of input.');
          item += s[i + 1];
          i += 2;
          trailingWs = 0;
          sawAny = true;
          quoted = true;
          continue;
        }
        item += c;
        trailingWs = isWs(c) ? trailingWs + 1 : 0;
        sawAny = true;
        i++;
      }
      if (trailingWs > 0) item = item.slice(0, item.length - trailingWs);
      if (!sawAny || item === '') throw malformed('Unexpected "' + (s[i] ?? '') + '" character.');
    }
    return !quoted && /^null$/i.test(item) ? null : parseValue(item, elem, ctx);
  };
  const out = level(0);
  while (isWs(s[i])) i++;
  if (i < n) throw malformed('Junk after closing right brace.');
  if (dims) {
    const got = arrayDims(out);
    if (out.length === 0 || dims.length !== got.length || dims.some(([lo, hi], k) => hi - lo + 1 !== got[k])) throw malformed('Specified array dimensions do not match array contents.');
    if (dims.some(([lo]) => lo !== 1)) throw new PgError(SqlState.FeatureNotSupported, 'array lower bounds other than 1 are not supported');
  }
  return out;
}

/** An interval's total span in microseconds (30-day months), exactly. */
function intervalSpan(iv: Interval): bigint {
  return (BigInt(iv.months) * 30n + BigInt(iv.days)) * 86_400_000_000n + BigInt(Math.round(iv.micros));
}

/** varchar(n)/char(n): explicit casts truncate, assignments error (SQL standard, as PostgreSQL). */
export function applyStringTypmod(s: string, t: SqlType, explicit: boolean): string {
  if (t.typmod < 0) return s;
  const n = t.typmod;
  // UTF-16 length >= code point count, so a string this short fits without counting.
  if (s.length <= n && t.kind !== 'bpchar') return s;
  const len = [...s].length;
  if (len > n) {
    const tail = [...s].slice(n).join('');
    if (!explicit && tail.trim() !== '') {
      throw new PgError(SqlState.StringDataRightTruncation, `value too long for type ${formatType(t)}`);
    }
    s = [...s].slice(0, n).join('');
  }
  if (t.kind === 'bpchar') return s + ' '.repeat(Math.max(0, n - [...s].length));
  return s;
}

// ---- comparison ----

/** Compares two non-null values of the same type. */
export function compareValues(a: Value, b: Value, t: SqlType): number {
  if (t.enumType) return compareEnumLabels(t.enumType.id, a as string, b as string);
  switch (t.kind) {
    case 'numeric':
      return (a as Decimal).cmp(b as Decimal);
    case 'float4':
    case 'float8': {
      const x = a as number;
      const y = b as number;
      // PostgreSQL: NaN equals NaN and sorts above everything.
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
      if (Number.isNaN(y)) return -1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'bytea':
      return Buffer.compare(a as Buffer, b as Buffer);
    case 'interval': {
      // interval_cmp_value: (months × 30 + days) days and the time, exactly (128-bit in PostgreSQL).
      const x = intervalSpan(a as Interval);
      const y = intervalSpan(b as Interval);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'bpchar': {
      const x = (a as string).replace(/ +$/, '');
      const y = (b as string).replace(/ +$/, '');
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'jsonb':
      return compareJsonb((a as JsonValue).jsonb, (b as JsonValue).jsonb);
    case 'inet':
    case 'cidr':
      return compareInet(a as string, b as string);
    case 'timetz':
      return compareTimeTz(a as string, b as string);
    case 'array': {
      // array_cmp: the elements in storage order, then the element count, then the number and
      // lengths of the dimensions (so {{1,2},{3,4}} > {1,2,3,4}).
      const multi = isMultiDim(a as Value[]) || isMultiDim(b as Value[]);
      const x = flattenArray(a as Value[]);
      const y = flattenArray(b as Value[]);
      const et = t.elem as SqlType;
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const xi = x[i] as Value;
        const yi = y[i] as Value;
        if (xi === null || yi === null) {
          if (xi === yi) continue;
          return xi === null ? 1 : -1;
        }
        const c = compareValues(xi, yi, et);
        if (c !== 0) return c;
      }
      if (x.length !== y.length || !multi) return x.length - y.length;
      const dx = arrayDims(a as Value[]);
      const dy = arrayDims(b as Value[]);
      if (dx.length !== dy.length) return dx.length - dy.length;
      for (let i = 0; i < dx.length; i++) if (dx[i] !== dy[i]) return (dx[i] as number) - (dy[i] as number);
      return 0;
    }
    case 'record': {
      // record_cmp (btree order): field by field, each in its own type; a NULL field sorts after
      // any value and equals another NULL; a shorter record sorts first.
      if (!Array.isArray(a) || !Array.isArray(b)) break;
      const x = a as Value[];
      const y = b as Value[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const xi = x[i] as Value;
        const yi = y[i] as Value;
        if (xi === null || yi === null) {
          if (xi === yi) continue;
          return xi === null ? 1 : -1;
        }
        // A field of unknown type (a record without field types) compares as the default case does.
        const c = compareValues(xi, yi, t.fields?.[i]?.type ?? T.text);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    default:
      break;
  }
  // Strings compare by code point (the "C" collation, which Strata uses everywhere).
  const x = a as string | number | bigint | boolean;
  const y = b as string | number | bigint | boolean;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function valuesEqual(a: Value, b: Value, t: SqlType): boolean {
  return compareValues(a, b, t) === 0;
}

/** A hashable key for GROUP BY / DISTINCT / hash joins. */
export function hashKey(v: Value, t: SqlType): string {
  if (v === null) return '\u0000N';
  switch (t.kind) {
    case 'numeric': {
      const d = v as Decimal;
      if (d.isNaN()) return 'NaN';
      const p = d.keyParts();
      return `${p.sign}:${p.digits}:${p.exp}`;
    }
    case 'float4':
    case 'float8':
      return Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '0' : String(v);
    case 'bytea':
      return (v as Buffer).toString('hex');
    case 'interval':
      return String(intervalSpan(v as Interval));
    case 'bpchar':
      return (v as string).replace(/ +$/, '');
    case 'jsonb':
      return jsonbHashKey((v as JsonValue).jsonb);
    case 'array': {
      const a = v as Value[];
      const flat = JSON.stringify(flattenArray(a).map((e) => hashKey(e, t.elem as SqlType)));
      return isMultiDim(a) ? arrayDims(a).join('x') + flat : flat;
    }
    case 'record':
      // Each field keyed in its own type (1.0 and 1.00 group together), fields kept apart
      // (ROW('a,b') and ROW('a', 'b') must not share a key).
      if (Array.isArray(v)) return 'R' + JSON.stringify((v as Value[]).map((e, i) => hashKey(e, t.fields?.[i]?.type ?? T.text)));
      return String(v);
    default:
      return typeof v === 'bigint' ? v.toString() : String(v);
  }
}

export { Decimal, usPerDay };
