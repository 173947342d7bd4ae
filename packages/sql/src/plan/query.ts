/**
 * Builds physical plans (operator trees) for queries.
 */
import { arrayDims, flattenArray } from '../types/array_md.js';
import { PgError, SqlState } from '@strata/common';
import { KeyWriter, prefixEnd } from '@strata/kv';
import type { CommonTableExpr, Expr, FrameBound, FromItem, OrderItem, SelectStmt, WindowFrame, WindowSpec } from '../parser/ast.js';
import { T, arrayOf, commonType, formatJsonb, formatType, isInteger, isNumeric, sameType } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import { castValue } from '../types/cast.js';
import { Decimal } from '../types/numeric.js';
import { addIntervalToTimestamp, parseInterval } from '../types/datetime.js';
import { bucketWidthUs, kwdbBucketWidth, stringToArray, timescaleOriginUs } from '../functions/scalar.js';
import { regexpMatches, regexpSplit } from '../regex/functions.js';
import { jsonTextEntries } from '../types/json.js';
import { targetListEntriesMax, valuesBulkMin } from '../constants.js';
import { GapFill } from '../exec/gapfill.js';
import { GroupWindowAssign } from '../exec/group_window.js';
import { TsColumnarAggregate } from '../exec/ts_aggregate.js';
import type { TsAggFn, TsGroupKey } from '../exec/ts_aggregate.js';
import type { GroupWindowSpec } from '../exec/group_window.js';
import type { InterpolateMode, InterpolateSpec } from '../exec/gapfill.js';
import type { Interval } from '../types/datetime.js';
import { allIndexes, visibleColumns } from '../catalog/descriptors.js';
import type { IndexDesc, TableDesc } from '../catalog/descriptors.js';
import { indexKeyPrefix, tableCodec, writeKeyValue } from '../catalog/rowcodec.js';
import type { TableCodec } from '../catalog/rowcodec.js';
import type { Column, ExecCtx, Operator, Row } from '../exec/context.js';
import {
  CteScan,
  Distinct,
  Filter,
  HashJoin,
  Limit,
  NestedLoopJoin,
  Project,
  RowsScan,
  SetOp,
  Sort,
  TableScan,
  ValuesOp,
  WithCtes,
} from '../exec/operators.js';
import type { Ev, SortKey, Span } from '../exec/operators.js';
import { HashAggregate, WindowOp, aggResultType, aggregateNames, makeAccumulator, timeOrderedAggregates, windowOnlyNames, windowResultType } from '../exec/aggregate.js';
import type { AggSpec, FrameEdge, FrameSpec, WindowFuncSpec } from '../exec/aggregate.js';
import { Binder, containsAggregate, containsWindow, exprKey } from './binder.js';
import type { BindHook, BoundExpr } from './binder.js';
import { Scope } from './scope.js';
import { bindTableCall, resultColumns, visibleFunctions } from './sql_functions.js';
import { SqlStateX } from '../sqlstate.js';
import { checkRecursiveQuery } from './recursive_cte.js';
import { orderedSetAggregates } from '../exec/ordered_set.js';
import { TiesLimit } from '../exec/ties_limit.js';
import { TsScan, evalTimeRange, noBounds, tsScanColumns } from '../ts_dml.js';
import type { TsScanBounds } from '../ts_dml.js';
import type { ScopeCol } from './scope.js';

export interface ResolvedTable {
  kind: 'table';
  desc: TableDesc;
  db: string;
  schema: string;
}

export interface VirtualTableDef {
  oid: number;
  schema: string;
  name: string;
  columns: { name: string; type: SqlType }[];
  rows: (ctx: ExecCtx) => Iterable<Row>;
}

export interface PlannerEnv {
  resolveTable(parts: string[], pos: number): ResolvedTable | { kind: 'virtual'; def: VirtualTableDef };
  parseView(text: string): SelectStmt;
  /** Plans a view's query (privileges inside it are checked as the view's owner: auth/checks.ts). */
  underView?<T>(view: TableDesc, plan: () => T): T;
}

interface CteRef {
  id: number;
  columns: Column[];
}

type CteDef = ConstructorParameters<typeof WithCtes>[1][number];

/** The input of a WITH that only materializes its CTEs (a data-modifying statement's). */
const noRows: Operator = {
  columns: [],
  *exec() {},
  explain: () => ({ label: 'no rows', children: [] }),
};

let cteIds = 0;

/**
 * A recursive query's column keeps its non-recursive term's type: a recursive term of another
 * type is 42804 as in PostgreSQL (casting it would change the values the recursion computes).
 */
function checkRecursiveColumnType(name: string, i: number, base: SqlType, step: SqlType): void {
  if (step.kind === 'unknown') return;
  if (sameType(base, step) && (base.typmod < 0 || base.typmod === step.typmod)) return;
  let overall = step;
  try {
    overall = commonType([base, step], 'UNION');
  } catch {
    // reported with the recursive term's type
  }
  // The union's type carries no typmod (PostgreSQL: numeric(3,0) with numeric is numeric).
  overall = { ...overall, typmod: -1 };
  throw new PgError(SqlState.DatatypeMismatch, `recursive query "${name}" column ${i + 1} has type ${formatType(base)} in non-recursive term but type ${formatType(overall)} overall`, {
    hint: 'Cast the output of the non-recursive term to the correct type.',
  });
}

/**
 * One FROM list may not name the same relation twice (PostgreSQL's checkNameSpaceConflicts,
 * 42712): `FROM t, t`, `UPDATE t … FROM t`. A join without an alias exposes both sides' names.
 */
function checkFromNames(items: FromItem[], target: string | undefined): void {
  const seen = new Set<string>(target === undefined ? [] : [target]);
  const visit = (f: FromItem): void => {
    if (f.kind === 'join' && !f.alias) {
      visit(f.left);
      visit(f.right);
      return;
    }
    const name = f.alias ?? (f.kind === 'table' ? f.name[f.name.length - 1] : f.kind === 'function' ? f.func.name[f.func.name.length - 1] : undefined) ?? undefined;
    if (name === undefined) return;
    if (seen.has(name)) throw new PgError(SqlStateX.DuplicateAlias, `table name "${name}" specified more than once`);
    seen.add(name);
  };
  items.forEach(visit);
}

/** count() without arguments (PostgreSQL's 42809). */
function countNeedsStar(pos: number): PgError {
  return new PgError(SqlState.WrongObjectType, 'count(*) must be used to call a parameterless aggregate function', { position: pos + 1 });
}

/** More column names than the relation has: 42P10, PostgreSQL's message (`what` "table" or "WITH query"). */
function checkColumnAliases(aliases: readonly string[] | null | undefined, available: number, what: string, name: string): void {
  if (aliases && aliases.length > available) throw new PgError(SqlState.InvalidColumnReference, `${what} "${name}" has ${available} columns available but ${aliases.length} columns specified`);
}

export class QueryPlanner {
  private readonly ctes: Map<string, CteRef>[] = [];

  constructor(
    readonly binder: Binder,
    readonly env: PlannerEnv,
  ) {}

  private lookupCte(name: string): CteRef | undefined {
    for (let i = this.ctes.length - 1; i >= 0; i--) {
      const c = (this.ctes[i] as Map<string, CteRef>).get(name);
      if (c) return c;
    }
    return undefined;
  }

  /** Query nesting while planning: 1 for the statement's own query, more inside subqueries, CTEs and set operations. */
  private depth = 0;

  /** Plans a query; `outer` is the enclosing scope for correlated references. */
  planQuery(q: SelectStmt, outer: Scope | null): Operator {
    this.depth++;
    try {
      return this.binder.withHooks([], () => this.planQueryInner(q, outer));
    } finally {
      this.depth--;
    }
  }

  private planQueryInner(q: SelectStmt, outer: Scope | null): Operator {
    for (const o of q.orderBy) {
      const w = findGroupWindow(o.expr);
      if (w) throw new PgError(SqlState.SyntaxError, `${(groupWindowName(w) as string).toUpperCase()} is not allowed in ORDER BY`, { position: w.pos + 1 });
    }
    const frame = new Map<string, CteRef>();
    this.ctes.push(frame);
    try {
      const cteDefs = this.planCtes(q.with, outer, frame);
      let op = this.planBody(q, outer);
      if (cteDefs.length > 0) op = new WithCtes(op, cteDefs);
      return op;
    } finally {
      this.ctes.pop();
    }
  }

  /** Plans a WITH list into `frame` (already in scope: a recursive CTE reads itself), in order. */
  private planCtes(list: CommonTableExpr[], outer: Scope | null, frame: Map<string, CteRef>): CteDef[] {
    const cteDefs: CteDef[] = [];
    for (const c of list) {
      const id = ++cteIds;
      if (c.recursive && checkRecursiveQuery(c.query, c.name) && c.query.body.kind === 'setop') {
        const base = this.planQuery(c.query.body.left, outer);
        checkColumnAliases(c.columns, base.columns.length, 'WITH query', c.name);
        const cols = base.columns.map((col, i) => ({ name: c.columns?.[i] ?? col.name, type: col.type }));
        frame.set(c.name, { id, columns: cols });
        const step0 = this.planQuery(c.query.body.right, outer);
        step0.columns.forEach((col, i) => checkRecursiveColumnType(c.name, i, (cols[i] as Column).type, col.type));
        const casts = step0.columns.map((col, i) => this.castEv(col.type, (cols[i] as Column).type, i));
        const step = new Project(step0, casts, cols);
        cteDefs.push({ id, name: c.name, plan: base, recursive: { base, step, all: c.query.body.all } });
        continue;
      }
      const plan = this.planQuery(c.query, outer);
      checkColumnAliases(c.columns, plan.columns.length, 'WITH query', c.name);
      const cols = plan.columns.map((col, i) => ({ name: c.columns?.[i] ?? col.name, type: col.type }));
      frame.set(c.name, { id, columns: cols });
      cteDefs.push({ id, name: c.name, plan, recursive: null });
    }
    return cteDefs;
  }

  /**
   * Plans the parts of an INSERT/UPDATE/DELETE (`plan`) with the statement's own WITH list in
   * scope. Returns what `plan` returned and the operator that materializes the CTEs (it yields no
   * rows), to run before the statement reads anything; null without a WITH list.
   */
  planWithCtes<T>(list: CommonTableExpr[], plan: () => T): { result: T; materialize: Operator | null } {
    if (list.length === 0) return { result: plan(), materialize: null };
    const frame = new Map<string, CteRef>();
    this.ctes.push(frame);
    this.depth++;
    try {
      const cteDefs = this.planCtes(list, null, frame);
      const result = plan();
      return { result, materialize: new WithCtes(noRows, cteDefs) };
    } finally {
      this.depth--;
      this.ctes.pop();
    }
  }

  private castEv(from: SqlType, to: SqlType, i: number): Ev {
    if (sameType(from, to)) return (r) => r[i] as Value;
    return (r, ctx) => {
      const v = r[i] as Value;
      return v === null ? null : castValue(v, from, to, ctx.vctx);
    };
  }

  private planBody(q: SelectStmt, outer: Scope | null): Operator {
    const body = q.body;
    if (body.kind === 'select') return this.planSelect(q, body, outer);
    let op: Operator;
    if (body.kind === 'values') op = this.planValues(body.rows, outer);
    else {
      const left = this.planQuery(body.left, outer);
      const right = this.planQuery(body.right, outer);
      if (left.columns.length !== right.columns.length) {
        throw new PgError(SqlState.SyntaxError, `each ${body.op.toUpperCase()} query must have the same number of columns`);
      }
      const cols = left.columns.map((c, i) => ({ name: c.name, type: commonType([c.type, (right.columns[i] as Column).type], body.op.toUpperCase()) }));
      const fixType = (t: SqlType) => (t.kind === 'unknown' ? T.text : t);
      for (const c of cols) c.type = fixType(c.type);
      op = new SetOp(
        left,
        right,
        body.op,
        body.all,
        cols,
        left.columns.map((c, i) => this.castEv(c.type, (cols[i] as Column).type, i)),
        right.columns.map((c, i) => this.castEv(c.type, (cols[i] as Column).type, i)),
      );
    }
    // ORDER BY / LIMIT over a set operation or VALUES: by output column name or position.
    if (q.orderBy.length > 0) {
      const scope = new Scope(op.columns.map((c) => ({ name: c.name, rel: null, type: c.type })), outer);
      const keys = q.orderBy.map((o) => this.outputSortKey(o, op.columns, scope));
      op = new Sort(op, keys);
    }
    if (q.limit || q.offset) op = this.limit(op, q);
    return op;
  }

  private outputSortKey(o: OrderItem, cols: Column[], scope: Scope): SortKey {
    let ev: Ev;
    let type: SqlType;
    if (o.expr.kind === 'literal' && o.expr.literalType === 'integer') {
      const k = Number(o.expr.value) - 1;
      if (k < 0 || k >= cols.length) throw new PgError(SqlState.InvalidColumnReference, `ORDER BY position ${k + 1} is not in select list`, { position: o.expr.pos + 1 });
      ev = (r) => r[k] as Value;
      type = (cols[k] as Column).type;
    } else {
      const b = this.binder.bind(o.expr, scope);
      ev = b.ev;
      type = b.type;
    }
    return { ev, type, desc: o.desc, nullsFirst: o.nulls ? o.nulls === 'first' : o.desc };
  }

