/**
 * Binds expressions: resolves names against scopes, infers types (PostgreSQL's rules for unknown
 * literals and parameters, numeric promotion, implicit casts), and compiles each expression into
 * a closure over the input row.
 */
import { arrayElementAt, arraySlice, flattenArray, stackArrays } from '../types/array_md.js';
import { PgError, SqlState } from '@strata/common';
import { negateInterval } from '../types/datetime.js';
import type { Interval } from '../types/datetime.js';
import type { BulkValues, Expr, SelectStmt, TypeName } from '../parser/ast.js';
import { Decimal } from '../types/numeric.js';
import { parseInterval } from '../types/datetime.js';
import { canImplicitCast, castValue } from '../types/cast.js';
import {
  T,
  arrayOf,
  baseType,
  commonType,
  compareValues,
  hashKey,
  formatType,
  isNumeric,
  isInteger,
  isString,
  parseValue,
  sameType,
} from '../types/types.js';
import type { SqlType, Value, ValueContext } from '../types/types.js';
import type { ExecCtx, Operator, Row } from '../exec/context.js';
import type { Ev } from '../exec/operators.js';
import { ANY, lookupFunction, resolveBinaryOp } from '../functions/scalar.js';
import { compileLike, likeMatch } from '../regex/like.js';
import type { LikePattern } from '../regex/like.js';
import { similarTest } from '../regex/functions.js';
import type { Args, Overload } from '../functions/scalar.js';
import { aggregateNames, windowOnlyNames } from '../exec/aggregate.js';
import type { CatalogView } from '../catalog/catalog.js';
import type { SessionInfo } from '../exec/context.js';
import { Scope } from './scope.js';
import { bindScalarCall, pickFunction, visibleFunctions } from './sql_functions.js';
import { domainCheck, enumCheck, userTypeFromName } from './domains.js';
import type { DomainCheck } from './domains.js';
import type { FunctionDesc } from '../catalog/routines.js';
import { SqlStateX } from '../sqlstate.js';
import { glibcCbrt } from '../functions/math.js';
import { jsonbSubscript } from '../functions/json_functions.js';
import type { ScopeCol } from './scope.js';
import { exprDepthMax, functionArgsMax, inListBulkMin, inListHashMin } from '../constants.js';
import { stackDepthExceeded } from '../parser/parser.js';
import { subplanRows, valueSetOf } from './subquery.js';
import { checkRowArity, rowCompareOps, rowComparison, rowDistinct, rowIsNull } from './row_compare.js';
import type { RowPair } from './row_compare.js';
import type { SubplanRows, ValueSet } from './subquery.js';

export type Shape =
  | { k: 'col'; idx: number }
  /** Constant for one execution: a literal, a parameter ($n), or an outer (correlated) reference. */
  | { k: 'const'; param: number | null; outer?: true }
  | { k: 'cmp'; op: string; l: BoundExpr; r: BoundExpr }
  | { k: 'and'; args: BoundExpr[] }
  | { k: 'in'; arg: BoundExpr; list: BoundExpr[] }
  | { k: 'other' };

export interface BoundExpr {
  type: SqlType;
  ev: Ev;
  shape: Shape;
  /** The output column name PostgreSQL would give this expression. */
  name: string;
  /**
   * The name is a weak one (FigureColname's strength 1): a type cast's type or `case`. An
   * enclosing cast names the expression after its own type instead, as it does over an
   * unnamed expression ('?column?', strength 0); column and function names (strength 2) stay.
   */
  weakName?: boolean;
}

/** A hook that may bind an expression itself (aggregate and window stages use it). */
export type BindHook = (e: Expr, scope: Scope, b: Binder) => BoundExpr | null;

export interface BindEnv {
  catalog: CatalogView;
  session: SessionInfo;
  /** Parameter types, index 0 = $1. Unknown ones are filled in from context. */
  paramTypes: SqlType[];
  vctx: ValueContext;
  /** Plans a subquery with the given outer scope. */
  planSubquery: (q: SelectStmt, outer: Scope) => Operator;
  /** Resolves a relation name to its OID (regclass casts). */
  resolveRegclass: (name: string) => number;
  resolveSequence: (name: string) => number;
  /** Catalog functions that need to see descriptors (format_type, pg_get_expr, …). */
  catalogFunction: (name: string, args: BoundExpr[]) => BoundExpr | null;
}

const constEv = (v: Value): Ev => () => v;

function lit(v: Value, type: SqlType, name = '?column?'): BoundExpr {
  return { type, ev: constEv(v), shape: { k: 'const', param: null }, name };
}

/** A literal (or an expression of literals) that can be evaluated at bind time. */
export function isFoldable(e: BoundExpr): boolean {
  return e.shape.k === 'const' && e.shape.param === null && !e.shape.outer;
}

/**
 * time(p), timestamp(p), timestamptz(p): the precision is the typmod (values are rounded to it on
 * cast and assignment, types/cast.ts). Above 6 PostgreSQL warns and uses 6; below 0 is 22023.
 */
function dateTimeType(n: 'time' | 'timestamp' | 'timestamptz', t: TypeName): SqlType {
  const p = t.mods[0];
  if (p === undefined) return T[n];
  const label = n === 'time' ? 'TIME' : 'TIMESTAMP';
  if (!Number.isInteger(p) || p < 0) throw new PgError(SqlState.InvalidParameterValue, `${label}(${p}) precision must not be negative`, { position: t.pos + 1 });
  return { kind: n, typmod: Math.min(p, 6) };
}

export function typeFromName(t: TypeName): SqlType {
  let base: SqlType;
  const n = t.name.toLowerCase();
  switch (n) {
    case 'int':
    case 'integer':
    case 'int4':
    case 'serial':
    case 'serial4':
      base = T.int4;
      break;
    case 'smallint':
    case 'int2':
    case 'smallserial':
    case 'serial2':
      base = T.int2;
      break;
    case 'bigint':
    case 'int8':
    case 'bigserial':
    case 'serial8':
    case 'int64':
      base = T.int8;
      break;
    case 'real':
    case 'float4':
      base = T.float4;
      break;
    case 'float':
      base = t.mods[0] !== undefined && t.mods[0] <= 24 ? T.float4 : T.float8;
      break;
    case 'float8':
    case 'double':
      base = T.float8;
      break;
    case 'numeric':
    case 'decimal':
    case 'dec':
      base = t.mods.length > 0 ? { kind: 'numeric', typmod: ((t.mods[0] as number) << 16) | (t.mods[1] ?? 0) } : T.numeric;
      if (t.mods.length > 0 && ((t.mods[0] as number) < 1 || (t.mods[0] as number) > 1000)) {
        throw new PgError(SqlState.InvalidParameterValue, `NUMERIC precision ${t.mods[0]} must be between 1 and 1000`, { position: t.pos + 1 });
      }
      break;
    case 'bool':
    case 'boolean':
      base = T.bool;
      break;
    case 'text':
    case 'string':
      base = T.text;
      break;
    case 'varchar':
    case 'nvarchar':
      base = { kind: 'varchar', typmod: t.mods[0] ?? -1 };
      break;
    case 'nchar':
      base = { kind: 'bpchar', typmod: t.mods[0] ?? 1 };
      break;
    case 'varbytes':
      base = T.bytea;
      break;
    case 'bpchar':
      base = { kind: 'bpchar', typmod: t.mods[0] ?? (t.name === 'bpchar' && t.mods.length === 0 ? 1 : -1) };
      break;
    case 'char':
      base = { kind: 'bpchar', typmod: t.mods[0] ?? 1 };
      break;
    case '"char"':
      base = T.char;
      break;
    case 'name':
      base = T.name;
      break;
    case 'bytea':
    case 'bytes':
      base = T.bytea;
      break;
    case 'date':
      base = T.date;
      break;
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      base = dateTimeType(n, t);
      break;
    case 'interval':
      base = t.intervalTypmod !== undefined ? { kind: 'interval', typmod: t.intervalTypmod } : T.interval;
      if (t.intervalTypmod !== undefined && (t.intervalTypmod & 0xffff) !== 0xffff && (t.intervalTypmod & 0xffff) > 6) {
        throw new PgError(SqlState.InvalidParameterValue, `interval(${t.intervalTypmod & 0xffff}) precision must be between 0 and 6`, { position: t.pos + 1 });
      }
      break;
    case 'uuid':
      base = T.uuid;
      break;
    case 'timetz':
      base = T.timetz;
      break;
    case 'inet':
      base = T.inet;
      break;
    case 'cidr':
      base = T.cidr;
      break;
    case 'jsonb':
      base = T.jsonb;
      break;
    case 'json':
      base = T.json;
      break;
    case 'oid':
    case 'regnamespace':
    case 'regrole':
    case 'regoper':
    case 'regoperator':
    case 'regconfig':
    case 'regdictionary':
    case 'xid':
    case 'cid':
      base = T.oid;
      break;
    case 'regclass':
      base = T.regclass;
      break;
    case 'regtype':
      base = T.regtype;
      break;
    case 'regproc':
    case 'regprocedure':
      base = T.regproc;
      break;
    default:
      throw new PgError(SqlState.UndefinedObject, `type "${t.name}" does not exist`, { position: t.pos + 1 });
  }
  // int[][] is int[]: PostgreSQL has one array type per element type, whatever the dimensions.
  if (t.arrayDims > 0) base = arrayOf(base);
  return base;
}

export function isSerialType(t: TypeName): 'int2' | 'int4' | 'int8' | null {
  const n = t.name.toLowerCase();
  if (n === 'serial' || n === 'serial4') return 'int4';
  if (n === 'bigserial' || n === 'serial8') return 'int8';
  if (n === 'smallserial' || n === 'serial2') return 'int2';
  return null;
}

/** An AST key ignoring positions, to match GROUP BY expressions. */
export function exprKey(e: Expr): string {
  return JSON.stringify(e, (k, v: unknown) => (k === 'pos' ? undefined : v));
}

