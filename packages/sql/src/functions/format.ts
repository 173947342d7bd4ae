/**
 * String building from values of any type: format() (PostgreSQL's text_format: positional
 * `%n$`, `-` flag, widths direct or from arguments, %s %I %L %%), concat, concat_ws, and the
 * quote_* functions. Values of other types are printed with their type's output function.
 */
import { PgError, SqlState } from '@strata/common';
import { T, formatValue } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import type { ExecCtx } from '../exec/context.js';
import { ANY, def } from './registry.js';
import type { Fn } from './registry.js';

const anyT = ANY;
const txt = T.text;

/** The text output of a value of type t (text values as they are). */
function textOf(v: Value, t: SqlType, ctx: ExecCtx): string {
  if (typeof v === 'string') return v;
  return formatValue(v, t, ctx.vctx) as string;
}

/** The type of argument i, when the last type stands for every variadic one. */
function typeAt(types: SqlType[], i: number): SqlType {
  return types[Math.min(i, types.length - 1)] ?? T.text;
}

/**
 * PostgreSQL's non-unreserved keywords (reserved, column-name and type/function-name): an
 * identifier spelled like one of them is quoted by quote_ident and %I.
 */
const quotedKeywords = new Set(
  (
    'all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create current_catalog current_date ' +
    'current_role current_time current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign from grant ' +
    'group having in initially intersect into lateral leading limit localtime localtimestamp not null offset on only or order placing primary ' +
    'references returning select session_user some symmetric table then to trailing true union unique user using variadic when where window with ' +
    'authorization binary collation concurrently cross current_schema freeze full ilike inner is isnull join left like natural notnull outer ' +
    'overlaps right similar tablesample verbose between bigint bit boolean char character coalesce dec decimal exists extract float greatest ' +
    'grouping inout int integer interval least national nchar none normalize nullif numeric out overlay position precision real row setof ' +
    'smallint substring time timestamp treat trim values varchar xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse ' +
    'xmlpi xmlroot xmlserialize xmltable'
  ).split(' '),
);

/** quote_ident: quotes unless the name is a plain lower-case identifier and not a keyword that needs quoting. */
export function quoteIdent(s: string): string {
  if (/^[a-z_][a-z0-9_]*$/.test(s) && !quotedKeywords.has(s)) return s;
  return `"${s.replace(/"/g, '""')}"`;
}