  private limit(op: Operator, q: SelectStmt): Operator {
    const empty = new Scope([]);
    const lim = q.limit ? this.binder.coerce(this.binder.bind(q.limit, empty), T.int8) : null;
    const off = q.offset ? this.binder.coerce(this.binder.bind(q.offset, empty), T.int8) : null;
    if (q.withTies) {
      if (q.orderBy.length === 0) throw new PgError(SqlState.SyntaxError, 'WITH TIES cannot be specified without ORDER BY clause', { position: q.pos + 1 });
      // The ties are judged on the sorted rows (below the final projection, where the keys are).
      const chain: Project[] = [];
      let s: Operator = op;
      while (s instanceof Project) {
        chain.push(s);
        s = s.input;
      }
      if (!(s instanceof Sort)) throw new PgError(SqlState.FeatureNotSupported, 'FETCH … WITH TIES is not supported for this query');
      let rebuilt: Operator = new TiesLimit(s, s.keys, lim?.ev ?? null, off?.ev ?? null);
      for (let i = chain.length - 1; i >= 0; i--) rebuilt = new Project(rebuilt, (chain[i] as Project).exprs, (chain[i] as Project).columns);
      return rebuilt;
    }
    // ORDER BY … LIMIT n: the sort keeps only the first n (+ offset) rows (a top-N heap).
    let below: Operator = op;
    while (below instanceof Project) below = below.input;
    if (below instanceof Sort && lim) {
      const limEv = lim.ev;
      const offEv = off?.ev ?? null;
      below.topN = (ctx) => {
        const l = limEv([], ctx);
        const o = offEv ? offEv([], ctx) : 0n;
        return l === null || o === null ? null : Number(l) + Number(o);
      };
    }
    return new Limit(op, lim?.ev ?? null, off?.ev ?? null);
  }

  planValues(rows: Expr[][], outer: Scope | null, targetTypes?: SqlType[]): Operator {
    const scope = new Scope([], outer);
    const n = rows[0]?.length ?? 0;
    for (const r of rows) if (r.length !== n) throw new PgError(SqlState.SyntaxError, 'VALUES lists must all be the same length');
    if (!targetTypes && rows.length >= valuesBulkMin) {
      const bulk = this.bulkValues(rows, n, scope);
      if (bulk) return bulk;
    }
    const bound = rows.map((r) => r.map((e) => (e.kind === 'default' ? null : this.binder.bind(e, scope))));
    const types: SqlType[] = [];
    for (let i = 0; i < n; i++) {
      if (targetTypes?.[i]) {
        types.push(targetTypes[i] as SqlType);
        continue;
      }
      const t = commonType(bound.map((r) => (r[i] ? (r[i] as BoundExpr).type : T.unknown)), 'VALUES');
      types.push(t.kind === 'unknown' ? T.text : t);
    }
    const evs = bound.map((r) => r.map((b, i) => (b === null ? (() => DEFAULT_MARKER as unknown as Value) : targetTypes ? this.binder.resolveUnknown(b).ev : this.binder.coerce(b, types[i] as SqlType).ev)));
    const cols = types.map((t, i) => ({ name: `column${i + 1}`, type: targetTypes ? (bound[0]?.[i] ? this.binder.resolveUnknown(bound[0][i] as BoundExpr).type : t) : t }));
    return new ValuesOp(cols, evs);
  }

  /**
   * A long VALUES list of literals only (a 10 MB statement): the column types come from the
   * literals' kinds in one cheap pass, and each row is bound and converted when the scan reaches
   * it, in batches with yield points, instead of binding every cell while planning. Null when a
   * cell is not a plain literal.
   */
  private bulkValues(rows: Expr[][], n: number, scope: Scope): Operator | null {
    const kinds: Set<string>[] = Array.from({ length: n }, () => new Set<string>());
    for (const r of rows) {
      for (let i = 0; i < n; i++) {
        const e = r[i] as Expr;
        if (e.kind !== 'literal') return null;
        const lt = e.literalType;
        if (lt === 'integer') {
          const v = Number(e.value);
          kinds[i]?.add(Number.isSafeInteger(v) && v >= -2147483648 && v <= 2147483647 ? 'int4' : 'bigint-or-numeric:' + String(e.value));
        } else if (lt === 'decimal' || lt === 'string' || lt === 'null' || lt === 'bool') kinds[i]?.add(lt);
        else return null;
      }
    }
    const b = this.binder;
    const types = kinds.map((ks) => {
      const ts: SqlType[] = [];
      for (const k of ks) {
        if (k === 'int4') ts.push(T.int4);
        else if (k === 'decimal') ts.push(T.numeric);
        else if (k === 'bool') ts.push(T.bool);
        else if (k === 'string' || k === 'null') ts.push(T.unknown);
        else ts.push(b.bind({ kind: 'literal', value: k.slice(k.indexOf(':') + 1), literalType: 'integer', pos: 0 }, scope).type);
      }
      const t = commonType(ts, 'VALUES');
      return t.kind === 'unknown' ? T.text : t;
    });
    const cols = types.map((t, i) => ({ name: `column${i + 1}`, type: t }));
    return new RowsScan(
      cols,
      function* (ctx) {
        for (const r of rows) yield r.map((e, i) => b.coerce(b.bind(e, scope), types[i] as SqlType).ev([], ctx));
      },
      `values (${rows.length} rows)`,
    );
  }

  // ---- FROM ----------------------------------------------------------------------------------

  /** Plans a FROM list; `target` is the reference name of an UPDATE's or DELETE's table, which the list may not repeat. */
  planFrom(items: FromItem[], outer: Scope | null, target?: string): { op: Operator; scope: Scope } {
    checkFromNames(items, target);
    if (items.length === 0) {
      return { op: new RowsScan([], () => [[]], 'emptyrow'), scope: new Scope([], outer) };
    }
    let acc = this.planFromItem(items[0] as FromItem, outer, null);
    for (const it of items.slice(1)) {
      const lateral = it.kind === 'subquery' && it.lateral;
      const right = this.planFromItem(it, outer, lateral || it.kind === 'function' ? acc.scope : null);
      const correlated = lateral || it.kind === 'function';
      acc = { op: new NestedLoopJoin(acc.op, right.op, 'cross', null, correlated), scope: new Scope([...acc.scope.cols, ...right.scope.cols], outer) };
    }
    return acc;
  }

  private planFromItem(it: FromItem, outer: Scope | null, lateralScope: Scope | null): { op: Operator; scope: Scope } {
    switch (it.kind) {
      case 'table':
        return this.planTable(it.name, it.alias, it.columnAliases, it.pos, outer);
      case 'subquery': {
        if (!it.alias) throw new PgError(SqlState.SyntaxError, 'subquery in FROM must have an alias', { position: it.pos + 1, hint: 'For example, FROM (SELECT ...) [AS] foo.' });
        const sub = this.planQuery(it.query, lateralScope ? new Scope(lateralScope.cols, outer) : outer);
        checkColumnAliases(it.columnAliases, sub.columns.length, 'table', it.alias);
        const cols = sub.columns.map((c, i) => ({ name: it.columnAliases?.[i] ?? c.name, rel: it.alias, type: c.type }));
        return { op: sub, scope: new Scope(cols, outer) };
      }
      case 'function':
        return this.planFunctionScan(it, outer, lateralScope);
      case 'join':
        return this.planJoin(it, outer);
    }
  }

  planTable(name: string[], alias: string | null, columnAliases: string[] | null, pos: number, outer: Scope | null): { op: Operator; scope: Scope } {
    if (name.length === 1) {
      const cte = this.lookupCte(name[0] as string);
      if (cte) {
        const rel = alias ?? (name[0] as string);
        checkColumnAliases(columnAliases, cte.columns.length, 'table', rel);
        return {
          op: new CteScan(cte.columns, cte.id, name[0] as string),
          scope: new Scope(cte.columns.map((c, i) => ({ name: columnAliases?.[i] ?? c.name, rel, type: c.type })), outer),
        };
      }
    }
    const r = this.env.resolveTable(name, pos);
    const rel = alias ?? (name[name.length - 1] as string);
    if (r.kind === 'virtual') {
      const d = r.def;
      checkColumnAliases(columnAliases, d.columns.length, 'table', rel);
      const cols = d.columns.map((c, i) => ({ name: columnAliases?.[i] ?? c.name, rel, schema: d.schema, type: c.type }));
      return { op: new RowsScan(d.columns.map((c) => ({ name: c.name, type: c.type })), d.rows, `virtual table ${d.schema}.${d.name}`), scope: new Scope(cols, outer) };
    }
    const t = r.desc;
    if (t.kind === 'view') {
      const q = this.env.parseView(t.viewQuery as string);
      const sub = this.env.underView ? this.env.underView(t, () => this.planQuery(q, null)) : this.planQuery(q, null);
      checkColumnAliases(columnAliases, sub.columns.length, 'table', rel);
      const cols = sub.columns.map((c, i) => ({ name: columnAliases?.[i] ?? (t.columns[i]?.name ?? c.name), rel, type: c.type }));
      return { op: sub, scope: new Scope(cols, outer) };
    }
    if (t.kind === 'ts') {
      const columns = tsScanColumns(t);
      checkColumnAliases(columnAliases, columns.length, 'table', rel);
      const cols: ScopeCol[] = columns.map((c, i) => ({ ...c, name: columnAliases?.[i] ?? c.name, rel, schema: r.schema, db: r.db, tsTime: i === 0 }));
      return { op: new TsScan(columns, t, noBounds(t)), scope: new Scope(cols, outer) };
    }
    if (t.kind === 'sequence') {
      const cols = [{ name: 'last_value', type: T.int8 }, { name: 'log_cnt', type: T.int8 }, { name: 'is_called', type: T.bool }];
      return { op: new RowsScan(cols, (ctx) => [[ctx.sequences.currvalOrStart(t.id), 0n, true]], `sequence ${t.name}`), scope: new Scope(cols.map((c) => ({ ...c, rel })), outer) };
    }
    const codec = tableCodec(t);
    checkColumnAliases(columnAliases, t.columns.filter((c) => !c.hidden).length, 'table', rel);
    const cols: ScopeCol[] = t.columns.map((c, i) => ({
      name: columnAliases?.[i] ?? c.name,
      rel,
      schema: r.schema,
      db: r.db,
      type: c.type,
      hidden: c.hidden,
      tableOid: t.id,
      columnNum: i + 1,
    }));
    const columns = t.columns.map((c, i) => ({ name: c.name, type: c.type, tableOid: t.id, columnNum: i + 1 }));
    const full = fullSpan(codec, t.primaryIndex);
    return { op: new TableScan(columns, codec, t.primaryIndex, () => [full], `scan ${t.name}@${t.primaryIndex.name} (full)`), scope: new Scope(cols, outer) };
  }

  private planJoin(j: FromItem & { kind: 'join' }, outer: Scope | null): { op: Operator; scope: Scope } {
    const left = this.planFromItem(j.left, outer, null);
    const lateral = j.right.kind === 'subquery' && j.right.lateral;
    const right = this.planFromItem(j.right, outer, lateral ? left.scope : null);
    const nl = left.scope.cols.length;
    const cols = [...left.scope.cols, ...right.scope.cols.map((c) => ({ ...c }))];
    let usingCols = j.using;
    if (j.natural) {
      // The common columns in the left input's order (PostgreSQL's transformFromClauseItem).
      const rn = new Set(right.scope.cols.filter((c) => !c.hidden && !c.usingHidden).map((c) => c.name));
      usingCols = [...new Set(left.scope.cols.filter((c) => !c.hidden && !c.usingHidden && rn.has(c.name)).map((c) => c.name))];
    }
    let cond: BoundExpr | null = null;
    const leftKeys: { ev: Ev; type: SqlType }[] = [];
    const rightKeys: { ev: Ev; type: SqlType }[] = [];
    const residual: BoundExpr[] = [];
    const jt = j.joinType;
    if (usingCols && usingCols.length > 0) {
      // JOIN … USING / NATURAL JOIN: the output starts with one merged column per USING column
      // (in USING order), then the left's and the right's columns, as in PostgreSQL. The merged
      // column is the left value (inner, left join), the right value (right join) or
      // COALESCE(left, right) (full join); the two input columns stay reachable qualified only.
      const merged: { ev: Ev; col: ScopeCol }[] = [];
      const seen = new Set<string>();
      for (const name of usingCols) {
        if (seen.has(name)) throw new PgError(SqlState.DuplicateColumn, `column "${name}" appears more than once in USING clause`, { position: j.pos + 1 });
        seen.add(name);
        const li = left.scope.find([name], j.pos);
        const ri = right.scope.find([name], j.pos);
        if (li < 0 || ri < 0) throw new PgError(SqlState.UndefinedColumn, `column "${name}" specified in USING clause does not exist in ${li < 0 ? 'left' : 'right'} table`, { position: j.pos + 1 });
        const lt = (left.scope.cols[li] as ScopeCol).type;
        const rt = (right.scope.cols[ri] as ScopeCol).type;
        const t = commonType([lt, rt], 'JOIN/USING');
        const lev = this.castEv(lt, t, li);
        const rev = this.castEv(rt, t, ri);
        leftKeys.push({ ev: lev, type: t });
        rightKeys.push({ ev: rev, type: t });
        const rAt = this.castEv(rt, t, nl + ri);
        const ev: Ev = jt === 'right' ? rAt : jt === 'full' ? (r, ctx) => lev(r, ctx) ?? rAt(r, ctx) : lev;
        merged.push({ ev, col: { name, rel: null, type: t } });
        (cols[li] as ScopeCol).usingHidden = true;
        (cols[nl + ri] as ScopeCol).usingHidden = true;
      }
      const scope = new Scope([...merged.map((m) => m.col), ...cols], outer);
      const width = cols.length;
      const evs: Ev[] = [...merged.map((m) => m.ev), ...Array.from({ length: width }, (_, k) => (r: Row) => r[k] as Value)];
      const inner = leftKeys.length > 0 && !lateral && jt !== 'cross' ? new HashJoin(left.op, right.op, jt, leftKeys, rightKeys, null) : new NestedLoopJoin(left.op, right.op, jt, null, lateral);
      const outCols: Column[] = scope.cols.map((c) => ({ name: c.name, type: c.type }));
      return { op: new Project(inner, evs, outCols), scope };
    }
    const scope = new Scope(cols, outer);
    if (j.on) {
      this.binder.noAggClause = 'JOIN conditions';
      cond = this.binder.coerceBool(this.binder.bind(j.on, scope), 'JOIN/ON');
      this.binder.noAggClause = null;
      for (const c of conjuncts(cond)) {
        if (c.shape.k === 'cmp' && c.shape.op === '=' && c.shape.l.shape.k === 'col' && c.shape.r.shape.k === 'col') {
          const a = c.shape.l.shape.idx;
          const b = c.shape.r.shape.idx;
          if (a < nl && b >= nl) {
            leftKeys.push({ ev: c.shape.l.ev, type: c.shape.l.type });
            const rb = b - nl;
            rightKeys.push({ ev: (r) => r[rb] as Value, type: c.shape.r.type });
            continue;
          }
          if (b < nl && a >= nl) {
            leftKeys.push({ ev: c.shape.r.ev, type: c.shape.r.type });
            const ra = a - nl;
            rightKeys.push({ ev: (r) => r[ra] as Value, type: c.shape.l.type });
            continue;
          }
        }
        residual.push(c);
      }
    }
    if (leftKeys.length > 0 && !lateral && jt !== 'cross') {
      const res = residual.length === 0 ? null : andAll(residual);
      return { op: new HashJoin(left.op, right.op, jt, leftKeys, rightKeys, res), scope };
    }
    return { op: new NestedLoopJoin(left.op, right.op, jt, cond?.ev ?? null, lateral), scope };
  }