export function containsAggregate(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  if (Array.isArray(e)) return e.some(containsAggregate);
  const o = e as Record<string, unknown>;
  if (o.kind === 'query') return false; // aggregates inside subqueries belong to them
  if (o.kind === 'func' && !o.over && aggregateNames.has(((o.name as string[])[(o.name as string[]).length - 1] as string).toLowerCase())) return true;
  return Object.values(o).some(containsAggregate);
}

export function containsWindow(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  if (Array.isArray(e)) return e.some(containsWindow);
  const o = e as Record<string, unknown>;
  if (o.kind === 'query') return false;
  if (o.kind === 'func' && o.over) return true;
  return Object.values(o).some(containsWindow);
}

/** KWDB's group windows (plan/query.ts computes them for GROUP BY). */
const groupWindowFunctions = new Set(['count_window', 'state_window', 'session_window', 'event_window', 'time_window']);

/** Expressions whose result is one of their arguments: of a domain when all of them are (commonType). */
const keepsDomain = new Set(['coalesce', 'nullif', 'greatest', 'least']);

export class Binder {
  /** Hooks tried first at every node (aggregate/window stages). */
  hooks: BindHook[] = [];
  /** Where aggregates are illegal, the clause name for the error message. */
  noAggClause: string | null = null;
  /** Subqueries being planned, innermost last: whether anything inside references their outer scopes. */
  private readonly subqueries: { outer: Scope; correlated: boolean }[] = [];

  constructor(readonly env: BindEnv) {}

  get vctx(): ValueContext {
    return this.env.vctx;
  }

  withHooks<T>(hooks: BindHook[], f: () => T): T {
    const saved = this.hooks;
    this.hooks = hooks;
    try {
      return f();
    } finally {
      this.hooks = saved;
    }
  }

  // ---- coercion ------------------------------------------------------------------------------

  /** Casts a bound expression to `to` (implicit unless explicit). Resolves unknown literals/params. */
  coerce(e: BoundExpr, to: SqlType, explicit = false, context = 'expression'): BoundExpr {
    if (to.composite && e.type.kind === 'record' && e.type.composite?.id !== to.composite.id) {
      // A row value to a composite type: field by field (types/cast.ts castRecord).
      const from = e.type;
      const n = to.fields?.length ?? 0;
      if (from.fields && from.fields.length !== n) {
        throw new PgError(SqlState.CannotCoerce, `cannot cast type ${formatType(from)} to ${formatType(to)}`, { detail: `Input has too ${from.fields.length < n ? 'few' : 'many'} columns.` });
      }
      const inner = e.ev;
      return { ...e, type: to, ev: (row, ctx) => { const v = inner(row, ctx); return v === null ? null : castValue(v, from, to, ctx.vctx, explicit); }, shape: { k: 'other' } };
    }
    const r = this.coerceBase(e, to, explicit, context);
    if (to.enumType) {
      // Into an enum: from its own type as is; from text or an unknown literal, a label of it.
      if (e.type.enumType?.id === to.enumType.id) return r;
      if (e.type.enumType || (e.type.kind !== 'unknown' && !isString(e.type))) {
        throw new PgError(SqlState.CannotCoerce, `cannot cast type ${formatType(e.type)} to ${formatType(to)}`);
      }
      const check = enumCheck(this, to) as DomainCheck;
      if (isFoldable(r)) {
        check(r.ev([], undefined as unknown as ExecCtx), undefined as unknown as ExecCtx);
        return { ...r, type: to };
      }
      const inner = r.ev;
      return { ...r, type: to, ev: (row, ctx) => { const v = inner(row, ctx); check(v, ctx); return v; }, shape: r.shape.k === 'const' ? r.shape : { k: 'other' } };
    }
    // A domain's constraints hold for every value cast or assigned to it (plan/domains.ts).
    if (!to.domain || e.type.domain?.id === to.domain.id) return r;
    const check = domainCheck(this, to);
    if (!check) return { ...r, type: to };
    const inner = r.ev;
    return { ...r, type: to, ev: (row, ctx) => { const v = inner(row, ctx); check(v, ctx); return v; }, shape: { k: 'other' } };
  }

  /** Resolves a type name: a built-in type, else a domain on the search path (42704 if neither). */
  resolveType(t: TypeName): SqlType {
    try {
      return typeFromName(t);
    } catch (err) {
      if (!(err instanceof PgError) || err.code !== SqlState.UndefinedObject) throw err;
      const u = userTypeFromName(this.env.catalog, this.env.session, t);
      if (!u) throw err;
      return u;
    }
  }

  private coerceBase(e: BoundExpr, to: SqlType, explicit: boolean, context: string): BoundExpr {
    if (to.kind === 'unknown') return e;
    if (e.shape.k === 'const' && e.shape.param !== null && e.type.kind === 'unknown') {
      this.env.paramTypes[e.shape.param] = to;
      const idx = e.shape.param;
      return { type: to, ev: (_r, ctx) => ctx.params[idx] ?? null, shape: e.shape, name: e.name };
    }
    if (sameType(e.type, to) && !(to.typmod >= 0 && to.typmod !== e.type.typmod)) return e;
    if (!explicit && !canImplicitCast(e.type, to)) {
      throw new PgError(SqlState.DatatypeMismatch, `${context} is of type ${formatType(to)} but expression is of type ${formatType(e.type)}`);
    }
    const from = e.type;
    const vctx = this.vctx;
    if (isFoldable(e)) {
      // Fold constant casts now so errors point at the statement, and index selection sees a constant.
      const v = e.ev([], undefined as unknown as ExecCtx);
      const cv = v === null ? null : castValue(v, from, to, vctx, explicit);
      return { type: to, ev: constEv(cv), shape: e.shape, name: e.name };
    }
    const inner = e.ev;
    return {
      type: to,
      ev: (r, ctx) => {
        const v = inner(r, ctx);
        return v === null ? null : castValue(v, from, to, ctx.vctx, explicit);
      },
      shape: e.shape.k === 'const' ? e.shape : { k: 'other' },
      name: e.name,
    };
  }

  /** Resolves unknown-typed expressions (string literals, untyped params) to text. */
  resolveUnknown(e: BoundExpr): BoundExpr {
    return e.type.kind === 'unknown' ? this.coerce(e, T.text) : e;
  }

  // ---- expressions ---------------------------------------------------------------------------

  /**
   * Binds an expression. INVARIANT: recursion depth ≤ exprDepthMax (the parser already bounds the
   * trees it builds; this counter guards trees built elsewhere, and the closures evaluation nests
   * are as deep as this recursion).
   */
  bind(e: Expr, scope: Scope): BoundExpr {
    // Literals without hooks (the bulk of long IN and VALUES lists) need none of the machinery.
    if (e.kind === 'literal' && this.hooks.length === 0) return this.literal(e);
    if (++this.depth > exprDepthMax) {
      this.depth--;
      throw stackDepthExceeded();
    }
    try {
      const r = this.bindNode(e, scope);
      // Operators and built-in functions compute in the domain's base type (PostgreSQL's).
      if (r.type.domain && (e.kind === 'binary' || e.kind === 'unary' || (e.kind === 'func' && !this.userFunctionResult.has(r) && !keepsDomain.has(e.name[e.name.length - 1] as string)))) return { ...r, type: baseType(r.type) };
      return r;
    } finally {
      this.depth--;
    }
  }

  private depth = 0;
  /**
   * Tables read by the bodies of VOLATILE SQL functions this binder bound (plan/sql_functions.ts):
   * such a function sees the writes its calling statement made so far (PostgreSQL's rule), so a
   * statement writing one of these tables must evaluate row by row (UPDATE) or refuse.
   */
  readonly volatileReads = new Set<number>();
  /** Tables read by STABLE/IMMUTABLE SQL function bodies: they must not see the statement's own writes. */
  readonly stableReads = new Set<number>();
  /** Calls of SQL functions, whose declared result type (a domain too) is theirs. */
  private readonly userFunctionResult = new WeakSet<BoundExpr>();

