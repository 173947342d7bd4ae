/**
 * Issue 12, "drivers, ORMs and tools work unchanged": each defect found by a real client is
 * reproduced here with that client (node-postgres, postgres.js, psycopg 3 / psycopg2 on libpq,
 * or a raw protocol script) against a real server process. The expected answers were recorded
 * from PostgreSQL 15: run this file with COMPAT_PG_URL=postgresql://postgres@host:port/postgres
 * (a superuser of a throwaway PostgreSQL 15) and the same assertions run against it, so every
 * difference left is deliberate (those tests are marked `strataOnly`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const pgUrl = process.env.COMPAT_PG_URL ?? null;
let node: TestNode | null = null;
let url = '';

beforeAll(async () => {
  if (pgUrl) {
    url = pgUrl;
    return;
  }
  node = await startNode();
  url = node.url;
});
afterAll(async () => {
  if (node) {
    await node.stop();
    node.cleanup();
  }
});

async function client(extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, ...extra });
  await c.connect();
  return c;
}

/** The error a promise rejects with, as { code, message } (or 'no error'). */
async function failure(p: Promise<unknown>): Promise<{ code: string | undefined; message: string } | 'no error'> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code, message: err.message };
  }
}

const python = '/usr/bin/python3';
const probe = join(import.meta.dirname, 'drivers', 'compat_probe.py');

/** Runs a scenario of compat_probe.py with psycopg 3 or psycopg2; returns its JSON answer. */
function psycopg(driver: 'psycopg' | 'psycopg2', scenario: string): unknown {
  if (!existsSync(python)) throw new Error(`${python} is missing: install Debian's python3-psycopg2 and python3-psycopg (.ci/run does)`);
  return JSON.parse(execFileSync(python, [probe, driver, scenario, url], { encoding: 'utf8' }));
}

describe('savepoints after an error (defect: XX000 "transaction is aborted" after ROLLBACK TO SAVEPOINT)', () => {
  it('node-postgres: reads and writes go on after ROLLBACK TO SAVEPOINT, and commit keeps them', async () => {
    const c = await client();
    await c.query('drop table if exists compat_sp1');
    await c.query('create table compat_sp1 (id int primary key, v text)');
    await c.query('begin');
    await c.query("insert into compat_sp1 values (1, 'a')");
    await c.query('savepoint s1');
    expect(await failure(c.query("insert into compat_sp1 values (1, 'dup')"))).toMatchObject({ code: '23505' });
    expect(await failure(c.query('select 1'))).toMatchObject({ code: '25P02' });
    await c.query('rollback to savepoint s1');
    expect((await c.query('select id, v from compat_sp1 order by id')).rows).toEqual([{ id: 1, v: 'a' }]);
    await c.query("insert into compat_sp1 values (2, 'b')");
    // The savepoint survives ROLLBACK TO and can be used again.
    await c.query("insert into compat_sp1 values (3, 'c')");
    await c.query('rollback to savepoint s1');
    await c.query("insert into compat_sp1 values (4, 'd')");
    await c.query('release savepoint s1');
    await c.query('commit');
    expect((await c.query('select id from compat_sp1 order by id')).rows).toEqual([{ id: 1 }, { id: 4 }]);
    await c.query('drop table compat_sp1');
    await c.end();
  });

  it('node-postgres: an error in a nested savepoint rolls back to the inner one only; a block without savepoint stays failed', async () => {
    const c = await client();
    await c.query('drop table if exists compat_sp2');
    await c.query('create table compat_sp2 (id int primary key)');
    await c.query('begin');
    await c.query('insert into compat_sp2 values (1)');
    await c.query('savepoint a');
    await c.query('insert into compat_sp2 values (2)');
    await c.query('savepoint b');
    expect(await failure(c.query('select 1/0'))).toMatchObject({ code: '22012' });
    await c.query('rollback to savepoint b');
    expect((await c.query('select count(*)::int as n from compat_sp2')).rows).toEqual([{ n: 2 }]);
    await c.query('rollback to savepoint a');
    expect((await c.query('select count(*)::int as n from compat_sp2')).rows).toEqual([{ n: 1 }]);
    // The wrong name is 3B001 and leaves the block failed.
    expect(await failure(c.query('rollback to savepoint nope'))).toMatchObject({ code: '3B001', message: 'savepoint "nope" does not exist' });
    expect(await failure(c.query('select 1'))).toMatchObject({ code: '25P02' });
    await c.query('rollback to savepoint a');
    expect((await c.query('commit')).command).toBe('COMMIT');
    expect((await c.query('select id from compat_sp2')).rows).toEqual([{ id: 1 }]);
    // Savepoint statements outside a block.
    expect(await failure(c.query('release savepoint a'))).toMatchObject({ code: '25P01', message: 'RELEASE SAVEPOINT can only be used in transaction blocks' });
    expect(await failure(c.query('rollback to savepoint a'))).toMatchObject({ code: '25P01' });
    await c.query('drop table compat_sp2');
    await c.end();
  });

  for (const driver of ['psycopg', 'psycopg2'] as const) {
    it(`${driver}: nested transaction blocks (savepoints) survive a unique violation`, () => {
      expect(psycopg(driver, 'nested_transaction')).toEqual({ inner: '23505', after_rollback: [[1, 'a']], committed: [[1, 'a'], [2, 'b']] });
    });
  }
});

/** Strata's own behaviour, where PostgreSQL has no equivalent to record. */
const strataOnly = pgUrl ? it.skip : it;

describe('a serialization failure inside a savepoint', () => {
  strataOnly('dooms the whole transaction: ROLLBACK TO SAVEPOINT is 40001 again, ROLLBACK works', async () => {
    const a = await client();
    const b = await client();
    await a.query('create table compat_sp3 (id int primary key, v int)');
    await a.query('insert into compat_sp3 values (1, 0)');
    await a.query('begin');
    await a.query('savepoint s');
    await a.query('select v from compat_sp3 where id = 1');
    await b.query('update compat_sp3 set v = 5 where id = 1');
    expect(await failure(a.query('update compat_sp3 set v = v + 1 where id = 1'))).toMatchObject({ code: '40001' });
    expect(await failure(a.query('rollback to savepoint s'))).toMatchObject({ code: '40001' });
    expect((await a.query('rollback')).command).toBe('ROLLBACK');
    expect((await a.query('select v from compat_sp3')).rows).toEqual([{ v: 5 }]);
    await a.query('drop table compat_sp3');
    await a.end();
    await b.end();
  });
});
