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
import { connect } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, serialize } from '../../../qa/harness/rawpg.js';

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

/** Strata's own behaviour, where PostgreSQL has no equivalent to record. */
const strataOnly = pgUrl ? it.skip : it;

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

/** host, port, user and database of the server under test, for raw protocol clients. */
function target(): { port: number; user: string; database: string } {
  const u = new URL(url);
  return { port: Number(u.port), user: decodeURIComponent(u.username), database: u.pathname.slice(1) };
}

async function raw(): Promise<RawClient> {
  const t = target();
  return RawClient.connect(t.port, { user: t.user, database: t.database });
}

/** One simple query on a raw client: the messages up to ReadyForQuery, by name, and the status. */
async function simple(c: RawClient, sql: string): Promise<{ names: string[]; status: string; code: string | undefined }> {
  c.write(serialize.query(sql));
  const ms = await c.untilReady();
  const err = ms.find((m) => m.name === 'error') as unknown as { code: string } | undefined;
  const rfq = ms[ms.length - 1] as unknown as { status: string };
  return { names: ms.map((m) => m.name), status: rfq.status, code: err?.code };
}

describe('PREPARE TRANSACTION (defect: a failed one left the session in a failed block; pooled connections hung)', () => {
  it('fails with 55000 (two-phase commit disabled, as max_prepared_transactions = 0) and rolls the transaction back: the session is idle', async () => {
    const c = await raw();
    await simple(c, 'drop table if exists compat_tpc1');
    await simple(c, 'create table compat_tpc1 (id int)');
    expect((await simple(c, 'begin; insert into compat_tpc1 values (1)')).status).toBe('T');
    expect(await simple(c, "prepare transaction 'g1'")).toEqual({ names: ['error', 'readyForQuery'], status: 'I', code: '55000' });
    expect((await simple(c, 'select count(*) from compat_tpc1')).status).toBe('I');
    // In a failed block it is a ROLLBACK; outside any block a warning and ROLLBACK.
    await simple(c, 'begin');
    await simple(c, 'select 1/0');
    expect(await simple(c, "prepare transaction 'g2'")).toEqual({ names: ['commandComplete', 'readyForQuery'], status: 'I', code: undefined });
    expect(await simple(c, "prepare transaction 'g3'")).toMatchObject({ names: ['notice', 'commandComplete', 'readyForQuery'], status: 'I' });
    expect(await simple(c, "commit prepared 'g1'")).toMatchObject({ status: 'I', code: '42704' });
    expect(await simple(c, "rollback prepared 'g1'")).toMatchObject({ status: 'I', code: '42704' });
    await simple(c, 'begin');
    expect(await simple(c, "commit prepared 'g1'")).toMatchObject({ status: 'E', code: '25001' });
    await simple(c, 'rollback');
    expect(await simple(c, 'show max_prepared_transactions')).toMatchObject({ code: undefined });
    await simple(c, 'drop table compat_tpc1');
    c.end();
  });

  it('node-postgres pool of one: the connection after a failed PREPARE TRANSACTION autocommits (nothing held in a forgotten block)', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    await pool.query('drop table if exists compat_tpc2');
    await pool.query('create table compat_tpc2 (id int)');
    const c = await pool.connect();
    await c.query('begin');
    await c.query('insert into compat_tpc2 values (1)');
    expect(await failure(c.query("prepare transaction 'pooled'"))).toMatchObject({ code: '55000', message: 'prepared transactions are disabled' });
    c.release();
    await pool.query('insert into compat_tpc2 values (2)');
    const other = await client();
    expect((await other.query('select id from compat_tpc2')).rows).toEqual([{ id: 2 }]);
    expect((await other.query('select count(*)::int as n from pg_prepared_xacts')).rows).toEqual([{ n: 0 }]);
    await other.query('drop table compat_tpc2');
    await other.end();
    await pool.end();
  });

  it('psycopg 3 and psycopg2: tpc_prepare() fails as on PostgreSQL and the connection goes on', () => {
    expect(psycopg('psycopg', 'tpc_prepare')).toEqual({ prepare: 'NotSupportedError', tpc_rollback: '42704', rows: 0, status: '2' });
    expect(psycopg('psycopg2', 'tpc_prepare')).toEqual({ prepare: '55000', tpc_rollback: 'ok', rows: 0, status: '2' });
  });
});

