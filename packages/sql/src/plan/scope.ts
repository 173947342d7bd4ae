import { PgError, SqlState } from '@strata/common';
import type { SqlType } from '../types/types.js';

/** One column visible to expressions: a position in the input row. */
export interface ScopeCol {
  name: string;
  /** The relation (table alias) it belongs to, if any. */
  rel: string | null;
  /** Schema and database of the relation (for fully qualified references). */
  schema?: string | null;
  db?: string | null;
  type: SqlType;
  /** Hidden columns (rowid, the right side of USING) are not expanded by * nor found unqualified. */
  hidden?: boolean;
  /** An input column of JOIN … USING: replaced by the merged column unqualified, reachable qualified (and by rel.*). */
  usingHidden?: boolean;
  tableOid?: number;
  columnNum?: number;
  /** The timestamp column of a time-series table (what first()/last() order by). */
  tsTime?: boolean;
}

/**
 * The columns an expression may reference. `parent` is the enclosing query's scope, for
 * correlated subqueries: references resolved there become outer references.
 */
export class Scope {
  constructor(
    readonly cols: ScopeCol[],
    readonly parent: Scope | null = null,
  ) {}

  /** Finds a column by (possibly qualified) name; returns its index, or -1. */
  find(parts: string[], pos: number): number {
    const name = parts[parts.length - 1] as string;
    const quals = parts.slice(0, -1);
    let found = -1;
    for (let i = 0; i < this.cols.length; i++) {
      const c = this.cols[i] as ScopeCol;
      if (c.name !== name) continue;
      if (quals.length === 0) {
        if (c.hidden || c.usingHidden) continue;
      } else {
        const rel = quals[quals.length - 1];
        if (c.rel !== rel) continue;
        if (quals.length >= 2 && c.schema && c.schema !== quals[quals.length - 2]) continue;
        if (quals.length >= 3 && c.db && c.db !== quals[quals.length - 3]) continue;
      }
      if (found >= 0) {
        throw new PgError(SqlState.AmbiguousColumn, `column reference "${parts.join('.')}" is ambiguous`, { position: pos + 1 });
      }
      found = i;
    }
    if (found < 0 && quals.length === 0) {
      // A hidden column is still reachable by its bare name when nothing else matches (rowid).
      for (let i = 0; i < this.cols.length; i++) {
        const c = this.cols[i] as ScopeCol;
        if (c.name === name && c.hidden && c.rel !== null && c.name === 'rowid') return i;
      }
    }
    return found;
  }

  hasRelation(rel: string): boolean {
    return this.cols.some((c) => c.rel === rel);
  }
}
