/**
 * The real pgbench (Debian's postgresql-client-15) against a Strata process, unchanged (issue 12):
 * `pgbench -i --foreign-keys` sends CREATE TABLE … WITH (fillfactor=100), COPY … WITH (FREEZE
 * ON) inside BEGIN after TRUNCATE, VACUUM ANALYZE, and ALTER TABLE … ADD PRIMARY KEY / ADD
 * CONSTRAINT … FOREIGN KEY on loaded tables; then the default TPC-B-like script runs.
 *
 * pgbench/describe.out and pgbench/storage_params.out were recorded from PostgreSQL 15 after the
 * same commands:
 *   pgbench -i -s 1 --foreign-keys URL; psql -X -f pgbench/describe.sql URL > pgbench/describe.out
 *   psql -X -a URL -f - < pgbench/storage_params.sql > pgbench/storage_params.out 2>&1
 *   (the same for pgbench/add_primary_key.sql)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const dir = join(import.meta.dirname, 'pgbench');
let node: TestNode;

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { env: { ...process.env, PGCONNECT_TIMEOUT: '10' }, timeout: 240_000, input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}

beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('pgbench', () => {
  it('pgbench -i --foreign-keys loads the tables PostgreSQL 15 gets', () => {
    // Strata runs every transaction SERIALIZABLE: on a loaded machine the 100,000-row load may be
    // told to restart (40001), which pgbench -i does not retry itself; a client retries it.
    for (let attempt = 1; ; attempt++) {
      const r = spawnSync('pgbench', ['-i', '-s', '1', '--foreign-keys', node.url], { timeout: 240_000, encoding: 'utf8' });
      if (r.status === 0) {
        expect(r.stdout).toBe('');
        break;
      }
      if (attempt >= 3 || !r.stderr.includes('restart transaction')) throw new Error(`pgbench -i failed: ${r.stderr}`);
    }
    expect(run('psql', ['-X', '-f', join(dir, 'describe.sql'), node.url])).toBe(readFileSync(join(dir, 'describe.out'), 'utf8'));
  }, 300_000);

  it('the default TPC-B-like script keeps the balances consistent', () => {
    // Two clients on one branch conflict; Strata runs them SERIALIZABLE, so some tries fail with
    // 40001 and pgbench retries them. Whatever committed must add up: every committed transaction
    // wrote one history row and moved the same delta in accounts, tellers and branches.
    const out = run('pgbench', ['-n', '-c', '2', '-t', '25', '--max-tries=50', node.url]);
    const processed = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1]);
    expect(processed).toBeGreaterThan(0);
    const sums = run('psql', ['-X', '-Atc', 'select (select sum(abalance) from pgbench_accounts), (select sum(bbalance) from pgbench_branches), (select sum(tbalance) from pgbench_tellers), (select sum(delta) from pgbench_history), (select count(*) from pgbench_history)', node.url]).trim().split('|');
    expect(sums[4]).toBe(String(processed));
    expect(new Set(sums.slice(0, 4)).size).toBe(1);
    // Select-only (-S), prepared statements: every transaction succeeds.
    const sel = run('pgbench', ['-n', '-S', '-M', 'prepared', '-c', '2', '-t', '50', node.url]);
    expect(sel).toContain('number of transactions actually processed: 100/100');
  }, 300_000);

  it('pgbench -i again drops the tables it made, foreign keys between them included', () => {
    // `drop table if exists pgbench_accounts, pgbench_branches, …`: tables dropped together do
    // not hold each other back, as in PostgreSQL.
    const r = spawnSync('pgbench', ['-i', '-I', 'd', node.url], { timeout: 120_000, encoding: 'utf8' });
    expect(r.stderr).not.toContain('error');
    expect(r.status).toBe(0);
    expect(run('psql', ['-X', '-Atc', "select count(*) from pg_class where relname like 'pgbench%'", node.url])).toBe('0\n');
  }, 180_000);

  /** A psql script (errors do not stop it) with its echo, stdout and stderr interleaved as psql writes them. */
  function script(name: string): string {
    return execFileSync('sh', ['-c', `psql -X -a "${node.url}" -f - 2>&1`], { input: readFileSync(join(dir, `${name}.sql`), 'utf8'), timeout: 60_000 }).toString();
  }

  it('storage parameters, USING, TABLESPACE and COPY FREEZE are checked as PostgreSQL 15 checks them', () => {
    expect(script('storage_params')).toBe(readFileSync(join(dir, 'storage_params.out'), 'utf8'));
  }, 120_000);

  it('ALTER TABLE … ADD PRIMARY KEY re-keys a table created without one, refusing NULLs and duplicates as PostgreSQL 15', () => {
    expect(script('add_primary_key')).toBe(readFileSync(join(dir, 'add_primary_key.out'), 'utf8'));
  }, 120_000);
});