describe('row-limited Execute (defect: postgres.js cursors got batches of 10, 10, 0)', () => {
  it('postgres.js cursor(10) over 20 rows gets 10, 10; over 25 rows 10, 10, 5', async () => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const sizes = async (n: number) => {
      const out: number[] = [];
      for await (const rows of sql`select g from generate_series(1, ${n}::int) g`.cursor(10)) out.push(rows.length);
      return out;
    };
    expect(await sizes(20)).toEqual([10, 10]);
    expect(await sizes(25)).toEqual([10, 10, 5]);
    expect(await sizes(0)).toEqual([]);
    await sql.end();
  });

  it('the CommandComplete of a resumed portal counts the rows of its last Execute (SELECT and INSERT … RETURNING)', async () => {
    const c = await raw();
    await simple(c, 'drop table if exists compat_ex; create table compat_ex (id int)');
    const run = async (text: string) => {
      c.write(Buffer.concat([serialize.parse({ text }), serialize.bind({}), serialize.execute({ rows: 2 }), serialize.execute({ rows: 2 }), serialize.execute({ rows: 2 }), serialize.sync()]));
      return (await c.untilReady()).map((m) => m.name + ((m as unknown as { text?: string }).text !== undefined ? `:${(m as unknown as { text: string }).text}` : ''));
    };
    const shape = (tag: string) => ['parseComplete', 'bindComplete', 'dataRow', 'dataRow', 'portalSuspended', 'dataRow', 'dataRow', 'portalSuspended', 'dataRow', `commandComplete:${tag}`, 'readyForQuery'];
    expect(await run('select g from generate_series(1, 5) g')).toEqual(shape('SELECT 1'));
    expect(await run('insert into compat_ex select g from generate_series(1, 5) g returning id')).toEqual(shape('INSERT 0 1'));
    expect((await run('select g from generate_series(1, 4) g')).slice(-2)).toEqual(['commandComplete:SELECT 0', 'readyForQuery']);
    await simple(c, 'drop table compat_ex');
    c.end();
  });
});

describe('time settings are shown with units; settings are transactional (defect: SHOW statement_timeout printed 3000)', () => {
  it('SET and SHOW of statement_timeout and friends as PostgreSQL parses and prints them', async () => {
    const c = await client();
    const show = async (v: string | number) => {
      await c.query(`set statement_timeout = ${typeof v === 'number' ? v : `'${v}'`}`);
      return (await c.query('show statement_timeout')).rows[0].statement_timeout as string;
    };
    expect(await show(3000)).toBe('3s');
    expect(await show('1.5s')).toBe('1500ms');
    expect(await show('60s')).toBe('1min');
    expect(await show('90s')).toBe('90s');
    expect(await show('1d')).toBe('1d');
    expect(await show('2.5ms')).toBe('2ms'); // rounded half to even, as C's rint
    expect(await show('100us')).toBe('0');
    expect(await show('010')).toBe('8ms'); // strtol base 0: octal
    expect(await show('1e3')).toBe('1s');
    expect(await show(' 7s ')).toBe('7s');
    expect(await show('2147483647')).toBe('2147483647ms');
    expect(await failure(c.query("set statement_timeout = '-1'"))).toMatchObject({ code: '22023', message: '-1 ms is outside the valid range for parameter "statement_timeout" (0 .. 2147483647)' });
    expect(await failure(c.query("set statement_timeout = '3 S'"))).toMatchObject({ code: '22023', message: 'invalid value for parameter "statement_timeout": "3 S"' });
    expect(await failure(c.query("set statement_timeout = '2147483648'"))).toMatchObject({ code: '22023' });
    await c.query("set lock_timeout = '120000'");
    await c.query("set idle_session_timeout = '3600s'");
    await c.query("set idle_in_transaction_session_timeout = '1500'");
    const r = await c.query("select current_setting('lock_timeout') as l, current_setting('idle_session_timeout') as s, current_setting('idle_in_transaction_session_timeout') as t");
    expect(r.rows[0]).toEqual({ l: '2min', s: '1h', t: '1500ms' });
    expect((await c.query("select set_config('statement_timeout', '6000', false) as v")).rows[0].v).toBe('6s');
    await c.end();
  });

  it('ROLLBACK undoes SET, SET LOCAL and set_config(…, true) end with the block, ROLLBACK TO SAVEPOINT undoes SET', async () => {
    const c = await client();
    const st = async () => (await c.query('show statement_timeout')).rows[0].statement_timeout as string;
    const notices: { code?: string; severity?: string; message: string }[] = [];
    c.on('notice', (n) => notices.push({ code: n.code, severity: n.severity, message: n.message ?? '' }));
    await c.query('set statement_timeout = 0');
    await c.query("begin; set statement_timeout = '5s'; rollback");
    expect(await st()).toBe('0');
    await c.query("begin; set statement_timeout = '5s'; commit");
    expect(await st()).toBe('5s');
    await c.query('begin');
    await c.query("set local statement_timeout = '7s'");
    expect(await st()).toBe('7s');
    await c.query('commit');
    expect(await st()).toBe('5s');
    await c.query("begin; set statement_timeout = '1s'; set local statement_timeout = '7s'; commit");
    expect(await st()).toBe('1s');
    await c.query("begin; set local statement_timeout = '7s'; set statement_timeout = '2s'; commit");
    expect(await st()).toBe('2s');
    await c.query("begin; savepoint a; set statement_timeout = '9s'; rollback to savepoint a");
    expect(await st()).toBe('2s');
    await c.query('commit');
    await c.query("begin; select set_config('statement_timeout', '8000', true); commit");
    expect(await st()).toBe('2s');
    // Outside a block SET LOCAL does nothing but warn.
    await c.query("set local statement_timeout = '4s'");
    expect(await st()).toBe('2s');
    await c.query('commit');
    expect(notices).toEqual([
      { code: '25P01', severity: 'WARNING', message: 'SET LOCAL can only be used in transaction blocks' },
      { code: '25P01', severity: 'WARNING', message: 'there is no transaction in progress' },
    ]);
    await c.end();
  });
});

