/**
 * The TSBS devops query set and cross-model queries (qa/tsbs/workload.ts) on a real Strata
 * process, checked row for row against PostgreSQL 15's recorded answers (expected.json, from
 * `npm run qa:tsbs-record`). Timestamps compare as instants, numbers to 6 significant digits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startNode } from '../harness/node.js';
import type { TestNode } from '../harness/node.js';
import { normalizeRows } from '../bench/tsbs/compare.js';
import { copyText, strataSetup, workloadQueries } from './workload.js';

const expected = (JSON.parse(readFileSync(join(repoRoot, 'qa', 'tsbs', 'expected.json'), 'utf8')) as { queries: Record<string, string[]> }).queries;

let node: TestNode;
let c: pg.Client;
beforeAll(async () => {
  node = await startNode();
  c = new pg.Client(node.url);
  await c.connect();
  for (const q of strataSetup) await c.query(q);
  const sql = postgres(node.url.replace('/defaultdb', '/tsbs'), { max: 1, onnotice: () => {} });
  await pipeline(Readable.from([copyText().strata]), await sql`copy cpu from stdin`.writable());
  await sql.end();
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

describe('TSBS and cross-model queries give PostgreSQL 15 answers', () => {
  const queries = workloadQueries();
  it('has an expected answer for every query', () => {
    expect(Object.keys(expected).sort()).toEqual(queries.map((q) => q.name).sort());
  });
  for (const q of queries) {
    it(q.name, async () => {
      await c.query('use tsbs');
      const rows = normalizeRows((await c.query(q.strata)).rows as Record<string, unknown>[]);
      expect(rows).toEqual(expected[q.name]);
    });
  }
});
