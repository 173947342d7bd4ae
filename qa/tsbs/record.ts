/**
 * Records PostgreSQL 15's answers to the workload in qa/tsbs/workload.ts into expected.json.
 *   PG_URL=postgresql://postgres@127.0.0.1:5433/postgres npm run qa:tsbs-record
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import postgres from 'postgres';
import { repoRoot } from '../harness/node.js';
import { normalizeRows } from '../bench/tsbs/compare.js';
import { copyText, pgSetup, workloadQueries } from './workload.js';

const url = process.env.PG_URL;
if (!url) throw new Error('set PG_URL to a PostgreSQL 15 database');
const c = new pg.Client(url);
await c.connect();
for (const q of pgSetup) await c.query(q);
const sql = postgres(url, { max: 1, onnotice: () => {} });
await pipeline(Readable.from([copyText().pg]), await sql`copy cpu from stdin`.writable());
await sql.end();
const expected: Record<string, string[]> = {};
for (const q of workloadQueries()) expected[q.name] = normalizeRows((await c.query(q.pg)).rows as Record<string, unknown>[]);
await c.end();
const file = join(repoRoot, 'qa', 'tsbs', 'expected.json');
writeFileSync(file, JSON.stringify({ recordedFrom: 'PostgreSQL 15', queries: expected }, null, 1) + '\n');
process.stdout.write(`recorded ${Object.keys(expected).length} queries into ${file}\n`);