describe('startup: options=-c … applied (defect: ignored), nothing written to a peer refused during startup', () => {
  it('node-postgres options "-c search_path=… -c statement_timeout=3s" and "--name=value" are applied', async () => {
    const setup = await client();
    await setup.query('drop schema if exists compat_opt cascade');
    await setup.query('create schema compat_opt');
    await setup.query('create table compat_opt.only_here (v int)');
    await setup.query('insert into compat_opt.only_here values (7)');
    const c = await client({ options: '-c search_path=compat_opt,public -c statement_timeout=3s --lock-timeout=1min' });
    const r = await c.query("select current_setting('search_path') as sp, current_setting('statement_timeout') as st, current_setting('lock_timeout') as lt, current_schema() as cs");
    expect(r.rows[0]).toEqual({ sp: 'compat_opt,public', st: '3s', lt: '1min', cs: 'compat_opt' });
    expect((await c.query('select v from only_here')).rows).toEqual([{ v: 7 }]);
    await c.end();
    // A backslash escapes a space (pg_split_opts).
    const d = await client({ options: '-c application_name=a\\ b' });
    expect((await d.query('show application_name')).rows[0].application_name).toBe('a b');
    await d.end();
    await setup.query('drop schema compat_opt cascade');
    await setup.end();
  });

  it("refuses bad options with PostgreSQL's FATAL errors", async () => {
    const refused = async (options: string) => failure(client({ options }).then((c) => c.end()));
    expect(await refused('-c nosuch_setting=1')).toMatchObject({ code: '42704', message: 'unrecognized configuration parameter "nosuch_setting"' });
    expect(await refused('-c statement_timeout=abc')).toMatchObject({ code: '22023', message: 'invalid value for parameter "statement_timeout": "abc"' });
    expect(await refused('-c search_path=a\\ b')).toMatchObject({ code: '22023', message: 'invalid value for parameter "search_path": "a b"' });
    expect(await refused('-c foo')).toMatchObject({ code: '42601', message: '-c foo requires a value' });
    expect(await refused('stray')).toMatchObject({ code: '42601', message: 'invalid command-line argument for server process: stray' });
  });

  it('SET search_path takes each argument as one name; the setting is a list as PostgreSQL reads it', async () => {
    const c = await client();
    await c.query('set search_path = "B", a, MixEd');
    expect((await c.query('show search_path')).rows[0].search_path).toBe('"B", a, mixed');
    await c.query(`set search_path = 'X, "Y z"'`);
    expect((await c.query('show search_path')).rows[0].search_path).toBe('"X, ""Y z"""');
    await c.query("set search_path = ''");
    expect((await c.query('show search_path')).rows[0].search_path).toBe('""');
    await c.query('set search_path = pg_catalog, nosuch, public');
    expect((await c.query('select current_schema() as s, current_schemas(true)::text[] as a')).rows[0]).toEqual({ s: 'pg_catalog', a: ['pg_catalog', 'public'] });
    await c.query('set search_path = nosuch');
    expect((await c.query('select current_schema() as s, current_schemas(true)::text[] as a')).rows[0]).toEqual({ s: null, a: ['pg_catalog'] });
    await c.end();
  });

  it('an impossible startup packet length is dropped without a word (PostgreSQL only logs it)', async () => {
    const t = target();
    const answer = async (bytes: Buffer) =>
      new Promise<string>((res) => {
        const s = connect(t.port, '127.0.0.1');
        let out = Buffer.alloc(0);
        s.on('data', (d: Buffer) => (out = Buffer.concat([out, d])));
        s.on('connect', () => s.end(bytes));
        s.on('close', () => res(out.toString('latin1')));
        s.on('error', () => {});
      });
    const len = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    expect(await answer(len(3))).toBe('');
    expect(await answer(Buffer.concat([len(20000), Buffer.alloc(100)]))).toBe('');
    expect(await answer(Buffer.from([0, 0]))).toBe('');
    // A client still gets its error when it sent a packet the server understood.
    expect(await answer(Buffer.from([0, 0, 0, 8, 0, 9, 0, 0]))).toContain('unsupported frontend protocol 9.0');
  });
});

