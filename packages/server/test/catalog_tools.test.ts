/**
 * Catalog completeness for tools (issue 12): psql's describe commands print exactly what they
 * print on PostgreSQL 15 for the same schema (catalog/schema.sql). The expected outputs in
 * catalog/psql_*.out were recorded from a PostgreSQL 15 as a superuser named root, in a database
 * owned by root:
 *   psql -X -U root DB -f catalog/schema.sql; psql -X -U root DB -c '\d+ t' > catalog/psql_d_plus_t.out
 * Left out on purpose: `\dt+`/`\di+` (the Size column is the storage's own), `\d+ v` (the view
 * definition is printed as written, PostgreSQL deparses it).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const dir = join(import.meta.dirname, 'catalog');
let node: TestNode;

function psql(args: string[]): string {
  return execFileSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', node.url, ...args], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' }, timeout: 60_000 }).toString();
}

beforeAll(async () => {
  node = await startNode();
  psql(['-q', '-f', join(dir, 'schema.sql')]);
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('psql describe commands print what PostgreSQL 15 prints', () => {
  const commands: [string, string][] = [
    ['\\d t', 'psql_d_t.out'],
    ['\\d+ t', 'psql_d_plus_t.out'],
    ['\\d parent', 'psql_d_parent.out'],
    ['\\d+ parent', 'psql_d_plus_parent.out'],
    ['\\dt', 'psql_dt.out'],
    ['\\di', 'psql_di.out'],
    ['\\dv', 'psql_dv.out'],
    ['\\ds', 'psql_ds.out'],
    ['\\dp', 'psql_dp.out'],
    ['\\df', 'psql_df.out'],
  ];
  for (const [cmd, file] of commands) {
    it(cmd, () => {
      expect(psql(['-c', cmd])).toBe(readFileSync(join(dir, file), 'utf8'));
    });
  }

  it('regclass reads names and numbers and prints names, as regclassin/regclassout', () => {
    const out = psql(['-A', '-t', '-c', `select 't'::regclass, 'T'::regclass, 'public.t'::regclass, 'pg_class'::regclass, 't_pkey'::regclass, 99999::regclass, to_regclass('"T"') is null, to_regclass('PUBLIC.T')`]);
    expect(out).toBe('t|t|t|pg_class|t_pkey|99999|t|t\n');
  });
});
