/**
 * A simple-query message of several statements is ONE implicit transaction, as in PostgreSQL 15
 * (packages/sql/src/txn_block.ts): an error anywhere undoes the whole string, COMMIT/ROLLBACK in
 * it end the implicit block with a WARNING, BEGIN turns it into an explicit block, savepoints are
 * 25P01 and statements that cannot run in a transaction block are 25001. The transcripts were
 * recorded from PostgreSQL 15: run with COMPAT_PG_URL=postgresql://postgres@127.0.0.1:PORT/postgres
 * (a throwaway PostgreSQL 15) and the same assertions run against it; only the time-series cases
 * (KWDB's tables, which PostgreSQL does not have) are `strataOnly`.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient } from '../../../qa/harness/rawpg.js';

const pgUrl = process.env.COMPAT_PG_URL ?? null;
let node: TestNode | null = null;
let url = '';
let c: RawClient;

const strataOnly = pgUrl ? it.skip : it;

beforeAll(async () => {
  if (pgUrl) url = pgUrl;
  else {
    node = await startNode();
    url = node.url;
  }
  const u = new URL(url);
  c = await RawClient.connect(Number(u.port), { user: decodeURIComponent(u.username), database: u.pathname.slice(1) });
  await c.query('drop table if exists imp_t; drop table if exists imp_t2');
  await c.query('create table imp_t (a int)');
});

afterAll(async () => {
  c.end();
  if (node) {
    await node.stop();
    node.cleanup();
  }
});

beforeEach(async () => {
  expect(await run('rollback; truncate imp_t')).toContain('C:TRUNCATE TABLE');
});

/**
 * The backend's answer to one simple query, compactly: C:tag, D:row, E:sqlstate, N:sqlstate
 * message (notices and warnings), A:channel:payload (notifications), Z:status.
 */
async function run(sql: string): Promise<string[]> {
  const ms = await c.query(sql);
  return ms.flatMap((m: BackendMessage) => {
    const x = m as unknown as Record<string, unknown>;
    switch (m.name) {
      case 'commandComplete':
        return [`C:${x.text as string}`];
      case 'dataRow':
        return [`D:${(x.fields as (string | null)[]).join('|')}`];
      case 'error':
        return [`E:${x.code as string}`];
      case 'notice':
        return [`N:${x.code as string} ${x.message as string}`];
      case 'notification':
        return [`A:${x.channel as string}:${x.payload as string}`];
      case 'readyForQuery':
        return [`Z:${x.status as string}`];
      default:
        return [];
    }
  });
}

const rows = async () => (await run('select a from imp_t order by a')).filter((l) => l.startsWith('D:'));
const noTxn = 'N:25P01 there is no transaction in progress';