  private bindNode(e: Expr, scope: Scope): BoundExpr {
    for (const h of this.hooks) {
      const r = h(e, scope, this);
      if (r) return r;
    }
    switch (e.kind) {
      case 'literal':
        return this.literal(e);
      case 'column':
        return this.column(e.parts, e.pos, scope);
      case 'param': {
        const idx = e.index - 1;
        if (idx < 0 || idx >= 65535) throw new PgError(SqlState.UndefinedParameter, `there is no parameter $${e.index}`, { position: e.pos + 1 });
        while (this.env.paramTypes.length <= idx) this.env.paramTypes.push(T.unknown);
        const t = this.env.paramTypes[idx] as SqlType;
        return { type: t, ev: (_r, ctx) => ctx.params[idx] ?? null, shape: { k: 'const', param: idx }, name: '?column?' };
      }
      case 'typed': {
        const t = typeFromName(e.type);
        let v = parseValue(e.value, t, this.vctx);
        // timestamp(2) 'now': the precision applies to the literal too.
        if (t.typmod >= 0 && (t.kind === 'timestamp' || t.kind === 'timestamptz' || t.kind === 'time')) v = castValue(v, { kind: t.kind, typmod: -1 }, t, this.vctx);
        // `int4 '1'` is a cast in PostgreSQL's grammar: named after the type as a cast is.
        return { ...lit(v, t, typeOutputName(e.type)), weakName: true };
      }
      case 'cast': {
        const t = this.resolveType(e.type);
        if (e.arg.kind === 'array' && e.arg.elems.length === 0 && t.kind === 'array') return lit([], t, 'array');
        if (t.kind === 'regclass' && e.arg.kind === 'literal' && e.arg.literalType === 'string') {
          return lit(this.env.resolveRegclass(e.arg.value as string), T.regclass, 'regclass');
        }
        if (t.kind === 'regproc' && e.arg.kind === 'literal' && e.arg.literalType === 'string') {
          return lit(regprocOid(e.arg.value as string), T.regproc, 'regproc');
        }
        if (t.kind === 'regtype' && e.arg.kind === 'literal' && e.arg.literalType === 'string') {
          return lit(regtypeOid(e.arg.value as string), T.regtype, 'regtype');
        }
        const inner = this.bind(e.arg, scope);
        let c: BoundExpr;
        try {
          c = this.coerce(inner, t, true);
        } catch (err) {
          // A string constant that its type's input function refuses: PostgreSQL points at the constant.
          if (err instanceof PgError && e.arg.kind === 'literal' && e.arg.literalType === 'string' && err.fields.position === undefined) throw new PgError(err.code, err.message, { ...err.fields, position: e.arg.pos + 1 });
          throw err;
        }
        if (inner.name === '?column?' || inner.weakName === true) return { ...c, name: typeOutputName(e.type), weakName: true };
        return { ...c, name: inner.name, weakName: false };
      }
      case 'unary':
        return this.unary(e.op, this.bind(e.arg, scope), e.pos);
      case 'binary':
        return this.binary(e.op, e.left, e.right, scope, e.pos);
      case 'and':
      case 'or': {
        const args = e.args.map((a) => this.coerceBool(this.bind(a, scope), e.kind.toUpperCase()));
        const evs = args.map((a) => a.ev);
        const isAnd = e.kind === 'and';
        const ev: Ev = isAnd
          ? (r, ctx) => {
              let sawNull = false;
              for (const f of evs) {
                const v = f(r, ctx);
                if (v === false) return false;
                if (v === null) sawNull = true;
              }
              return sawNull ? null : true;
            }
          : (r, ctx) => {
              let sawNull = false;
              for (const f of evs) {
                const v = f(r, ctx);
                if (v === true) return true;
                if (v === null) sawNull = true;
              }
              return sawNull ? null : false;
            };
        return { type: T.bool, ev, shape: isAnd ? { k: 'and', args } : { k: 'other' }, name: '?column?' };
      }
      case 'not': {
        const a = this.coerceBool(this.bind(e.arg, scope), 'NOT');
        const f = a.ev;
        return { type: T.bool, ev: (r, ctx) => { const v = f(r, ctx); return v === null ? null : !v; }, shape: { k: 'other' }, name: '?column?' };
      }
      case 'isnull': {
        if (e.arg.kind === 'row') {
          const fields = e.arg.args.map((x) => this.bind(x, scope).ev);
          return { type: T.bool, ev: rowIsNull(fields, e.negated), shape: { k: 'other' }, name: '?column?' };
        }
        const a = this.bind(e.arg, scope);
        const f = a.ev;
        const neg = e.negated;
        return { type: T.bool, ev: (r, ctx) => (f(r, ctx) === null) !== neg, shape: { k: 'other' }, name: '?column?' };
      }
      case 'isbool': {
        const a = this.coerceBool(this.bind(e.arg, scope), 'IS');
        const f = a.ev;
        const want = e.value;
        const neg = e.negated;
        return { type: T.bool, ev: (r, ctx) => (f(r, ctx) === want) !== neg, shape: { k: 'other' }, name: '?column?' };
      }
      case 'distinctfrom': {
        if (e.left.kind === 'row' && e.right.kind === 'row') {
          const pairs = this.rowPairs(e.left.args, e.right.args, 'IS DISTINCT FROM', scope, e.pos);
          return { type: T.bool, ev: rowDistinct(pairs, e.negated), shape: { k: 'other' }, name: '?column?' };
        }
        const [l, r, t] = this.unify(this.bind(e.left, scope), this.bind(e.right, scope), 'IS DISTINCT FROM');
        const neg = e.negated;
        return {
          type: T.bool,
          ev: (row, ctx) => {
            const a = l.ev(row, ctx);
            const b = r.ev(row, ctx);
            const distinct = a === null || b === null ? a !== b : compareValues(a, b, t) !== 0;
            return distinct !== neg;
          },
          shape: { k: 'other' },
          name: '?column?',
        };
      }
      case 'between': {
        let arg = this.bind(e.arg, scope);
        let low = this.bind(e.low, scope);
        let high = this.bind(e.high, scope);
        const t = commonType([arg.type, low.type, high.type], 'BETWEEN');
        arg = this.coerce(arg, t);
        low = this.coerce(low, t);
        high = this.coerce(high, t);
        const sym = e.symmetric;
        const neg = e.negated;
        if (!sym && !neg) {
          // Expose as two comparisons so index selection can use the range.
          const ge = this.compareExprs('>=', arg, low);
          const le = this.compareExprs('<=', arg, high);
          const f1 = ge.ev;
          const f2 = le.ev;
          return {
            type: T.bool,
            ev: (r, ctx) => {
              const a = f1(r, ctx);
              if (a === false) return false;
              const b = f2(r, ctx);
              if (b === false) return false;
              return a === null || b === null ? null : true;
            },
            shape: { k: 'and', args: [ge, le] },
            name: '?column?',
          };
        }
        return {
          type: T.bool,
          ev: (r, ctx) => {
            const v = arg.ev(r, ctx);
            let lo = low.ev(r, ctx);
            let hi = high.ev(r, ctx);
            if (v === null || lo === null || hi === null) return null;
            if (sym && compareValues(lo, hi, t) > 0) [lo, hi] = [hi, lo];
            const inside = compareValues(v, lo, t) >= 0 && compareValues(v, hi, t) <= 0;
            return inside !== neg;
          },
          shape: { k: 'other' },
          name: '?column?',
        };
      }
      case 'like':
        return this.like(e, scope);
      case 'inlist': {
        if (e.arg.kind === 'row' && e.list.every((x) => x.kind === 'row')) return this.rowInList(e.arg.args, e.list, e.negated, scope, e.pos);
        const arg = this.bind(e.arg, scope);
        const fast = e.list.length >= inListBulkMin ? this.bulkInList(arg, e.list, e.negated, e.bulk) : null;
        if (fast) return fast;
        const items = e.list.map((x) => this.bind(x, scope));
        // One item is a plain `=` in PostgreSQL (transformAExprIn), resolved as an operator; more
        // are compared in their common type.
        const t = (items.length === 1 ? float4OperatorType(arg.type, (items[0] as BoundExpr).type) : null) ?? commonType([arg.type, ...items.map((i) => i.type)], 'IN');
        const a = this.coerce(arg, t);
        const list = items.map((i) => this.coerce(i, t));
        const neg = e.negated;
        const evs = list.map((l) => l.ev);
        if (list.length >= inListHashMin && list.every(isFoldable)) {
          // A long list of constants: one hash probe per row instead of a scan of the list.
          const keys = new Set<string>();
          let listNull = false;
          for (const f of evs) {
            const x = f([], undefined as unknown as ExecCtx);
            if (x === null) listNull = true;
            else keys.add(hashKey(x, t));
          }
          return {
            type: T.bool,
            ev: (r, ctx) => {
              const v = a.ev(r, ctx);
              if (v === null) return null;
              if (keys.has(hashKey(v, t))) return !neg;
              return listNull ? null : neg;
            },
            shape: neg ? { k: 'other' } : { k: 'in', arg: a, list },
            name: '?column?',
          };
        }
        if (list.length >= inListHashMin && list.every((x) => x.shape.k === 'const' && !x.shape.outer)) {
          // Constants and parameters ($1, … $65535 from a driver): fixed for one execution, so the
          // set is built once per execution context and probed per row (PostgreSQL hashes such
          // lists too), instead of comparing each row with every item.
          const sets = new WeakMap<ExecCtx, { keys: Set<string>; listNull: boolean }>();
          return {
            type: T.bool,
            ev: (r, ctx) => {
              const v = a.ev(r, ctx);
              if (v === null) return null;
              let s = sets.get(ctx);
              if (!s) {
                s = { keys: new Set<string>(), listNull: false };
                for (const f of evs) {
                  const x = f([], ctx);
                  if (x === null) s.listNull = true;
                  else s.keys.add(hashKey(x, t));
                }
                sets.set(ctx, s);
              }
              if (s.keys.has(hashKey(v, t))) return !neg;
              return s.listNull ? null : neg;
            },
            shape: neg ? { k: 'other' } : { k: 'in', arg: a, list },
            name: '?column?',
          };
        }
        return {
          type: T.bool,
          ev: (r, ctx) => {
            const v = a.ev(r, ctx);
            if (v === null) return null;
            let sawNull = false;
            for (const f of evs) {
              const x = f(r, ctx);
              if (x === null) sawNull = true;
              else if (compareValues(v, x, t) === 0) return !neg;
            }
            return sawNull ? null : neg;
          },
          shape: neg ? { k: 'other' } : { k: 'in', arg: a, list },
          name: '?column?',
        };
      }
      case 'insubquery':
        return this.inSubquery(e.arg, e.query, e.negated, scope);
      case 'quantified':
        return this.quantified(e, scope);
      case 'exists': {
        const sub = this.subquery(e.query, scope, 1);
        return {
          type: T.bool,
          ev: (r, ctx) => sub.rows(r, ctx).length > 0,
          shape: { k: 'other' },
          name: 'exists',
        };
      }
      case 'subquery': {
        const sub = this.subquery(e.query, scope, 2);
        const plan = sub.plan;
        if (plan.columns.length !== 1) throw new PgError(SqlState.SyntaxError, 'subquery must return only one column', { position: e.pos + 1 });
        const col = plan.columns[0] as { name: string; type: SqlType };
        return {
          type: col.type,
          ev: (r, ctx) => {
            const rows = sub.rows(r, ctx);
            if (rows.length > 1) throw new PgError(SqlState.CardinalityViolation, 'more than one row returned by a subquery used as an expression');
            return rows.length === 0 ? null : ((rows[0] as Row)[0] as Value);
          },
          shape: { k: 'other' },
          name: col.name,
        };
      }
      case 'arraysubquery': {
        const sub = this.subquery(e.query, scope);
        const col = sub.plan.columns[0] as { name: string; type: SqlType };
        if (col.type.kind === 'record') throw new PgError(SqlState.FeatureNotSupported, 'arrays of records are not supported', { position: e.pos + 1 });
        // ARRAY(subquery of arrays) stacks them into one more dimension (types/array_md.ts).
        const stack = col.type.kind === 'array';
        return {
          type: stack ? col.type : arrayOf(col.type),
          ev: (r, ctx) => {
            const vals = sub.rows(r, ctx).map((x) => x[0] as Value);
            return stack ? stackArrays(vals as (Value[] | null)[]) : vals;
          },
          shape: { k: 'other' },
          name: 'array',
        };
      }
      case 'case':
        return this.caseExpr(e, scope);
      case 'func':
        return this.func(e, scope);
      case 'array': {
        const elems = e.elems.map((x) => this.bind(x, scope));
        if (elems.length === 0) throw new PgError(SqlState.IndeterminateDatatype, 'cannot determine type of empty array', { position: e.pos + 1, hint: 'Explicitly cast to the desired type, for example ARRAY[]::integer[].' });
        const t = commonType(elems.map((x) => x.type), 'ARRAY');
        // A record's value is a JS array, which array values would read as one more dimension.
        if (t.kind === 'record') throw new PgError(SqlState.FeatureNotSupported, 'arrays of records are not supported', { position: e.pos + 1 });
        const cs = elems.map((x) => this.coerce(x, t).ev);
        // ARRAY[ARRAY[…], …] (or ARRAY[[…], …]): one more dimension (types/array_md.ts).
        if (t.kind === 'array') return { type: t, ev: (r, ctx) => stackArrays(cs.map((f) => f(r, ctx) as Value[] | null)), shape: { k: 'other' }, name: 'array' };
        return { type: arrayOf(t), ev: (r, ctx) => cs.map((f) => f(r, ctx)), shape: { k: 'other' }, name: 'array' };
      }
      case 'subscript': {
        // a[i][j]…: every subscript of the chain at once (a multi-dimensional array's element).
        const chain: Expr[] = [e.index];
        // One slice anywhere makes the whole chain a slice (a plain [j] then means [1:j]), as PostgreSQL.
        const uppers: (Expr | null | undefined)[] = [e.upper];
        let base: Expr = e.arg;
        while (base.kind === 'subscript') {
          chain.unshift(base.index);
          uppers.unshift(base.upper);
          base = base.arg;
        }
        const arrBase = this.bind(base, scope);
        if (arrBase.type.kind === 'array' && uppers.some((u) => u !== undefined)) {
          const los = chain.map((x, i) => (uppers[i] === undefined ? null : this.coerce(this.bind(x, scope), T.int4)));
          const his = chain.map((x, i) => {
            const u = uppers[i];
            return u === undefined ? this.coerce(this.bind(x, scope), T.int4) : u === null ? null : this.coerce(this.bind(u, scope), T.int4);
          });
          return {
            type: arrBase.type,
            ev: (r, ctx) => {
              const arr = arrBase.ev(r, ctx) as Value[] | null;
              if (arr === null) return null;
              const lo: (number | null)[] = [];
              const hi: (number | null)[] = [];
              for (let i = 0; i < chain.length; i++) {
                const l = los[i] ? (los[i] as BoundExpr).ev(r, ctx) : 1;
                const h = his[i] ? (his[i] as BoundExpr).ev(r, ctx) : undefined;
                if (l === null || h === null) return null;
                lo.push(l as number);
                hi.push(h === undefined ? null : (h as number));
              }
              return arraySlice(arr, lo as number[], hi);
            },
            shape: { k: 'other' },
            name: arrBase.name,
          };
        }
        if (arrBase.type.kind === 'jsonb') {
          // jsonb['key'][0]: subscripts of type text or integer, read as a path (jsonb_subscript_transform).
          if (uppers.some((u) => u !== undefined)) throw new PgError(SqlState.DatatypeMismatch, 'jsonb subscript does not support slices', { position: e.pos + 1 });
          const subs = chain.map((x) => {
            const b = this.bind(x, scope);
            if (isInteger(b.type) || b.type.kind === 'unknown' || isString(b.type)) return { b: isInteger(b.type) ? b : this.coerce(b, T.text), int: isInteger(b.type) };
            throw new PgError(SqlState.DatatypeMismatch, `subscript type ${formatType(b.type)} is not supported`, { position: e.pos + 1, hint: 'jsonb subscript must be coercible to either integer or text.' });
          });
          return {
            type: T.jsonb,
            ev: (r, ctx) => jsonbSubscript(arrBase.ev(r, ctx), subs.map((x) => { const v = x.b.ev(r, ctx); return v === null ? null : String(v); })),
            shape: { k: 'other' },
            name: arrBase.name,
          };
        }
        if (arrBase.type.kind === 'array') {
          const subs = chain.map((x) => this.coerce(this.bind(x, scope), T.int4));
          return {
            type: arrBase.type.elem as SqlType,
            ev: (r, ctx) => {
              const arr = arrBase.ev(r, ctx) as Value[] | null;
              if (arr === null) return null;
              const ks = subs.map((x) => x.ev(r, ctx) as number | null);
              if (ks.some((k) => k === null)) return null;
              return arrayElementAt(arr, ks as number[]);
            },
            shape: { k: 'other' },
            name: arrBase.name,
          };
        }
        const a = this.bind(e.arg, scope);
        const i = this.coerce(this.bind(e.index, scope), T.int4);
        if (a.type.kind === 'int2vector' || a.type.kind === 'oidvector') {
          return { type: a.type.kind === 'int2vector' ? T.int2 : T.oid, ev: (r, ctx) => { const arr = a.ev(r, ctx) as number[] | null; const k = i.ev(r, ctx) as number | null; return arr === null || k === null ? null : (arr[k] ?? null); }, shape: { k: 'other' }, name: a.name };
        }
        throw new PgError(SqlState.DatatypeMismatch, `cannot subscript type ${formatType(a.type)} because it is not an array`, { position: e.pos + 1 });
      }
      case 'collate':
        return this.bind(e.arg, scope);
      case 'attimezone': {
        const a = this.bind(e.arg, scope);
        const z = this.coerce(this.bind(e.zone, scope), T.text);
        const fn = lookupFunction('timezone') as Overload[];
        // timezone(text, timestamp) only for timestamps; unknown literals and dates take timestamptz (the preferred type).
        const target = a.type.kind === 'timestamp' ? T.timestamp : T.timestamptz;
        const ov = fn.find((o) => o.args[1]?.kind === target.kind) as Overload;
        const ac = this.coerce(a, target);
        return { type: ov.result as SqlType, ev: (r, ctx) => { const zv = z.ev(r, ctx); const v = ac.ev(r, ctx); return zv === null || v === null ? null : ov.fn([zv, v] as unknown as Args, ctx); }, shape: { k: 'other' }, name: 'timezone' };
      }
      case 'row': {
        const args = e.args.map((a) => this.resolveUnknown(this.bind(a, scope)));
        // The fields' types travel with the record type: record_out writes each field as its type does.
        const type = { ...T.record, fields: args.map((a, i) => ({ name: `f${i + 1}`, type: a.type })) };
        return { type, ev: (r, ctx) => args.map((a) => a.ev(r, ctx)), shape: { k: 'other' }, name: 'row' };
      }
      case 'star':
        throw new PgError(SqlState.SyntaxError, '"*" is not allowed here', { position: e.pos + 1 });
      case 'default':
        throw new PgError(SqlState.SyntaxError, 'DEFAULT is not allowed in this context', { position: e.pos + 1 });
      case 'field': {
        // Field selection on a record whose columns are known (a function's OUT parameters).
        const a = this.bind(e.arg, scope);
        const fields = a.type.kind === 'record' ? a.type.fields : undefined;
        if (!fields) throw new PgError(SqlState.FeatureNotSupported, 'field selection is not supported', { position: e.pos + 1 });
        const i = fields.findIndex((f) => f.name === e.field);
        if (i < 0) throw new PgError(SqlState.UndefinedColumn, `column "${e.field}" not found in data type record`, { position: e.pos + 1 });
        const f = fields[i] as { name: string; type: SqlType };
        return { type: f.type, ev: (r, ctx) => { const v = a.ev(r, ctx) as Value[] | null; return v === null ? null : (v[i] ?? null); }, shape: { k: 'other' }, name: e.field };
      }
    }
  }