  /**
   * Several select-list set-returning functions run in lockstep, as PostgreSQL runs them: row i
   * holds each function's i-th row, and a function that has ended gives NULLs until the longest
   * one ends (the select list's `unnest(indkey), generate_subscripts(indkey, 1)` of SQLAlchemy).
   */
  private planFunctionScan(it: FromItem & { kind: 'function' }, outer: Scope | null, lateralScope: Scope | null): { op: Operator; scope: Scope } {
    if (!it.zip || it.zip.length === 0) return this.planOneFunction(it, outer, lateralScope);
    const funcs = [it.func, ...it.zip];
    const parts = funcs.map((func) => this.planOneFunction({ kind: 'function', func, alias: null, columnAliases: null, withOrdinality: false, ...(it.asRecord ? { asRecord: true } : {}), pos: it.pos }, outer, lateralScope).op);
    if (!parts.every((p) => p instanceof RowsScan && p.columns.length === 1)) throw new PgError(SqlState.FeatureNotSupported, 'these set-returning functions cannot run together in one select list', { position: it.pos + 1 });
    const scans = parts as RowsScan[];
    const cols: Column[] = scans.map((p, i) => ({ name: it.columnAliases?.[i] ?? (p.columns[0] as Column).name, type: (p.columns[0] as Column).type }));
    const op = new RowsScan(
      cols,
      function* (ctx) {
        const its = scans.map((p) => p.rows(ctx)[Symbol.iterator]());
        const done = its.map(() => false);
        for (;;) {
          const row: Row = its.map((x, i) => {
            if (done[i]) return null;
            const r = x.next();
            if (r.done) {
              done[i] = true;
              return null;
            }
            return r.value[0] as Value;
          });
          if (done.every(Boolean)) return;
          yield row;
        }
      },
      `functions ${funcs.map((f) => f.name[f.name.length - 1]).join(', ')} in lockstep`,
    );
    const alias = it.alias ?? (it.func.name[it.func.name.length - 1] as string);
    return { op, scope: new Scope(cols.map((c) => ({ name: c.name, rel: alias, type: c.type })), outer) };
  }

  private planOneFunction(it: FromItem & { kind: 'function' }, outer: Scope | null, lateralScope: Scope | null): { op: Operator; scope: Scope } {
    const f = it.func;
    const name = f.name[f.name.length - 1] as string;
    // Arguments may reference earlier FROM items (implicitly LATERAL) through ctx.outer.
    const argScope = new Scope([], lateralScope ? new Scope(lateralScope.cols, outer) : outer);
    const args = f.args.map((a) => this.binder.bind(a, argScope));
    const alias = it.alias ?? name;
    // outParam: the single column is a named OUT parameter (json_array_elements' "value"), which a
    // table alias does not rename, unlike a scalar result's column.
    const wrap = (cols: Column[], gen: (ctx: ExecCtx, vals: Value[]) => Iterable<Row>, outParam = false): { op: Operator; scope: Scope } => {
      const evs = args.map((a) => a.ev);
      let outCols = cols;
      if (it.withOrdinality) outCols = [...cols, { name: 'ordinality', type: T.int8 }];
      const op = new RowsScan(
        outCols,
        function* (ctx) {
          const vals = evs.map((e) => e([], ctx));
          let n = 0n;
          for (const r of gen(ctx, vals)) yield it.withOrdinality ? [...r, ++n] : r;
        },
        `function ${name}`,
      );
      const names = outCols.map((c, i) => it.columnAliases?.[i] ?? (cols.length === 1 && i === 0 && it.alias && !outParam ? it.alias : c.name));
      return { op, scope: new Scope(outCols.map((c, i) => ({ name: names[i] as string, rel: alias, type: c.type })), outer) };
    };
    const userFn = this.binder.userFunction(f, args);
    if (userFn) {
      // A SQL-language function (plan/sql_functions.ts): its rows, or its one value.
      const call = bindTableCall(this.binder, userFn.fn, userFn.args);
      args.splice(0, args.length, ...call.args);
      if (it.asRecord && userFn.fn.result.kind === 'record') {
        const rows = call.rows;
        return wrap([{ name, type: userFn.fn.result }], function* (ctx, vals) {
          for (const r of rows(ctx, vals)) yield [r];
        });
      }
      return wrap(resultColumns(userFn.fn), call.rows);
    }
    switch (name) {
      case 'generate_series': {
        if (args.length < 2) break;
        let t = commonType(args.slice(0, 2).map((a) => a.type), 'generate_series');
        if (t.kind === 'unknown') t = T.int4;
        if (t.kind === 'date' || t.kind === 'timestamp' || t.kind === 'timestamptz') {
          const tt = t.kind === 'date' ? T.timestamp : t;
          const a0 = this.binder.coerce(args[0] as BoundExpr, tt);
          const a1 = this.binder.coerce(args[1] as BoundExpr, tt);
          const a2 = this.binder.coerce(args[2] as BoundExpr, T.interval);
          args.splice(0, 3, a0, a1, a2);
          return wrap([{ name: 'generate_series', type: tt }], function* (ctx, [s, e, st]) {
            if (s === null || e === null || st === null) return;
            let cur = s as number;
            const iv = st as Interval;
            if (iv.months === 0 && iv.days === 0 && iv.micros === 0) throw new PgError(SqlState.InvalidParameterValue, 'step size cannot equal zero');
            const forward = iv.months > 0 || iv.days > 0 || iv.micros > 0;
            let n = 0;
            while (forward ? cur <= (e as number) : cur >= (e as number)) {
              yield [cur];
              cur = addIntervalToTimestamp(cur, iv, tt.kind === 'timestamptz' ? ctx.vctx.timeZone : null);
              if (++n > 100_000_000) throw new PgError(SqlState.ProgramLimitExceeded, 'generate_series produced too many rows');
            }
          });
        }
        if (t.kind === 'numeric' || t.kind === 'float4' || t.kind === 'float8') t = T.numeric;
        else if (t.kind !== 'int8') t = T.int4;
        for (let i = 0; i < args.length; i++) args[i] = this.binder.coerce(args[i] as BoundExpr, t);
        const big = t.kind === 'int8';
        const isNum = t.kind === 'numeric';
        return wrap([{ name: 'generate_series', type: t }], function* (_ctx, [s, e, st]) {
          if (s === null || e === null || st === null) return;
          if (isNum) {
            let cur = s as Decimal;
            const step = st === undefined ? Decimal.fromInt(1) : (st as Decimal);
            // generate_series_step_numeric: NaN and infinite arguments are errors (a series would never end).
            for (const [v, what] of [[cur, 'start value'], [e as Decimal, 'stop value'], [step, 'step size']] as const) {
              if (v.isNaN()) throw new PgError(SqlState.InvalidParameterValue, `${what} cannot be NaN`);
              if (v.isInf()) throw new PgError(SqlState.InvalidParameterValue, `${what} cannot be infinity`);
            }
            if (step.sign() === 0) throw new PgError(SqlState.InvalidParameterValue, 'step size cannot equal zero');
            while (step.sign() > 0 ? cur.cmp(e as Decimal) <= 0 : cur.cmp(e as Decimal) >= 0) {
              yield [cur];
              cur = cur.add(step);
            }
            return;
          }
          if (big) {
            let cur = s as bigint;
            const step = st === undefined ? 1n : (st as bigint);
            if (step === 0n) throw new PgError(SqlState.InvalidParameterValue, 'step size cannot equal zero');
            while (step > 0n ? cur <= (e as bigint) : cur >= (e as bigint)) {
              yield [cur];
              cur += step;
            }
            return;
          }
          let cur = s as number;
          const step = st === undefined ? 1 : (st as number);
          if (step === 0) throw new PgError(SqlState.InvalidParameterValue, 'step size cannot equal zero');
          while (step > 0 ? cur <= (e as number) : cur >= (e as number)) {
            yield [cur];
            cur += step;
          }
        });
      }
      case 'pg_partition_ancestors': {
        // No table is a partition: a relation's only ancestor is itself (PostgreSQL's answer for
        // an ordinary table), which psql's \d uses to find foreign keys.
        if (args.length !== 1) break;
        args[0] = this.binder.coerce(args[0] as BoundExpr, T.regclass);
        return wrap([{ name: 'relid', type: T.regclass }], function* (_ctx, [r]) {
          if (r !== null && r !== undefined) yield [r];
        });
      }
      case '_pg_expandarray': {
        // information_schema._pg_expandarray(anyarray) → SETOF (x anyelement, n int): each
        // element with its 1-based position (pgJDBC's key-column queries select its fields).
        if (args.length !== 1) break;
        const a = args[0] as BoundExpr;
        const et = a.type.kind === 'array' ? (a.type.elem as SqlType) : a.type.kind === 'int2vector' ? T.int2 : a.type.kind === 'oidvector' ? T.oid : null;
        if (!et) break;
        const rec: SqlType = { kind: 'record', typmod: -1, fields: [{ name: 'x', type: et }, { name: 'n', type: T.int4 }] };
        return wrap([{ name, type: rec }], function* (_ctx, [arr]) {
          if (arr === null || arr === undefined) return;
          let i = 0;
          for (const v of flattenArray(arr as Value[])) yield [[v, ++i]];
        });
      }
      case 'pg_listening_channels': {
        if (args.length !== 0) break;
        return wrap([{ name, type: T.text }], function* (ctx) {
          for (const c of ctx.session.listeningChannels?.() ?? []) yield [c];
        });
      }
      case 'generate_subscripts': {
        // generate_subscripts(array, dim [, reverse]): the subscripts of one dimension. Arrays
        // here have one dimension with lower bound 1; int2vector and oidvector (pg_index.indkey)
        // start at 0, as PostgreSQL's. Another dimension gives no rows, as PostgreSQL's.
        if (args.length < 2 || args.length > 3) break;
        const a = args[0] as BoundExpr;
        if (a.type.kind !== 'array' && a.type.kind !== 'int2vector' && a.type.kind !== 'oidvector') break;
        const lower = a.type.kind === 'array' ? 1 : 0;
        args[1] = this.binder.coerce(args[1] as BoundExpr, T.int4);
        if (args[2]) args[2] = this.binder.coerce(args[2], T.bool);
        return wrap([{ name, type: T.int4 }], function* (_ctx, [arr, dim, rev]) {
          if (arr === null || dim === null) return;
          const len = lower === 0 ? (dim === 1 ? (arr as Value[]).length : 0) : (arrayDims(arr as Value[])[(dim as number) - 1] ?? 0);
          if (rev === true) for (let i = len - 1; i >= 0; i--) yield [i + lower];
          else for (let i = 0; i < len; i++) yield [i + lower];
        });
      }
      case 'unnest': {
        const a = args[0] as BoundExpr;
        const et = a.type.kind === 'array' ? (a.type.elem as SqlType) : a.type.kind === 'int2vector' ? T.int2 : a.type.kind === 'oidvector' ? T.oid : T.text;
        if (a.type.kind === 'unknown') args[0] = this.binder.coerce(a, { kind: 'array', typmod: -1, elem: T.text });
        return wrap([{ name: 'unnest', type: et }], function* (_ctx, [arr]) {
          if (arr === null) return;
          // Every element in storage order, whatever the dimensions (types/array_md.ts).
          for (const v of flattenArray(arr as Value[])) yield [v];
        });
      }
      case 'string_to_table': {
        // string_to_array's parts, one row each (text_to_table).
        if (args.length < 2 || args.length > 3) break;
        for (let i = 0; i < args.length; i++) args[i] = this.binder.coerce(args[i] as BoundExpr, T.text);
        return wrap([{ name, type: T.text }], function* (_ctx, [s, d, n]) {
          if (s === null) return;
          for (const part of stringToArray(s as string, d as string | null, (n as string | null | undefined) ?? null)) yield [part];
        });
      }
      case 'regexp_matches':
      case 'regexp_split_to_table': {
        if (args.length < 2 || args.length > 3) break;
        for (let i = 0; i < args.length; i++) args[i] = this.binder.coerce(args[i] as BoundExpr, T.text);
        if (name === 'regexp_matches') {
          return wrap([{ name, type: arrayOf(T.text) }], function* (ctx, [s, p, f]) {
            if (s === null || p === null || f === null) return;
            for (const m of regexpMatches(s as string, p as string, (f as string | undefined) ?? null, ctx)) yield [m];
          });
        }
        return wrap([{ name, type: T.text }], function* (ctx, [s, p, f]) {
          if (s === null || p === null || f === null) return;
          for (const part of regexpSplit(s as string, p as string, (f as string | undefined) ?? null, ctx)) yield [part];
        });
      }
      case 'json_array_elements':
      case 'json_array_elements_text': {
        // json keeps its text: each element as written (strings de-escaped for _text).
        const text = name.endsWith('_text');
        args[0] = this.binder.coerce(args[0] as BoundExpr, T.json);
        return wrap([{ name: 'value', type: text ? T.text : T.json }], function* (_ctx, [j]) {
          if (j === null) return;
          const e = jsonTextEntries((j as { json: string }).json);
          if (e.kind !== 'array') throw new PgError(SqlState.InvalidParameterValue, `cannot call ${name} on ${e.kind === 'object' ? 'a non-array' : 'a scalar'}`);
          for (const it of e.items) yield [text ? jsonRawText(it) : { json: it }];
        }, true);
      }
      case 'json_each':
      case 'json_each_text': {
        const text = name.endsWith('_text');
        args[0] = this.binder.coerce(args[0] as BoundExpr, T.json);
        return wrap([{ name: 'key', type: T.text }, { name: 'value', type: text ? T.text : T.json }], function* (_ctx, [j]) {
          if (j === null) return;
          const e = jsonTextEntries((j as { json: string }).json);
          if (e.kind !== 'object') throw new PgError(SqlState.InvalidParameterValue, e.kind === 'array' ? 'cannot deconstruct an array as an object' : 'cannot deconstruct a scalar');
          for (const [k, v] of e.pairs) yield [k, text ? jsonRawText(v) : { json: v }];
        });
      }
      case 'json_object_keys':
      case 'jsonb_object_keys': {
        const isJson = name === 'json_object_keys';
        args[0] = this.binder.coerce(args[0] as BoundExpr, isJson ? T.json : T.jsonb);
        return wrap([{ name, type: T.text }], function* (_ctx, [j]) {
          if (j === null) return;
          if (isJson) {
            const e = jsonTextEntries((j as { json: string }).json);
            if (e.kind !== 'object') throw new PgError(SqlState.InvalidParameterValue, `cannot call ${name} on ${e.kind === 'array' ? 'an array' : 'a scalar'}`);
            for (const [k] of e.pairs) yield [k];
            return;
          }
          const v = (j as { jsonb: unknown }).jsonb;
          if (v === null || typeof v !== 'object' || v instanceof Decimal) throw new PgError(SqlState.InvalidParameterValue, `cannot call ${name} on a scalar`);
          if (Array.isArray(v)) throw new PgError(SqlState.InvalidParameterValue, `cannot call ${name} on an array`);
          // jsonb's key order: shorter first, then bytewise.
          const keys = Object.keys(v).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
          for (const k of keys) yield [k];
        });
      }
      case 'jsonb_array_elements':
      case 'jsonb_array_elements_text': {
        const text = name.endsWith('_text');
        args[0] = this.binder.coerce(args[0] as BoundExpr, T.jsonb);
        return wrap([{ name: 'value', type: text ? T.text : T.jsonb }], function* (_ctx, [j]) {
          if (j === null) return;
          const arr = (j as { jsonb: unknown }).jsonb;
          if (!Array.isArray(arr)) {
            const obj = arr !== null && typeof arr === 'object' && !(arr instanceof Decimal);
            throw new PgError(SqlState.InvalidParameterValue, obj ? 'cannot extract elements from an object' : 'cannot extract elements from a scalar');
          }
          for (const v of arr) yield [text ? (typeof v === 'string' ? v : v === null ? null : formatJsonb(v)) : { jsonb: v }];
        }, true);
      }
      case 'jsonb_each':
      case 'jsonb_each_text': {
        const text = name.endsWith('_text');
        args[0] = this.binder.coerce(args[0] as BoundExpr, T.jsonb);
        return wrap([{ name: 'key', type: T.text }, { name: 'value', type: text ? T.text : T.jsonb }], function* (_ctx, [j]) {
          if (j === null) return;
          for (const [k, v] of Object.entries((j as { jsonb: Record<string, unknown> }).jsonb)) yield [k, text ? (typeof v === 'string' ? v : v === null ? null : formatJsonb(v)) : { jsonb: v }];
        });
      }
      default:
        break;
    }
    // Any scalar function used in FROM yields one row.
    const b = this.binder.bind(f, argScope);
    return wrap([{ name, type: b.type }], function* (ctx) {
      yield [b.ev([], ctx)];
    });
  }

