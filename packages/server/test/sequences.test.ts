/**
 * Sequences hand out values from blocks the node reserves from the sequence's replicated counter
 * (sql/src/sequences.ts). On one node the values are exactly PostgreSQL's (no other node holds a
 * block); after a crash counting resumes past every value handed out; setval takes effect in its
 * transaction and after it. Recorded against PostgreSQL 15 where PostgreSQL answers the same.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import postgres from 'postgres';
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
  await c.end().catch(() => {});
  await node.stop();
  node.cleanup();
});

const ints = (rows: Record<string, unknown>[], col: string) => rows.map((r) => Number(r[col]));

describe('sequences', () => {
  it('numbers 20,000 inserted rows 1…20000 and a fresh sequence starts at its START', async () => {
    await c.query('create table s1 (id serial primary key, v int)');
    await c.query('insert into s1 (v) select g from generate_series(1, 20000) g');
    const r = await c.query('select min(id) as lo, max(id) as hi, count(distinct id) as n from s1');
    expect(r.rows[0]).toEqual({ lo: 1, hi: 20000, n: '20000' });
    await c.query('create sequence q start 100 increment 5');
    expect(ints((await c.query(`select nextval('q') as v union all select nextval('q')`)).rows, 'v')).toEqual([100, 105]);
    await c.query('create sequence down start -1 increment -1');
    expect(ints((await c.query(`select nextval('down') as v from generate_series(1, 3)`)).rows, 'v')).toEqual([-1, -2, -3]);
  });

  it('gives values to VALUES rows, UPDATE SET and COPY, each once', async () => {
    await c.query('create table s2 (id bigserial primary key, k int)');
    await c.query('insert into s2 (k) values (1), (2), (3)');
    await c.query(`update s2 set k = nextval('s2_id_seq') where k < 3`);
    // COPY (postgres.js) fills the serial column from the same sequence.
    const sql = postgres(node.url, { max: 1 });
    await pipeline(Readable.from(['7\n8\n']), await sql`copy s2 (k) from stdin`.writable());
    await sql.end();
    const ids = ints((await c.query('select id from s2 order by id')).rows, 'id');
    const ks = ints((await c.query('select k from s2 where k > 3 order by k')).rows, 'k');
    expect(ids).toEqual([1, 2, 3, 6, 7]);
    expect(ks).toEqual([4, 5, 7, 8]);
  });

  it('setval: nextval continues from it in its transaction and after the commit', async () => {
    await c.query('create sequence q2');
    await c.query(`select nextval('q2')`);
    await c.query('begin');
    expect((await c.query(`select setval('q2', 500) as v`)).rows[0].v).toBe('500');
    expect((await c.query(`select nextval('q2') as v`)).rows[0].v).toBe('501');
    await c.query('commit');
    expect((await c.query(`select nextval('q2') as v`)).rows[0].v).toBe('502');
    expect((await c.query(`select last_value from q2`)).rows[0].last_value).toBe('502');
  });

  it('after a crash counting resumes past every value handed out', async () => {
    await c.query('create table s3 (id serial primary key)');
    await c.query('insert into s3 select from generate_series(1, 50)');
    await c.end();
    await node.kill();
    await node.restart();
    c = new pg.Client(node.url);
    await c.connect();
    await c.query('insert into s3 default values');
    const r = await c.query('select max(id) as hi, count(*) as n from s3');
    expect(r.rows[0].n).toBe('51');
    expect(r.rows[0].hi).toBeGreaterThan(50);
  });
});