describe('65,535 bind parameters (defect: tens of thousands dropped the connection)', () => {
  it('node-postgres: an INSERT of 32,767 rows with 65,534 parameters, and an IN list of 65,535 parameters', async () => {
    const c = await client();
    await c.query('drop table if exists compat_params');
    await c.query('create table compat_params (id int primary key, v text)');
    const rows = 32767;
    const placeholders = Array.from({ length: rows }, (_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(',');
    const ins = await c.query(`insert into compat_params values ${placeholders}`, Array.from({ length: rows * 2 }, (_, i) => (i % 2 ? `v${(i - 1) / 2}` : i / 2)));
    expect(ins.rowCount).toBe(rows);
    const n = 65535;
    const list = Array.from({ length: n }, (_, i) => `$${i + 1}`).join(',');
    const ids = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : i));
    expect((await c.query(`select count(*)::int as n from compat_params where id in (${list})`, ids)).rows).toEqual([{ n: rows - Math.ceil(rows / 3) }]);
    // NOT IN with a NULL in the list is never true (SQL's three-valued logic).
    expect((await c.query(`select count(*)::int as n from compat_params where id not in (${list})`, ids)).rows).toEqual([{ n: 0 }]);
    const texts = Array.from({ length: n }, (_, i) => `v${i * 2}`);
    expect((await c.query(`select count(*)::int as n from compat_params where v in (${list})`, texts)).rows).toEqual([{ n: Math.ceil(rows / 2) }]);
    await c.query('drop table compat_params');
    await c.end();
  });
});

describe('errors carry the routine field where PostgreSQL has one source (defect: never sent)', () => {
  it('node-postgres sees err.routine for the common SQLSTATEs', async () => {
    const c = await client();
    await c.query('drop table if exists compat_rt');
    await c.query('create table compat_rt (id int primary key, n int not null check (n > 0), r int references compat_rt (id))');
    await c.query('insert into compat_rt values (1, 1, null)');
    const routine = async (sql: string) => {
      try {
        await c.query(sql);
        return 'no error';
      } catch (e) {
        const err = e as { code: string; routine?: string };
        return `${err.code} ${err.routine}`;
      }
    };
    expect(await routine('insert into compat_rt values (1, 1, null)')).toBe('23505 _bt_check_unique');
    expect(await routine('insert into compat_rt values (2, null, null)')).toBe('23502 ExecConstraints');
    expect(await routine('insert into compat_rt values (2, -1, null)')).toBe('23514 ExecConstraints');
    expect(await routine('insert into compat_rt values (2, 1, 5)')).toBe('23503 ri_ReportViolation');
    expect(await routine('select * from compat_nosuch')).toBe('42P01 parserOpenTable');
    expect(await routine('select nosuch from compat_rt')).toBe('42703 errorMissingColumn');
    expect(await routine('selec 1')).toBe('42601 scanner_yyerror');
    expect(await routine('create table compat_rt (x int)')).toBe('42P07 heap_create_with_catalog');
    expect(await routine('select compat_nosuchfn()')).toBe('42883 ParseFuncOrColumn');
    await c.query('drop table compat_rt');
    await c.end();
  });
});