  // ---- SELECT --------------------------------------------------------------------------------

  private planSelect(q: SelectStmt, s0: Extract<SelectStmt['body'], { kind: 'select' }>, outer: Scope | null): Operator {
    const b = this.binder;
    if (s0.items.length > targetListEntriesMax) throw tooManyTargets();
    const userSrf = (e: Expr & { kind: 'func' }) => visibleFunctions(b.env.catalog, b.env.session, e.name).some((f) => f.retSet);
    const s = distributeWhere(rewriteSelectListSrfs(s0, userSrf));
    const from = this.planFrom(s.from, outer);
    let op = from.op;
    const inScope = from.scope;
    if (op instanceof TsScan && latestPerEntity(op, s, q)) op = op.with({ latestOnly: true });
    if (op instanceof TsScan && s.from.length === 1 && s.from[0]?.kind === 'table') op = op.with({ needed: referencedColumns(op, s, q, s.from[0]) });

    if (s.where) {
      b.noAggClause = 'WHERE';
      const pred = b.coerceBool(b.bind(s.where, inScope), 'WHERE');
      b.noAggClause = null;
      op = pushDownFilter(op, pred);
    }

    // Expand * in the select list.
    const items: { expr: Expr; alias: string | null }[] = [];
    for (const it of s.items) {
      if (it.expr.kind === 'star') {
        const tbl = it.expr.table;
        let any = false;
        inScope.cols.forEach((c, i) => {
          if (c.hidden || (c.usingHidden && !tbl)) return;
          if (tbl && c.rel !== tbl[tbl.length - 1]) return;
          any = true;
          items.push({ expr: { kind: 'column', parts: [`\u0000${i}`], pos: it.expr.pos }, alias: c.name });
        });
        if (tbl && !any && !inScope.hasRelation(tbl[tbl.length - 1] as string)) {
          throw new PgError(SqlState.UndefinedTable, `missing FROM-clause entry for table "${tbl.join('.')}"`, { position: it.expr.pos + 1 });
        }
        if (!tbl && s.from.length === 0) throw new PgError(SqlState.SyntaxError, 'SELECT * with no tables specified is not valid', { position: it.expr.pos + 1 });
        continue;
      }
      items.push(it);
    }
    if (items.length > targetListEntriesMax) throw tooManyTargets();
    // Positional references created by * expansion bind directly to input columns.
    const starHook: BindHook = (e, scope) => {
      if (e.kind === 'column' && e.parts.length === 1 && (e.parts[0] as string).startsWith('\u0000') && scope === inScope) {
        const idx = Number((e.parts[0] as string).slice(1));
        const c = inScope.cols[idx] as ScopeCol;
        return { type: c.type, ev: (r) => r[idx] as Value, shape: { k: 'col', idx }, name: c.name };
      }
      return null;
    };

    const hasAgg = s.groupBy.length > 0 || items.some((i) => containsAggregate(i.expr)) || (s.having !== null) || q.orderBy.some((o) => containsAggregate(o.expr));
    let scope: Scope = inScope;
    const levelScopes = new Set<Scope>([inScope]);
    const hooks: BindHook[] = [starHook];

    if (hasAgg) {
      // GROUP BY items may be output positions or output aliases.
      const groupAsts = s.groupBy.map((g) => {
        if (g.kind === 'literal' && g.literalType === 'integer') {
          const k = Number(g.value) - 1;
          const it = items[k];
          if (!it) throw new PgError(SqlState.InvalidColumnReference, `GROUP BY position ${k + 1} is not in select list`, { position: g.pos + 1 });
          return it.expr;
        }
        if (g.kind === 'column' && g.parts.length === 1 && inScope.find(g.parts, g.pos) < 0) {
          const it = items.find((x) => x.alias === g.parts[0]);
          if (it) return it.expr;
        }
        return g;
      });
      b.noAggClause = 'GROUP BY';
      // A KWDB group window (COUNT_/STATE_/SESSION_/EVENT_/TIME_WINDOW) is computed by an operator
      // that appends each row's window id; the group key reads that column.
      const winIdx = groupAsts.findIndex((g) => groupWindowName(g) !== null);
      if (groupAsts.filter((g) => groupWindowName(g) !== null).length > 1) throw new PgError(SqlState.FeatureNotSupported, 'only one group window per GROUP BY');
      if (winIdx >= 0) {
        // KWDB's rules for group windows: the last GROUP BY item, after plain columns only, in a
        // single-table query that is not nested, joined or part of a set operation (42601 there).
        const w = groupAsts[winIdx] as Expr & { kind: 'func' };
        const name = (groupWindowName(w) as string).toUpperCase();
        const err = (why: string) => new PgError(SqlState.SyntaxError, `${name} ${why}`, { position: w.pos + 1 });
        if (winIdx !== groupAsts.length - 1) throw err('must be the last item of GROUP BY');
        if (groupAsts.some((g, i) => i !== winIdx && g.kind !== 'column')) throw err('can only follow plain columns in GROUP BY, not expressions');
        if (this.depth > 1) throw err('is not allowed in a subquery, a CTE or a set operation');
        if (s.from.length !== 1 || s.from[0]?.kind !== 'table') throw err('is only allowed in a query over a single table');
      }
      const winCol = inScope.cols.length;
      const groupBound = b.withHooks([starHook], () =>
        groupAsts.map((g, i) =>
          i === winIdx ? { type: T.int8, ev: (r: Row) => r[winCol] as Value, shape: { k: 'other' as const }, name: groupWindowName(g) as string } : b.resolveUnknown(b.bind(g, inScope)),
        ),
      );
      if (winIdx >= 0) {
        const w = groupAsts[winIdx] as Expr & { kind: 'func' };
        const spec = b.withHooks([starHook], () => this.groupWindowSpec(w, inScope));
        const tsIdx = inScope.cols.findIndex((c) => c.tsTime);
        if (tsIdx < 0) throw new PgError(SqlState.FeatureNotSupported, `${groupWindowName(w)} needs a time-series table in FROM`, { position: w.pos + 1 });
        const partition = groupBound.filter((_g, i) => i !== winIdx).map((g) => ({ ev: g.ev, type: g.type }));
        op = new GroupWindowAssign(op, [...op.columns, { name: groupWindowName(w) as string, type: T.int8 }], spec, tsIdx, partition);
      }
      b.noAggClause = null;
      const groupKeyIdx = new Map<string, number>();
      groupAsts.forEach((g, i) => groupKeyIdx.set(exprKey(g), i));
      const groupByInputCol = new Map<number, number>();
      groupBound.forEach((g, i) => {
        if (g.shape.k === 'col' && !groupByInputCol.has(g.shape.idx)) groupByInputCol.set(g.shape.idx, i);
      });
      const aggs: AggSpec[] = [];
      const aggKeyIdx = new Map<string, number>();
      // time_bucket_gapfill in GROUP BY, and the interpolate() calls its buckets feed.
      const gapIdx = groupAsts.findIndex((g) => g.kind === 'func' && (g.name[g.name.length - 1] as string).toLowerCase() === 'time_bucket_gapfill');
      const gap = gapIdx >= 0 ? gapfillWidth(groupAsts[gapIdx] as Expr & { kind: 'func' }) : null;
      const interps: InterpolateSpec[] = [];
      const interpKeys = new Map<string, number>();
      let interpBase = -1;
      const postCols: ScopeCol[] = groupBound.map((g) => (g.shape.k === 'col' ? { ...(inScope.cols[g.shape.idx] as ScopeCol), hidden: false } : { name: g.name, rel: null, type: g.type }));
      const nGroup = postCols.length;
      const postScope = new Scope(postCols, outer);
      const aggHook: BindHook = (e, sc, binder) => {
        if (!levelScopes.has(sc)) return null;
        if (e.kind === 'func' && !e.over && (e.name[e.name.length - 1] as string).toLowerCase() === 'interpolate') {
          if (!gap) throw new PgError(SqlState.FeatureNotSupported, 'interpolate() needs time_bucket_gapfill(…) in GROUP BY', { position: e.pos + 1 });
          if (e.args.length < 1 || e.args.length > 2) throw new PgError(SqlState.UndefinedFunction, 'interpolate(value [, mode]) takes one or two arguments', { position: e.pos + 1 });
          const key = exprKey(e);
          let k = interpKeys.get(key);
          if (k === undefined) {
            const inner = binder.bind(e.args[0] as Expr, sc);
            k = interps.length;
            interpKeys.set(key, k);
            interps.push({ ev: inner.ev, mode: interpolateMode(e.args[1]) });
          }
          const kk = k;
          return { type: T.float8, ev: (r) => r[interpBase + kk] as Value, shape: { k: 'other' }, name: 'interpolate' };
        }
        const gi = groupKeyIdx.get(exprKey(e));
        if (gi !== undefined) {
          const g = groupBound[gi] as BoundExpr;
          return { type: g.type, ev: (r) => r[gi] as Value, shape: { k: 'col', idx: gi }, name: g.name };
        }
        if (e.kind === 'func' && !e.over && aggregateNames.has((e.name[e.name.length - 1] as string).toLowerCase())) {
          const key = exprKey(e);
          let ai = aggKeyIdx.get(key);
          if (ai === undefined) {
            ai = aggs.length;
            aggKeyIdx.set(key, ai);
            aggs.push(this.aggSpec(e, inScope, starHook));
          }
          const spec = aggs[ai] as AggSpec;
          const idx = nGroup + ai;
          return { type: spec.resultType, ev: (r) => r[idx] as Value, shape: { k: 'col', idx }, name: spec.name };
        }
        if (e.kind === 'column') {
          let idx: number;
          if (e.parts.length === 1 && (e.parts[0] as string).startsWith('\u0000')) idx = Number((e.parts[0] as string).slice(1));
          else idx = inScope.find(e.parts, e.pos);
          if (idx >= 0) {
            const gi2 = groupByInputCol.get(idx);
            if (gi2 !== undefined) {
              const g = groupBound[gi2] as BoundExpr;
              return { type: g.type, ev: (r) => r[gi2] as Value, shape: { k: 'col', idx: gi2 }, name: (inScope.cols[idx] as ScopeCol).name };
            }
            const c = inScope.cols[idx] as ScopeCol;
            throw new PgError(SqlState.GroupingError, `column "${c.rel ? c.rel + '.' : ''}${c.name}" must appear in the GROUP BY clause or be used in an aggregate function`, { position: e.pos + 1 });
          }
          void binder;
        }
        return null;
      };
      hooks.push(aggHook);
      levelScopes.add(postScope);
      scope = postScope;
      // Bind everything that runs after aggregation once now, so all aggregates are registered
      // before the aggregation operator is built.
      const preBind = () => {
        for (const it of items) if (!containsWindow(it.expr)) b.bind(it.expr, postScope);
        if (s.having) b.bind(s.having, postScope);
      };
      b.withHooks(hooks, preBind);
      // Window function arguments may contain aggregates too: register them now.
      b.withHooks(hooks, () => {
        for (const w of collectWindowCalls([...items.map((i) => i.expr), ...q.orderBy.map((o) => o.expr)])) {
          for (const a of w.args) b.bind(a, postScope);
          for (const p of w.over?.partitionBy ?? []) b.bind(p, postScope);
          for (const o of w.over?.orderBy ?? []) b.bind(o.expr, postScope);
        }
        for (const o of q.orderBy) if (!containsWindow(o.expr) && !(o.expr.kind === 'literal')) {
          try {
            b.bind(o.expr, postScope);
          } catch (e) {
            if (!(e instanceof PgError && e.code === SqlState.UndefinedColumn)) throw e;
          }
        }
      });
      const aggCols = aggs.map((a) => ({ name: a.name, type: a.resultType }));
      postCols.push(...aggs.map((a) => ({ name: a.name, rel: null, type: a.resultType, hidden: true })));
      const input = op;
      const fused = (): { visit(ctx: ExecCtx, fn: (r: Row) => void): Generator<Row[]>; filter: Ev | null } | null => {
        if (input instanceof TsScan) return { visit: (ctx, fn) => input.visitRows(ctx, fn), filter: null };
        if (input instanceof Filter && input.input instanceof TsScan) {
          const scan = input.input;
          return { visit: (ctx, fn) => scan.visitRows(ctx, fn), filter: input.pred };
        }
        return null;
      };
      op = new HashAggregate(op, groupBound.map((g) => ({ ev: g.ev, type: g.type })), aggs, [...groupBound.map((g) => ({ name: g.name, type: g.type })), ...aggCols], fused);
      const columnar = !gap && winIdx < 0 && input instanceof TsScan ? columnarAggPlan(input, groupAsts, groupBound, aggs) : null;
      if (columnar) op = new TsColumnarAggregate(input as TsScan, columnar.groups, columnar.aggs, op.columns, op);
      if (gap) {
        interpBase = nGroup + aggs.length;
        const others = groupBound.map((_g, i) => i).filter((i) => i !== gapIdx);
        const scan = input instanceof TsScan ? input : input instanceof Filter && input.input instanceof TsScan ? input.input : null;
        const range = (ctx: ExecCtx): { lo: number; hi: number } | null => {
          if (!scan || scan.bounds.lower.length === 0 || scan.bounds.upper.length === 0) return null;
          const r = evalTimeRange(scan.bounds, ctx);
          return r ? { lo: Number(r.lo), hi: Number(r.hi) } : null;
        };
        const cols = [...groupBound.map((g) => ({ name: g.name, type: g.type })), ...aggCols, ...interps.map(() => ({ name: 'interpolate', type: T.float8 }))];
        op = new GapFill(op, cols, gapIdx, others, others.map((i) => (groupBound[i] as BoundExpr).type), gap.widthUs, gap.originUs, range, nGroup + aggs.length, interps);
      }
      if (s.having) {
        const h = b.withHooks(hooks, () => b.coerceBool(b.bind(s.having as Expr, postScope), 'HAVING'));
        op = new Filter(op, h.ev, 'having');
      }
    }

    // Window functions.
    const windowNames = new Set<string>();
    for (const w of s.windows) {
      if (windowNames.has(w.name)) throw new PgError(SqlState.WindowingError, `window "${w.name}" is already defined`);
      windowNames.add(w.name);
    }
    const windowCalls = collectWindowCalls([...items.map((i) => i.expr), ...q.orderBy.map((o) => o.expr)]);
    if (windowCalls.length > 0) {
      const named = new Map(s.windows.map((w) => [w.name, w.spec]));
      const specs: WindowFuncSpec[] = [];
      const keyIdx = new Map<string, number>();
      const base = scope.cols.length;
      b.withHooks(hooks, () => {
        for (const w of windowCalls) {
          const key = exprKey(w);
          if (keyIdx.has(key)) continue;
          keyIdx.set(key, base + specs.length);
          specs.push(this.windowSpec(w, scope, named));
        }
      });
      op = new WindowOp(op, specs, [...op.columns, ...specs.map((sp) => ({ name: sp.name, type: sp.resultType }))]);
      const winScope = new Scope([...scope.cols, ...specs.map((sp) => ({ name: sp.name, rel: null, type: sp.resultType, hidden: true }))], outer);
      const winHook: BindHook = (e, sc) => {
        if (!levelScopes.has(sc)) return null;
        if (e.kind !== 'func' || !e.over) return null;
        const idx = keyIdx.get(exprKey(e));
        if (idx === undefined) return null;
        const sp = specs[idx - base] as WindowFuncSpec;
        return { type: sp.resultType, ev: (r) => r[idx] as Value, shape: { k: 'col', idx }, name: sp.name };
      };
      hooks.unshift(winHook);
      levelScopes.add(winScope);
      scope = winScope;
    }

    // Projection (+ hidden ORDER BY expressions).
    const finalScope = scope;
    const bound = b.withHooks(hooks, () => items.map((it) => b.resolveUnknown(b.bind(it.expr, finalScope))));
    const outCols: Column[] = bound.map((x, i) => {
      const it = items[i] as { expr: Expr; alias: string | null };
      const c: Column = { name: it.alias ?? x.name, type: x.type };
      if (x.shape.k === 'col') {
        const sc = finalScope.cols[x.shape.idx] as ScopeCol;
        if (sc.tableOid) {
          c.tableOid = sc.tableOid;
          c.columnNum = sc.columnNum as number;
        }
      }
      return c;
    });
    const exprs = bound.map((x) => x.ev);
    const sortKeys: SortKey[] = [];
    for (const o of q.orderBy) {
      const nullsFirst = o.nulls ? o.nulls === 'first' : o.desc;
      if (o.expr.kind === 'literal' && o.expr.literalType === 'integer') {
        const k = Number(o.expr.value) - 1;
        if (k < 0 || k >= exprs.length) throw new PgError(SqlState.InvalidColumnReference, `ORDER BY position ${k + 1} is not in select list`, { position: o.expr.pos + 1 });
        sortKeys.push({ ev: (r) => r[k] as Value, type: (outCols[k] as Column).type, desc: o.desc, nullsFirst });
        continue;
      }
      if (o.expr.kind === 'column' && o.expr.parts.length === 1) {
        const name = o.expr.parts[0];
        const matches = items.map((it, i) => ((it.alias ?? (bound[i] as BoundExpr).name) === name ? i : -1)).filter((i) => i >= 0);
        if (matches.length >= 1 && (items[matches[0] as number] as { alias: string | null }).alias !== null) {
          const k2 = matches[0] as number;
          sortKeys.push({ ev: (r) => r[k2] as Value, type: (outCols[k2] as Column).type, desc: o.desc, nullsFirst });
          continue;
        }
      }
      // Same expression as an output column?
      const key = exprKey(o.expr);
      const same = items.findIndex((it) => exprKey(it.expr) === key);
      if (same >= 0) {
        sortKeys.push({ ev: (r) => r[same] as Value, type: (outCols[same] as Column).type, desc: o.desc, nullsFirst });
        continue;
      }
      if (s.distinct && !s.distinctOn) throw new PgError(SqlState.InvalidColumnReference, 'for SELECT DISTINCT, ORDER BY expressions must appear in select list', { position: o.expr.pos + 1 });
      const eb = b.withHooks(hooks, () => b.resolveUnknown(b.bind(o.expr, finalScope)));
      const k3 = exprs.length;
      exprs.push(eb.ev);
      outCols.push({ name: '?order', type: eb.type });
      sortKeys.push({ ev: (r) => r[k3] as Value, type: eb.type, desc: o.desc, nullsFirst });
    }
    const nVisible = bound.length;
    // DISTINCT ON keys: output columns, positions, or (as in PostgreSQL) any expression, computed
    // as a hidden column.
    const distinctKeys = s.distinctOn
      ? b.withHooks(hooks, () => (s.distinctOn as Expr[]).map((d) => {
          const key = exprKey(d);
          const same = items.findIndex((it) => exprKey(it.expr) === key);
          if (same >= 0) return { ev: ((r: Row) => r[same] as Value) as Ev, type: (outCols[same] as Column).type };
          if (d.kind === 'literal' && d.literalType === 'integer') {
            const k = Number(d.value) - 1;
            if (k < 0 || k >= nVisible) throw new PgError(SqlState.InvalidColumnReference, `SELECT DISTINCT ON position ${k + 1} is not in select list`, { position: d.pos + 1 });
            return { ev: ((r: Row) => r[k] as Value) as Ev, type: (outCols[k] as Column).type };
          }
          const eb = b.resolveUnknown(b.bind(d, finalScope));
          const k4 = exprs.length;
          exprs.push(eb.ev);
          outCols.push({ name: '?distinct', type: eb.type });
          return { ev: ((r: Row) => r[k4] as Value) as Ev, type: eb.type };
        }))
      : null;
    op = new Project(op, exprs, outCols);
    if (distinctKeys) {
      const keys = distinctKeys;
      if (sortKeys.length > 0) op = new Sort(op, sortKeys);
      op = new Distinct(op, keys);
    } else {
      if (s.distinct) op = new Distinct(op, outCols.slice(0, nVisible).map((c, i) => ({ ev: (r: Row) => r[i] as Value, type: c.type })));
      if (sortKeys.length > 0) op = new Sort(op, sortKeys);
    }
    if (q.limit || q.offset) op = this.limit(op, q);
    if (outCols.length > nVisible) {
      const keep = outCols.slice(0, nVisible);
      op = new Project(op, keep.map((_c, i) => (r: Row) => r[i] as Value), keep);
    }
    return op;
  }

