/**
 * Classifies one statement's outcome on Strata against PostgreSQL 15's.
 *
 * Categories (the columns of the runner's table):
 *   match    same result sets (names, types, rows, command tags) or the same SQLSTATE
 *   wrong    both answered and the answers differ in values, row count or command tag
 *   order    same rows in a different order where the query has an ORDER BY (often ties: read it)
 *   type     same text but a different result type OID
 *   names    only column names differ
 *   error    Strata refused what PostgreSQL answered (a missing feature, or a bug)
 *   garbage  Strata accepted what PostgreSQL refused
 *   peers    a window query whose rows agree outside some window-function columns: the values
 *            those take depend on the order of peers (rows tied under the window's ORDER BY),
 *            which SQL leaves unspecified; listed in the details for review
 *   plan     EXPLAIN output differs (plans are not PostgreSQL's; not an answer to compare)
 *   code     both refused, with different SQLSTATEs
 * A `wrong` whose statement names a table that an earlier statement left different on the two
 * servers (a write one side refused, or garbage one side stored) is counted as `tainted` instead:
 * its difference may be inherited rather than made by this statement.
 */
import type { Outcome, ResultSet } from './client.js';
import { stripComments } from './script.js';

export type Category = 'match' | 'wrong' | 'tainted' | 'peers' | 'order' | 'type' | 'names' | 'plan' | 'error' | 'garbage' | 'code';
export const categories: Category[] = ['match', 'wrong', 'tainted', 'peers', 'order', 'type', 'names', 'plan', 'error', 'garbage', 'code'];

function sameRows(a: ResultSet, b: ResultSet, ordered: boolean): boolean {
  if (a.count !== b.count) return false;
  return ordered ? a.orderedDigest === b.orderedDigest : a.unorderedDigest === b.unorderedDigest;
}

/**
 * Whether two complete result sets (same row count) agree once the columns whose values differ
 * as multisets are left out — the signature of window functions over tied peers.
 */
function peerOrderOnly(a: ResultSet, b: ResultSet): boolean {
  if (a.count !== b.count || a.rows.length !== a.count || b.rows.length !== b.count) return false;
  const n = a.columns.length;
  const keep: number[] = [];
  // Order-sensitive window functions' columns are left out too (their values may match as a
  // multiset while sitting on different rows).
  const orderSensitive = /^(first_value|last_value|nth_value|lead|lag|row_number|ntile)$/;
  for (let j = 0; j < n; j++) {
    if (orderSensitive.test(a.columns[j] as string)) continue;
    const x = a.rows.map((r) => String(r[j])).sort();
    const y = b.rows.map((r) => String(r[j])).sort();
    if (x.every((v, i) => v === y[i])) keep.push(j);
  }
  if (keep.length === n || keep.length === 0) return false;
  const proj = (rs: (string | null)[][]) => rs.map((r) => keep.map((j) => String(r[j])).join('\u0001')).sort();
  const pa = proj(a.rows);
  const pb = proj(b.rows);
  return pa.every((v, i) => v === pb[i]);
}

/** True when the statement's outermost query has an ORDER BY (so row order is part of the answer). */
export function hasTopOrderBy(sql: string): boolean {
  const s = stripComments(sql).replace(/'(?:[^']|'')*'/g, "''");
  let depth = 0;
  const re = /\(|\)|\border\s+by\b/gi;
  let m: RegExpExecArray | null;
  let found = false;
  while ((m = re.exec(s)) !== null) {
    if (m[0] === '(') depth++;
    else if (m[0] === ')') depth--;
    else if (depth === 0) found = true;
  }
  return found;
}

