/**
 * Defects the drivers' own test suites (npm run qa:drivers) found, each checked with the client
 * whose suite found it. The answers were recorded from PostgreSQL 15: run with
 * COMPAT_PG_URL=postgresql://postgres@127.0.0.1:PORT/postgres (a throwaway PostgreSQL 15 with
 * trust authentication) and the same assertions run against it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import postgres from 'postgres';
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

function urlFor(user: string, database: string): string {
  const u = new URL(url);
  u.username = user;
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string } | 'no error'> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code, message: err.message };
  }
}

describe('psycopg2: a transaction with DDL while another session ends', () => {
  it('creating a TEMP table right after the previous session (with its own TEMP table) closed commits', () => {
    const u = new URL(url);
    const dsn = `host=${u.hostname} port=${u.port} user=${decodeURIComponent(u.username)} dbname=${u.pathname.slice(1)}`;
    const r = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'drivers', 'temp_churn.py'), dsn, '12'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    // Before the fix every other round failed with 40001 (the closed session's temp schema was
    // dropped under the new transaction's catalog read).
    expect(r.stdout.trim().split('\n')).toEqual(Array(12).fill('ok'));
  });
});

describe('node-postgres: pg_cancel_backend and pg_terminate_backend', () => {
  it('terminates another session: its client gets FATAL 57P01 and the call returns true', async () => {
    const victim = new pg.Client({ connectionString: url });
    await victim.connect();
    const errors: { code?: string; message: string }[] = [];
    victim.on('error', (e: Error & { code?: string }) => errors.push({ code: e.code, message: e.message }));
    const pid = (await victim.query('select pg_backend_pid() as p')).rows[0].p as number;
    const done = new Promise<void>((r) => victim.once('end', () => r()));
    const ok = await admin(async (c) => (await c.query('select pg_terminate_backend($1) as t', [pid])).rows[0].t as boolean);
    expect(ok).toBe(true);
    await done;
    // node-postgres then reports the closed socket too ("Connection terminated unexpectedly").
    expect(errors[0]).toEqual({ code: '57P01', message: 'terminating connection due to administrator command' });
  });

  it('terminates a session in the middle of a statement', async () => {
    const victim = new pg.Client({ connectionString: url });
    await victim.connect();
    victim.on('error', () => undefined);
    const pid = (await victim.query('select pg_backend_pid() as p')).rows[0].p as number;
    const sleeping = failure(victim.query('select pg_sleep(30)'));
    await new Promise((r) => setTimeout(r, 200));
    await admin((c) => c.query('select pg_terminate_backend($1)', [pid]));
    expect(await sleeping).toEqual({ code: '57P01', message: 'terminating connection due to administrator command' });
  });

  it('cancels the running statement of another session and leaves it usable', async () => {
    const victim = new pg.Client({ connectionString: url });
    await victim.connect();
    try {
      const pid = (await victim.query('select pg_backend_pid() as p')).rows[0].p as number;
      const sleeping = failure(victim.query('select pg_sleep(30)'));
      await new Promise((r) => setTimeout(r, 200));
      const ok = await admin(async (c) => (await c.query('select pg_cancel_backend($1) as t', [pid])).rows[0].t as boolean);
      expect(ok).toBe(true);
      expect(await sleeping).toEqual({ code: '57014', message: 'canceling statement due to user request' });
      expect((await victim.query('select 1 as x')).rows).toEqual([{ x: 1 }]);
    } finally {
      await victim.end();
    }
  });

  it('answers false for a pid that is no backend, and checks the timeout first', async () => {
    await admin(async (c) => {
      expect((await c.query('select pg_cancel_backend(99999) as a, pg_terminate_backend(99999) as b')).rows).toEqual([{ a: false, b: false }]);
      expect(await failure(c.query('select pg_terminate_backend(99999, -1)'))).toEqual({ code: '22003', message: '"timeout" must not be negative' });
    });
  });

  it('refuses a non-superuser signalling a superuser', async () => {
    await admin(async (c) => {
      await c.query('drop user if exists sig_user');
      await c.query('create user sig_user');
    });
    const su = new pg.Client({ connectionString: url });
    await su.connect();
    const plain = new pg.Client({ connectionString: urlFor('sig_user', new URL(url).pathname.slice(1)) });
    await plain.connect();
    try {
      const pid = (await su.query('select pg_backend_pid() as p')).rows[0].p as number;
      expect(await failure(plain.query('select pg_terminate_backend($1)', [pid]))).toEqual({ code: '42501', message: 'must be a superuser to terminate superuser process' });
      expect(await failure(plain.query('select pg_cancel_backend($1)', [pid]))).toEqual({ code: '42501', message: 'must be a superuser to cancel superuser query' });
    } finally {
      await plain.end().catch(() => undefined);
      await su.end();
    }
  });
});

describe("postgres.js: the public schema of a database belongs to the database's owner", () => {
  it('the owner creates tables in public; another user may not', async () => {
    await admin(async (c) => {
      await c.query('drop database if exists owned_db');
      await c.query('drop user if exists db_owner');
      await c.query('drop user if exists db_other');
      await c.query('create user db_owner');
      await c.query('create user db_other');
      await c.query('create database owned_db');
      await c.query('alter database owned_db owner to db_owner');
    });
    const u = new URL(url);
    const opts = { host: u.hostname, port: Number(u.port), database: 'owned_db', max: 1 };
    const owner = postgres({ ...opts, user: 'db_owner' });
    const other = postgres({ ...opts, user: 'db_other' });
    try {
      await owner`create table owned_t (a int)`;
      await owner`insert into owned_t values (1)`;
      expect([...(await owner`select a from owned_t`)]).toEqual([{ a: 1 }]);
      const e = await failure(other`create table other_t (a int)`);
      expect(e).toEqual({ code: '42501', message: 'permission denied for schema public' });
    } finally {
      await owner.end();
      await other.end();
    }
  });
});

describe('postgres.js: pg_prepared_statements', () => {
  it("lists the driver's named statements and SQL PREPAREd ones", async () => {
    const u = new URL(url);
    const sql = postgres({ host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), database: u.pathname.slice(1), max: 1, fetch_types: false });
    try {
      const mine = await sql`select name, statement, parameter_types::text as pt, from_sql, prepare_time is not null as timed from pg_prepared_statements where statement like ${'%from pg_prepared_statements where%'}`;
      expect(mine.length).toBe(1);
      expect(mine[0]).toMatchObject({ pt: '{text}', from_sql: false, timed: true });
      expect(mine[0]?.name).toMatch(/^[a-z0-9]+$/);
      await sql.unsafe('prepare pps_foo(int, text) as select $1, $2');
      expect([...(await sql`select name, parameter_types::text as pt, from_sql from pg_prepared_statements where from_sql`)]).toEqual([{ name: 'pps_foo', pt: '{integer,text}', from_sql: true }]);
      await sql.unsafe('deallocate pps_foo');
      expect([...(await sql`select name from pg_prepared_statements where from_sql`)]).toEqual([]);
    } finally {
      await sql.end();
    }
  });
});

describe('node-postgres: a named statement parsed in a failed transaction block (its gh-issues/600 test)', () => {
  it('the Parse fails with 25P02 and the statement is parsed again after the block', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('create temp table bar600 (column1 text, column2 text)');
      await c.query('begin');
      expect(await failure(c.query('select 1/0'))).toMatchObject({ code: '22012' });
      const insert = { name: 'insertBar', text: 'insert into bar600 values ($1, $2)', values: ['one', 'two'] };
      expect(await failure(c.query(insert))).toEqual({ code: '25P02', message: 'current transaction is aborted, commands ignored until end of transaction block' });
      await c.query('commit');
      expect((await c.query(insert)).rowCount).toBe(1);
      expect((await c.query('select count(*)::int as n from bar600')).rows).toEqual([{ n: 1 }]);
    } finally {
      await c.end();
    }
  });
});

function libpqDsn(): string {
  const u = new URL(url);
  return `host=${u.hostname} port=${u.port} user=${decodeURIComponent(u.username)} dbname=${u.pathname.slice(1)}`;
}

describe('large objects', () => {
  it("psycopg2's lobject (libpq's lo_* calls: FunctionCall messages) answers as PostgreSQL 15 (drivers/lobject.expected)", () => {
    const r = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'drivers', 'lobject.py'), libpqDsn()], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(join(import.meta.dirname, 'drivers', 'lobject.expected'), 'utf8'));
  });

  it("postgres.js' largeObject streams a file in and out (its suite's test)", async () => {
    const u = new URL(url);
    const sql = postgres({ host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), database: u.pathname.slice(1), max: 1 });
    try {
      const data = Buffer.alloc(50_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
      const lo = await sql.largeObject();
      await new Promise<void>((resolve, reject) => {
        void lo.writable().then((w) => {
          w.on('finish', () => resolve());
          w.on('error', reject);
          w.end(data);
        });
      });
      await lo.seek(0);
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve) => void lo.readable().then((rd) => rd.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve())));
      await lo.close();
      const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
      expect(md5(Buffer.concat(chunks))).toBe(md5(data));
    } finally {
      await sql.end();
    }
  });

  it('the SQL functions: lo_from_bytea, lo_get, lo_put, lo_unlink, and their errors', async () => {
    await admin(async (c) => {
      await c.query('begin');
      const oid = (await c.query("select lo_from_bytea(0, '\\x0102030405'::bytea) as o")).rows[0].o as number;
      await c.query('select lo_put($1, 7, $2::bytea)', [oid, Buffer.from([9])]);
      expect((await c.query('select lo_get($1) as b, lo_get($1, 1, 3) as part', [oid])).rows[0]).toEqual({ b: Buffer.from([1, 2, 3, 4, 5, 0, 0, 9]), part: Buffer.from([2, 3, 4]) });
      expect((await c.query('select lo_unlink($1) as n', [oid])).rows).toEqual([{ n: 1 }]);
      await c.query('commit');
      expect(await failure(c.query('select lo_get($1)', [oid]))).toEqual({ code: '42704', message: `large object ${oid} does not exist` });
      expect(await failure(c.query('select loread(0, 10)'))).toEqual({ code: '42704', message: 'invalid large-object descriptor: 0' });
    });
  });
});

describe('psycopg2: error diagnostics of constraint violations (its test_9_3_diagnostics)', () => {
  it('schema, table, column, constraint and detail fields as PostgreSQL 15 sends them (drivers/diagnostics.expected)', () => {
    const r = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'drivers', 'diagnostics.py'), libpqDsn()], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(readFileSync(join(import.meta.dirname, 'drivers', 'diagnostics.expected'), 'utf8'));
  });
});

describe('cursors declared without SCROLL (psycopg2: test_not_scrollable)', () => {
  it('move backward where PostgreSQL 15 makes them scrollable, refused where it does not (cursors/backward.sql through psql)', () => {
    const out = spawnSync('sh', ['-c', `psql -X -a "${url}" -f - 2>&1`], { input: readFileSync(join(import.meta.dirname, 'cursors', 'backward.sql'), 'utf8'), encoding: 'utf8', timeout: 60_000 }).stdout;
    expect(out).toBe(readFileSync(join(import.meta.dirname, 'cursors', 'backward.out'), 'utf8'));
  });

  it("psycopg2's named cursor with default scrollability scrolls back", () => {
    const py = `
import psycopg2, sys
c = psycopg2.connect(sys.argv[1])
cur = c.cursor()
cur.execute("create temp table scrollable (data int)")
cur.executemany("insert into scrollable values (%s)", [(i,) for i in range(100)])
s = c.cursor("S")
s.execute("select * from scrollable")
s.scroll(2)
s.scroll(-1)
print(s.fetchone())
n = c.cursor("N", scrollable=False)
n.execute("select * from scrollable")
n.scroll(2)
try:
    n.scroll(-1)
except psycopg2.OperationalError as e:
    print(e.pgcode)
`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, libpqDsn()], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('(1,)\n55000\n');
  });
});

describe('node-postgres: pg_stat_activity lists the sessions (its pool error tests find sessions by state)', () => {
  it('shows other sessions idle, idle in transaction, and itself active with its query', async () => {
    const other = new pg.Client({ connectionString: url, application_name: 'psa_other' });
    const inTxn = new pg.Client({ connectionString: url, application_name: 'psa_txn' });
    await other.connect();
    await inTxn.connect();
    try {
      await other.query('select 42 as psa');
      await inTxn.query('begin');
      await inTxn.query('select 43 as psa');
      const rows = await admin(async (c) => (await c.query("select application_name, state, query from pg_stat_activity where application_name like 'psa%' or query like '%from pg_stat_activity%' order by application_name")).rows);
      expect(rows).toEqual([
        { application_name: '', state: 'active', query: "select application_name, state, query from pg_stat_activity where application_name like 'psa%' or query like '%from pg_stat_activity%' order by application_name" },
        { application_name: 'psa_other', state: 'idle', query: 'select 42 as psa' },
        { application_name: 'psa_txn', state: 'idle in transaction', query: 'select 43 as psa' },
      ]);
      const pids = await admin(async (c) => (await c.query("select count(*)::int as n from pg_stat_activity where pid = $1 and application_name = 'psa_other'", [(await other.query('select pg_backend_pid() as p')).rows[0].p])).rows);
      expect(pids).toEqual([{ n: 1 }]);
    } finally {
      await other.end();
      await inTxn.end();
    }
  });

  it('a session that terminates itself gets FATAL 57P01 for that query, and a pipelined one finds the connection gone', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    c.on('error', () => undefined);
    const first = failure(c.query('select pg_terminate_backend(pg_backend_pid())'));
    const second = failure(c.query('select 1'));
    expect(await first).toEqual({ code: '57P01', message: 'terminating connection due to administrator command' });
    expect(await second).toEqual({ code: undefined, message: 'Connection terminated unexpectedly' });
  });
});

describe('psycopg2: an array stored into an array column of another element type (its testEmptyArrayRegression)', () => {
  it('a date[] into a timestamp[] column is converted element by element (it was stored as days, read back as microseconds)', () => {
    const py = `
import datetime, psycopg2, sys
c = psycopg2.connect(sys.argv[1])
cur = c.cursor()
cur.execute("create temp table array_test (id integer, col timestamp without time zone[])")
cur.execute("insert into array_test values (%s, %s)", (1, [datetime.date(2011, 2, 14)]))
cur.execute("select col from array_test where id = 1")
print(cur.fetchone()[0])
`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, libpqDsn()], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('[datetime.datetime(2011, 2, 14, 0, 0)]\n');
  });

  it('element types and typmods through INSERT and UPDATE as PostgreSQL 15 (arrays/assign_cast.sql through psql)', () => {
    const out = spawnSync('sh', ['-c', `psql -X -a "${url}" -f - 2>&1`], { input: readFileSync(join(import.meta.dirname, 'arrays', 'assign_cast.sql'), 'utf8'), encoding: 'utf8', timeout: 60_000 }).stdout;
    expect(out).toBe(readFileSync(join(import.meta.dirname, 'arrays', 'assign_cast.out'), 'utf8'));
  });
});

describe("psycopg 3: executemany of a COPY with parameters (its test_executemany_badquery)", () => {
  it('fails at Parse with 42P18 for the parameter of unspecified type (it hung)', () => {
    const r = spawnSync('/usr/bin/python3', [join(import.meta.dirname, 'drivers', 'copy_params.py'), libpqDsn()], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('IndeterminateDatatype 42P18 could not determine data type of parameter $2\n');
  });
});

describe("psycopg 3: server-side cursors (its test_server_cursor.py)", () => {
  it('a named cursor binds its parameters to the DECLAREd query, and a cast set-returning function yields rows', () => {
    const py = `
import psycopg, sys
with psycopg.connect(sys.argv[1]) as conn:
    with conn.cursor("foo") as cur:
        cur.execute("select generate_series(1, %s) as bar", (3,))
        print(cur.fetchone(), cur.fetchmany(5))
    with conn.cursor("foo2") as cur:
        cur.execute("select generate_series(1, %s)::int4 as bar, %s::text as t", (2, "x"))
        print(cur.fetchall(), [d.name for d in cur.description])
    cur = conn.execute("select generate_series(1, 2)::int4")
    print(cur.fetchall(), [d.name for d in cur.description])
`;
    const u = new URL(url);
    const r = spawnSync('/usr/bin/python3', ['-c', py, `host=${u.hostname} port=${u.port} user=${decodeURIComponent(u.username)} dbname=${u.pathname.slice(1)}`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("(1,) [(2,), (3,)]\n[(1, 'x'), (2, 'x')] ['bar', 't']\n[(1,), (2,)] ['generate_series']\n");
  });
});

describe('psycopg 3: values its adapters send (its tests/types)', () => {
  it('negated negative literals (sql.Literal quotes -1 as " -1") and json parameters in binary format (they were XX000)', () => {
    const py = `
import psycopg, sys
from psycopg import sql
from psycopg.types.json import Json
with psycopg.connect(sys.argv[1]) as conn:
    for v in (-1, -(2**63), -(2**100)):
        print(conn.execute(sql.SQL("select {v}, -{v}").format(v=sql.Literal(v))).fetchone())
    print(conn.execute("select %b->>'baz' = 'qux', %b::text", (Json({"baz": "qux"}), Json({"a": 1}))).fetchone())
    print(conn.cursor(binary=True).execute("select %b::json", (Json([1, 2]),)).fetchone())
`;
    const u = new URL(url);
    const r = spawnSync('/usr/bin/python3', ['-c', py, `host=${u.hostname} port=${u.port} user=${decodeURIComponent(u.username)} dbname=${u.pathname.slice(1)}`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      "(-1, 1)\n(-9223372036854775808, Decimal('9223372036854775808'))\n(Decimal('-1267650600228229401496703205376'), Decimal('1267650600228229401496703205376'))\n(True, '{\"a\": 1}')\n([1, 2],)\n",
    );
  });
});