describe('transaction modes (defect: READ ONLY and default_transaction_read_only not applied; isolation misreported)', () => {
  it('node-postgres: BEGIN/SET TRANSACTION modes are reported and READ ONLY refuses every kind of write with 25006', async () => {
    const c = await client();
    const show = async (n: string) => (await c.query(`show ${n}`)).rows[0][n] as string;
    await c.query('drop table if exists compat_ro');
    await c.query('drop sequence if exists compat_ro_seq');
    await c.query('create table compat_ro (id int)');
    await c.query('create sequence compat_ro_seq');
    await c.query('begin isolation level repeatable read');
    expect(await show('transaction_isolation')).toBe('repeatable read');
    await c.query('commit');
    await c.query('begin');
    await c.query('set transaction isolation level read committed, read only, deferrable');
    expect([await show('transaction_isolation'), await show('transaction_read_only'), await show('transaction_deferrable')]).toEqual(['read committed', 'on', 'on']);
    await c.query('select 1');
    expect(await failure(c.query('set transaction isolation level serializable'))).toMatchObject({ code: '25001', message: 'SET TRANSACTION ISOLATION LEVEL must be called before any query' });
    await c.query('rollback');
    const writes: [string, string][] = [
      ['insert into compat_ro values (1)', 'INSERT'],
      ['update compat_ro set id = 2', 'UPDATE'],
      ['delete from compat_ro', 'DELETE'],
      ['select * from compat_ro for update', 'SELECT FOR UPDATE'],
      ['select * from compat_ro for share', 'SELECT FOR SHARE'],
      ['truncate compat_ro', 'TRUNCATE TABLE'],
      ['create table compat_ro2 (id int)', 'CREATE TABLE'],
      ['drop table compat_ro', 'DROP TABLE'],
      ['alter table compat_ro add column x int', 'ALTER TABLE'],
      ['create index on compat_ro (id)', 'CREATE INDEX'],
      ['create view compat_ro_v as select 1', 'CREATE VIEW'],
      ['create schema compat_ro_s', 'CREATE SCHEMA'],
      ['create sequence compat_ro_s2', 'CREATE SEQUENCE'],
      ["select nextval('compat_ro_seq')", 'nextval()'],
      ["select setval('compat_ro_seq', 5)", 'setval()'],
      ['create role compat_ro_u', 'CREATE ROLE'],
      ['grant select on compat_ro to public', 'GRANT'],
    ];
    for (const [sql, command] of writes) {
      await c.query('begin read only');
      expect([sql, await failure(c.query(sql))]).toEqual([sql, { code: '25006', message: `cannot execute ${command} in a read-only transaction` }]);
      await c.query('rollback');
    }
    // Reads, SET and EXPLAIN are fine; READ WRITE only before the first query.
    await c.query('begin read only');
    await c.query('set transaction read write');
    expect(await show('transaction_read_only')).toBe('off');
    await c.query('set transaction read only');
    await c.query('select count(*) from compat_ro');
    await c.query('set statement_timeout = 0');
    expect(await failure(c.query('set transaction_read_only = off'))).toMatchObject({ code: '25001', message: 'transaction read-write mode must be set before any query' });
    await c.query('rollback');
    // A prepared statement's EXECUTE is checked when it runs.
    await c.query('begin read only');
    await c.query('prepare compat_ro_p as insert into compat_ro values (1)');
    expect(await failure(c.query('execute compat_ro_p'))).toMatchObject({ code: '25006' });
    await c.query('rollback');
    await c.query('deallocate compat_ro_p');
    await c.query('drop table compat_ro');
    await c.query('drop sequence compat_ro_seq');
    await c.end();
  });

  it('node-postgres: default_transaction_read_only and SET SESSION CHARACTERISTICS apply to every later transaction, implicit ones too', async () => {
    const c = await client();
    const show = async (n: string) => (await c.query(`show ${n}`)).rows[0][n] as string;
    await c.query('drop table if exists compat_ro3');
    await c.query('create table compat_ro3 (id int)');
    await c.query('set default_transaction_read_only = on');
    expect(await failure(c.query('insert into compat_ro3 values (1)'))).toMatchObject({ code: '25006', message: 'cannot execute INSERT in a read-only transaction' });
    expect(await show('transaction_read_only')).toBe('on');
    await c.query('begin read write');
    await c.query('insert into compat_ro3 values (1)');
    await c.query('commit');
    await c.query('reset default_transaction_read_only');
    await c.query('set session characteristics as transaction isolation level repeatable read, read only');
    expect([await show('default_transaction_isolation'), await show('default_transaction_read_only'), await show('transaction_isolation')]).toEqual(['repeatable read', 'on', 'repeatable read']);
    await c.query('begin');
    expect(await show('transaction_isolation')).toBe('repeatable read');
    expect(await failure(c.query('delete from compat_ro3'))).toMatchObject({ code: '25006' });
    await c.query('rollback');
    await c.query('set session characteristics as transaction read write');
    expect(await failure(c.query("set default_transaction_isolation = 'bogus'"))).toMatchObject({ code: '22023', message: 'invalid value for parameter "default_transaction_isolation": "bogus"' });
    expect(await failure(c.query("set default_transaction_read_only = 'maybe'"))).toMatchObject({ code: '22023', message: 'parameter "default_transaction_read_only" requires a Boolean value' });
    await c.query('drop table compat_ro3');
    await c.end();
  });

  for (const driver of ['psycopg', 'psycopg2'] as const) {
    it(`${driver}: read_only and isolation_level of the driver`, () => {
      expect(psycopg(driver, 'txn_modes')).toEqual({ isolation: 'repeatable read', read_only: 'on', insert: '25006', rows: 1 });
    });
  }
});