  private literal(e: Expr & { kind: 'literal' }): BoundExpr {
    switch (e.literalType) {
      case 'null':
        return lit(null, T.unknown, '?column?');
      case 'bool':
        return lit(e.value as boolean, T.bool, 'bool');
      case 'integer': {
        const s = String(e.value);
        const n = Number(s);
        if (Number.isSafeInteger(n) && n >= -2147483648 && n <= 2147483647) return lit(n, T.int4);
        const big = BigInt(s);
        if (big >= -9223372036854775808n && big <= 9223372036854775807n) return lit(big, T.int8);
        return lit(Decimal.parse(s), T.numeric);
      }
      case 'decimal':
        return lit(Decimal.parse(String(e.value)), T.numeric);
      case 'bitstring':
        throw new PgError(SqlState.FeatureNotSupported, 'bit string literals are not supported', { position: e.pos + 1 });
      default:
        return lit(e.value as string, T.unknown);
    }
  }

  column(parts: string[], pos: number, scope: Scope): BoundExpr {
    let depth = 0;
    for (let s: Scope | null = scope; s; s = s.parent, depth++) {
      const idx = s.find(parts, pos);
      if (idx < 0) continue;
      const c = s.cols[idx] as { name: string; type: SqlType };
      if (depth === 0) return { type: c.type, ev: (r) => r[idx] as Value, shape: { k: 'col', idx }, name: c.name };
      const d = depth;
      this.markCorrelated(s);
      return { type: c.type, ev: (_r, ctx) => (ctx.outer[ctx.outer.length - d] as Row)[idx] as Value, shape: { k: 'const', param: null, outer: true }, name: c.name };
    }
    if (parts.length === 1) {
      const whole = this.wholeRow(parts[0] as string, scope);
      if (whole) return whole;
    }
    const name = parts.join('.');
    if (parts.length > 1) {
      const rel = parts[parts.length - 2] as string;
      let known = false;
      for (let s: Scope | null = scope; s; s = s.parent) if (s.hasRelation(rel)) known = true;
      if (!known) throw new PgError(SqlState.UndefinedTable, `missing FROM-clause entry for table "${rel}"`, { position: pos + 1 });
    }
    throw new PgError(SqlState.UndefinedColumn, `column "${name}" does not exist`, { position: pos + 1 });
  }