/** quote_literal: '' doubles quotes; a backslash makes it an E'' literal with doubled backslashes. */
export function quoteLiteral(s: string): string {
  const body = s.replace(/'/g, "''");
  if (!s.includes('\\')) return `'${body}'`;
  return `E'${body.replace(/\\/g, '\\\\')}'`;
}

function formatError(msg: string, hint?: string): PgError {
  return new PgError(SqlState.InvalidParameterValue, msg, hint ? { hint } : {});
}

function pad(s: string, width: number, left: boolean): string {
  if (width === 0) return s;
  const len = [...s].length;
  if (len >= width) return s;
  const fill = ' '.repeat(width - len);
  return left ? s + fill : fill + s;
}

/** text_format: args[0] is the format string; the rest are values of types[1…]. */
function textFormat(args: Value[], types: SqlType[], ctx: ExecCtx): string {
  const f = args[0] as string;
  const nargs = args.length;
  let out = '';
  let arg = 0;
  let i = 0;
  const digits = (): number | null => {
    const m = /^\d+/.exec(f.slice(i));
    if (!m) return null;
    i += m[0].length;
    const n = Number(m[0]);
    if (n > 2147483647) throw formatError('number is out of range');
    return n;
  };
  while (i < f.length) {
    const c = f[i] as string;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    if (i >= f.length)
      throw formatError('unterminated format() type specifier', 'For a single "%" use "%%".');
    if (f[i] === '%') {
      out += '%';
      i++;
      continue;
    }
    // %[position$][-][width|*|*n$]type
    let argpos = -1;
    let widthpos = -1;
    let width = 0;
    let minus = false;
    const first = digits();
    let widthDone = false;
    if (first !== null) {
      if (f[i] === '$') {
        if (first === 0) throw formatError('format specifies argument 0, but arguments are numbered from 1');
        argpos = first;
        i++;
        if (i >= f.length)
          throw formatError('unterminated format() type specifier', 'For a single "%" use "%%".');
      } else {
        width = first;
        widthDone = true;
      }
    }
    if (!widthDone) {
      if (f[i] === '-') {
        minus = true;
        i++;
      }
      if (f[i] === '*') {
        i++;
        const n = digits();
        if (n !== null) {
          if (f[i] !== '$') throw formatError('width argument position must be ended by "$"');
          if (n === 0) throw formatError('format specifies argument 0, but arguments are numbered from 1');
          widthpos = n;
          i++;
        } else widthpos = 0;
      } else {
        const n = digits();
        if (n !== null) width = n;
      }
    }
    if (i >= f.length)
      throw formatError('unterminated format() type specifier', 'For a single "%" use "%%".');
    const type = f[i] as string;
    i++;
    if (type !== 's' && type !== 'I' && type !== 'L')
      throw formatError(`unrecognized format() type specifier "${type}"`, 'For a single "%" use "%%".');
    if (widthpos >= 0) {
      arg = widthpos > 0 ? widthpos : arg + 1;
      if (arg >= nargs) throw formatError('too few arguments for format()');
      const wv = args[arg] as Value;
      if (wv === null) width = 0;
      else {
        const n = typeof wv === 'number' ? wv : Number(textOf(wv, typeAt(types, arg), ctx));
        if (!Number.isInteger(n))
          throw new PgError(
            SqlState.InvalidTextRepresentation,
            `invalid input syntax for type integer: "${textOf(wv, typeAt(types, arg), ctx)}"`,
          );
        width = n;
      }
    }
    arg = argpos > 0 ? argpos : arg + 1;
    if (arg >= nargs) throw formatError('too few arguments for format()');
    if (width < 0) {
      minus = true;
      width = -width;
    }
    const v = args[arg] as Value;
    let s: string;
    if (type === 's') s = v === null ? '' : textOf(v, typeAt(types, arg), ctx);
    else if (type === 'I') {
      if (v === null)
        throw new PgError(
          SqlState.NullValueNotAllowed,
          'null values cannot be formatted as an SQL identifier',
        );
      s = quoteIdent(textOf(v, typeAt(types, arg), ctx));
    } else s = v === null ? 'NULL' : quoteLiteral(textOf(v, typeAt(types, arg), ctx));
    out += pad(s, width, minus);
  }
  return out;
}

const formatFn =
  (types: SqlType[]): Fn =>
  (args, ctx) =>
    args[0] === null ? null : textFormat(args, types, ctx);
def(
  'format',
  { args: [txt], result: txt, fn: formatFn([txt]), typed: formatFn },
  { args: [txt, anyT], variadic: true, nullable: true, result: txt, fn: formatFn([txt]), typed: formatFn },
);

const concatFn =
  (types: SqlType[]): Fn =>
  (args, ctx) =>
    args.map((v, i) => (v === null ? '' : textOf(v, typeAt(types, i), ctx))).join('');
def('concat', {
  args: [anyT],
  variadic: true,
  nullable: true,
  result: txt,
  fn: concatFn([txt]),
  typed: concatFn,
});

const concatWsFn =
  (types: SqlType[]): Fn =>
  (args, ctx) => {
    const sep = args[0] as Value;
    if (sep === null) return null;
    const parts: string[] = [];
    for (let i = 1; i < args.length; i++) {
      const v = args[i] as Value;
      if (v !== null) parts.push(textOf(v, typeAt(types, i), ctx));
    }
    return parts.join(sep as string);
  };
def('concat_ws', {
  args: [txt, anyT],
  variadic: true,
  nullable: true,
  result: txt,
  fn: concatWsFn([txt]),
  typed: concatWsFn,
});

def('quote_ident', { args: [txt], result: txt, fn: ([s]) => quoteIdent(s as string) });
const quoteLiteralFn =
  (types: SqlType[]): Fn =>
  ([v], ctx) =>
    quoteLiteral(textOf(v as Value, typeAt(types, 0), ctx));
def(
  'quote_literal',
  { args: [txt], result: txt, fn: quoteLiteralFn([txt]) },
  { args: [anyT], result: txt, fn: quoteLiteralFn([txt]), typed: quoteLiteralFn },
);
const quoteNullableFn =
  (types: SqlType[]): Fn =>
  ([v], ctx) =>
    v === null ? 'NULL' : quoteLiteral(textOf(v, typeAt(types, 0), ctx));
def(
  'quote_nullable',
  { args: [txt], result: txt, nullable: true, fn: quoteNullableFn([txt]) },
  { args: [anyT], result: txt, nullable: true, fn: quoteNullableFn([txt]), typed: quoteNullableFn },
);
