/**
 * Real drivers against a real server process over TCP: node-postgres and postgres.js.
 */
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import { RawClient, dataRowFields, serialize } from '../../../qa/harness/rawpg.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
beforeAll(async () => {
  node = await startNode();
  const c = new pg.Client(node.url);
  await c.connect();
  await c.query(`create table items (
    id int primary key, name text not null, price numeric(10,2), qty int8, ratio float8,
    created timestamptz, day date, flag bool, data jsonb, uid uuid, raw bytea)`);
  await c.end();
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('node-postgres', () => {
  it('runs parameterized queries with every supported type round-tripping', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    const when = new Date('2016-01-01T05:59:50.123Z');
    await c.query('insert into items values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', [
      1, 'widget', '19.99', '9007199254740993', 0.1, when, '2020-02-29', true, JSON.stringify({ a: [1, 2], b: 'x' }), '123e4567-e89b-12d3-a456-426614174000', Buffer.from([0, 1, 255]),
    ]);
    const r = await c.query('select * from items where id = $1', [1]);
    expect(r.rows[0]).toEqual({
      id: 1,
      name: 'widget',
      price: '19.99',
      qty: '9007199254740993',
      ratio: 0.1,
      created: when,
      day: new Date('2020-02-29T00:00:00'),
      flag: true,
      data: { a: [1, 2], b: 'x' },
      uid: '123e4567-e89b-12d3-a456-426614174000',
      raw: Buffer.from([0, 1, 255]),
    });
    // Parameter type inference from context: $1 compared with an int column, used in arithmetic.
    const r2 = await c.query('select id + $1 as n, name || $2 as s from items where price > $3', [10, '!', 5]);
    expect(r2.rows).toEqual([{ n: 11, s: 'widget!' }]);
    await c.end();
  });

  it('reuses a named prepared statement', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    for (let i = 100; i < 110; i++) {
      await c.query({ name: 'ins_item', text: 'insert into items (id, name, qty) values ($1, $2, $3)', values: [i, `n${i}`, i * 2] });
    }
    const sums: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await c.query({ name: 'sum_qty', text: 'select sum(qty) as s from items where id >= $1', values: [100] });
      sums.push(Number(r.rows[0].s));
    }
    expect(sums).toEqual([2090, 2090, 2090]);
    await c.end();
  });

  it('returns binary results that decode to the right values (extended protocol, result format 1)', async () => {
    const c = await RawClient.connect(node.port);
    const sql =
      "select 1.5::float8 as f, 42::int8 as i, 7::int4 as n, timestamptz '2016-01-01 05:59:50.5+00' as ts, date '2020-02-29' as d, -12.345::numeric as num, 'hé'::text as t, true as b, $1::int4 as p";
    c.write(Buffer.concat([
      serialize.parse({ text: sql, types: [23] }),
      serialize.bind({ values: [Buffer.from([0, 0, 0, 5])], binary: true, valueMapper: (v: unknown) => v } as Parameters<typeof serialize.bind>[0]),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    ]));
    await c.untilReady();
    const row = c.frames.find((f) => f.type === 'D');
    expect(row).toBeDefined();
    const v = dataRowFields((row as { body: Buffer }).body) as Buffer[];
    const b = (i: number) => v[i] as Buffer;
    expect(b(0).readDoubleBE(0)).toBe(1.5);
    expect(b(1).readBigInt64BE(0)).toBe(42n);
    expect(b(2).readInt32BE(0)).toBe(7);
    // timestamps: microseconds since 2000-01-01
    expect(b(3).readBigInt64BE(0)).toBe(BigInt(Date.UTC(2016, 0, 1, 5, 59, 50, 500) - Date.UTC(2000, 0, 1)) * 1000n);
    expect(b(4).readInt32BE(0)).toBe((Date.UTC(2020, 1, 29) - Date.UTC(2000, 0, 1)) / 86_400_000);
    // numeric: ndigits, weight, sign, dscale, base-10000 digits: -12.345 → [12, 3450], weight 0
    expect([b(5).readUInt16BE(0), b(5).readInt16BE(2), b(5).readUInt16BE(4), b(5).readUInt16BE(6), b(5).readUInt16BE(8), b(5).readUInt16BE(10)]).toEqual([2, 0, 0x4000, 3, 12, 3450]);
    expect(b(6).toString('utf8')).toBe('hé');
    expect(b(7)[0]).toBe(1);
    expect(b(8).readInt32BE(0)).toBe(5);
    // RowDescription announced binary format for every column.
    const rd = c.frames.find((f) => f.type === 'T') as { body: Buffer };
    expect(rd.body.readInt16BE(0)).toBe(9);
    c.end();
  });

  it('commits and rolls back transactions, with savepoints', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    await c.query('begin');
    await c.query("insert into items (id, name) values (200, 'committed')");
    await c.query('savepoint s1');
    await c.query("insert into items (id, name) values (201, 'rolled back to savepoint')");
    await c.query('rollback to savepoint s1');
    await c.query('commit');
    await c.query('begin');
    await c.query("insert into items (id, name) values (202, 'rolled back')");
    await c.query('rollback');
    const r = await c.query('select id from items where id >= 200 order by id');
    expect(r.rows).toEqual([{ id: 200 }]);
    // An error inside a transaction block fails the block until ROLLBACK (25P02).
    await c.query('begin');
    await expect(c.query('select 1/0')).rejects.toMatchObject({ code: '22012' });
    await expect(c.query('select 1')).rejects.toMatchObject({ code: '25P02' });
    await c.query('rollback');
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    await c.end();
  });

  it('cancels a long-running query (CancelRequest) and the connection stays usable', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    const started = Date.now();
    const query = new pg.Query('select pg_sleep(30)');
    const done = new Promise((res, rej) => {
      query.on('end', res);
      query.on('error', rej);
    });
    c.query(query);
    await new Promise((r) => setTimeout(r, 300));
    const canceller = new pg.Client(node.url);
    // node-postgres sends a CancelRequest on a new connection with the backend key data.
    (canceller as unknown as { cancel(c: pg.Client, q: pg.Query): void }).cancel(c, query);
    await expect(done).rejects.toMatchObject({ code: '57014' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await c.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
    await c.end();
  });

  it('serves 50 concurrent connections', async () => {
    const pool = new pg.Pool({ connectionString: node.url, max: 50 });
    await pool.query('create table conc (k int primary key, v int)');
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const c = await pool.connect();
        try {
          await c.query('insert into conc values ($1, $2)', [i, i * i]);
          const r = await c.query('select v from conc where k = $1', [i]);
          expect(r.rows[0].v).toBe(i * i);
        } finally {
          c.release();
        }
      }),
    );
    const r = await pool.query('select count(*)::int as n, sum(v)::int as s from conc');
    expect(r.rows[0]).toEqual({ n: 50, s: Array.from({ length: 50 }, (_, i) => i * i).reduce((a, b) => a + b, 0) });
    await pool.end();
  });
});