describe('TEMP tables (defect: CREATE TEMP TABLE made a shared table that outlived the session)', () => {
  it('node-postgres: a temp table is private, shadows a permanent one, and is gone for the next session', async () => {
    const a = await client();
    const b = await client();
    const rows = async (c: pg.Client, sql: string) => {
      try {
        return (await c.query(sql)).rows;
      } catch (e) {
        return `${(e as { code: string }).code}`;
      }
    };
    await a.query('drop table if exists compat_tmp');
    await a.query('create table compat_tmp (id int)');
    await a.query('insert into compat_tmp values (0)');
    await a.query('create temp table compat_tmp (id int, note text)');
    await a.query("insert into compat_tmp values (1, 'a')");
    expect(await rows(a, 'select id from compat_tmp')).toEqual([{ id: 1 }]);
    expect(await rows(a, 'select id from pg_temp.compat_tmp')).toEqual([{ id: 1 }]);
    expect(await rows(a, 'select id from public.compat_tmp')).toEqual([{ id: 0 }]);
    expect(await rows(b, 'select id from compat_tmp')).toEqual([{ id: 0 }]);
    await b.query('create temp table compat_tmp_b (id int)');
    await b.query('insert into compat_tmp_b values (2)');
    expect(await rows(a, 'select * from compat_tmp_b')).toBe('42P01');
    // Another session's temp schema, named explicitly, is refused.
    const bSchema = (await b.query("select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = 'compat_tmp_b'")).rows[0].nspname as string;
    expect(await rows(a, `select * from ${bSchema}.compat_tmp_b`)).toBe('0A000');
    // Catalogs: relpersistence, visibility, information_schema.
    const cls = await a.query("select relpersistence, pg_table_is_visible(c.oid) as visible from pg_class c where relname = 'compat_tmp' order by relpersistence");
    expect(cls.rows).toEqual([{ relpersistence: 'p', visible: false }, { relpersistence: 't', visible: true }]);
    expect((await a.query("select table_type from information_schema.tables where table_name = 'compat_tmp' order by table_type")).rows.map((r) => r.table_type)).toContain('LOCAL TEMPORARY');
    // DROP TABLE takes the temp table first, then the permanent one.
    await a.query('drop table compat_tmp');
    expect(await rows(a, 'select id from compat_tmp')).toEqual([{ id: 0 }]);
    await a.query('create temp table compat_tmp2 (id int)');
    await a.end();
    await b.end();
    const c = await client();
    for (let i = 0; i < 50; i++) {
      // The ended sessions' temp schemas are dropped in the background.
      if ((await rows(c, 'select * from compat_tmp2')) === '42P01' && (await rows(c, 'select * from compat_tmp_b')) === '42P01') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await rows(c, 'select * from compat_tmp2')).toBe('42P01');
    expect(await rows(c, 'select * from compat_tmp_b')).toBe('42P01');
    await c.query('create temp table compat_tmp2 (x text)'); // the name is free again
    await c.query('drop table compat_tmp');
    await c.end();
  });

  it('node-postgres: ON COMMIT DROP / DELETE ROWS, pg_temp qualification, DISCARD TEMP, and the refusals', async () => {
    const c = await client();
    const rows = async (sql: string) => {
      try {
        return (await c.query(sql)).rows;
      } catch (e) {
        return `${(e as { code: string }).code} ${(e as { message: string }).message}`;
      }
    };
    await c.query('create temporary table compat_t1 (x int) on commit drop'); // autocommit: gone at once
    expect(await rows('select * from compat_t1')).toBe('42P01 relation "compat_t1" does not exist');
    await c.query('begin');
    await c.query('create temp table compat_t2 (x int) on commit drop');
    await c.query('insert into compat_t2 values (1)');
    expect(await rows('select * from compat_t2')).toEqual([{ x: 1 }]);
    await c.query('commit');
    expect(await rows('select * from compat_t2')).toBe('42P01 relation "compat_t2" does not exist');
    await c.query('begin');
    await c.query('create temp table compat_t3 (x int) on commit delete rows');
    await c.query('insert into compat_t3 values (1)');
    expect(await rows('select count(*)::int as n from compat_t3')).toEqual([{ n: 1 }]);
    await c.query('commit');
    expect(await rows('select count(*)::int as n from compat_t3')).toEqual([{ n: 0 }]);
    await c.query('create table pg_temp.compat_t4 (x int)');
    expect(await rows("select relpersistence from pg_class where relname = 'compat_t4'")).toEqual([{ relpersistence: 't' }]);
    // A rolled-back CREATE TEMP TABLE leaves nothing.
    await c.query('begin');
    await c.query('create temp table compat_t5 (x int)');
    await c.query('rollback');
    expect(await rows('select * from compat_t5')).toBe('42P01 relation "compat_t5" does not exist');
    expect(await rows('create temp table public.compat_t6 (x int)')).toBe('42P16 cannot create temporary relation in non-temporary schema');
    expect(await rows('create table compat_t7 (x int) on commit drop')).toBe('42P16 ON COMMIT can only be used on temporary tables');
    await c.query('discard temp');
    expect(await rows('select * from compat_t4')).toBe('42P01 relation "compat_t4" does not exist');
    expect(await rows('select * from compat_t3')).toBe('42P01 relation "compat_t3" does not exist');
    await c.end();
  });

  it('psycopg 3: a temp table made by one connection is invisible to another', () => {
    expect(psycopg('psycopg', 'temp_tables')).toEqual({ own: [[1]], other: '42P01', after_close: '42P01' });
  });

  strataOnly('temp schemas left by a killed node are dropped when it starts again', async () => {
    const n = await startNode();
    try {
      const c = new pg.Client(n.url);
      await c.connect();
      await c.query('create temp table compat_crash (x int)');
      await c.query('insert into compat_crash values (1)');
      const schema = (await c.query("select nspname from pg_namespace where nspname like 'pg_temp%'")).rows.map((r) => r.nspname);
      expect(schema.length).toBe(1);
      c.on('error', () => {});
      await n.kill();
      await n.start();
      const d = new pg.Client(n.url);
      await d.connect();
      expect((await d.query("select nspname from pg_namespace where nspname like 'pg_temp%'")).rows).toEqual([]);
      expect(await failure(d.query('select * from compat_crash'))).toMatchObject({ code: '42P01' });
      await d.end();
    } finally {
      await n.stop();
      n.cleanup();
    }
  });
});