  /**
   * A bare relation name used as a value (`SELECT q FROM t q`, `row_to_json(q)`): the row of its
   * columns as a record, field names and types kept — PostgreSQL's whole-row reference. Searched
   * scope by scope outward, after columns (a column of that name wins, as in PostgreSQL).
   */
  private wholeRow(rel: string, scope: Scope): BoundExpr | null {
    let depth = 0;
    for (let s: Scope | null = scope; s; s = s.parent, depth++) {
      const idxs: number[] = [];
      s.cols.forEach((c, i) => {
        if (c.rel === rel && !c.hidden) idxs.push(i);
      });
      if (idxs.length === 0) continue;
      const type: SqlType = { ...T.record, fields: idxs.map((i) => ({ name: (s.cols[i] as ScopeCol).name, type: (s.cols[i] as ScopeCol).type })) };
      if (depth === 0) return { type, ev: (r) => idxs.map((i) => r[i] as Value), shape: { k: 'other' }, name: rel };
      const d = depth;
      this.markCorrelated(s);
      return { type, ev: (_r, ctx) => idxs.map((i) => (ctx.outer[ctx.outer.length - d] as Row)[i] as Value), shape: { k: 'const', param: null, outer: true }, name: rel };
    }
    return null;
  }

  coerceBool(e: BoundExpr, ctx: string): BoundExpr {
    if (e.type.kind === 'bool') return e;
    if (e.type.kind === 'unknown') return this.coerce(e, T.bool);
    throw new PgError(SqlState.DatatypeMismatch, `argument of ${ctx} must be type boolean, not type ${formatType(e.type)}`);
  }

  /** Brings two operands to a common type (comparison semantics). */
  unify(l: BoundExpr, r: BoundExpr, op: string): [BoundExpr, BoundExpr, SqlType] {
    if (l.type.kind === 'unknown' && r.type.kind !== 'unknown') return [this.coerce(l, r.type), r, r.type];
    if (r.type.kind === 'unknown' && l.type.kind !== 'unknown') return [l, this.coerce(r, l.type), l.type];
    if (l.type.kind === 'unknown' && r.type.kind === 'unknown') return [this.coerce(l, T.text), this.coerce(r, T.text), T.text];
    if (sameType(l.type, r.type)) return [l, r, l.type.kind === 'bpchar' || l.type.kind === 'varchar' ? { kind: l.type.kind, typmod: -1 } : l.type];
    const wide = float4OperatorType(l.type, r.type);
    if (wide) return [this.coerce(l, wide), this.coerce(r, wide), wide];
    try {
      const t = commonType([l.type, r.type], op);
      if (isString(l.type) && isString(r.type) && (l.type.kind === 'bpchar' || r.type.kind === 'bpchar') && l.type.kind !== r.type.kind) {
        // bpchar vs text compares as text after stripping pad (PostgreSQL casts bpchar to text)
        return [this.coerce(l, T.text), this.coerce(r, T.text), T.text];
      }
      return [this.coerce(l, t), this.coerce(r, t), t];
    } catch {
      throw new PgError(SqlState.UndefinedFunction, `operator does not exist: ${formatType(l.type)} ${op} ${formatType(r.type)}`, { hint: 'No operator matches the given name and argument types. You might need to add explicit type casts.' });
    }
  }

  compareExprs(op: string, l0: BoundExpr, r0: BoundExpr): BoundExpr {
    const [l, r, t] = this.unify(l0, r0, op);
    if (l.type.kind === 'record' && r.type.kind === 'record' && (l.type.composite || r.type.composite) && l.type.composite?.id !== r.type.composite?.id) {
      // record_cmp between two row types: same number of columns, each of the same type.
      const lf = l.type.fields ?? [];
      const rf = r.type.fields ?? [];
      if (lf.length !== rf.length) throw new PgError(SqlState.DatatypeMismatch, 'cannot compare record types with different numbers of columns');
      lf.forEach((f, i) => {
        const g = rf[i] as { type: SqlType };
        if (!sameType(baseType(f.type), baseType(g.type))) throw new PgError(SqlState.DatatypeMismatch, `cannot compare dissimilar column types ${formatType(f.type)} and ${formatType(g.type)} at record column ${i + 1}`);
      });
    }
    const le = l.ev;
    const re = r.ev;
    let test: (c: number) => boolean;
    switch (op) {
      case '=':
        test = (c) => c === 0;
        break;
      case '<>':
        test = (c) => c !== 0;
        break;
      case '<':
        test = (c) => c < 0;
        break;
      case '<=':
        test = (c) => c <= 0;
        break;
      case '>':
        test = (c) => c > 0;
        break;
      default:
        test = (c) => c >= 0;
    }
    if (t.kind === 'jsonb' && op !== '=' && op !== '<>') {
      // jsonb ordering is by formatted text here (documented limitation)
    }
    return {
      type: T.bool,
      ev: (row, ctx) => {
        const a = le(row, ctx);
        if (a === null) return null;
        const b = re(row, ctx);
        if (b === null) return null;
        return test(compareValues(a, b, t));
      },
      shape: { k: 'cmp', op, l, r },
      name: '?column?',
    };
  }

  /** The coerced field pairs of two row constructors (each pair as its scalar operator would be). */
  private rowPairs(left: Expr[], right: Expr[], op: string, scope: Scope, pos: number): RowPair[] {
    checkRowArity(left.length, right.length, pos);
    return left.map((x, i) => {
      const [l, r, t] = this.unify(this.bind(x, scope), this.bind(right[i] as Expr, scope), op);
      return { l: l.ev, r: r.ev, t };
    });
  }

  /** `ROW(…) [NOT] IN (ROW(…), …)`: the OR of row `=` (NOT IN: the AND of row `<>`), as PostgreSQL rewrites it. */
  private rowInList(arg: Expr[], list: Expr[], negated: boolean, scope: Scope, pos: number): BoundExpr {
    const op = negated ? '<>' : '=';
    const evs = list.map((x) => rowComparison(op, this.rowPairs(arg, (x as Extract<Expr, { kind: 'row' }>).args, op, scope, pos)));
    // OR (IN) stops at the first true, AND (NOT IN) at the first false; otherwise NULL if any was.
    const stop = !negated;
    return {
      type: T.bool,
      ev: (r, ctx) => {
        let sawNull = false;
        for (const f of evs) {
          const v = f(r, ctx);
          if (v === stop) return stop;
          if (v === null) sawNull = true;
        }
        return sawNull ? null : !stop;
      },
      shape: { k: 'other' },
      name: '?column?',
    };
  }

  /**
   * Pairs comparing ROW(args) with the columns of a subquery's row, which the caller puts in
   * `holder.row` before evaluating them (synchronously, one row at a time).
   */
  private rowSubqueryPairs(args: Expr[], cols: { name: string; type: SqlType }[], op: string, scope: Scope, pos: number, holder: { row: Row }): RowPair[] {
    if (cols.length !== args.length)
      throw new PgError(SqlState.SyntaxError, cols.length > args.length ? 'subquery has too many columns' : 'subquery has too few columns', { position: pos + 1 });
    return args.map((x, i) => {
      const c = cols[i] as { name: string; type: SqlType };
      const col: BoundExpr = { type: c.type, ev: () => holder.row[i] as Value, shape: { k: 'other' }, name: c.name };
      const [l, r, t] = this.unify(this.bind(x, scope), col, op);
      return { l: l.ev, r: r.ev, t };
    });
  }

  /**
   * `ROW(…) op ANY|ALL (subquery)`: the OR (ANY) or AND (ALL) of the row comparison over the
   * subquery's rows, with SQL's NULL logic. `[NOT] IN (subquery)` is `= ANY` / `<> ALL`.
   */
  private rowQuantified(args: Expr[], q: SelectStmt, op: string, any: boolean, scope: Scope, pos: number): BoundExpr {
    const sub = this.subquery(q, scope);
    const holder = { row: [] as Row };
    const cmp = rowComparison(op, this.rowSubqueryPairs(args, sub.plan.columns, op, scope, pos, holder));
    const stop = any;
    return {
      type: T.bool,
      ev: (r, ctx) => {
        let sawNull = false;
        for (const row of sub.rows(r, ctx)) {
          holder.row = row;
          const v = cmp(r, ctx);
          if (v === stop) return stop;
          if (v === null) sawNull = true;
        }
        return sawNull ? null : !stop;
      },
      shape: { k: 'other' },
      name: '?column?',
    };
  }

  private binary(op: string, le: Expr, re: Expr, scope: Scope, pos: number): BoundExpr {
    if (le.kind === 'row' && re.kind === 'row' && rowCompareOps.has(op)) {
      const ev = rowComparison(op, this.rowPairs(le.args, re.args, op, scope, pos));
      return { type: T.bool, ev, shape: { k: 'other' }, name: '?column?' };
    }
    if (le.kind === 'row' && re.kind === 'subquery' && rowCompareOps.has(op)) {
      // ROW(…) op (SELECT …): the subquery's one row (none: NULL; more: 21000) compared as a row.
      const sub = this.subquery(re.query, scope, 2);
      const holder = { row: [] as Row };
      const cmp = rowComparison(op, this.rowSubqueryPairs(le.args, sub.plan.columns, op, scope, pos, holder));
      return {
        type: T.bool,
        ev: (r, ctx) => {
          const rows = sub.rows(r, ctx);
          if (rows.length > 1) throw new PgError(SqlState.CardinalityViolation, 'more than one row returned by a subquery used as an expression');
          if (rows.length === 0) return null;
          holder.row = rows[0] as Row;
          return cmp(r, ctx);
        },
        shape: { k: 'other' },
        name: '?column?',
      };
    }
    const l = this.bind(le, scope);
    const r = this.bind(re, scope);
    if (['=', '<>', '<', '<=', '>', '>='].includes(op)) return this.compareExprs(op, l, r);
    const res = resolveBinaryOp(op, l.type, r.type);
    if (!res) {
      throw new PgError(SqlState.UndefinedFunction, `operator does not exist: ${formatType(l.type)} ${op} ${formatType(r.type)}`, {
        position: pos + 1,
        hint: 'No operator matches the given name and argument types. You might need to add explicit type casts.',
      });
    }
    // anynonarray || text: the other operand is converted with its output function.
    const textConcat = op === '||' && res.result.kind === 'text';
    const lc = this.coerce(l, res.left, textConcat).ev;
    const rc = this.coerce(r, res.right, textConcat).ev;
    const fn = res.fn;
    return {
      type: res.result,
      ev: (row, ctx) => {
        const a = lc(row, ctx);
        if (a === null) return null;
        const b = rc(row, ctx);
        if (b === null) return null;
        return fn(a, b, ctx);
      },
      shape: isFoldable(l) && isFoldable(r) ? { k: 'const', param: null } : { k: 'other' },
      name: '?column?',
    };
  }