export function classify(sql: string, pg: Outcome, st: Outcome): Category {
  if (!pg.ok && !st.ok) return pg.code === st.code ? 'match' : 'code';
  if (!pg.ok) return 'garbage';
  if (!st.ok) return 'error';
  if (/^\s*explain\b/i.test(stripComments(sql))) return 'plan';
  if (pg.results.length !== st.results.length) return 'wrong';
  const ordered = hasTopOrderBy(sql);
  let worst: Category = 'match';
  const rank: Category[] = ['match', 'names', 'type', 'order', 'peers', 'wrong'];
  const raise = (c: Category): void => {
    if (rank.indexOf(c) > rank.indexOf(worst)) worst = c;
  };
  if (pg.copyOut !== st.copyOut) raise('wrong');
  for (let i = 0; i < pg.results.length; i++) {
    const a = pg.results[i] as ResultSet;
    const b = st.results[i] as ResultSet;
    if (a.tag !== b.tag) {
      raise('wrong');
      continue;
    }
    if (a.columns.length !== b.columns.length) {
      raise('wrong');
      continue;
    }
    if (!sameRows(a, b, false)) {
      raise(/\bover\s*(\(|[a-z_])/i.test(stripComments(sql)) && peerOrderOnly(a, b) ? 'peers' : 'wrong');
      continue;
    }
    if (ordered && !sameRows(a, b, true)) raise('order');
    // OIDs from FirstNormalObjectId (16384) on are each system's own numbering of user-defined
    // types (enums, composites): two such OIDs are taken as the same type.
    const userOid = (t: number | undefined) => t !== undefined && t >= 16384;
    if (a.types.some((t, j) => t !== b.types[j] && !(userOid(t) && userOid(b.types[j])))) raise('type');
    if (a.columns.some((c, j) => c !== b.columns[j])) raise('names');
  }
  return worst;
}

/** Table names a state-changing statement writes or defines (for tainting later comparisons). */
export function writtenNames(sql: string): string[] {
  const s = stripComments(sql).toLowerCase();
  const out: string[] = [];
  const re =
    /\b(?:insert\s+into|merge\s+into|update|delete\s+from|create\s+(?:temp\s+|temporary\s+|unlogged\s+)?(?:table|view|materialized\s+view|sequence|index\s+\S+\s+on|type|domain|function)(?:\s+if\s+not\s+exists)?|alter\s+table(?:\s+if\s+exists)?|truncate(?:\s+table)?|copy|drop\s+table(?:\s+if\s+exists)?|drop\s+view(?:\s+if\s+exists)?)\s+(?:only\s+)?([a-z_][\w.]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) out.push((m[1] as string).replace(/^.*\./, ''));
  // A child table that failed to be created changes what its parents return (inheritance, partitions).
  for (const p of s.matchAll(/\b(?:inherits\s*\(([^)]*)\)|partition\s+of\s+([a-z_][\w.]*))/g)) {
    for (const n of (p[1] ?? p[2] ?? '').split(',')) out.push(n.trim().replace(/^.*\./, ''));
  }
  return out;
}

/** Whether the statement mentions any of these names as a word. */
export function mentions(sql: string, names: Set<string>): boolean {
  if (names.size === 0) return false;
  for (const w of stripComments(sql)
    .toLowerCase()
    .match(/[a-z_][\w]*/g) ?? [])
    if (names.has(w)) return true;
  return false;
}

/** A short rendering of an outcome for the detail report. */
export function render(o: Outcome, maxRows = 12): string {
  if (!o.ok) return `ERROR ${o.code}: ${o.message}`;
  const parts: string[] = [];
  for (const r of o.results) {
    if (r.columns.length === 0) {
      parts.push(r.tag);
      continue;
    }
    const lines = [`${r.columns.join(' | ')}  [${r.types.join(',')}]`];
    for (const row of r.rows.slice(0, maxRows))
      lines.push(row.map((v) => (v === null ? 'NULL' : v)).join(' | '));
    if (r.count > maxRows) lines.push(`… ${r.count} rows`);
    lines.push(`(${r.tag})`);
    parts.push(lines.join('\n    '));
  }
  if (o.copyOut !== '') parts.push('copy: ' + JSON.stringify(o.copyOut.slice(0, 400)));
  return parts.join('\n    ');
}