  /** The parameters of a group window call (see exec/group_window.ts). */
  private groupWindowSpec(w: Expr & { kind: 'func' }, inScope: Scope): GroupWindowSpec {
    const b = this.binder;
    const name = groupWindowName(w) as string;
    const bad = (why: string) => new PgError(SqlState.InvalidParameterValue, `${name}: ${why}`, { position: w.pos + 1 });
    const lit = (x: Expr | undefined): string | number | null => (x?.kind === 'literal' && (typeof x.value === 'string' || typeof x.value === 'number') ? x.value : null);
    switch (name) {
      case 'count_window': {
        const n = Number(lit(w.args[0]));
        if (!Number.isInteger(n) || n < 1) throw bad('the row count must be a positive integer constant');
        const slide = w.args.length > 1 ? Number(lit(w.args[1])) : n;
        if (!Number.isInteger(slide) || slide < 1 || slide > n) throw bad('the sliding row count must be a positive integer constant no larger than the window');
        return { kind: 'count', rows: n, slide };
      }
      case 'state_window': {
        const e = b.resolveUnknown(b.bind(w.args[0] as Expr, inScope));
        // KWDB: the state is an integer, bool, char/varchar (or a CASE giving one), never a float.
        if (!['int2', 'int4', 'int8', 'bool', 'bpchar', 'varchar', 'text', 'char', 'name'].includes(e.type.kind)) {
          throw new PgError(SqlState.SyntaxError, `STATE_WINDOW does not support ${formatType(e.type)} states: use an integer, bool or character column or a CASE expression`, { position: w.pos + 1 });
        }
        return { kind: 'state', ev: e.ev, type: e.type };
      }
      case 'session_window': {
        const gap = lit(w.args[1]);
        if (typeof gap !== 'string') throw bad("the gap must be a constant such as '5m'");
        return { kind: 'session', gapUs: kwdbBucketWidth(gap) };
      }
      case 'event_window': {
        if (w.args.length !== 2) throw bad('takes a start and an end condition');
        const start = b.coerceBool(b.bind(w.args[0] as Expr, inScope), 'EVENT_WINDOW');
        const end = b.coerceBool(b.bind(w.args[1] as Expr, inScope), 'EVENT_WINDOW');
        return { kind: 'event', start: start.ev, end: end.ev };
      }
      default: {
        const width = lit(w.args[1]);
        if (typeof width !== 'string') throw bad("the width must be a constant such as '10m'");
        const slideText = lit(w.args[2]);
        const widthUs = kwdbBucketWidth(width);
        const slideUs = slideText === null ? widthUs : kwdbBucketWidth(String(slideText));
        if (slideUs > widthUs) throw bad('the sliding interval cannot be longer than the window');
        if (widthUs / slideUs > slidingWindowsPerRowMax) throw bad(`a row may fall in at most ${slidingWindowsPerRowMax} sliding windows (width / sliding)`);
        return { kind: 'time', widthUs, slideUs };
      }
    }
  }