  private unary(op: string, a0: BoundExpr, pos: number): BoundExpr {
    const a = a0.type.kind === 'unknown' ? this.coerce(a0, T.numeric) : a0;
    const f = a.ev;
    const t = a.type;
    let g: (v: Value) => Value;
    if (op === '-') {
      if (t.kind === 'int2' || t.kind === 'int4') g = (v) => { const r = -(v as number); if (r > 2147483647 || (t.kind === 'int2' && r > 32767)) throw new PgError(SqlState.NumericValueOutOfRange, `${t.kind === 'int2' ? 'smallint' : 'integer'} out of range`); return r; };
      else if (t.kind === 'int8') g = (v) => { if (v === -9223372036854775808n) throw new PgError(SqlState.NumericValueOutOfRange, 'bigint out of range'); return -(v as bigint); };
      else if (t.kind === 'numeric') g = (v) => (v as Decimal).neg();
      else if (t.kind === 'float4' || t.kind === 'float8') g = (v) => -(v as number);
      else if (t.kind === 'interval') g = (v) => negateInterval(v as Interval);
      else throw new PgError(SqlState.UndefinedFunction, `operator does not exist: - ${formatType(t)}`, { position: pos + 1 });
    } else if (op === '~') {
      if (t.kind === 'int8') g = (v) => ~(v as bigint);
      else g = (v) => ~(v as number);
    } else if (op === '@') {
      g = (v) => (typeof v === 'bigint' ? (v < 0n ? -v : v) : v instanceof Decimal ? v.abs() : Math.abs(v as number));
    } else if (op === '|/' || op === '||/') {
      // dsqrt refuses a negative argument (2201F); dcbrt takes any.
      g =
        op === '|/'
          ? (v) => {
              const x = Number(v);
              if (x < 0) throw new PgError(SqlStateX.InvalidArgumentForPowerFunction, 'cannot take square root of a negative number');
              return Math.sqrt(x);
            }
          : (v) => glibcCbrt(Number(v));
      return { type: T.float8, ev: (r, ctx) => { const v = f(r, ctx); return v === null ? null : g(v); }, shape: { k: 'other' }, name: '?column?' };
    } else throw new PgError(SqlState.UndefinedFunction, `operator does not exist: ${op} ${formatType(t)}`, { position: pos + 1 });
    const isConst = isFoldable(a);
    return { type: t, ev: (r, ctx) => { const v = f(r, ctx); return v === null ? null : g(v); }, shape: isConst ? { k: 'const', param: null } : { k: 'other' }, name: '?column?' };
  }

  /**
   * A very long IN list of number or string literals (a 1,000,000-item list): the values go
   * straight into a hash set, without a bound expression per item. Null when the list or the
   * argument's type does not fit (then the general path binds it). Such a list does not drive
   * index lookups (shape other): the scan probes the set.
   */
  private bulkInList(arg: BoundExpr, list: Expr[], neg: boolean, folded?: BulkValues): BoundExpr | null {
    const first = list[0];
    if (!first || first.kind !== 'literal') return null;
    const kind = first.literalType;
    if (kind !== 'integer' && kind !== 'string') return null;
    for (const x of list) if (x.kind !== 'literal' || x.literalType !== kind) return null;
    const at = arg.type.kind;
    const numericArg = at === 'int2' || at === 'int4' || at === 'int8' || at === 'numeric' || at === 'float4' || at === 'float8';
    const textArg = at === 'text' || at === 'varchar' || at === 'name' || at === 'unknown';
    if (kind === 'integer' ? !numericArg : !textArg) return null;
    let t: SqlType;
    // Plain numbers and bigints compare by value in a Set; anything else by hashKey.
    let keys = new Set<unknown>();
    let keyOf: (v: Value) => unknown = (v) => v;
    const plainNumbers = at === 'int2' || at === 'int4' || at === 'float4' || at === 'float8';
    if (folded?.ints && plainNumbers) {
      // Computed while the list was folded, in slices (parser/bulk_lists.ts).
      t = commonType([arg.type, T.int4], 'IN');
      keys = folded.ints;
    } else if (folded?.strings && textArg) {
      t = at === 'unknown' ? T.text : arg.type;
      keys = folded.strings;
    } else if (kind === 'integer') {
      let widest: SqlType = T.int4;
      for (const x of list) {
        const n = Number((x as Expr & { kind: 'literal' }).value);
        if (Number.isSafeInteger(n) && n >= -2147483648 && n <= 2147483647) continue;
        widest = this.literal(x as Expr & { kind: 'literal' }).type;
        if (widest.kind === 'numeric') break;
      }
      t = commonType([arg.type, widest], 'IN');
      if (t.kind === 'int2' || t.kind === 'int4' || t.kind === 'float4' || t.kind === 'float8') {
        for (const x of list) keys.add(Number((x as Expr & { kind: 'literal' }).value));
      } else if (t.kind === 'int8') {
        for (const x of list) keys.add(BigInt(String((x as Expr & { kind: 'literal' }).value)));
      } else {
        const tt = t;
        keyOf = (v) => hashKey(v, tt);
        const none = undefined as unknown as ExecCtx;
        for (const x of list) {
          const l = this.literal(x as Expr & { kind: 'literal' });
          keys.add(hashKey(castValue(l.ev([], none), l.type, tt, this.vctx), tt));
        }
      }
    } else {
      t = at === 'unknown' ? T.text : arg.type;
      for (const x of list) keys.add(String((x as Expr & { kind: 'literal' }).value));
    }
    const a = this.coerce(arg, t);
    return {
      type: T.bool,
      ev: (r, ctx) => {
        const v = a.ev(r, ctx);
        if (v === null) return null;
        return keys.has(keyOf(v)) !== neg;
      },
      shape: { k: 'other' },
      name: '?column?',
    };
  }

  /** A reference resolved in scope `target`: every subquery planned inside `target` (or below it) is correlated. */
  private markCorrelated(target: Scope): void {
    for (const f of this.subqueries) {
      for (let s: Scope | null = f.outer; s; s = s.parent) {
        if (s === target) {
          f.correlated = true;
          break;
        }
      }
    }
  }

  /** Plans an expression's subquery and the source of its rows (plan/subquery.ts). */
  private subquery(q: SelectStmt, scope: Scope, rowsMax = Infinity): { plan: Operator; rows: SubplanRows; correlated: boolean } {
    const frame = { outer: scope, correlated: false };
    this.subqueries.push(frame);
    let plan: Operator;
    try {
      plan = this.env.planSubquery(q, scope);
    } finally {
      this.subqueries.pop();
    }
    // A correlated inner subquery that reaches past this one makes this one correlated too
    // (markCorrelated walked every frame on the stack).
    return { plan, rows: subplanRows(plan, frame.correlated, rowsMax), correlated: frame.correlated };
  }

  private like(e: Expr & { kind: 'like' }, scope: Scope): BoundExpr {
    let a = this.bind(e.arg, scope);
    let p = this.bind(e.pattern, scope);
    let esc = e.escape ? this.bind(e.escape, scope) : null;
    if (a.type.kind === 'bytea' && !e.similar && !e.caseInsensitive) {
      // bytea LIKE bytea matches byte by byte: each byte becomes one character (latin1) for the text matcher.
      const asBytes = (x: BoundExpr): BoundExpr => {
        const y = this.coerce(x, T.bytea);
        return { ...y, type: T.text, ev: (r, ctx) => { const v = y.ev(r, ctx); return v === null ? null : (v as Buffer).toString('latin1'); } };
      };
      a = asBytes(a);
      p = asBytes(p);
      if (esc) esc = asBytes(esc);
    } else {
      a = this.coerce(a, T.text);
      p = this.coerce(p, T.text);
      if (esc) esc = this.coerce(esc, T.text);
    }
    const neg = e.negated;
    const ci = e.caseInsensitive;
    const similar = e.similar;
    // The compiled pattern of the last row: patterns are usually constants.
    let cached: { pat: string; esc: string | null; like: LikePattern } | null = null;
    return {
      type: T.bool,
      ev: (r, ctx) => {
        const s = a.ev(r, ctx);
        const pat = p.ev(r, ctx);
        if (s === null || pat === null) return null;
        const es = esc ? (esc.ev(r, ctx) as string | null) : null;
        if (esc && es === null) return null;
        if (similar) return similarTest(s as string, pat as string, es, ctx as ExecCtx | undefined) !== neg;
        if (!cached || cached.pat !== pat || cached.esc !== es) cached = { pat: pat as string, esc: es, like: compileLike(pat as string, ci, es) };
        return likeMatch(cached.like, s as string) !== neg;
      },
      shape: { k: 'other' },
      name: '?column?',
    };
  }

