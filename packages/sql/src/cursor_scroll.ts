/**
 * Whether a cursor declared without SCROLL or NO SCROLL may still move backward: PostgreSQL 15
 * makes such a cursor scrollable when its plan can run backward (PerformCursorOpen:
 * ExecSupportsBackwardScan of the plan, and no FOR UPDATE/SHARE), and pg_cursors then shows it
 * scrollable. Strata decides from the query's shape what PostgreSQL's plan for it would be:
 * scans of a table, a VALUES list, a set-returning function in FROM or a CTE, and a sort, limit
 * or UNION ALL over those run backward; aggregates, grouping, DISTINCT, window functions,
 * set-returning functions in the select list, joins, UNION/INTERSECT/EXCEPT and a SELECT
 * without FROM do not. A query Strata is unsure of counts as forward-only (PostgreSQL's own
 * error), never the other way round.
 */
import type { FromItem, SelectStmt } from './parser/ast.js';
import { containsAggregate, containsWindow } from './plan/binder.js';

const selectListSrfs = new Set(['generate_series', 'generate_subscripts', 'unnest', 'jsonb_array_elements', 'jsonb_array_elements_text', 'json_array_elements', 'json_array_elements_text', 'regexp_matches', 'regexp_split_to_table', 'jsonb_each', 'json_each', 'jsonb_object_keys', 'json_object_keys', 'pg_listening_channels']);

function containsSrf(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  if (Array.isArray(e)) return e.some(containsSrf);
  const o = e as Record<string, unknown>;
  if (o.kind === 'query') return false;
  if (o.kind === 'func' && !o.over && selectListSrfs.has(((o.name as string[])[(o.name as string[]).length - 1] as string).toLowerCase())) return true;
  return Object.values(o).some(containsSrf);
}

function fromItemBackward(f: FromItem): boolean {
  switch (f.kind) {
    case 'table':
    case 'function':
      return true;
    case 'subquery':
      return !f.lateral && supportsBackwardScan(f.query);
    default:
      return false;
  }
}

export function supportsBackwardScan(q: SelectStmt): boolean {
  if (q.locking) return false;
  if (containsAggregate(q.orderBy) || containsWindow(q.orderBy)) return false;
  const b = q.body;
  switch (b.kind) {
    case 'values':
      return true;
    case 'setop':
      return b.op === 'union' && b.all && supportsBackwardScan(b.left) && supportsBackwardScan(b.right);
    case 'select':
      if (b.distinct || b.distinctOn !== null || b.groupBy.length > 0 || b.having !== null) return false;
      if (containsAggregate(b.items) || containsWindow(b.items) || containsSrf(b.items)) return false;
      return b.from.length === 1 && fromItemBackward(b.from[0] as FromItem);
  }
}
