/**
 * SQL values to JSON (PostgreSQL's datum_to_json/datum_to_jsonb): to_json, to_jsonb and the
 * json[b]_build_object/array constructors. Numbers stay exact (numeric text, NaN and infinities
 * as strings), dates and timestamps are ISO 8601 strings ("2024-01-02T03:04:05+00:00"), other
 * types their text output; json text keeps PostgreSQL's spacing per constructor.
 */
import { PgError, SqlState } from '@strata/common';
import { Decimal } from '../types/numeric.js';
import { formatType, formatValue } from '../types/types.js';
import { T } from '../types/types.js';
import type { JsonValue, SqlType, Value } from '../types/types.js';
import { formatJsonb } from '../types/types.js';
import { jsonNumber, parseJsonText } from '../types/json.js';
import type { ExecCtx } from '../exec/context.js';
import { ANY, def } from './registry.js';
import type { Fn } from './registry.js';

const anyT = ANY;

function typeAt(types: SqlType[], i: number): SqlType {
  return types[Math.min(i, types.length - 1)] ?? T.text;
}

/** XSD (ISO 8601) text of date/time values, as JSON holds them. */
function xsdText(v: Value, t: SqlType, ctx: ExecCtx): string {
  const s = formatValue(v, t, ctx.vctx) as string;
  if (/infinity/.test(s)) return s;
  if (t.kind === 'date') return s;
  let x = s.replace(' ', 'T');
  if (t.kind === 'timestamptz')
    x = x.replace(
      /([+-]\d\d)(?::(\d\d))?(?::(\d\d))?$/,
      (_m, h: string, m?: string, sec?: string) => `${h}:${m ?? '00'}${sec ? ':' + sec : ''}`,
    );
  return x;
}

/** The jsonb value of a SQL value of type t. */
export function toJsonb(v: Value, t: SqlType, ctx: ExecCtx): unknown {
  if (v === null) return null;
  switch (t.kind) {
    case 'bool':
      return v;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'float4':
    case 'float8':
    case 'numeric': {
      const s = formatValue(v, t, ctx.vctx) as string;
      return /^-?\d/.test(s) ? jsonNumber(s) : s;
    }
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return xsdText(v, t, ctx);
    case 'jsonb':
      return (v as JsonValue).jsonb;
    case 'json':
      return parseJsonText((v as { json: string }).json);
    case 'array':
      // A multi-dimensional array nests JSON arrays, as PostgreSQL's array_to_json.
      return (v as Value[]).map((e) => toJsonb(e, Array.isArray(e) ? t : (t.elem as SqlType), ctx));
    case 'record': {
      // composite_to_jsonb: an object of the fields (a later field of the same name wins).
      if (!t.fields) return formatValue(v, t, ctx.vctx);
      const o: Record<string, unknown> = {};
      t.fields.forEach((f, i) => Object.defineProperty(o, f.name, { value: toJsonb((v as Value[])[i] ?? null, f.type, ctx), enumerable: true, writable: true, configurable: true }));
      return o;
    }
    case 'unknown':
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
      return typeof v === 'string' ? v : formatValue(v, t, ctx.vctx);
    default:
      return formatValue(v, t, ctx.vctx);
  }
}

/** The json text (to_json style: no spaces inside arrays) of a SQL value of type t. */
export function toJsonText(v: Value, t: SqlType, ctx: ExecCtx): string {
  if (v === null) return 'null';
  switch (t.kind) {
    case 'json':
      return (v as { json: string }).json;
    case 'jsonb':
      return formatJsonb((v as JsonValue).jsonb);
    case 'array':
      return '[' + (v as Value[]).map((e) => toJsonText(e, Array.isArray(e) ? t : (t.elem as SqlType), ctx)).join(',') + ']';
    case 'record':
      return t.fields ? recordJsonText(v as Value[], t, ctx, false) : JSON.stringify(String(formatValue(v, t, ctx.vctx)));
    default: {
      const j = toJsonb(v, t, ctx);
      if (typeof j === 'string') return JSON.stringify(j);
      if (j instanceof Decimal) return j.toString();
      return String(j);
    }
  }
}

/** composite_to_json: {"f":value,…}; with line feeds (row_to_json(r, true)) the fields are separated by ",\n ". */
function recordJsonText(v: Value[], t: SqlType, ctx: ExecCtx, lineFeeds: boolean): string {
  const fields = t.fields ?? [];
  return '{' + fields.map((f, i) => `${JSON.stringify(f.name)}:${toJsonText(v[i] ?? null, f.type, ctx)}`).join(lineFeeds ? ',\n ' : ',') + '}';
}

/** array_to_json(a, true): the top level's elements separated by ",\n ". */
function arrayJsonText(v: Value[], t: SqlType, ctx: ExecCtx, lineFeeds: boolean): string {
  return '[' + v.map((e) => toJsonText(e, Array.isArray(e) ? t : (t.elem as SqlType), ctx)).join(lineFeeds ? ',\n ' : ',') + ']';
}

