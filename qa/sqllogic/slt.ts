/**
 * A small sqllogictest dialect. A file is a sequence of records separated by blank lines:
 *
 *   statement ok            the statement must succeed
 *   statement error 23505   the statement must fail with this SQLSTATE
 *   query rowsort|nosort    a query; after "----", the expected rows, one per line, columns
 *                           separated by tabs, NULL as NULL and the empty string as (empty)
 *
 * Expected rows are recorded from real PostgreSQL 15 (`npm run qa:sqllogic-record`), so every
 * difference from PostgreSQL is deliberate and visible in review.
 */
import pg from 'pg';

export interface Record {
  kind: 'statement' | 'query';
  expectError: string | null;
  sort: boolean;
  sql: string;
  expected: string[];
  line: number;
}

export function parseSlt(text: string): Record[] {
  const lines = text.split('\n');
  const out: Record[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    const start = i + 1;
    const head = line.split(/\s+/);
    const kind = head[0];
    if (kind !== 'statement' && kind !== 'query') throw new Error(`line ${start}: expected statement or query, got "${line}"`);
    i++;
    const sql: string[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== '' && (lines[i] as string).trim() !== '----') sql.push(lines[i++] as string);
    const rec: Record = {
      kind,
      expectError: kind === 'statement' && head[1] === 'error' ? (head[2] ?? '') : null,
      sort: kind === 'query' && head[1] === 'rowsort',
      sql: sql.join('\n'),
      expected: [],
      line: start,
    };
    if (kind === 'query' && (lines[i] as string | undefined)?.trim() === '----') {
      i++;
      while (i < lines.length && (lines[i] as string) !== '') rec.expected.push(lines[i++] as string);
    }
    out.push(rec);
  }
  return out;
}

export function formatSlt(recs: Record[]): string {
  return (
    recs
      .map((r) => {
        const head = r.kind === 'statement' ? (r.expectError !== null ? `statement error ${r.expectError}` : 'statement ok') : `query ${r.sort ? 'rowsort' : 'nosort'}`;
        let s = `${head}\n${r.sql}\n`;
        if (r.kind === 'query') s += `----\n${r.expected.map((l) => l + '\n').join('')}`;
        return s;
      })
      .join('\n') + ''
  );
}

export function renderRows(rows: unknown[][], sort: boolean): string[] {
  const lines = rows.map((r) => r.map((v) => (v === null ? 'NULL' : v === '' ? '(empty)' : String(v).replace(/\t/g, '\\t').replace(/\n/g, '\\n'))).join('\t'));
  if (sort) lines.sort();
  return lines;
}

export interface RunResult {
  record: Record;
  ok: boolean;
  got: string[] | string;
}

/** Runs records on a connection: returns each record's outcome (rows, or the error code). */
export async function runRecords(c: pg.Client, recs: Record[]): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const r of recs) {
    try {
      const res = await c.query({ text: r.sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
      const last = Array.isArray(res) ? res[res.length - 1] : res;
      if (r.kind === 'statement') {
        results.push({ record: r, ok: r.expectError === null, got: 'ok' });
      } else {
        const got = renderRows(last.rows as unknown[][], r.sort);
        results.push({ record: r, ok: JSON.stringify(got) === JSON.stringify(r.expected), got });
      }
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'unknown';
      results.push({ record: r, ok: r.expectError === code, got: `error ${code}: ${(e as Error).message}` });
    }
  }
  return results;
}