describe('several statements in one simple query are one implicit transaction', () => {
  it('an error undoes the statements before it', async () => {
    expect(await run('insert into imp_t values (1); select 1/0')).toEqual(['C:INSERT 0 1', 'E:22012', 'Z:I']);
    expect(await rows()).toEqual([]);
    expect(await run('insert into imp_t values (1); insert into imp_t values (2); select 3')).toEqual(['C:INSERT 0 1', 'C:INSERT 0 1', 'D:3', 'C:SELECT 1', 'Z:I']);
    expect(await rows()).toEqual(['D:1', 'D:2']);
  });

  it('COMMIT and ROLLBACK end the implicit block with a warning; what follows is a new one', async () => {
    expect(await run('insert into imp_t values (2); commit; select 1/0')).toEqual(['C:INSERT 0 1', noTxn, 'C:COMMIT', 'E:22012', 'Z:I']);
    expect(await rows()).toEqual(['D:2']);
    expect(await run('insert into imp_t values (3); rollback; insert into imp_t values (4)')).toEqual(['C:INSERT 0 1', noTxn, 'C:ROLLBACK', 'C:INSERT 0 1', 'Z:I']);
    expect(await rows()).toEqual(['D:2', 'D:4']);
  });

  it('BEGIN makes the block explicit with what ran before it', async () => {
    expect(await run('insert into imp_t values (5); begin; insert into imp_t values (6); select 1/0; insert into imp_t values (7)')).toEqual([
      'C:INSERT 0 1',
      'C:BEGIN',
      'C:INSERT 0 1',
      'E:22012',
      'Z:E',
    ]);
    expect(await run('select 1')).toEqual(['E:25P02', 'Z:E']);
    expect(await run('rollback')).toEqual(['C:ROLLBACK', 'Z:I']);
    expect(await rows()).toEqual([]);
    expect(await run('insert into imp_t values (8); begin; insert into imp_t values (9); commit; insert into imp_t values (10); select 1/0')).toEqual([
      'C:INSERT 0 1',
      'C:BEGIN',
      'C:INSERT 0 1',
      'C:COMMIT',
      'C:INSERT 0 1',
      'E:22012',
      'Z:I',
    ]);
    expect(await rows()).toEqual(['D:8', 'D:9']);
    // A block left open by the string stays open.
    expect(await run('insert into imp_t values (11); begin; insert into imp_t values (12)')).toEqual(['C:INSERT 0 1', 'C:BEGIN', 'C:INSERT 0 1', 'Z:T']);
    expect(await run('rollback')).toEqual(['C:ROLLBACK', 'Z:I']);
    expect(await rows()).toEqual(['D:8', 'D:9']);
  });

  it("BEGIN's modes are checked as SET TRANSACTION's; a failed BEGIN leaves the session idle", async () => {
    expect(await run('select 1; begin isolation level repeatable read; select 2')).toEqual(['D:1', 'C:SELECT 1', 'E:25001', 'Z:I']);
    expect(await run('select 1; begin read only; insert into imp_t values (13)')).toEqual(['D:1', 'C:SELECT 1', 'C:BEGIN', 'E:25006', 'Z:E']);
    expect(await run('rollback')).toEqual(['C:ROLLBACK', 'Z:I']);
  });

  it('savepoints are refused in the implicit block, and the block is rolled back', async () => {
    expect(await run('insert into imp_t values (1); savepoint a; insert into imp_t values (2)')).toEqual(['C:INSERT 0 1', 'E:25P01', 'Z:I']);
    expect(await run('insert into imp_t values (1); release a')).toEqual(['C:INSERT 0 1', 'E:25P01', 'Z:I']);
    expect(await run('insert into imp_t values (1); rollback to a')).toEqual(['C:INSERT 0 1', 'E:25P01', 'Z:I']);
    expect(await rows()).toEqual([]);
  });

  it('statements that cannot run in a transaction block are 25001 in a string of several', async () => {
    expect(await run('select 1; create database imp_db')).toEqual(['D:1', 'C:SELECT 1', 'E:25001', 'Z:I']);
    expect(await run('create database imp_db; select 1')).toEqual(['E:25001', 'Z:I']);
    expect(await run('insert into imp_t values (1); vacuum')).toEqual(['C:INSERT 0 1', 'E:25001', 'Z:I']);
    expect(await run('select 1; discard all')).toEqual(['D:1', 'C:SELECT 1', 'E:25001', 'Z:I']);
    expect(await run('select 1; drop database if exists imp_nosuch')).toEqual(['D:1', 'C:SELECT 1', 'E:25001', 'Z:I']);
    expect(await run('begin; create database imp_db')).toEqual(['C:BEGIN', 'E:25001', 'Z:E']);
    expect(await run('rollback')).toEqual(['C:ROLLBACK', 'Z:I']);
    expect(await rows()).toEqual([]);
    // Alone (empty statements do not count) they run.
    expect(await run('create database imp_db;;')).toEqual(['C:CREATE DATABASE', 'Z:I']);
    expect(await run('drop database imp_db;')).toEqual(['C:DROP DATABASE', 'Z:I']);
  });

  it('PREPARE TRANSACTION in the implicit block warns, fails, and rolls the string back', async () => {
    expect(await run("insert into imp_t values (1); prepare transaction 'x'")).toEqual(['C:INSERT 0 1', noTxn, 'E:55000', 'Z:I']);
    expect(await rows()).toEqual([]);
  });

  it('SETs are part of the implicit transaction', async () => {
    await run("set search_path = public; set timezone = 'UTC'");
    expect(await run('set search_path = imp_nosuch; select 1/0')).toEqual(['C:SET', 'E:22012', 'Z:I']);
    expect(await run('show search_path')).toEqual(['D:public', 'C:SHOW', 'Z:I']);
    // SET LOCAL lasts until the string ends, without the warning it gets alone.
    expect(await run("set local timezone = 'Europe/Paris'; show timezone")).toEqual(['C:SET', 'D:Europe/Paris', 'C:SHOW', 'Z:I']);
    expect(await run('show timezone')).toEqual(['D:UTC', 'C:SHOW', 'Z:I']);
    // A reported setting that is rolled back: the client's last word for it is the old value.
    const ms = await c.query("set timezone = 'Asia/Tokyo'; select 1/0");
    const reported = ms.filter((m) => m.name === 'parameterStatus').map((m) => m as unknown as { parameterName: string; parameterValue: string });
    expect(reported.filter((p) => p.parameterName === 'TimeZone').at(-1)?.parameterValue ?? 'UTC').toBe('UTC');
    expect(await run("set timezone = 'Asia/Tokyo'; commit; select 1/0")).toEqual(['C:SET', noTxn, 'C:COMMIT', 'E:22012', 'Z:I']);
    expect(await run('show timezone')).toEqual(['D:Asia/Tokyo', 'C:SHOW', 'Z:I']);
    await run("set timezone = 'UTC'");
    // The block's read-only mode is fixed when it starts, as PostgreSQL's transaction's.
    expect(await run('set default_transaction_read_only = on; insert into imp_t values (11)')).toEqual(['C:SET', 'C:INSERT 0 1', 'Z:I']);
    expect(await run('insert into imp_t values (12)')).toEqual(['E:25006', 'Z:I']);
    expect(await run('set default_transaction_read_only = off; set transaction read only; insert into imp_t values (13)')).toEqual(['C:SET', 'C:SET', 'E:25006', 'Z:I']);
    expect(await run('show default_transaction_read_only')).toEqual(['D:on', 'C:SHOW', 'Z:I']);
    await run('set default_transaction_read_only = off');
    expect(await rows()).toEqual(['D:11']);
  });

  it('DDL is undone with the string; a table created in it is usable in it', async () => {
    expect(await run('create table imp_t2 (a int); insert into imp_t2 values (1); select 1/0')).toEqual(['C:CREATE TABLE', 'C:INSERT 0 1', 'E:22012', 'Z:I']);
    expect(await run('select * from imp_t2')).toEqual(['E:42P01', 'Z:I']);
    expect(await run('create table imp_t2 (a int); insert into imp_t2 values (1); select * from imp_t2')).toEqual(['C:CREATE TABLE', 'C:INSERT 0 1', 'D:1', 'C:SELECT 1', 'Z:I']);
    expect(await run('drop table imp_t2')).toEqual(['C:DROP TABLE', 'Z:I']);
  });

  it('a cursor lives until the string ends', async () => {
    expect(await run('declare imp_c cursor for select 1; fetch imp_c')).toEqual(['C:DECLARE CURSOR', 'D:1', 'C:FETCH 1', 'Z:I']);
    expect(await run('fetch imp_c')).toEqual(['E:34000', 'Z:I']);
  });

  it('NOTIFY is sent when the string commits, not when it fails', async () => {
    expect(await run('listen imp_ch')).toEqual(['C:LISTEN', 'Z:I']);
    expect(await run("notify imp_ch, 'lost'; select 1/0")).toEqual(['C:NOTIFY', 'E:22012', 'Z:I']);
    expect(await run("notify imp_ch, 'kept'; select 1")).toEqual(['C:NOTIFY', 'D:1', 'C:SELECT 1', 'A:imp_ch:kept', 'Z:I']);
    expect(await run('unlisten imp_ch; listen imp_ch2; select 1/0')).toEqual(['C:UNLISTEN', 'C:LISTEN', 'E:22012', 'Z:I']);
    expect(await run('select pg_listening_channels()')).toEqual(['D:imp_ch', 'C:SELECT 1', 'Z:I']);
    expect(await run('unlisten *')).toEqual(['C:UNLISTEN', 'Z:I']);
  });

  it('through psql -c and node-postgres', async () => {
    let failed = '';
    try {
      execFileSync('psql', ['-X', url, '-c', 'insert into imp_t values (21); select 1/0;'], { stdio: 'pipe', env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
    } catch (e) {
      failed = String((e as { stderr?: Buffer }).stderr);
    }
    expect(failed).toContain('division by zero');
    const out = execFileSync('psql', ['-X', '-At', url, '-c', 'insert into imp_t values (22); insert into imp_t values (23); select count(*) from imp_t;']).toString();
    expect(out).toBe('INSERT 0 1\nINSERT 0 1\n2\n');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await expect(client.query('insert into imp_t values (24); select 1/0')).rejects.toMatchObject({ code: '22012' });
    expect((await client.query('select array_agg(a order by a)::text as a from imp_t')).rows).toEqual([{ a: '{22,23}' }]);
    await client.end();
  });
});

describe('time-series tables in a string of several statements (KWDB: not transactional)', () => {
  strataOnly('a TS row stays when a later statement fails; TS DDL that cannot run in a block is 25001', async () => {
    expect(await run('create ts database imp_ts')).toEqual(['C:CREATE TS DATABASE', 'Z:I']);
    expect(await run('create table imp_ts.m (ts timestamp not null, v int) tags (d int not null) primary tags (d)')).toEqual(['C:CREATE TABLE', 'Z:I']);
    expect(await run("insert into imp_t values (1); insert into imp_ts.m values ('2024-01-01 00:00:00', 7, 1); select 1/0")).toEqual([
      'C:INSERT 0 1',
      'C:INSERT 0 1',
      'E:22012',
      'Z:I',
    ]);
    expect(await rows()).toEqual([]);
    expect(await run('select v, d from imp_ts.m')).toEqual(['D:7|1', 'C:SELECT 1', 'Z:I']);
    expect(await run('select 1; alter table imp_ts.m add column w int')).toEqual(['D:1', 'C:SELECT 1', 'E:25001', 'Z:I']);
    expect(await run('select 1; compress table imp_ts.m')).toEqual(['D:1', 'C:SELECT 1', 'E:25001', 'Z:I']);
    expect(await run('select 1; drop table imp_ts.m')).toEqual(['D:1', 'C:SELECT 1', 'E:25001', 'Z:I']);
    expect(await run('select count(*) from imp_ts.m')).toEqual(['D:1', 'C:SELECT 1', 'Z:I']);
    expect(await run('drop database imp_ts')).toEqual(['C:DROP DATABASE', 'Z:I']);
  });
});