const rowToJsonFn =
  (types: SqlType[]): Fn =>
  ([v, pretty], ctx) => {
    const t = typeAt(types, 0);
    if (t.kind !== 'record' || !t.fields) throw new PgError(SqlState.UndefinedFunction, `function row_to_json(${formatType(t)}) does not exist`);
    return { json: recordJsonText(v as Value[], t, ctx, pretty === true) };
  };
def('row_to_json', { args: [anyT], result: T.json, fn: rowToJsonFn([T.text]), typed: rowToJsonFn }, { args: [anyT, T.bool], result: T.json, fn: rowToJsonFn([T.text]), typed: rowToJsonFn });
const arrayToJsonFn =
  (types: SqlType[]): Fn =>
  ([v, pretty], ctx) => {
    const t = typeAt(types, 0);
    if (t.kind !== 'array') throw new PgError(SqlState.UndefinedFunction, `function array_to_json(${formatType(t)}) does not exist`);
    return { json: arrayJsonText(v as Value[], t, ctx, pretty === true) };
  };
def('array_to_json', { args: [anyT], result: T.json, fn: arrayToJsonFn([T.text]), typed: arrayToJsonFn }, { args: [anyT, T.bool], result: T.json, fn: arrayToJsonFn([T.text]), typed: arrayToJsonFn });

function keyText(v: Value, t: SqlType, ctx: ExecCtx, i: number): string {
  if (v === null) throw new PgError(SqlState.NullValueNotAllowed, `argument ${i + 1}: key must not be null`);
  if (t.kind === 'array' || t.kind === 'json' || t.kind === 'jsonb' || t.kind === 'record') {
    throw new PgError(SqlState.InvalidParameterValue, 'key value must be scalar, not array, composite, or json');
  }
  return typeof v === 'string' ? v : (formatValue(v, t, ctx.vctx) as string);
}

function evenArgs(n: number): void {
  if (n % 2 !== 0)
    throw new PgError(SqlState.InvalidParameterValue, 'argument list must have even number of elements', {
      hint: 'The arguments of jsonb_build_object() must consist of alternating keys and values.',
    });
}

const toJsonbFn =
  (types: SqlType[]): Fn =>
  ([v], ctx) => ({ jsonb: toJsonb(v as Value, typeAt(types, 0), ctx) });
const toJsonFn =
  (types: SqlType[]): Fn =>
  ([v], ctx) =>
    v === null ? null : { json: toJsonText(v, typeAt(types, 0), ctx) };
def('to_jsonb', { args: [anyT], result: T.jsonb, fn: toJsonbFn([T.text]), typed: toJsonbFn });
def('to_json', { args: [anyT], result: T.json, fn: toJsonFn([T.text]), typed: toJsonFn });

const jsonbObjectFn =
  (types: SqlType[]): Fn =>
  (args, ctx) => {
    evenArgs(args.length);
    const o: Record<string, unknown> = {};
    for (let i = 0; i + 1 < args.length; i += 2)
      o[keyText(args[i] as Value, typeAt(types, i), ctx, i)] = toJsonb(
        args[i + 1] as Value,
        typeAt(types, i + 1),
        ctx,
      );
    return { jsonb: o };
  };
const jsonbArrayFn =
  (types: SqlType[]): Fn =>
  (args, ctx) => ({ jsonb: args.map((v, i) => toJsonb(v, typeAt(types, i), ctx)) });
const jsonObjectFn =
  (types: SqlType[]): Fn =>
  (args, ctx) => {
    evenArgs(args.length);
    const parts: string[] = [];
    for (let i = 0; i + 1 < args.length; i += 2)
      parts.push(
        `${JSON.stringify(keyText(args[i] as Value, typeAt(types, i), ctx, i))} : ${toJsonText(args[i + 1] as Value, typeAt(types, i + 1), ctx)}`,
      );
    return { json: '{' + parts.join(', ') + '}' };
  };
const jsonArrayFn =
  (types: SqlType[]): Fn =>
  (args, ctx) => ({ json: '[' + args.map((v, i) => toJsonText(v, typeAt(types, i), ctx)).join(', ') + ']' });
def(
  'jsonb_build_object',
  { args: [], result: T.jsonb, fn: jsonbObjectFn([]) },
  {
    args: [anyT],
    variadic: true,
    nullable: true,
    result: T.jsonb,
    fn: jsonbObjectFn([T.text]),
    typed: jsonbObjectFn,
  },
);
def(
  'jsonb_build_array',
  { args: [], result: T.jsonb, fn: jsonbArrayFn([]) },
  {
    args: [anyT],
    variadic: true,
    nullable: true,
    result: T.jsonb,
    fn: jsonbArrayFn([T.text]),
    typed: jsonbArrayFn,
  },
);
def(
  'json_build_object',
  { args: [], result: T.json, fn: jsonObjectFn([]) },
  {
    args: [anyT],
    variadic: true,
    nullable: true,
    result: T.json,
    fn: jsonObjectFn([T.text]),
    typed: jsonObjectFn,
  },
);
def(
  'json_build_array',
  { args: [], result: T.json, fn: jsonArrayFn([]) },
  {
    args: [anyT],
    variadic: true,
    nullable: true,
    result: T.json,
    fn: jsonArrayFn([T.text]),
    typed: jsonArrayFn,
  },
);