describe('SQL cursors: DECLARE / FETCH / MOVE / CLOSE, WITH HOLD, pg_cursors', () => {
  it('node-postgres: every FETCH direction of a SCROLL cursor, as PostgreSQL answers', async () => {
    const c = await client();
    const f = async (sql: string) => {
      try {
        const r = await c.query(sql);
        return `${r.command} ${r.rowCount}: ${r.rows.map((x) => x.g).join(',')}`;
      } catch (e) {
        return `${(e as { code: string }).code}`;
      }
    };
    expect(await f('declare c cursor for select 1')).toBe('25P01');
    await c.query('begin');
    await c.query('declare c scroll cursor for select g from generate_series(1, 10) g');
    const script: [string, string][] = [
      ['fetch c', 'FETCH 1: 1'],
      ['fetch 3 from c', 'FETCH 3: 2,3,4'],
      ['fetch prior from c', 'FETCH 1: 3'],
      ['fetch backward 2 in c', 'FETCH 2: 2,1'],
      ['fetch absolute 8 from c', 'FETCH 1: 8'],
      ['fetch relative -2 from c', 'FETCH 1: 6'],
      ['fetch relative 0 from c', 'FETCH 1: 6'],
      ['fetch last from c', 'FETCH 1: 10'],
      ['fetch next from c', 'FETCH 0: '],
      ['fetch prior from c', 'FETCH 1: 10'],
      ['fetch first from c', 'FETCH 1: 1'],
      ['fetch absolute -3 from c', 'FETCH 1: 8'],
      ['fetch absolute 0 from c', 'FETCH 0: '],
      ['fetch absolute 20 from c', 'FETCH 0: '],
      ['fetch backward all from c', 'FETCH 10: 10,9,8,7,6,5,4,3,2,1'],
      ['move forward 4 in c', 'MOVE 4: '],
      ['fetch c', 'FETCH 1: 5'],
      ['move all in c', 'MOVE 5: '],
      ['fetch -1 from c', 'FETCH 1: 10'],
      ['declare c cursor for select 1', '42P03'],
    ];
    for (const [sql, want] of script) expect([sql, await f(sql)]).toEqual([sql, want]);
    await c.query('rollback');
    await c.query('begin');
    await c.query('declare d no scroll cursor for select g from generate_series(1, 5) g');
    expect(await f('fetch 2 from d')).toBe('FETCH 2: 1,2');
    expect(await f('fetch prior from d')).toBe('55000');
    await c.query('rollback');
    await c.end();
  });

  it('node-postgres: WITH HOLD outlives COMMIT (not ROLLBACK), CLOSE, pg_cursors, and a cursor ends with its transaction', async () => {
    const c = await client();
    const f = async (sql: string) => {
      try {
        const r = await c.query(sql);
        return `${r.command} ${r.rowCount}: ${r.rows.map((x) => x.g).join(',')}`;
      } catch (e) {
        return `${(e as { code: string }).code}`;
      }
    };
    await c.query('begin');
    await c.query('declare e cursor for select g, g * 2 as d from generate_series(1, 5) g');
    expect((await c.query('fetch 2 from e')).rows).toEqual([
      { g: 1, d: 2 },
      { g: 2, d: 4 },
    ]);
    expect((await c.query('select name, is_holdable, is_binary from pg_cursors')).rows).toEqual([{ name: 'e', is_holdable: false, is_binary: false }]);
    await c.query('commit');
    expect(await f('fetch e')).toBe('34000');
    await c.query('begin');
    await c.query('declare h cursor with hold for select g from generate_series(1, 6) g');
    expect(await f('fetch 2 from h')).toBe('FETCH 2: 1,2');
    await c.query('commit');
    expect(await f('fetch 2 from h')).toBe('FETCH 2: 3,4');
    expect(await f('fetch prior from h')).toBe('FETCH 1: 3');
    expect((await c.query('select name, is_holdable from pg_cursors')).rows).toEqual([{ name: 'h', is_holdable: true }]);
    await c.query('close h');
    expect(await f('close h')).toBe('34000');
    await c.query('declare h2 cursor with hold for select g from generate_series(1, 3) g'); // outside a block
    expect(await f('fetch all from h2')).toBe('FETCH 3: 1,2,3');
    await c.query('begin');
    await c.query('declare h3 cursor with hold for select 1 as g');
    await c.query('rollback');
    expect(await f('fetch h3')).toBe('34000');
    await c.query('close all');
    expect((await c.query('select count(*)::int as n from pg_cursors')).rows).toEqual([{ n: 0 }]);
    await c.end();
  });

  for (const driver of ['psycopg', 'psycopg2'] as const) {
    it(`${driver}: named (server-side) cursors: 25,000 rows in batches, scrollable, withhold`, () => {
      expect(psycopg(driver, 'named_cursors')).toEqual({ rows: 25000, sum: 312512500, first3: [1, 2, 3], after_back: 2, absolute: 8, hold_first: 1, hold_rest: [2, 3, 4, 5] });
    });
  }
});

describe('already handled by an earlier merge (checked again here)', () => {
  it('node-postgres: SQL EXECUTE sends a RowDescription (node-postgres names the fields)', async () => {
    const c = await client();
    await c.query('prepare compat_exec (int) as select $1 + 1 as x');
    const r = await c.query('execute compat_exec(41)');
    expect(r.fields.map((f) => f.name)).toEqual(['x']);
    expect(r.rows).toEqual([{ x: 42 }]);
    await c.query('deallocate compat_exec');
    await c.end();
  });

  strataOnly('nested arrays come back nested (multi-dimensional arrays), never flattened; other lower bounds are 0A000', async () => {
    const c = await client();
    expect((await c.query('select array[array[1,2],array[3,4]] as a')).rows[0].a).toEqual([[1, 2], [3, 4]]);
    expect((await c.query("select '{{1,2},{3,4}}'::int[] as a")).rows[0].a).toEqual([[1, 2], [3, 4]]);
    expect(await failure(c.query("select '[0:1]={1,2}'::int[] as a"))).toMatchObject({ code: '0A000' });
    await c.end();
  });
});

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