  private aggSpec(e: Expr & { kind: 'func' }, inScope: Scope, starHook: BindHook): AggSpec {
    const b = this.binder;
    const name = (e.name[e.name.length - 1] as string).toLowerCase();
    return b.withHooks([starHook], () => {
      b.noAggClause = 'aggregate function calls';
      try {
        if (e.args.some((a) => containsAggregate(a))) throw new PgError(SqlState.GroupingError, 'aggregate function calls cannot be nested', { position: e.pos + 1 });
        // In PostgreSQL an aggregate whose arguments and FILTER reference only columns of an
        // enclosing query belongs to that query (it is computed there, once per outer group).
        // Strata computes aggregates where they are written, so it refuses those instead of
        // answering differently.
        if (inScope.parent !== null) {
          const refs = columnRefs([...e.args, ...(e.filter ? [e.filter] : []), ...e.orderBy.map((o) => o.expr)]);
          const local = refs.direct.some((c) => inScope.find(c.parts, c.pos) >= 0);
          if (!local && (refs.direct.length > 0 || (refs.nested && inScope.cols.length === 0))) {
            throw new PgError(SqlState.FeatureNotSupported, `aggregate ${name}() over columns of an outer query only is not supported`, { position: e.pos + 1 });
          }
        }
        let args = e.args.map((a) => b.bind(a, inScope));
        if (orderedSetAggregates.has(name)) {
          // f(fraction) WITHIN GROUP (ORDER BY x): x becomes the first argument (rows are fed sorted by it).
          if (e.orderBy.length !== 1 || args.length !== (name === 'mode' ? 0 : 1)) {
            throw new PgError(SqlState.UndefinedFunction, `function ${name} with ${args.length} argument(s) and ${e.orderBy.length} ordering column(s) does not exist`, { position: e.pos + 1 });
          }
          let x = b.resolveUnknown(b.bind((e.orderBy[0] as OrderItem).expr, inScope));
          if (name === 'percentile_cont') {
            if (!isNumeric(x.type)) throw new PgError(SqlState.FeatureNotSupported, `percentile_cont over ${formatType(x.type)} is not supported`, { position: e.pos + 1 });
            x = b.coerce(x, T.float8);
          }
          if (args[0]) args[0] = b.coerce(args[0], args[0].type.kind === 'array' ? arrayOf(T.float8) : T.float8);
          args = [x, ...args];
        }
        if (timeOrderedAggregates.has(name)) {
          if (e.star || args.length !== 1) throw new PgError(SqlState.FeatureNotSupported, `${name}() takes exactly one column or expression (${name}(*) is not supported yet)`, { position: e.pos + 1 });
          // Order by the timestamp column of the argument's time-series table (or the only one).
          const a0 = args[0] as BoundExpr;
          const rel = a0.shape.k === 'col' ? inScope.cols[a0.shape.idx]?.rel : undefined;
          let ti = inScope.cols.findIndex((c) => c.tsTime && (rel === undefined || c.rel === rel));
          if (ti < 0) ti = inScope.cols.findIndex((c) => c.tsTime);
          if (ti < 0) throw new PgError(SqlState.FeatureNotSupported, `${name}() needs a time-series table in FROM`, { position: e.pos + 1 });
          const tcol = inScope.cols[ti] as ScopeCol;
          args = [b.resolveUnknown(a0), { type: tcol.type, ev: (r) => r[ti] as Value, shape: { k: 'col', idx: ti }, name: tcol.name }];
        }
        if (name === 'count' && e.star) args = [];
        else if (name === 'count' && e.args.length === 0) throw countNeedsStar(e.pos);
        if (name === 'string_agg') {
          if (args[0]?.type.kind === 'bytea' && args[1]) args[1] = b.coerce(args[1], T.bytea);
          args = args.map((a) => (a.type.kind === 'unknown' ? b.coerce(a, T.text) : a));
          if (args[0] && args[0].type.kind !== 'bytea' && args[0].type.kind !== 'text') args[0] = b.coerce(args[0], T.text, true);
        } else {
          if ((name === 'json_agg' || name === 'jsonb_agg') && args[0]?.type.kind === 'unknown') {
            throw new PgError(SqlState.DatatypeMismatch, 'could not determine polymorphic type because input has type unknown', { position: e.pos + 1 });
          }
          args = args.map((a, i) => (a.type.kind === 'unknown' ? b.coerce(a, name === 'count' || (name === 'elapsed' && i === 1) || name.startsWith('json') ? T.text : T.numeric) : a));
        }
        if ((name === 'sum' || name === 'avg') && args[0] && !['int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'interval'].includes(args[0].type.kind)) {
          throw new PgError(SqlState.UndefinedFunction, `function ${name}(${formatType(args[0].type)}) does not exist`, { position: e.pos + 1 });
        }
        if ((name === 'bool_and' || name === 'bool_or' || name === 'every') && args[0]) args[0] = b.coerceBool(args[0], name);
        if ((name === 'bit_and' || name === 'bit_or' || name === 'bit_xor') && args[0] && !isInteger(args[0].type)) {
          throw new PgError(SqlState.UndefinedFunction, `function ${name}(${formatType(args[0].type)}) does not exist`, { position: e.pos + 1 });
        }
        const argTypes = args.map((a) => a.type);
        const filter = e.filter ? b.coerceBool(b.bind(e.filter, inScope), 'FILTER').ev : null;
        if (e.distinct) {
          // The sort is over the distinct values, so it may only use them (parse_agg.c).
          const argKeys = new Set(e.args.map(exprKey));
          const stray = e.orderBy.find((o) => !argKeys.has(exprKey(o.expr)));
          if (stray) throw new PgError(SqlState.InvalidColumnReference, 'in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list', { position: stray.expr.pos + 1 });
        }
        const orderBy: SortKey[] = e.orderBy.map((o) => {
          const x = b.resolveUnknown(b.bind(o.expr, inScope));
          return { ev: x.ev, type: x.type, desc: o.desc, nullsFirst: o.nulls ? o.nulls === 'first' : o.desc };
        });
        return {
          name,
          args: args.map((a) => a.ev),
          argCols: args.map((a) => (a.shape.k === 'col' ? a.shape.idx : null)),
          argTypes,
          resultType: aggResultType(name, argTypes),
          distinct: e.distinct,
          filter,
          orderBy,
          star: e.star,
          make: makeAccumulator(name, argTypes, () => b.vctx),
          grows: name === 'array_agg' || name === 'string_agg',
        };
      } finally {
        b.noAggClause = null;
      }
    });
  }

  private windowSpec(e: Expr & { kind: 'func' }, scope: Scope, named: Map<string, WindowSpec>): WindowFuncSpec {
    const b = this.binder;
    const name = (e.name[e.name.length - 1] as string).toLowerCase();
    let over = e.over as WindowSpec;
    if (over.name) {
      const base = named.get(over.name);
      if (!base) throw new PgError(SqlState.UndefinedObject, `window "${over.name}" does not exist`, { position: e.pos + 1 });
      over = { name: null, partitionBy: base.partitionBy, orderBy: over.orderBy.length > 0 ? over.orderBy : base.orderBy, frame: over.frame ?? base.frame };
    }
    if (!aggregateNames.has(name) && !windowOnlyNames.has(name)) throw new PgError(SqlState.WrongObjectType, `OVER specified, but ${name} is not a window function nor an aggregate function`, { position: e.pos + 1 });
    let args = e.args.map((a) => b.resolveUnknown(b.bind(a, scope)));
    if (name === 'count' && e.star) args = [];
    else if (name === 'count' && e.args.length === 0) throw countNeedsStar(e.pos);
    if ((name === 'lag' || name === 'lead') && args.length > 2) args[2] = b.coerce(args[2] as BoundExpr, (args[0] as BoundExpr).type);
    const argTypes = args.map((a) => a.type);
    const part = over.partitionBy.map((p) => {
      const x = b.resolveUnknown(b.bind(p, scope));
      return { ev: x.ev, type: x.type };
    });
    const orderBy = over.orderBy.map((o) => {
      const x = b.resolveUnknown(b.bind(o.expr, scope));
      return { ev: x.ev, type: x.type, desc: o.desc, nullsFirst: o.nulls ? o.nulls === 'first' : o.desc };
    });
    const frame = over.frame ? this.frameSpec(over.frame, orderBy) : null;
    const isAgg = aggregateNames.has(name);
    return {
      name,
      args: args.map((a) => a.ev),
      argTypes,
      resultType: isAgg ? aggResultType(name, argTypes) : windowResultType(name, argTypes),
      partitionBy: part,
      orderBy,
      frame,
      filter: e.filter ? b.coerceBool(b.bind(e.filter, scope), 'FILTER').ev : null,
      aggregate: isAgg ? makeAccumulator(name, argTypes, () => b.vctx) : null,
    };
  }

  /** A window frame checked as PostgreSQL's grammar and transformFrameOffset check it. */
  private frameSpec(fr: WindowFrame, orderBy: SortKey[]): FrameSpec {
    const b = this.binder;
    const err = (m: string) => new PgError(SqlState.WindowingError, m, { position: fr.pos + 1 });
    if (fr.start.type === 'unbounded_following') throw err('frame start cannot be UNBOUNDED FOLLOWING');
    if (fr.end.type === 'unbounded_preceding') throw err('frame end cannot be UNBOUNDED PRECEDING');
    if (fr.start.type === 'current_row' && fr.end.type === 'preceding') throw err('frame starting from current row cannot have preceding rows');
    if (fr.start.type === 'following' && (fr.end.type === 'preceding' || fr.end.type === 'current_row')) {
      throw err(fr.end.type === 'current_row' ? 'frame starting from following row cannot end with current row' : 'frame starting from following row cannot have preceding rows');
    }
    const hasOffset = fr.start.type === 'preceding' || fr.start.type === 'following' || fr.end.type === 'preceding' || fr.end.type === 'following';
    let rangeKey: FrameSpec['rangeKey'];
    let offsetType: SqlType = T.int8;
    if (fr.mode === 'range' && hasOffset) {
      if (orderBy.length !== 1) throw err('RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column');
      const k = orderBy[0] as SortKey;
      rangeKey = { type: k.type, desc: k.desc, nullsFirst: k.nullsFirst };
      offsetType = rangeOffsetType(k.type);
    }
    if (fr.mode === 'groups' && orderBy.length === 0) throw err('GROUPS mode requires an ORDER BY clause');
    const edge = (f: FrameBound): FrameEdge => {
      if (f.type !== 'preceding' && f.type !== 'following') return { type: f.type };
      let x = b.bind(f.offset, new Scope([]));
      if (x.type.kind === 'unknown') x = b.coerce(x, offsetType);
      const ok = fr.mode !== 'range' || (isInteger(offsetType) ? isInteger(x.type) : offsetType.kind === 'interval' ? x.type.kind === 'interval' : isNumeric(x.type));
      if (!ok) {
        throw new PgError(SqlState.UndefinedFunction, `RANGE with offset PRECEDING/FOLLOWING is not supported for column type ${formatType((rangeKey as { type: SqlType }).type)} and offset type ${formatType(x.type)}`, { position: fr.pos + 1 });
      }
      return { type: f.type, offset: b.coerce(x, offsetType).ev };
    };
    return { mode: fr.mode, start: edge(fr.start), end: edge(fr.end), exclude: fr.exclude, ...(rangeKey ? { rangeKey } : {}) };
  }
}

export const DEFAULT_MARKER = Symbol('default');

/** PostgreSQL's 54011 for a select list longer than MaxTupleAttributeNumber. */
function tooManyTargets(): PgError {
  return new PgError(SqlState.TooManyColumns, `target lists can have at most ${targetListEntriesMax} entries`);
}

const srfNames = new Set(['generate_series', 'generate_subscripts', '_pg_expandarray', 'pg_listening_channels', 'pg_partition_ancestors', 'unnest', 'jsonb_array_elements', 'jsonb_array_elements_text', 'regexp_matches', 'regexp_split_to_table', 'string_to_table', 'json_array_elements', 'json_array_elements_text', 'json_object_keys', 'jsonb_object_keys']);

/**
 * A set-returning function in the select list (SELECT generate_series(1, 3)) becomes a LATERAL
 * function scan joined to the FROM clause, which gives PostgreSQL's result for a single SRF.
 */
function rewriteSelectListSrfs(s: Extract<SelectStmt['body'], { kind: 'select' }>, userSrf: (e: Expr & { kind: 'func' }) => boolean): Extract<SelectStmt['body'], { kind: 'select' }> {
  let n = 0;
  const from = [...s.from];
  // Identical calls (pgJDBC's `(_pg_expandarray(k)).n, _pg_expandarray(k) AS keys`) run in
  // lockstep in PostgreSQL and so yield the same rows side by side: they become one scan.
  const seen = new Map<string, Expr>();
  const isSrf = (e: Expr): e is Expr & { kind: 'func' } => e.kind === 'func' && !e.over && (srfNames.has((e.name[e.name.length - 1] as string).toLowerCase()) || userSrf(e));
  // All of them become one function scan, run in lockstep (planFunctionScan's zip).
  const alias = '\u0001srf';
  const funcs: (Expr & { kind: 'func' })[] = [];
  const scanOf = (e: Expr & { kind: 'func' }): Expr => {
    const key = JSON.stringify(e, (k, v: unknown) => (k === 'pos' ? undefined : v));
    const known = seen.get(key);
    if (known) return known;
    const col: Expr = { kind: 'column' as const, parts: [alias, `\u0001c${n++}`], pos: e.pos };
    funcs.push(e);
    seen.set(key, col);
    return col;
  };
  const items = s.items.map((it) => {
    const e = it.expr;
    if (e.kind === 'field' && isSrf(e.arg)) return { expr: { ...e, arg: scanOf(e.arg) }, alias: it.alias ?? e.field };
    // generate_series(1, 10)::int4 (psycopg 3's named-cursor tests): the cast applies to each row;
    // the column keeps the function's name, as PostgreSQL's FigureColname gives it.
    if (e.kind === 'cast' && isSrf(e.arg)) return { expr: { ...e, arg: scanOf(e.arg) }, alias: it.alias ?? (e.arg.name[e.arg.name.length - 1] as string) };
    if (!isSrf(e)) return it;
    return { expr: scanOf(e), alias: it.alias ?? (e.name[e.name.length - 1] as string) };
  });
  if (n === 0) return s;
  const first = funcs[0] as Expr & { kind: 'func' };
  from.push({ kind: 'function', func: first, alias, columnAliases: funcs.map((_f, i) => `\u0001c${i}`), withOrdinality: false, zip: funcs.slice(1), asRecord: true, pos: first.pos });
  // PostgreSQL runs select-list set-returning functions after grouping; moved into FROM they
  // would run before it, so that form is refused rather than answered differently.
  if (s.groupBy.length > 0 || s.having !== null || s.items.some((it) => containsAggregate(it.expr))) {
    throw new PgError(SqlState.FeatureNotSupported, 'set-returning functions in the select list of a grouped query are not supported');
  }
  return { ...s, items, from };
}

/**
 * `FROM a, b, c WHERE …`: each WHERE conjunct that names only tables of the list (qualified
 * columns, no subquery) becomes the ON condition of the inner join where its last table enters,
 * so equalities become hash joins instead of a filter over the full cross product (catalog queries
 * of pgJDBC join nine catalogs this way). Inner joins with ON are the cross product filtered, so
 * answers are unchanged; conjuncts this cannot place stay in WHERE. Lists with a LATERAL item or
 * a function reading other items are left alone.
 */
function distributeWhere(s: Extract<SelectStmt['body'], { kind: 'select' }>): Extract<SelectStmt['body'], { kind: 'select' }> {
  if (s.from.length < 2 || s.where === null) return s;
  const aliasesOf = (it: FromItem): string[] | null => {
    switch (it.kind) {
      case 'table':
        return [it.alias ?? (it.name[it.name.length - 1] as string)];
      case 'function':
        return exprHasColumns(it.func) ? null : [it.alias ?? (it.func.name[it.func.name.length - 1] as string)];
      case 'subquery':
        return it.lateral || it.alias === null ? null : [it.alias];
      case 'join': {
        const l = aliasesOf(it.left);
        const r = aliasesOf(it.right);
        return l && r ? [...l, ...r] : null;
      }
    }
  };
  const itemAliases: string[][] = [];
  for (const it of s.from) {
    const a = aliasesOf(it);
    if (!a) return s;
    itemAliases.push(a);
  }
  const all = itemAliases.flat();
  if (new Set(all).size !== all.length) return s;
  const where = s.where;
  const conjs = where.kind === 'and' ? where.args : [where];
  // For each conjunct: the index of the last FROM item it needs, or -1 (stays in WHERE).
  const placeOf = (e: Expr): number => {
    const rels = new Set<string>();
    let ok = true;
    const walk = (x: unknown): void => {
      if (!ok || x === null || typeof x !== 'object') return;
      if (Array.isArray(x)) return x.forEach(walk);
      const o = x as Record<string, unknown>;
      if ('query' in o && o.query) ok = false;
      else if (o.kind === 'column') {
        const parts = o.parts as string[];
        if (parts.length !== 2) ok = false;
        else rels.add(parts[0] as string);
      } else if (o.kind === 'star' || o.kind === 'param' || (o.kind === 'func' && o.over)) ok = false;
      else Object.values(o).forEach(walk);
    };
    walk(e);
    if (!ok || rels.size === 0) return -1;
    let last = -1;
    for (const r of rels) {
      const i = itemAliases.findIndex((a) => a.includes(r));
      if (i < 0) return -1; // an outer query's table
      last = Math.max(last, i);
    }
    return last;
  };
  const at = conjs.map(placeOf);
  let acc = s.from[0] as FromItem;
  for (let i = 1; i < s.from.length; i++) {
    const on = conjs.filter((_c, k) => at[k] === i);
    const right = s.from[i] as FromItem;
    const cond: Expr | null = on.length === 0 ? null : on.length === 1 ? (on[0] as Expr) : { kind: 'and', args: on, pos: (on[0] as Expr).pos };
    acc = { kind: 'join', joinType: cond ? 'inner' : 'cross', left: acc, right, on: cond, using: null, natural: false, pos: right.pos };
  }
  const rest = conjs.filter((_c, k) => (at[k] as number) < 1);
  const newWhere: Expr | null = rest.length === 0 ? null : rest.length === 1 ? (rest[0] as Expr) : { kind: 'and', args: rest, pos: where.pos };
  return { ...s, from: [acc], where: newWhere };
}

function exprHasColumns(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  if (Array.isArray(e)) return e.some(exprHasColumns);
  const o = e as Record<string, unknown>;
  if (o.kind === 'column' || ('query' in o && o.query)) return true;
  return Object.values(o).some(exprHasColumns);
}


function collectWindowCalls(exprs: unknown[]): (Expr & { kind: 'func' })[] {
  const out: (Expr & { kind: 'func' })[] = [];
  const walk = (e: unknown) => {
    if (e === null || typeof e !== 'object') return;
    if (Array.isArray(e)) {
      e.forEach(walk);
      return;
    }
    const o = e as Record<string, unknown>;
    if (o.kind === 'query') return;
    if (o.kind === 'func' && o.over) {
      out.push(o as unknown as Expr & { kind: 'func' });
      return;
    }
    Object.values(o).forEach(walk);
  };
  exprs.forEach(walk);
  return out;
}

export function conjuncts(e: BoundExpr): BoundExpr[] {
  if (e.shape.k === 'and') return e.shape.args.flatMap(conjuncts);
  return [e];
}

function andAll(es: BoundExpr[]): Ev {
  const evs = es.map((e) => e.ev);
  return (r, ctx) => {
    for (const f of evs) if (f(r, ctx) !== true) return false;
    return true;
  };
}

export function fullSpan(codec: TableCodec, idx: IndexDesc): Span {
  const p = indexKeyPrefix(codec, idx, []);
  return { start: p, end: prefixEnd(p) };
}

interface ColConstraint {
  op: string;
  values: BoundExpr[];
}

/**
 * Picks the index whose leading columns are best constrained by the predicate's conjuncts
 * (equality/IN first, then one range) and returns spans computed at execution time.
 * The full predicate is still applied above the scan.
 */
export function chooseIndex(codec: TableCodec, pred: BoundExpr | null): { index: IndexDesc; spans: (ctx: ExecCtx) => Span[]; describe: string } {
  const t = codec.table;
  const full = { index: t.primaryIndex, spans: () => [fullSpan(codec, t.primaryIndex)], describe: `scan ${t.name}@${t.primaryIndex.name} (full)` };
  if (!pred) return full;
  const byCol = new Map<number, ColConstraint[]>();
  const add = (col: number, c: ColConstraint) => {
    let l = byCol.get(col);
    if (!l) byCol.set(col, (l = []));
    l.push(c);
  };
  const flip: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '=': '=' };
  for (const c of conjuncts(pred)) {
    const s = c.shape;
    if (s.k === 'cmp' && s.op !== '<>') {
      const colType = (side: BoundExpr) => (side.shape.k === 'col' ? (t.columns[side.shape.idx]?.type ?? null) : null);
      if (s.l.shape.k === 'col' && s.r.shape.k === 'const' && sameKind(colType(s.l), s.r.type)) add(s.l.shape.idx, { op: s.op, values: [s.r] });
      else if (s.r.shape.k === 'col' && s.l.shape.k === 'const' && sameKind(colType(s.r), s.l.type)) add(s.r.shape.idx, { op: flip[s.op] as string, values: [s.l] });
    } else if (s.k === 'in' && s.arg.shape.k === 'col' && s.list.length <= 1000 && s.list.every((x) => x.shape.k === 'const')) {
      const ct = t.columns[s.arg.shape.idx]?.type ?? null;
      if (s.list.every((x) => sameKind(ct, x.type))) add(s.arg.shape.idx, { op: 'in', values: s.list });
    }
  }
  if (byCol.size === 0) return full;
  let best: { index: IndexDesc; eq: ColConstraint[]; range: ColConstraint[]; score: number } | null = null;
  for (const idx of allIndexes(t)) {
    const positions = idx.columnIds.map((id) => codec.colIndexById.get(id) as number);
    const eq: ColConstraint[] = [];
    let range: ColConstraint[] = [];
    for (const p of positions) {
      const cs = byCol.get(p) ?? [];
      const e = cs.find((c) => c.op === '=' || c.op === 'in');
      if (e) {
        eq.push(e);
        continue;
      }
      // An enum orders by its labels' declared order, not by the bytes its index keys hold.
      range = (t.columns[p] as { type: SqlType }).type.enumType ? [] : cs.filter((c) => ['<', '<=', '>', '>='].includes(c.op));
      break;
    }
    if (eq.length === 0 && range.length === 0) continue;
    const score = eq.length * 4 + (range.length > 0 ? 1 : 0) + (idx === t.primaryIndex ? 0.5 : 0) + (eq.length === positions.length && idx.unique ? 2 : 0);
    if (!best || score > best.score) best = { index: idx, eq, range, score };
  }
  if (!best) return full;
  const { index, eq, range } = best;
  const positions = index.columnIds.map((id) => codec.colIndexById.get(id) as number);
  const types = positions.map((p) => (t.columns[p] as { type: SqlType }).type);
  const describe = `scan ${t.name}@${index.name} (${eq.length} equality column${eq.length === 1 ? '' : 's'}${range.length ? ', range' : ''})`;
  const spans = (ctx: ExecCtx): Span[] => {
    let prefixes: Buffer[] = [indexKeyPrefix(codec, index, [])];
    for (let i = 0; i < eq.length; i++) {
      const c = eq[i] as ColConstraint;
      const vals = c.values.map((v) => v.ev([], ctx)).filter((v) => v !== null);
      if (vals.length === 0) return [];
      const next: Buffer[] = [];
      for (const p of prefixes) {
        for (const v of vals) {
          const w = new KeyWriter(p.length + 16).bytes(p);
          writeKeyValue(w, v, types[i] as SqlType);
          next.push(w.finish());
        }
      }
      prefixes = next;
      if (prefixes.length > 10_000) return [fullSpan(codec, index)];
    }
    // Deduplicate prefixes (IN lists with repeats).
    const uniq = new Map(prefixes.map((p) => [p.toString('latin1'), p]));
    prefixes = [...uniq.values()].sort(Buffer.compare);
    const rt = types[eq.length] as SqlType;
    const out: Span[] = [];
    const point = range.length === 0 && eq.length === positions.length && index.unique;
    for (const p of prefixes) {
      if (range.length === 0) {
        out.push({ start: p, end: prefixEnd(p), point });
        continue;
      }
      let start: Buffer = Buffer.concat([p, Buffer.from([0x01])]); // skip NULLs
      let end: Buffer = prefixEnd(p);
      for (const c of range) {
        const v = (c.values[0] as BoundExpr).ev([], ctx);
        if (v === null) return [];
        const w = new KeyWriter(p.length + 16).bytes(p);
        writeKeyValue(w, v, rt);
        const k = w.finish();
        if (c.op === '>=' && Buffer.compare(k, start) > 0) start = k;
        if (c.op === '>' && Buffer.compare(prefixEnd(k), start) > 0) start = prefixEnd(k);
        if (c.op === '<' && Buffer.compare(k, end) < 0) end = k;
        if (c.op === '<=' && Buffer.compare(prefixEnd(k), end) < 0) end = prefixEnd(k);
      }
      if (Buffer.compare(start, end) < 0) out.push({ start, end });
    }
    return out;
  };
  return { index, spans, describe };
}