  private inSubquery(argE: Expr, q: SelectStmt, neg: boolean, scope: Scope): BoundExpr {
    if (argE.kind === 'row') return this.rowQuantified(argE.args, q, neg ? '<>' : '=', !neg, scope, argE.pos);
    const sub = this.subquery(q, scope);
    const plan = sub.plan;
    if (plan.columns.length !== 1) throw new PgError(SqlState.SyntaxError, 'subquery has too many columns');
    const arg0 = this.bind(argE, scope);
    const st = (plan.columns[0] as { type: SqlType }).type;
    const t = arg0.type.kind === 'unknown' ? st : commonType([arg0.type, st], 'IN');
    const a = this.coerce(arg0, t);
    const same = sameType(st, t);
    const sets = new WeakMap<Row[], ValueSet>();
    return {
      type: T.bool,
      ev: (r, ctx) => {
        const v = a.ev(r, ctx);
        const rows = sub.rows(r, ctx);
        if (v === null) return rows.length === 0 ? neg : null;
        if (!sub.correlated) {
          // Computed once per statement: probe a hash set instead of scanning the rows (PostgreSQL's hashed SubPlan).
          const set = valueSetOf(sets, rows, t, (x) => (same ? x : castValue(x, st, t, ctx.vctx)));
          if (set.keys.has(hashKey(v, t))) return !neg;
          return set.sawNull ? null : neg;
        }
        let sawNull = false;
        for (const row of rows) {
          let x = row[0] as Value;
          if (x === null) {
            sawNull = true;
            continue;
          }
          if (!same) x = castValue(x, st, t, ctx.vctx);
          if (compareValues(v, x, t) === 0) return !neg;
        }
        return sawNull ? null : neg;
      },
      shape: { k: 'other' },
      name: '?column?',
    };
  }

  private quantified(e: Expr & { kind: 'quantified' }, scope: Scope): BoundExpr {
    if (e.arg.kind === 'row' && e.query && rowCompareOps.has(e.op)) return this.rowQuantified(e.arg.args, e.query, e.op, e.quantifier === 'any', scope, e.pos);
    const arg0 = this.bind(e.arg, scope);
    let elemType: SqlType;
    let source: (r: Row, ctx: ExecCtx) => Value[] | null;
    if (e.query) {
      const sub = this.subquery(e.query, scope);
      elemType = (sub.plan.columns[0] as { type: SqlType }).type;
      source = (r, ctx) => sub.rows(r, ctx).map((x) => x[0] as Value);
    } else {
      let arr = this.bind(e.array as Expr, scope);
      if (arr.type.kind === 'unknown') arr = this.coerce(arr, arrayOf(arg0.type.kind === 'unknown' ? T.text : arg0.type));
      // int2vector and oidvector (pg_index.indkey, indclass) are arrays of int2 / oid, as in PostgreSQL.
      if (arr.type.kind === 'int2vector' || arr.type.kind === 'oidvector') elemType = arr.type.kind === 'int2vector' ? T.int2 : T.oid;
      else if (arr.type.kind !== 'array') throw new PgError(SqlState.WrongObjectType, `op ANY/ALL (array) requires array on right side`);
      else elemType = arr.type.elem as SqlType;
      source = (r, ctx) => {
        const v = arr.ev(r, ctx) as Value[] | null;
        return v === null ? null : flattenArray(v);
      };
    }
    const t = arg0.type.kind === 'unknown' ? elemType : (float4OperatorType(arg0.type, elemType) ?? commonType([arg0.type, elemType], e.op));
    const a = this.coerce(arg0, t);
    const cmp = (c: number) => (e.op === '=' ? c === 0 : e.op === '<>' ? c !== 0 : e.op === '<' ? c < 0 : e.op === '<=' ? c <= 0 : e.op === '>' ? c > 0 : c >= 0);
    const all = e.quantifier === 'all';
    return {
      type: T.bool,
      ev: (r, ctx) => {
        const v = a.ev(r, ctx);
        const xs = source(r, ctx);
        if (xs === null) return null;
        if (xs.length === 0) return all;
        if (v === null) return null;
        let sawNull = false;
        for (let x of xs) {
          if (x === null) {
            sawNull = true;
            continue;
          }
          if (!sameType(elemType, t)) x = castValue(x, elemType, t, ctx.vctx);
          const ok = cmp(compareValues(v, x, t));
          if (all && !ok) return false;
          if (!all && ok) return true;
        }
        return sawNull ? null : all;
      },
      shape: { k: 'other' },
      name: '?column?', // an operator expression: PostgreSQL's FigureColname gives no name
    };
  }

  private caseExpr(e: Expr & { kind: 'case' }, scope: Scope): BoundExpr {
    const thens = e.whens.map((w) => this.bind(w.then, scope));
    const els = e.else ? this.bind(e.else, scope) : null;
    const t = commonType([...thens.map((x) => x.type), ...(els ? [els.type] : [])], 'CASE');
    const thenEvs = thens.map((x) => this.coerce(x, t).ev);
    const elseEv = els ? this.coerce(els, t).ev : () => null;
    let conds: Ev[];
    if (e.operand) {
      const op = this.bind(e.operand, scope);
      conds = e.whens.map((w) => this.compareExprs('=', op, this.bind(w.when, scope)).ev);
    } else {
      conds = e.whens.map((w) => this.coerceBool(this.bind(w.when, scope), 'CASE/WHEN').ev);
    }
    return {
      type: t,
      ev: (r, ctx) => {
        for (let i = 0; i < conds.length; i++) if ((conds[i] as Ev)(r, ctx) === true) return (thenEvs[i] as Ev)(r, ctx);
        return elseEv(r, ctx);
      },
      shape: { k: 'other' },
      // FigureColname: the ELSE expression's name when it has a strong one, else `case`.
      ...(els && els.name !== '?column?' && els.weakName !== true ? { name: els.name } : { name: 'case', weakName: true }),
    };
  }

  // ---- functions -----------------------------------------------------------------------------

  private func(e: Expr & { kind: 'func' }, scope: Scope): BoundExpr {
    const rawName = e.name[e.name.length - 1] as string;
    const name = e.name.length > 1 && e.name[0] !== 'pg_catalog' && e.name[0] !== 'crdb_internal' && e.name[0] !== 'information_schema' ? rawName : rawName;
    if (e.over) throw new PgError(SqlState.WindowingError, `window function ${name} is not allowed here`, { position: e.pos + 1 });
    if (groupWindowFunctions.has(name)) {
      // KWDB: a group window is a GROUP BY item only (not in the select list, WHERE, HAVING or ORDER BY).
      throw new PgError(SqlState.SyntaxError, `${name.toUpperCase()} is only allowed in GROUP BY`, { position: e.pos + 1 });
    }
    if (aggregateNames.has(name) || windowOnlyNames.has(name)) {
      if (windowOnlyNames.has(name)) throw new PgError(SqlState.WindowingError, `window function ${name} requires an OVER clause`, { position: e.pos + 1 });
      throw new PgError(SqlState.GroupingError, `aggregate functions are not allowed in ${this.noAggClause ?? 'this context'}`, { position: e.pos + 1 });
    }
    if (e.args.length > functionArgsMax && name !== 'coalesce' && name !== 'greatest' && name !== 'least') {
      // PostgreSQL's FUNC_MAX_ARGS (COALESCE, GREATEST and LEAST are expressions, not functions).
      throw new PgError(SqlState.TooManyArguments, `cannot pass more than ${functionArgsMax} arguments to a function`, { position: e.pos + 1 });
    }
    const args = e.args.map((a) => this.bind(a, scope));
    switch (name) {
      case 'coalesce': {
        const t = commonType(args.map((a) => a.type), 'COALESCE');
        const evs = args.map((a) => this.coerce(a, t).ev);
        return { type: t, ev: (r, ctx) => { for (const f of evs) { const v = f(r, ctx); if (v !== null) return v; } return null; }, shape: { k: 'other' }, name: 'coalesce' };
      }
      case 'nullif': {
        if (args.length !== 2) break;
        const [l, r, t] = this.unify(args[0] as BoundExpr, args[1] as BoundExpr, 'NULLIF');
        return { type: t, ev: (row, ctx) => { const a = l.ev(row, ctx); const b = r.ev(row, ctx); return a !== null && b !== null && compareValues(a, b, t) === 0 ? null : a; }, shape: { k: 'other' }, name: 'nullif' };
      }
      case 'greatest':
      case 'least': {
        const t = commonType(args.map((a) => a.type), name.toUpperCase());
        const evs = args.map((a) => this.coerce(a, t).ev);
        const g = name === 'greatest';
        return {
          type: t,
          ev: (r, ctx) => {
            let best: Value = null;
            for (const f of evs) {
              const v = f(r, ctx);
              if (v === null) continue;
              if (best === null || (g ? compareValues(v, best, t) > 0 : compareValues(v, best, t) < 0)) best = v;
            }
            return best;
          },
          shape: { k: 'other' },
          name,
        };
      }
      case 'pg_typeof': {
        const t = this.resolveUnknown(args[0] as BoundExpr).type;
        // A domain has no built-in OID that regtype's output could name: its name, as text.
        if (t.domain || t.enumType || t.composite) return lit(formatType(t), T.name, 'pg_typeof');
        return lit(regtypeOid(formatType(t)), T.regtype, 'pg_typeof');
      }
      case 'nextval':
      case 'currval':
      case 'setval': {
        const a0 = args[0] as BoundExpr;
        let seqId: number;
        if (isFoldable(a0) && (a0.type.kind === 'unknown' || isString(a0.type))) seqId = this.env.resolveSequence(a0.ev([], undefined as unknown as ExecCtx) as string);
        else if (a0.type.kind === 'regclass' && a0.shape.k === 'const') seqId = a0.ev([], undefined as unknown as ExecCtx) as number;
        else throw new PgError(SqlState.FeatureNotSupported, `${name}() requires a constant sequence name`, { position: e.pos + 1 });
        if (name === 'nextval') return { type: T.int8, ev: (_r, ctx) => ctx.sequences.nextval(seqId, ctx), shape: { k: 'other' }, name };
        if (name === 'currval') return { type: T.int8, ev: (_r, ctx) => ctx.sequences.currval(seqId), shape: { k: 'other' }, name };
        const v = this.coerce(args[1] as BoundExpr, T.int8);
        return { type: T.int8, ev: (r, ctx) => ctx.sequences.setval(seqId, v.ev(r, ctx) as bigint, ctx.txn), shape: { k: 'other' }, name };
      }
      default:
        break;
    }
    const user = this.userFunction(e, args);
    if (user) {
      const r = bindScalarCall(this, user.fn, user.args, e.pos);
      this.userFunctionResult.add(r);
      return r;
    }
    if (e.argNames?.some((n) => n !== null)) {
      throw new PgError(SqlState.UndefinedFunction, `function ${name}(${args.map((a, i) => (e.argNames?.[i] ? `${e.argNames[i]} => ` : '') + formatType(a.type)).join(', ')}) does not exist`, {
        position: e.pos + 1,
        hint: 'No function matches the given name and argument types. You might need to add explicit type casts.',
      });
    }
    const cat = this.env.catalogFunction(name, args);
    if (cat) return cat;
    const overloads = lookupFunction(name);
    if (!overloads) {
      throw new PgError(SqlState.UndefinedFunction, `function ${name}(${args.map((a) => formatType(a.type)).join(', ')}) does not exist`, {
        position: e.pos + 1,
        hint: 'No function matches the given name and argument types. You might need to add explicit type casts.',
      });
    }
    // f(…, VARIADIC arr): the array's elements are the variadic arguments (PostgreSQL).
    let spreadElem: SqlType | null = null;
    let pickArgs = args;
    if (e.variadic) {
      const last = args[args.length - 1] as BoundExpr;
      const lt = last.type.kind === 'unknown' ? arrayOf(T.text) : last.type;
      if (lt.kind !== 'array') throw new PgError(SqlState.DatatypeMismatch, 'VARIADIC argument must be an array', { position: e.pos + 1 });
      spreadElem = lt.elem as SqlType;
      pickArgs = [...args.slice(0, -1), { type: spreadElem, ev: () => null, shape: { k: 'other' }, name: last.name }];
    }
    const ov = this.pickOverload(name, overloads, pickArgs, e.pos);
    if (spreadElem !== null && !ov.variadic) {
      throw new PgError(SqlState.UndefinedFunction, `function ${name}(${args.map((a) => formatType(a.type)).join(', ')}) does not exist`, { position: e.pos + 1 });
    }
    const coerced = args.map((a, i) => {
      const want = ov.variadic && i >= ov.args.length - 1 ? (ov.args[ov.args.length - 1] as SqlType) : (ov.args[i] as SqlType);
      if (spreadElem !== null && i === args.length - 1) return want === ANY ? a : this.coerce(a, arrayOf(want));
      if (want === ANY) return this.resolveUnknown(a);
      return this.coerce(a, want);
    });
    const valueTypes = coerced.map((c) => c.type);
    if (spreadElem !== null) valueTypes[valueTypes.length - 1] = (coerced[coerced.length - 1] as BoundExpr).type.elem as SqlType;
    let evs = coerced.map((a) => a.ev);
    const fn = ov.typed ? ov.typed(valueTypes, spreadElem !== null) : ov.fn;
    const nullable = ov.nullable ?? false;
    const resultType = typeof ov.result === 'function' ? ov.result(valueTypes) : ov.result;
    if (spreadElem !== null) {
      const fixed = evs.slice(0, -1);
      const arrEv = evs[evs.length - 1] as Ev;
      const nullArrayIsNull = ['concat', 'concat_ws', 'json_build_object', 'json_build_array', 'jsonb_build_object', 'jsonb_build_array'].includes(name);
      return {
        type: resultType,
        ev: (r, ctx) => {
          const vals: Value[] = [];
          for (const f of fixed) {
            const v = f(r, ctx);
            if (v === null && !nullable) return null;
            vals.push(v);
          }
          const a = arrEv(r, ctx);
          if (a === null && (nullArrayIsNull || !nullable)) return null;
          if (a !== null) for (const x of flattenArray(a as Value[])) vals.push(x);
          return fn(vals as Args, ctx);
        },
        shape: { k: 'other' },
        name,
      };
    }
    evs = coerced.map((a) => a.ev);
    const allConst = !ov.volatile && coerced.every(isFoldable) && !['now', 'current_timestamp', 'transaction_timestamp', 'statement_timestamp', 'current_date', 'localtimestamp', 'current_time', 'localtime', 'version', 'current_database', 'current_user', 'session_user', 'current_schema', 'pg_backend_pid', 'current_setting', 'set_config', 'unique_rowid', 'current_schemas', 'user', 'current_role', 'current_catalog', 'txid_current', 'pg_postmaster_start_time', 'age'].includes(name);
    return {
      type: resultType,
      ev: (r, ctx) => {
        const vals: Value[] = new Array<Value>(evs.length);
        for (let i = 0; i < evs.length; i++) {
          const v = (evs[i] as Ev)(r, ctx);
          if (v === null && !nullable) return null;
          vals[i] = v;
        }
        return fn(vals as Args, ctx);
      },
      shape: allConst ? { k: 'const', param: null } : { k: 'other' },
      name,
    };
  }