describe('postgres.js', () => {
  it('runs parameterized and prepared queries', async () => {
    const sql = postgres(node.url, { max: 3, prepare: true });
    await sql`insert into items (id, name, price) values (${300}, ${'pjs'}, ${'3.50'})`;
    const rows = await sql`select id, name, price from items where id = ${300}`;
    expect(rows).toEqual([{ id: 300, name: 'pjs', price: '3.50' }]);
    for (let i = 0; i < 5; i++) {
      const r = await sql`select count(*)::int as n from items where id > ${i}`;
      expect(r[0]?.n).toBeGreaterThan(0);
    }
    await sql.end();
  });

  it('runs transactions with sql.begin and rolls back on error', async () => {
    const sql = postgres(node.url, { max: 2 });
    await sql.begin(async (tx) => {
      await tx`insert into items (id, name) values (${400}, ${'in tx'})`;
    });
    await expect(
      sql.begin(async (tx) => {
        await tx`insert into items (id, name) values (${401}, ${'never'})`;
        await tx`select 1/0`;
      }),
    ).rejects.toMatchObject({ code: '22012' });
    const r = await sql`select id from items where id in (400, 401) order by id`;
    expect(r.map((x) => x.id)).toEqual([400]);
    await sql.end();
  });

  it('cancels a query', async () => {
    const sql = postgres(node.url, { max: 1 });
    const q = sql`select pg_sleep(30)`;
    const p = q.execute();
    await new Promise((r) => setTimeout(r, 300));
    q.cancel();
    await expect(p).rejects.toMatchObject({ code: '57014' });
    expect((await sql`select 3 as three`)[0]).toEqual({ three: 3 });
    await sql.end();
  });
});