/**
 * `SELECT DISTINCT ON (<every primary tag>) … FROM ts_table ORDER BY <primary tags>, <ts> DESC`
 * with no WHERE, GROUP BY or aggregates keeps only each device's newest row — so the scan may
 * produce just that row per device (TSBS lastpoint).
 */
function latestPerEntity(op: TsScan, s: Extract<SelectStmt['body'], { kind: 'select' }>, q: SelectStmt): boolean {
  if (s.where || s.groupBy.length > 0 || s.having || !s.distinctOn || s.from.length !== 1) return false;
  const info = op.t.ts;
  if (!info) return false;
  const colName = (e: Expr) => (e.kind === 'column' ? (e.parts[e.parts.length - 1] as string) : null);
  const on = s.distinctOn.map(colName);
  const prim = new Set(info.primaryTags);
  if (on.length !== prim.size || !on.every((n) => n !== null && prim.has(n))) return false;
  if (q.orderBy.length !== prim.size + 1) return false;
  const keys = q.orderBy.slice(0, prim.size).map((o) => colName(o.expr));
  if (!keys.every((n) => n !== null && prim.has(n)) || new Set(keys).size !== prim.size) return false;
  const last = q.orderBy[prim.size] as SelectStmt['orderBy'][number];
  return last.desc && colName(last.expr) === op.t.columns[0]?.name && !containsAggregate(s.items) && !containsWindow(s.items);
}

/**
 * The data columns of a single-table TS query that the statement can refer to, found by walking
 * every column reference in it (subqueries included); null — all — when it has a `*`, a
 * whole-row reference or a name that could be the table itself.
 */
function referencedColumns(op: TsScan, s: Extract<SelectStmt['body'], { kind: 'select' }>, q: SelectStmt, from: FromItem): Set<number> | null {
  const names = new Set<string>();
  const single = new Set<string>();
  let all = false;
  if (from.kind !== 'table' || from.columnAliases) return null;
  const walk = (x: unknown): void => {
    if (all || x === null || typeof x !== 'object') return;
    if (Array.isArray(x)) {
      for (const y of x) walk(y);
      return;
    }
    const o = x as Record<string, unknown>;
    if (o.kind === 'star') all = true;
    else if (o.kind === 'column' && Array.isArray(o.parts)) {
      const parts = o.parts as string[];
      if (parts.length === 1) single.add(parts[0] as string);
      names.add(parts[parts.length - 1] as string);
    }
    for (const v of Object.values(o)) walk(v);
  };
  walk([s.items, s.where, s.groupBy, s.having, s.distinctOn, s.windows, q.orderBy]);
  if (all) return null;
  const rel = from.alias ?? (from.name[from.name.length - 1] as string);
  if (single.has(rel)) return null; // a whole-row reference
  const out = new Set<number>();
  op.t.columns.forEach((c, i) => {
    if (names.has(c.name)) out.add(i);
  });
  return out;
}

