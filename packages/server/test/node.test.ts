import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

describe('a single node', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startNode();
  });
  afterAll(async () => {
    await node.stop();
    node.cleanup();
  });

  it('answers /health and serves Prometheus metrics at /_status/vars', async () => {
    const h = await fetch(`http://127.0.0.1:${node.httpPort}/health`);
    expect(h.status).toBe(200);
    const c = new pg.Client(node.url);
    await c.connect();
    await c.query('select 1');
    await c.query('select 1/0').catch(() => {});
    await c.end();
    const m = await (await fetch(`http://127.0.0.1:${node.httpPort}/_status/vars`)).text();
    expect(m).toMatch(/strata_sql_statements_total\{type="select"\} \d+/);
    expect(m).toMatch(/strata_sql_errors_total\{code="22012"\} 1/);
    expect(m).toMatch(/strata_sql_statement_duration_seconds_bucket/);
    expect(m).toMatch(/strata_sql_bytes_in_total \d+/);
    expect(m).toMatch(/strata_storage_engine_bytes \d+/);
    expect(m).toMatch(/strata_sql_connections \d+/);
  });

  it('insecure mode: trust for roles that exist, and their privileges still apply', async () => {
    const root = new pg.Client(node.url);
    await root.connect();
    await root.query('create user plain_u');
    await root.query('create table plain_t (a int primary key)');
    await root.end();
    const u = new pg.Client(node.url.replace('root@', 'plain_u@'));
    await u.connect();
    await expect(u.query('select * from plain_t')).rejects.toMatchObject({ code: '42501', message: 'permission denied for table plain_t' });
    expect((await u.query('show is_superuser')).rows[0].is_superuser).toBe('off');
    await u.end();
    await expect(new pg.Client(node.url.replace('root@', 'nobody@')).connect()).rejects.toMatchObject({ code: '28000', message: 'role "nobody" does not exist' });
  });

  it('keeps data across a clean restart, and SIGTERM exits 0', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    await c.query('create table restart_t (k int primary key, v text)');
    await c.query("insert into restart_t values (1, 'one'), (2, 'two')");
    await c.end();
    expect(await node.stop()).toBe(0);
    await node.start();
    const c2 = new pg.Client(node.url);
    await c2.connect();
    const r = await c2.query('select k, v from restart_t order by k');
    expect(r.rows).toEqual([{ k: 1, v: 'one' }, { k: 2, v: 'two' }]);
    await c2.end();
  });
});

describe('the strata CLI', () => {
  it('prints --help for every command', () => {
    const cli = join(repoRoot, 'packages', 'cli', 'bin', 'strata.js');
    const top = execFileSync(process.execPath, [cli, '--help']).toString();
    expect(top).toMatch(/start-single-node/);
    const sub = execFileSync(process.execPath, [cli, 'start-single-node', '--help']).toString();
    for (const flag of ['--store', '--listen-addr', '--http-addr', '--insecure', '--certs-dir']) expect(sub).toContain(flag);
    const cert = execFileSync(process.execPath, [cli, 'cert', '--help']).toString();
    for (const cmd of ['create-ca', 'create-node', 'create-client']) expect(cert).toContain(cmd);
  });

  it('refuses to start without --insecure or --certs-dir (secure mode is the default)', () => {
    const cli = join(repoRoot, 'packages', 'cli', 'bin', 'strata.js');
    let err = '';
    try {
      execFileSync(process.execPath, [cli, 'start-single-node', '--store=/tmp/never', '--listen-addr=127.0.0.1:0'], { stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toMatch(/--insecure/);
  });
});
