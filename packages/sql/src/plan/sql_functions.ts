/**
 * Calls of SQL-language functions (CREATE FUNCTION … LANGUAGE sql; catalog/routines.ts).
 *
 * A call is bound where it is written: the body's statements are parsed and planned as subqueries
 * whose outer scope is the function's parameters — one scope column per parameter, named `$n`
 * and, when declared with one, by its name (qualified by the function's name too, as PostgreSQL
 * allows `fname.param`). Body columns shadow parameter names, as in PostgreSQL. At run time the
 * argument values are pushed on ctx.outer as one row (as a correlated subquery pushes its outer
 * row: plan/subquery.ts), every statement of the body is drained, and the last one's rows are the
 * result: its first row for a scalar function (NULL without rows), all of them for SETOF/TABLE.
 *
 * INVARIANT: a body is planned at most functionNestingMax levels deep (a function whose body calls
 * itself, directly or not, is refused with 0A000 instead of being planned forever: recursion
 * would need run-time planning, which a statement's plan does not have).
 */
import { PgError, SqlState } from '@strata/common';
import type { CatalogView } from '../catalog/catalog.js';
import type { FunctionDesc } from '../catalog/routines.js';
import { functionSignature, inParams } from '../catalog/routines.js';
import type { Expr, SelectStmt } from '../parser/ast.js';
import { parseExpression, parseStatements } from '../parser/parser.js';
import { collect } from '../exec/context.js';
import type { ExecCtx, Operator, Row } from '../exec/context.js';
import { canAssignCast, canImplicitCast, castValue } from '../types/cast.js';
import { T, formatType, isNumeric, sameType } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import type { Binder, BoundExpr } from './binder.js';
import { Scope } from './scope.js';
import type { ScopeCol } from './scope.js';
import { sqlFunctionNestingMax, sqlFunctionRowsMax } from '../constants.js';
import { referencedTables } from '../matviews.js';

/** The functions a (possibly qualified) name can mean: that schema's, or those of the search path's schemas. */
export function visibleFunctions(view: CatalogView, session: { database: string; searchPath: string[] }, parts: string[]): FunctionDesc[] {
  const name = parts[parts.length - 1] as string;
  const db = view.database(parts.length === 3 ? (parts[0] as string) : session.database);
  if (!db) return [];
  if (parts.length > 1) {
    const schemaName = parts[parts.length - 2] as string;
    if (schemaName === 'pg_catalog' || schemaName === 'information_schema') return [];
    const s = view.schema(db.id, schemaName);
    return s ? view.functionsNamed(s.id, name) : [];
  }
  const out: FunctionDesc[] = [];
  for (const sn of session.searchPath) {
    const s = view.schema(db.id, sn);
    if (s) out.push(...view.functionsNamed(s.id, name));
  }
  return out;
}

/** Bodies being planned, per binder (the recursion guard of the INVARIANT). */
const planning = new WeakMap<Binder, number[]>();

/**
 * Picks the overload for the arguments (exact types first, then implicit casts; trailing
 * parameters with defaults may be left out; named arguments go to their parameters, after the
 * positional ones, as PostgreSQL's named notation). Null if none fits; else the function and its
 * arguments in parameter order (undefined where the default applies).
 */
export function pickFunction(fns: FunctionDesc[], args: BoundExpr[], names?: (string | null)[]): { fn: FunctionDesc; args: (BoundExpr | undefined)[] } | null {
  let best: { fn: FunctionDesc; args: (BoundExpr | undefined)[] } | null = null;
  let bestScore = -1;
  for (const f of fns) {
    const ps = inParams(f);
    if (args.length > ps.length) continue;
    const placed: (BoundExpr | undefined)[] = new Array<BoundExpr | undefined>(ps.length).fill(undefined);
    let ok = true;
    args.forEach((a, i) => {
      const n = names?.[i] ?? null;
      const k = n === null ? i : ps.findIndex((p) => p.name === n);
      if (k < 0 || placed[k] !== undefined) ok = false;
      else placed[k] = a;
    });
    if (!ok || ps.some((p, i) => placed[i] === undefined && p.default === null)) continue;
    let score = 0;
    for (let i = 0; i < ps.length; i++) {
      const a = placed[i];
      if (a === undefined) continue;
      const have = a.type;
      const want = (ps[i] as { type: SqlType }).type;
      if (sameType(have, want) || (have.kind === want.kind && have.kind !== 'array')) score += 3;
      else if (have.kind === 'unknown') score += want.kind === 'text' ? 2 : 1;
      else if (canImplicitCast(have, want)) score += isNumeric(have) && isNumeric(want) ? 2 : 1;
      else {
        ok = false;
        break;
      }
    }
    if (ok && score > bestScore) {
      best = { fn: f, args: placed };
      bestScore = score;
    }
  }
  return best;
}