/**
 * The column-at-a-time plan of an aggregation over a bare TS scan (exec/ts_aggregate.ts), when
 * it fits: GROUP BY time_bucket(ts, constant) and/or tags; count(*), count/sum/avg/min/max of
 * integer or float data columns without DISTINCT, FILTER or ORDER BY.
 */
function columnarAggPlan(scan: TsScan, groupAsts: Expr[], groupBound: BoundExpr[], aggs: AggSpec[]): { groups: TsGroupKey[]; aggs: TsAggFn[] } | null {
  if (scan.latestOnly) return null;
  const nCols = scan.t.columns.length;
  const groups: TsGroupKey[] = [];
  let buckets = 0;
  for (let i = 0; i < groupAsts.length; i++) {
    const g = groupAsts[i] as Expr;
    const bound = groupBound[i] as BoundExpr;
    if (bound.shape.k === 'col' && bound.shape.idx >= nCols) {
      groups.push({ kind: 'tag', pos: bound.shape.idx - nCols, type: bound.type });
      continue;
    }
    if (g.kind !== 'func' || (g.name[g.name.length - 1] as string).toLowerCase() !== 'time_bucket' || g.args.length !== 2 || buckets > 0) return null;
    const tsArg = g.args.find((a) => a.kind === 'column');
    const tsName = tsArg?.kind === 'column' ? (tsArg.parts[tsArg.parts.length - 1] as string) : null;
    if (tsName !== scan.t.columns[0]?.name && tsName !== '\u00000') return null;
    try {
      groups.push({ kind: 'bucket', ...gapfillWidth(g) });
    } catch {
      return null;
    }
    buckets++;
  }
  const out: TsAggFn[] = [];
  for (const a of aggs) {
    if (a.distinct || a.filter || a.orderBy.length > 0) return null;
    if (a.name === 'count' && a.star) {
      out.push({ fn: 'count', col: -1, type: null });
      continue;
    }
    if (!['count', 'sum', 'avg', 'min', 'max'].includes(a.name) || a.args.length !== 1 || !a.argCols) return null;
    const col = a.argCols[0];
    const type = a.argTypes[0];
    if (col === undefined || col === null || col < 1 || col >= nCols || !type || !['int2', 'int4', 'int8', 'float4', 'float8'].includes(type.kind)) return null;
    out.push({ fn: a.name as TsAggFn['fn'], col, type });
  }
  return { groups, aggs: out };
}

/** Sliding windows a row may fall in at most (width / sliding): each is a copy of the row. */
const slidingWindowsPerRowMax = 1000;

const groupWindowNames = new Set(['count_window', 'state_window', 'session_window', 'event_window', 'time_window']);

/** Column references of expressions: those outside subqueries, and whether subqueries hold any. */
function columnRefs(es: Expr[]): { direct: { parts: string[]; pos: number }[]; nested: boolean } {
  const direct: { parts: string[]; pos: number }[] = [];
  let nested = false;
  const walk = (x: unknown, inSub: boolean): void => {
    if (x === null || typeof x !== 'object') return;
    if (Array.isArray(x)) {
      for (const y of x) walk(y, inSub);
      return;
    }
    const k = (x as { kind?: unknown }).kind;
    if (k === 'column') {
      if (inSub) nested = true;
      else direct.push({ parts: (x as { parts: string[] }).parts, pos: (x as { pos: number }).pos });
      return;
    }
    const sub = inSub || k === 'query';
    for (const v of Object.values(x as Record<string, unknown>)) walk(v, sub);
  };
  walk(es, false);
  return { direct, nested };
}

/** The first group window call inside an expression, if any. */
function findGroupWindow(e: unknown): (Expr & { kind: 'func' }) | null {
  if (e === null || typeof e !== 'object') return null;
  if (Array.isArray(e)) {
    for (const x of e) {
      const f = findGroupWindow(x);
      if (f) return f;
    }
    return null;
  }
  const x = e as Expr;
  if (x.kind === 'func' && groupWindowName(x) !== null) return x;
  if ((x as { kind: string }).kind === 'query') return null;
  for (const v of Object.values(x)) {
    const f = findGroupWindow(v);
    if (f) return f;
  }
  return null;
}

function groupWindowName(e: Expr): string | null {
  if (e.kind !== 'func') return null;
  const n = (e.name[e.name.length - 1] as string).toLowerCase();
  return groupWindowNames.has(n) ? n : null;
}

/** The bucket width and origin of time_bucket_gapfill(ts, '10m') or (interval '10 minutes', ts). */
function gapfillWidth(e: Expr & { kind: 'func' }): { widthUs: number; originUs: number } {
  const lit = (x: Expr | undefined): string | null =>
    x?.kind === 'literal' && typeof x.value === 'string' ? x.value : x?.kind === 'cast' && x.arg.kind === 'literal' && typeof x.arg.value === 'string' ? x.arg.value : null;
  const [a0, a1] = e.args;
  const kwdb = lit(a1);
  if (kwdb !== null) return { widthUs: kwdbBucketWidth(kwdb), originUs: 0 };
  const ts = lit(a0);
  if (ts !== null) return { widthUs: bucketWidthUs(parseInterval(ts)), originUs: timescaleOriginUs };
  throw new PgError(SqlState.FeatureNotSupported, 'time_bucket_gapfill needs a constant bucket width', { position: e.pos + 1 });
}

/** interpolate()'s mode: 'null' | 'prev' | 'next' | 'linear' (the default) or a constant. */
function interpolateMode(x: Expr | undefined): InterpolateMode {
  if (!x) return 'linear';
  const neg = x.kind === 'unary' && (x as { op?: string }).op === '-' ? -1 : 1;
  const v = x.kind === 'literal' ? x.value : x.kind === 'unary' && (x as { arg?: Expr }).arg?.kind === 'literal' ? ((x as { arg: Expr & { kind: 'literal' } }).arg.value) : undefined;
  if (typeof v === 'string') {
    const m = v.trim().toLowerCase();
    if (m === 'null' || m === 'prev' || m === 'next' || m === 'linear') return m;
    if (m !== '' && Number.isFinite(Number(m))) return { constant: Number(m) * neg };
  }
  if (typeof v === 'number') return { constant: v * neg };
  throw new PgError(SqlState.InvalidParameterValue, "interpolate() mode must be 'null', 'prev', 'next', 'linear' or a constant", { position: x.pos + 1 });
}

/** The time range and primary-tag values a predicate's conjuncts pin down for a TS scan. */
/**
 * The bounds of a time-series DELETE's WHERE, which must be made only of timestamp comparisons
 * with constants and `=`/`IN` on every primary tag (KWDB's rule) — so the bounds are exactly the
 * rows to delete.
 */
export function tsDeleteBounds(op: TsScan, pred: BoundExpr): TsScanBounds {
  const b = tsBounds(op, pred, true);
  const pinned = b.tagValues.filter((x) => x !== null).length;
  if (pinned > 0 && pinned < b.tagValues.length) {
    throw new PgError(SqlState.FeatureNotSupported, `DELETE on time-series table "${op.t.name}" must name every primary tag (${op.t.ts?.primaryTags.join(', ')}) or none`);
  }
  return b;
}

/**
 * The bounds a predicate's conjuncts give a TS scan. `exact.yes` is cleared when some conjunct is
 * not captured (then the predicate must still be applied to the scan's rows).
 */
function tsBounds(op: TsScan, pred: BoundExpr, strict = false, exact: { yes: boolean } = { yes: true }): TsScanBounds {
  const b: TsScanBounds = { lower: [...op.bounds.lower], upper: [...op.bounds.upper], tagValues: [...op.bounds.tagValues], tagFilters: [...op.bounds.tagFilters], metricFilters: [...(op.bounds.metricFilters ?? [])] };
  const ints = ['int2', 'int4', 'int8'];
  const t = op.t;
  const info = t.ts as NonNullable<TableDesc['ts']>;
  const tagPos = info.primaryTags.map((name) => t.columns.length + info.tags.findIndex((g) => g.name === name));
  // Other tags (not in strict mode: KWDB's DELETE takes only primary tags): string and integer kinds.
  const otherTag = (col: number, k: SqlType): number => {
    const pos = col - t.columns.length;
    if (strict || pos < 0 || pos >= info.tags.length || tagPos.includes(col)) return -1;
    const ty = colType(col);
    return (ty.kind === 'varchar' || ty.kind === 'text' || ty.kind === 'int2' || ty.kind === 'int4' || ty.kind === 'int8') && sameKind(ty, k) ? pos : -1;
  };
  const flip: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '=': '=' };
  const colType = (i: number) => (op.columns[i] as Column).type;
  const time = (e: BoundExpr, round: (x: number) => number, shift: bigint) => (ctx: ExecCtx): bigint | null => {
    const v = e.ev([], ctx);
    return v === null || typeof v !== 'number' || !Number.isFinite(v) ? null : BigInt(round(v)) + shift;
  };
  const unused = (c: BoundExpr) => {
    exact.yes = false;
    if (strict) {
      throw new PgError(SqlState.FeatureNotSupported, `DELETE on time-series table "${op.t.name}" takes only comparisons of ${op.t.columns[0]?.name} with constants and = / IN on primary tags, joined by AND`, {
        detail: `cannot use: ${c.name === '?column?' ? 'an expression' : c.name}`,
      });
    }
  };
  for (const c of conjuncts(pred)) {
    const s = c.shape;
    if (s.k === 'cmp' && s.op !== '<>') {
      let col: number;
      let k: BoundExpr;
      let o: string = s.op;
      if (s.l.shape.k === 'col' && s.r.shape.k === 'const') {
        col = s.l.shape.idx;
        k = s.r;
      } else if (s.r.shape.k === 'col' && s.l.shape.k === 'const') {
        col = s.r.shape.idx;
        k = s.l;
        o = flip[s.op] as string;
      } else {
        unused(c);
        continue;
      }
      if (col === 0 && k.type.kind === colType(0).kind) {
        // Stored timestamps are whole microseconds.
        if (o === '>=' || o === '=') b.lower.push(time(k, Math.ceil, 0n));
        if (o === '>') b.lower.push(time(k, Math.floor, 1n));
        if (o === '<=' || o === '=') b.upper.push(time(k, Math.floor, 0n));
        if (o === '<') b.upper.push(time(k, Math.ceil, -1n));
        continue;
      }
      const p = tagPos.indexOf(col);
      if (!strict && col > 0 && col < t.columns.length && ints.includes(colType(col).kind) && ints.includes(k.type.kind) && o in { '<': 1, '<=': 1, '>': 1, '>=': 1, '=': 1 }) {
        b.metricFilters?.push({ col, op: o, value: (ctx) => k.ev([], ctx) }); // skips blocks; the filter stays
        unused(c);
        continue;
      }
      if (p >= 0 && o === '=' && sameKind(colType(col), k.type) && b.tagValues[p] === null) b.tagValues[p] = (ctx) => [k.ev([], ctx)];
      else if (o === '=' && otherTag(col, k.type) >= 0) b.tagFilters.push({ pos: otherTag(col, k.type), values: (ctx) => [k.ev([], ctx)] });
      else unused(c);
    } else if (s.k === 'in' && s.arg.shape.k === 'col' && s.list.length <= 1000 && s.list.every((x) => x.shape.k === 'const')) {
      const p = tagPos.indexOf(s.arg.shape.idx);
      const list = s.list;
      const argCol = s.arg.shape.idx;
      if (p >= 0 && list.every((x) => sameKind(colType(tagPos[p] as number), x.type)) && b.tagValues[p] === null) b.tagValues[p] = (ctx) => list.map((x) => x.ev([], ctx));
      else if (list.length > 0 && list.every((x) => otherTag(argCol, x.type) >= 0)) b.tagFilters.push({ pos: argCol - t.columns.length, values: (ctx) => list.map((x) => x.ev([], ctx)) });
      else unused(c);
    } else unused(c);
  }
  return b;
}

function sameKind(colType: SqlType | null, t: SqlType): boolean {
  if (!colType) return false;
  if (colType.kind === t.kind) return true;
  const ints = ['int2', 'int4', 'int8'];
  if (ints.includes(colType.kind) && ints.includes(t.kind)) return true;
  const strs = ['text', 'varchar', 'name'];
  return strs.includes(colType.kind) && strs.includes(t.kind);
}

/** Applies a predicate to a plan, narrowing a direct table scan to index spans when it can. */
export function pushDownFilter(op: Operator, pred: BoundExpr): Operator {
  if (op instanceof TsScan) {
    // Keep the scan's projection; drop the filter when the bounds select exactly its rows.
    const exact = { yes: true };
    const scan = op.with({ bounds: tsBounds(op, pred, false, exact) });
    return exact.yes ? scan : new Filter(scan, pred.ev);
  }
  if (op instanceof TableScan) {
    const choice = chooseIndex(op.codec, pred);
    const scan = new TableScan(op.columns, op.codec, choice.index, choice.spans, choice.describe);
    return new Filter(scan, pred.ev);
  }
  return new Filter(op, pred.ev);
}

export { visibleColumns };

/** The offset type RANGE frames take for a sort key type (PostgreSQL's in_range support functions). */
function rangeOffsetType(t: SqlType): SqlType {
  switch (t.kind) {
    case 'int2':
    case 'int4':
    case 'int8':
      return T.int8;
    case 'float4':
    case 'float8':
      return T.float8;
    case 'numeric':
      return T.numeric;
    case 'date':
    case 'timestamp':
    case 'timestamptz':
    case 'interval':
      return T.interval;
    default:
      throw new PgError(SqlState.UndefinedFunction, `RANGE with offset PRECEDING/FOLLOWING is not supported for column type ${formatType(t)}`);
  }
}

/** A json element's text as ->> gives it: strings de-escaped, null as SQL NULL. */
function jsonRawText(raw: string): string | null {
  if (raw === 'null') return null;
  return raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
}
