/**
 * Runs .slt files against a running server (Strata or PostgreSQL), each in a fresh database:
 *   npx tsx qa/sqllogic/run.ts postgresql://root@127.0.0.1:26257/defaultdb qa/sqllogic/cases/06_*.slt
 * Prints every record whose outcome differs from the recorded one, then "N passed, N failed".
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { parseSlt, runRecords } from './slt.js';

const [url, ...files] = process.argv.slice(2);
if (url === undefined || files.length === 0) {
  console.error('usage: run.ts URL file.slt…');
  process.exit(2);
}
let passed = 0;
let failed = 0;
for (const file of files) {
  const admin = new pg.Client(url);
  await admin.connect();
  const db = `slt_run_${Date.now()}`;
  await admin.query(`create database ${db}`);
  await admin.end();
  const c = new pg.Client(url.replace(/\/[^/]*$/, `/${db}`));
  await c.connect();
  const res = await runRecords(c, parseSlt(readFileSync(file, 'utf8')));
  await c.end();
  for (const r of res) {
    if (r.ok) {
      passed++;
      continue;
    }
    failed++;
    const want =
      r.record.expectError !== null ? `error ${r.record.expectError}` : JSON.stringify(r.record.expected);
    console.log(
      `${file}:${r.record.line}: ${r.record.sql}\n  expected: ${want}\n  got:      ${JSON.stringify(r.got)}`,
    );
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
