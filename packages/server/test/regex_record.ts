/**
 * Records PostgreSQL 15's answers for the regular-expression corpus (regex_cases.json), which
 * regex.test.ts then checks Strata against. Run against a real PostgreSQL 15:
 *   PG_URL=postgresql://postgres@127.0.0.1:5432/postgres npx tsx packages/server/test/regex_record.ts
 * Each case is one SQL expression; its answer is recorded as text (or its SQLSTATE).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface RegexCase {
  /** A SELECT of one value (or a set-returning query, whose rows are joined with "|"). */
  sql: string;
  /** PostgreSQL 15's answer: the rows' text, or an error's SQLSTATE. */
  pg: { rows: (string | null)[] } | { error: string };
}

const file = join(import.meta.dirname, 'regex_cases.json');
if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const c = new pg.Client(url);
  await c.connect();
  const cases = JSON.parse(readFileSync(file, 'utf8')) as RegexCase[];
  for (const k of cases) {
    try {
      const r = await c.query({
        text: k.sql,
        rowMode: 'array',
        types: { getTypeParser: () => (v: string) => v },
      });
      k.pg = { rows: (r.rows as (string | null)[][]).map((row) => row[0] ?? null) };
    } catch (e) {
      k.pg = { error: (e as { code?: string }).code ?? 'unknown' };
    }
  }
  await c.end();
  writeFileSync(file, JSON.stringify(cases, null, 1) + '\n');
  process.stdout.write(`recorded ${cases.length} cases\n`);
}
