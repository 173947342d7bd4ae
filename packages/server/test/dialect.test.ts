/**
 * Strata's dialect beyond what the PostgreSQL-recorded corpus can cover (CockroachDB/KWDB
 * statements PostgreSQL does not have), and session/catalog behaviour.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
let c: pg.Client;
beforeAll(async () => {
  node = await startNode();
  c = new pg.Client(node.url);
  await c.connect();
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

describe('dialect', () => {
  it('UPSERT inserts or overwrites by primary key', async () => {
    await c.query('create table kv (k int primary key, v text, n int default 0)');
    await c.query("upsert into kv (k, v) values (1, 'a'), (2, 'b')");
    await c.query("upsert into kv (k, v) values (1, 'a2')");
    expect((await c.query('select k, v, n from kv order by k')).rows).toEqual([{ k: 1, v: 'a2', n: 0 }, { k: 2, v: 'b', n: 0 }]);
  });

  it("time_bucket in KWDB's and TimescaleDB's argument orders", async () => {
    const r = await c.query(`select
      time_bucket('2026-01-01 10:17:35+00'::timestamptz, '10m')::text as k1,
      time_bucket('2026-01-01 10:17:35+00'::timestamptz, '1h')::text as k2,
      time_bucket('2026-01-01 10:17:35+00'::timestamptz, '15 minutes')::text as k3,
      time_bucket('5 minutes', '2026-01-01 10:17:35+00'::timestamptz)::text as t1,
      time_bucket(interval '1 week', '2026-01-01 10:17:35+00'::timestamptz)::text as t2`);
    expect(r.rows[0]).toEqual({
      k1: '2026-01-01 10:10:00+00',
      k2: '2026-01-01 10:00:00+00',
      k3: '2026-01-01 10:15:00+00',
      t1: '2026-01-01 10:15:00+00',
      t2: '2025-12-29 00:00:00+00', // a Monday: TimescaleDB's origin 2000-01-03
    });
    await expect(c.query("select time_bucket(now(), '0s')")).rejects.toMatchObject({ code: '22023' });
    await expect(c.query("select time_bucket(interval '1 month', now())")).rejects.toMatchObject({ code: '0A000' });
  });

  it('DISTINCT ON may order by columns outside the select list (plain DISTINCT may not)', async () => {
    const r = await c.query('select distinct on (a) a, b from (values (1, 1, 3), (1, 2, 1), (2, 5, 0)) v(a, b, c) order by a, c desc');
    expect(r.rows).toEqual([{ a: 1, b: 1 }, { a: 2, b: 5 }]);
    const r2 = await c.query('select distinct on (a) b from (values (1, 1, 3), (1, 2, 1), (2, 5, 0)) v(a, b, c) order by a, c desc');
    expect(r2.rows).toEqual([{ b: 1 }, { b: 5 }]); // the DISTINCT ON key need not be selected
    await expect(c.query('select distinct a from (values (1, 2)) v(a, c) order by c')).rejects.toMatchObject({ code: '42P10' });
  });

  it('integer sum/avg stay exact past 2^53 (double fast path, then BigInt)', async () => {
    const r = await c.query(`select sum(x)::text as s, avg(x)::text as a from (values (4503599627370495::int8), (4503599627370495::int8), (-3::int8), (9223372036854775807::int8)) v(x)`);
    expect(r.rows[0]).toEqual({ s: '9232379236109516794', a: '2308094809027379199' }); // as PostgreSQL 15 prints them
    const r2 = await c.query('select sum(x)::text as s, avg(x)::text as a from (values (2147483647), (2147483647), (-1)) v(x)');
    expect(r2.rows[0]).toEqual({ s: '4294967293', a: '1431655764.33333333' });
  });

  it('tables without a primary key get a hidden rowid', async () => {
    await c.query('create table nopk (a int)');
    await c.query('insert into nopk values (1), (1), (2)');
    expect((await c.query('select * from nopk order by a')).rows).toEqual([{ a: 1 }, { a: 1 }, { a: 2 }]);
    const r = await c.query('select count(distinct rowid)::int as n from nopk');
    expect(r.rows[0].n).toBe(3);
  });

  it('SET / SHOW / RESET session variables', async () => {
    await c.query("set application_name = 'dialect-test'");
    expect((await c.query('show application_name')).rows[0].application_name).toBe('dialect-test');
    await c.query('reset application_name');
    expect((await c.query('show application_name')).rows[0].application_name).toBe('');
    await c.query("set time zone 'Asia/Tokyo'");
    expect((await c.query("select '2016-01-01 00:00:00+00'::timestamptz::text as t")).rows[0].t).toBe('2016-01-01 09:00:00+09');
    await c.query('reset timezone');
    await expect(c.query("set time zone 'Mars/Olympus'")).rejects.toMatchObject({ code: '22023' });
  });

  it('version(), current_database(), current_user and information_schema', async () => {
    const r = await c.query('select version() as v, current_database() as d, current_user as u');
    expect(r.rows[0].v).toMatch(/^PostgreSQL 15\.\d+ \(Strata/);
    expect(r.rows[0].d).toBe('defaultdb');
    expect(r.rows[0].u).toBe('root');
    await c.query('create table info_t (id int primary key, label varchar(20) not null)');
    const cols = await c.query("select column_name, data_type, is_nullable, character_maximum_length from information_schema.columns where table_name = 'info_t' order by ordinal_position");
    expect(cols.rows).toEqual([
      { column_name: 'id', data_type: 'integer', is_nullable: 'NO', character_maximum_length: null },
      { column_name: 'label', data_type: 'character varying', is_nullable: 'NO', character_maximum_length: 20 },
    ]);
    const t = await c.query("select table_schema, table_type from information_schema.tables where table_name = 'info_t'");
    expect(t.rows).toEqual([{ table_schema: 'public', table_type: 'BASE TABLE' }]);
  });

  it('views and sequences', async () => {
    await c.query('create sequence s start with 10 increment by 5');
    expect((await c.query("select nextval('s') as a, nextval('s') as b, currval('s') as c")).rows[0]).toEqual({ a: '10', b: '15', c: '15' });
    await c.query('create view big_kv as select k, v from kv where k > 1');
    expect((await c.query('select * from big_kv')).rows).toEqual([{ k: 2, v: 'b' }]);
    await expect(c.query('insert into big_kv values (3, 4)')).rejects.toMatchObject({ code: '42809' });
  });

  it('DDL inside a transaction is atomic with the data', async () => {
    await c.query('begin');
    await c.query('create table txn_ddl (id int primary key)');
    await c.query('insert into txn_ddl values (1)');
    expect((await c.query('select count(*)::int as n from txn_ddl')).rows[0].n).toBe(1);
    await c.query('rollback');
    await expect(c.query('select * from txn_ddl')).rejects.toMatchObject({ code: '42P01' });
  });

  it('statement_timeout cancels long statements with 57014', async () => {
    await c.query("set statement_timeout = '200ms'");
    await expect(c.query('select pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
    await c.query('set statement_timeout = 0');
  });
});
