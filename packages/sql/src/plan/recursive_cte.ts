/**
 * PostgreSQL's rules for a WITH RECURSIVE query (parse_cte.c's checkWellFormedRecursion), checked
 * on the syntax tree before planning: it must be `non-recursive term UNION [ALL] recursive term`,
 * the non-recursive term may not read the query, and the recursive term reads it exactly once,
 * not from inside an outer join's nullable side, INTERSECT, EXCEPT or an expression's subquery.
 * Violations are 42P19 with PostgreSQL's messages; Strata would otherwise plan them (and answer)
 * where PostgreSQL refuses.
 */
import { PgError, SqlState } from '@strata/common';
import type { FromItem, SelectStmt } from '../parser/ast.js';

type Context = 'ok' | 'an outer join' | 'INTERSECT' | 'EXCEPT' | 'a subquery';

const recursionError = (message: string) => new PgError(SqlState.InvalidRecursion, message);

/** Throws unless `q` (the query of WITH RECURSIVE name) has a well-formed recursion; true when it recurses. */
export function checkRecursiveQuery(q: SelectStmt, name: string): boolean {
  const refs = (x: SelectStmt) => countRefs(x, name);
  if (refs(q) === 0) return false;
  const b = q.body;
  if (b.kind !== 'setop' || b.op !== 'union') throw recursionError(`recursive query "${name}" does not have the form non-recursive-term UNION [ALL] recursive-term`);
  if (refs(b.left) > 0) throw recursionError(`recursive reference to query "${name}" must not appear within its non-recursive term`);
  let seen = 0;
  walkQuery(b.right, 'ok');
  return true;

  function visitRef(ctx: Context): void {
    if (ctx !== 'ok') throw recursionError(`recursive reference to query "${name}" must not appear within ${ctx}`);
    if (++seen > 1) throw recursionError(`recursive reference to query "${name}" must not appear more than once`);
  }

  function walkQuery(s: SelectStmt, ctx: Context): void {
    // A WITH inside that defines the same name shadows the recursive query.
    if (s.with.some((c) => c.name === name)) return;
    for (const c of s.with) walkQuery(c.query, ctx);
    const body = s.body;
    if (body.kind === 'setop') {
      if (body.op === 'union') {
        walkQuery(body.left, ctx);
        walkQuery(body.right, ctx);
      } else {
        const inner: Context = body.op === 'intersect' ? 'INTERSECT' : 'EXCEPT';
        walkQuery(body.left, body.all ? inner : ctx);
        walkQuery(body.right, body.op === 'except' || body.all ? inner : ctx);
      }
      return;
    }
    if (body.kind === 'values') {
      walkExprs(body.rows);
      return;
    }
    for (const f of body.from) walkFrom(f, ctx);
    walkExprs([body.items, body.where, body.groupBy, body.having]);
  }

  function walkFrom(f: FromItem, ctx: Context): void {
    switch (f.kind) {
      case 'table':
        if (f.name.length === 1 && f.name[0] === name) visitRef(ctx);
        return;
      case 'subquery':
        walkQuery(f.query, ctx);
        return;
      case 'function':
        walkExprs(f.func);
        return;
      case 'join': {
        const nullable = (side: 'left' | 'right') => f.joinType === 'full' || (f.joinType === 'left' && side === 'right') || (f.joinType === 'right' && side === 'left');
        walkFrom(f.left, nullable('left') ? 'an outer join' : ctx);
        walkFrom(f.right, nullable('right') ? 'an outer join' : ctx);
        walkExprs(f.on);
        return;
      }
    }
  }

  /** Subqueries in expressions may not read the recursive query. */
  function walkExprs(e: unknown): void {
    if (e === null || typeof e !== 'object') return;
    if (Array.isArray(e)) {
      for (const x of e) walkExprs(x);
      return;
    }
    const o = e as Record<string, unknown>;
    if (o.kind === 'query') {
      if (countRefs(o as unknown as SelectStmt, name) > 0) throw recursionError(`recursive reference to query "${name}" must not appear within a subquery`);
      return;
    }
    for (const v of Object.values(o)) walkExprs(v);
  }
}

/** References to a one-part table name anywhere in a query (FROM items, nested queries). */
function countRefs(q: unknown, name: string): number {
  let n = 0;
  const walk = (e: unknown): void => {
    if (e === null || typeof e !== 'object') return;
    if (Array.isArray(e)) {
      for (const x of e) walk(x);
      return;
    }
    const o = e as Record<string, unknown>;
    if (o.kind === 'table' && Array.isArray(o.name) && o.name.length === 1 && o.name[0] === name) n++;
    for (const v of Object.values(o)) walk(v);
  };
  walk(q);
  return n;
}
