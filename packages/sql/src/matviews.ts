/**
 * Materialized views (CREATE MATERIALIZED VIEW … AS query [WITH [NO] DATA], REFRESH MATERIALIZED
 * VIEW, DROP MATERIALIZED VIEW). A materialized view is a relational table (kind 'table', so
 * scans, indexes and replication are a table's) whose descriptor carries `matview`: the defining
 * query's text and whether it holds rows.
 *
 * INVARIANT: only REFRESH (and CREATE … WITH DATA) writes a materialized view's rows: INSERT,
 * UPDATE, DELETE, COPY FROM and TRUNCATE are 42809, as in PostgreSQL.
 * INVARIANT: a view created WITH NO DATA (or refreshed so) cannot be read until refreshed with
 * data (55000), as in PostgreSQL.
 */
import { PgError, SqlState } from '@strata/common';
import type { TableDesc } from './catalog/descriptors.js';

export function isMatview(t: TableDesc): boolean {
  return t.matview !== undefined;
}

/** The error for a write to a materialized view (PostgreSQL's CheckValidResultRel). */
export function cannotChangeMatview(t: TableDesc): PgError {
  return new PgError(SqlState.WrongObjectType, `cannot change materialized view "${t.name}"`);
}

/** Refuses a write to a materialized view. */
export function checkNotMatview(t: TableDesc): void {
  if (t.matview) throw cannotChangeMatview(t);
}

/**
 * The relations a materialized view's query reads (FROM-clause names, at any depth), resolved
 * by `resolve` (undefined for names that are no table, such as CTE names): DROP TABLE of one of
 * them is refused while the view exists (PostgreSQL's pg_depend).
 */
export function referencedTables(query: unknown, resolve: (name: string[]) => number | undefined): number[] {
  const out = new Set<number>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    if (n === null || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (o.kind === 'table' && Array.isArray(o.name)) {
      const id = resolve(o.name as string[]);
      if (id !== undefined) out.add(id);
    }
    for (const v of Object.values(o)) walk(v);
  };
  walk(query);
  return [...out];
}

/** Refuses reading a materialized view that holds no data yet. */
export function checkPopulated(t: TableDesc): void {
  if (t.matview && !t.matview.populated) {
    throw new PgError(SqlState.ObjectNotInPrerequisiteState, `materialized view "${t.name}" has not been populated`, { hint: 'Use the REFRESH MATERIALIZED VIEW command.' });
  }
}
