/**
 * Records expected outputs from a real PostgreSQL 15 into the .slt files.
 *   PG_URL=postgresql://postgres@127.0.0.1:5433/postgres npm run qa:sqllogic-record
 * SLT_ONLY=<substring> records only the files whose names contain it.
 * Files named *kwdb* (KWDB's dialect, from KWDB's documentation) and *strata* (Strata's deliberate
 * refusals where PostgreSQL answers) do not hold PostgreSQL's answers: they are not re-recorded.
 * Each file runs in a fresh database. Statements keep their "statement ok/error" expectation from
 * what PostgreSQL did; queries get PostgreSQL's rows.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { formatSlt, parseSlt, renderRows } from './slt.js';

const url = process.env.PG_URL ?? 'postgresql://postgres@127.0.0.1:5433/postgres';
const dir = join(import.meta.dirname, 'cases');
const only = process.env.SLT_ONLY ?? '';
const recordable = (x: string) => x.endsWith('.slt') && !x.includes('kwdb') && !x.includes('strata') && x.includes(only);
for (const f of readdirSync(dir).filter(recordable).sort()) {
  const admin = new pg.Client(url);
  await admin.connect();
  await admin.query('drop database if exists slt_record');
  await admin.query('create database slt_record');
  await admin.end();
  const c = new pg.Client(url.replace(/\/[^/]*$/, '/slt_record'));
  await c.connect();
  await c.query("set timezone = 'UTC'");
  const text = readFileSync(join(dir, f), 'utf8');
  // The file's opening comment says what it covers: kept (parseSlt drops comments).
  const header = /^(?:#.*\n)+\n?/.exec(text)?.[0] ?? '';
  const recs = parseSlt(text);
  for (const r of recs) {
    try {
      const res = await c.query({ text: r.sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
      const last = Array.isArray(res) ? res[res.length - 1] : res;
      if (r.kind === 'statement') r.expectError = null;
      else r.expected = renderRows(last.rows as unknown[][], r.sort);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'unknown';
      if (r.kind === 'statement') r.expectError = code;
      else throw new Error(`${f}:${r.line}: query failed on PostgreSQL: ${(e as Error).message}`, { cause: e });
    }
  }
  await c.end();
  writeFileSync(join(dir, f), header + formatSlt(recs));
  process.stdout.write(`recorded ${f}: ${recs.length} records\n`);
}