  /**
   * The user-defined (SQL) function a call means, if any: one of the search path's (or the named
   * schema's) overloads fitting the arguments, unless a built-in function of that name fits them
   * too and the name is not schema-qualified (pg_catalog comes first in PostgreSQL's path).
   */
  userFunction(e: Expr & { kind: 'func' }, args: BoundExpr[]): { fn: FunctionDesc; args: (BoundExpr | undefined)[] } | null {
    const fns = visibleFunctions(this.env.catalog, this.env.session, e.name);
    if (fns.length === 0) return null;
    const fn = pickFunction(fns, args, e.argNames);
    if (!fn) return null;
    const name = e.name[e.name.length - 1] as string;
    const builtin = lookupFunction(name);
    if (builtin && !e.argNames && (e.name.length === 1 || e.name[0] === 'pg_catalog')) {
      try {
        this.pickOverload(name, builtin, args, e.pos);
        return null;
      } catch {
        return fn;
      }
    }
    return fn;
  }

  pickOverload(name: string, overloads: Overload[], args: BoundExpr[], pos: number): Overload {
    let best: Overload | null = null;
    let bestScore = -1;
    for (const ov of overloads) {
      const n = args.length;
      if (ov.variadic ? n < ov.args.length - 1 : n !== ov.args.length) continue;
      let score = 0;
      let ok = true;
      for (let i = 0; i < n; i++) {
        const want = ov.variadic && i >= ov.args.length - 1 ? (ov.args[ov.args.length - 1] as SqlType) : (ov.args[i] as SqlType);
        const have = (args[i] as BoundExpr).type;
        if (want === ANY) {
          score += 1;
          continue;
        }
        if (have.kind === want.kind && (have.kind !== 'array' || sameType(have, want))) score += 3;
        else if (have.kind === 'unknown') score += want.kind === 'text' ? 2 : 1;
        else if (canImplicitCast(have, want)) score += isNumeric(have) && isNumeric(want) ? 2 : 1;
        else if (have.kind === 'array' && want.kind === 'array') score += 1;
        else {
          ok = false;
          break;
        }
      }
      if (ok && score > bestScore) {
        best = ov;
        bestScore = score;
      }
    }
    if (!best) {
      throw new PgError(SqlState.UndefinedFunction, `function ${name}(${args.map((a) => formatType(a.type)).join(', ')}) does not exist`, {
        position: pos + 1,
        hint: 'No function matches the given name and argument types. You might need to add explicit type casts.',
      });
    }
    return best;
  }
}

/** OIDs for regtype literals like 'integer'::regtype. */
export function regtypeOid(name: string): number {
  const n = name.toLowerCase().replace(/^pg_catalog\./, '');
  const map: Record<string, number> = {
    bool: 16, boolean: 16, bytea: 17, char: 18, '"char"': 18, name: 19, int8: 20, bigint: 20, int2: 21, smallint: 21, int4: 23, integer: 23, int: 23,
    text: 25, oid: 26, json: 114, float4: 700, real: 700, float8: 701, 'double precision': 701, unknown: 705, bpchar: 1042, character: 1042,
    varchar: 1043, 'character varying': 1043, date: 1082, time: 1083, 'time without time zone': 1083, timestamp: 1114, 'timestamp without time zone': 1114,
    timestamptz: 1184, 'timestamp with time zone': 1184, interval: 1186, numeric: 1700, decimal: 1700, regclass: 2205, regtype: 2206, uuid: 2950, inet: 869, cidr: 650, timetz: 1266, 'time with time zone': 1266, jsonb: 3802, void: 2278, record: 2249,
    'text[]': 1009, 'integer[]': 1007, 'bigint[]': 1016,
  };
  const oid = map[n];
  if (oid === undefined) throw new PgError(SqlState.UndefinedObject, `type "${name}" does not exist`);
  return oid;
}

/**
 * The operand type of an arithmetic or comparison operator between float4 and an integer or
 * numeric: float8. PostgreSQL has no such operators; its resolution prefers the numeric
 * category's preferred type, so `1 / 3::float4` is float8 and `0.1::float4 = 0.1` compares the
 * float4's exact value with 0.1 as float8 (false). null for other pairs.
 */
export function float4OperatorType(a: SqlType, b: SqlType): SqlType | null {
  const exact = (t: SqlType) => t.kind === 'int2' || t.kind === 'int4' || t.kind === 'int8' || t.kind === 'numeric';
  return (a.kind === 'float4' && exact(b)) || (b.kind === 'float4' && exact(a)) ? T.float8 : null;
}

function typeOutputName(t: TypeName): string {
  const n = t.name.toLowerCase();
  const map: Record<string, string> = { int: 'int4', integer: 'int4', bigint: 'int8', smallint: 'int2', boolean: 'bool', float8: 'float8', real: 'float4', float: 'float8', decimal: 'numeric', timestamptz: 'timestamptz' };
  return (map[n] ?? n) + (t.arrayDims > 0 ? '' : '');
}

export { lit, constEv, parseInterval };

/** PostgreSQL's OID of array_in: pg_type.typinput of every array type (drivers test `typinput = 'array_in'::regproc`). */
export const arrayInOid = 750;

/** regprocin for the functions catalog queries name: an OID, or array_in; others are 42883. */
function regprocOid(text: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s);
  if (/^(pg_catalog\.)?array_in$/i.test(s)) return arrayInOid;
  throw new PgError(SqlState.UndefinedFunction, `function "${s}" does not exist`);
}