/** $n parameters of the body become references to the parameter scope's `$n` columns. */
function paramsToColumns<T>(node: T): T {
  if (Array.isArray(node)) return node.map((x) => paramsToColumns(x as unknown)) as T;
  if (node === null || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  if (o.kind === 'param' && typeof o.index === 'number') return { kind: 'column', parts: [`$${o.index}`], pos: o.pos } as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = paramsToColumns(v);
  return out as T;
}

/** The planned body: its statements, the last one giving the result. */
export interface PlannedBody {
  fn: FunctionDesc;
  plans: Operator[];
  /** Casts of the last statement's columns to the declared result (one per column). */
  convert: (row: Row, ctx: ExecCtx) => Value;
  /** The row a call yields in FROM (a composite result's fields, else the value). */
  convertRow: (row: Row, ctx: ExecCtx) => Row;
}

function mismatch(fn: FunctionDesc, detail: string): PgError {
  const declared = fn.rowTypeName ?? (fn.result.kind === 'record' ? 'record' : formatType(fn.result));
  return new PgError(SqlState.InvalidFunctionDefinition, `return type mismatch in function declared to return ${declared}`, { detail });
}

/** Plans a function's body for the binder's statement (also used by CREATE FUNCTION to check it). */
export function planBody(b: Binder, fn: FunctionDesc): PlannedBody {
  const stack = planning.get(b) ?? [];
  if (stack.includes(fn.id) || stack.length >= sqlFunctionNestingMax) {
    throw new PgError(SqlState.FeatureNotSupported, `recursive SQL function calls are not supported (function ${functionSignature(fn)})`);
  }
  planning.set(b, [...stack, fn.id]);
  try {
    return planBodyStatements(b, fn);
  } catch (e) {
    // A position inside the body means nothing in the calling statement's text.
    if (e instanceof PgError && e.fields.position !== undefined) {
      const { position: _p, ...fields } = e.fields;
      throw new PgError(e.code, e.message, fields);
    }
    throw e;
  } finally {
    planning.set(b, stack);
  }
}

function planBodyStatements(b: Binder, fn: FunctionDesc): PlannedBody {
  {
    const ins = inParams(fn);
    // Each parameter appears once per name; the row pushed at run time repeats the value.
    const cols: ScopeCol[] = ins.flatMap((p, i): ScopeCol[] => [{ name: `$${i + 1}`, rel: null, type: p.type }, ...(p.name ? [{ name: p.name, rel: fn.name, type: p.type }] : [])]);
    const scope = new Scope(cols, null);
    const stmts = parseStatements(fn.body);
    if (stmts.length === 0) {
      if (fn.result.kind !== 'void') throw mismatch(fn, "Function's final statement must be SELECT or INSERT/UPDATE/DELETE RETURNING.");
    }
    const plans: Operator[] = [];
    for (const { stmt } of stmts) {
      if (stmt.kind !== 'query') {
        throw new PgError(SqlState.FeatureNotSupported, `SQL functions whose body has statements other than SELECT are not supported (function ${functionSignature(fn)})`);
      }
      plans.push(b.env.planSubquery(paramsToColumns(stmt as SelectStmt), scope));
      const reads = referencedTables(stmt, (parts) => {
        try {
          return b.env.resolveRegclass(parts.map((p) => `"${p.replace(/"/g, '""')}"`).join('.'));
        } catch {
          return undefined;
        }
      });
      for (const id of reads) (fn.volatility === 'v' ? b.volatileReads : b.stableReads).add(id);
    }
    const last = plans[plans.length - 1];
    const lastCols = last?.columns ?? [];
    const vctxCast = (v: Value, from: SqlType, to: SqlType, ctx: ExecCtx): Value => (v === null || sameType(from, to) ? v : castValue(v, from.kind === 'unknown' ? T.text : from, to, ctx.vctx, false));
    const check = (from: SqlType, to: SqlType) => {
      if (from.kind === 'unknown' || sameType(from, to) || canAssignCast(from, to)) return;
      throw mismatch(fn, `Actual return type is ${formatType(from)}.`);
    };
    if (fn.result.kind === 'void') {
      return { fn, plans, convert: () => null, convertRow: () => [null] };
    }
    const fields = fn.result.kind === 'record' ? fn.result.fields : undefined;
    if (fields) {
      // A composite result: one column per field (or one column holding the whole record).
      const only = lastCols[0]?.type;
      if (lastCols.length === 1 && only?.kind === 'record' && fields.length !== 1) {
        // One column holding a whole row: its fields must be the declared ones, type for type
        // (PostgreSQL checks this when the function runs, 42804).
        const rf = only.fields;
        const matches = rf === undefined || (rf.length === fields.length && rf.every((x, i) => sameType(x.type, (fields[i] as { type: SqlType }).type)));
        const take = (r: Row): Value[] | null => {
          const v = r[0] as Value[] | null;
          if (!matches || (v !== null && v.length !== fields.length)) throw new PgError(SqlState.DatatypeMismatch, 'function return row and query-specified return row do not match');
          return v;
        };
        return { fn, plans, convert: (r) => take(r), convertRow: (r) => take(r) ?? fields.map(() => null) };
      }
      if (lastCols.length > fields.length) throw mismatch(fn, 'Final statement returns too many columns.');
      if (lastCols.length < fields.length) throw mismatch(fn, 'Final statement returns too few columns.');
      fields.forEach((f, i) => check((lastCols[i] as { type: SqlType }).type, f.type));
      const conv = (r: Row, ctx: ExecCtx): Row => fields.map((f, i) => vctxCast(r[i] as Value, (lastCols[i] as { type: SqlType }).type, f.type, ctx));
      return { fn, plans, convert: (r, ctx) => conv(r, ctx) as Value, convertRow: conv };
    }
    if (lastCols.length !== 1) throw mismatch(fn, 'Final statement must return exactly one column.');
    const from = (lastCols[0] as { type: SqlType }).type;
    check(from, fn.result);
    const conv = (r: Row, ctx: ExecCtx): Value => vctxCast(r[0] as Value, from, fn.result, ctx);
    return { fn, plans, convert: conv, convertRow: (r, ctx) => [conv(r, ctx)] };
  }
}

/** The argument row a body reads: each IN parameter's value once per scope column of it. */
function argumentRow(fn: FunctionDesc, vals: Value[]): Row {
  const row: Row = [];
  inParams(fn).forEach((p, i) => {
    row.push(vals[i] ?? null);
    if (p.name) row.push(vals[i] ?? null);
  });
  return row;
}

/** Runs a planned body with the arguments: the last statement's rows (at most rowsMax). */
export function runBody(body: PlannedBody, vals: Value[], ctx: ExecCtx, rowsMax: number): Row[] {
  ctx.outer.push(argumentRow(body.fn, vals));
  try {
    let rows: Row[] = [];
    body.plans.forEach((p, i) => {
      const lastOne = i === body.plans.length - 1;
      rows = collect(p, ctx, lastOne ? Math.min(rowsMax, sqlFunctionRowsMax + 1) : sqlFunctionRowsMax + 1);
      if (rows.length > sqlFunctionRowsMax) throw new PgError(SqlState.ProgramLimitExceeded, `SQL function ${functionSignature(body.fn)} returned more than ${sqlFunctionRowsMax} rows`);
    });
    return rows;
  } finally {
    ctx.outer.pop();
  }
}

/** Binds the arguments of a call to `fn`: coerced to the parameter types, defaults filled in. */
export function bindArguments(b: Binder, fn: FunctionDesc, args: (BoundExpr | undefined)[]): BoundExpr[] {
  const ps = inParams(fn);
  return ps.map((p, i) => {
    const a = args[i] ?? b.bind(parseExpression(p.default as string) as Expr, new Scope([]));
    return b.coerce(a, p.type);
  });
}

/** A call of a user function in an expression: its value (a record for composite results). */
export function bindScalarCall(b: Binder, fn: FunctionDesc, args: (BoundExpr | undefined)[], pos: number): BoundExpr {
  if (fn.retSet) {
    throw new PgError(SqlState.FeatureNotSupported, `set-returning function ${fn.name}() is only supported in FROM or as a select-list item`, { position: pos + 1 });
  }
  const bound = bindArguments(b, fn, args);
  const body = planBody(b, fn);
  const evs = bound.map((a) => a.ev);
  const strict = fn.strict;
  const type: SqlType = fn.result;
  return {
    type,
    ev: (r, ctx) => {
      const vals = evs.map((e) => e(r, ctx));
      if (strict && vals.some((v) => v === null)) return null;
      const rows = runBody(body, vals, ctx, 1);
      // A void result is a NULL datum (PostgreSQL's SQL functions return one).
      return rows.length === 0 || type.kind === 'void' ? null : body.convert(rows[0] as Row, ctx);
    },
    shape: { k: 'other' },
    name: fn.name,
  };
}

/** The columns a call of `fn` in FROM yields. */
export function resultColumns(fn: FunctionDesc): { name: string; type: SqlType }[] {
  if (fn.result.kind === 'record' && fn.result.fields) return fn.result.fields.map((f) => ({ name: f.name, type: f.type }));
  return [{ name: fn.name, type: fn.result }];
}

/** A call of a user function in FROM: a generator of its rows for argument values. */
export function bindTableCall(b: Binder, fn: FunctionDesc, args: (BoundExpr | undefined)[]): { args: BoundExpr[]; rows: (ctx: ExecCtx, vals: Value[]) => Iterable<Row> } {
  const bound = bindArguments(b, fn, args);
  const body = planBody(b, fn);
  const width = resultColumns(fn).length;
  const nullRow = (): Row => new Array<Value>(width).fill(null);
  return {
    args: bound,
    rows: function* (ctx, vals) {
      if (fn.strict && vals.some((v) => v === null)) {
        if (!fn.retSet) yield nullRow();
        return;
      }
      const rows = runBody(body, vals, ctx, fn.retSet ? Infinity : 1);
      // SETOF void: the body runs, no rows come back (as PostgreSQL's).
      if (fn.result.kind === 'void' && fn.retSet) return;
      if (!fn.retSet) {
        yield rows.length === 0 ? nullRow() : body.convertRow(rows[0] as Row, ctx);
        return;
      }
      for (const r of rows) yield body.convertRow(r, ctx);
    },
  };
}
