/**
 * Issue 13's user-defined objects in psql (SQL functions, domains, enums, materialized views):
 * `\df`, `\dD`, `\dT`, `\dm` and `\d` of a table with domain and enum columns print what they print
 * on PostgreSQL 15 for the same schema (user_objects/schema.sql). The expected outputs were
 * recorded from a PostgreSQL 15 as a superuser named root, in a database owned by root:
 *   psql -X -U root DB -f user_objects/schema.sql; psql -X -U root DB -c '\dD' > user_objects/psql_dD.out
 * The schema avoids what PostgreSQL deparses (a domain's default or check written with casts):
 * Strata prints those as written.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const dir = join(import.meta.dirname, 'user_objects');
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

describe('psql describes user-defined objects as PostgreSQL 15 does', () => {
  const commands: [string, string][] = [
    ['\\df', 'psql_df.out'],
    ['\\dD', 'psql_dD.out'],
    ['\\dT', 'psql_dT.out'],
    ['\\dm', 'psql_dm.out'],
    ['\\d typed', 'psql_d_typed.out'],
  ];
  for (const [cmd, file] of commands) {
    it(cmd, () => {
      expect(psql(['-c', cmd])).toBe(readFileSync(join(dir, file), 'utf8'));
    });
  }

  it('the objects work through psql too: calls, domain checks, enum order, a refresh', () => {
    expect(psql(['-A', '-t', '-c', 'SELECT add_em(2, 3), scaled(1.5), (SELECT count(*) FROM base_rows(1)), (SELECT string_agg(s, \',\') FROM pairs(2))'])).toBe('5|3.0|2|a,b\n');
    expect(() => psql(['-c', "INSERT INTO typed VALUES (0, 'x', 'ok', 1)"])).toThrow(/value for domain posint violates check constraint "posint_check"/);
    expect(() => psql(['-c', "INSERT INTO typed VALUES (1, 'x', 'ok', 0)"])).toThrow(/value for domain small_posint violates check constraint "posint_check"/);
    psql(['-q', '-c', "INSERT INTO typed VALUES (1, 'x', 'happy', 5), (2, 'y', 'sad', 6)"]);
    expect(psql(['-A', '-t', '-c', 'SELECT string_agg(m::text, \',\' ORDER BY m) FROM typed'])).toBe('sad,happy\n');
    expect(() => psql(['-c', 'SELECT * FROM base_empty'])).toThrow(/materialized view "base_empty" has not been populated/);
    psql(['-q', '-c', 'REFRESH MATERIALIZED VIEW base_empty']);
    expect(psql(['-A', '-t', '-c', 'SELECT count(*) FROM base_empty'])).toBe('2\n');
  });
});
