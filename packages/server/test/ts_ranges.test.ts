/**
 * A time-series table split into hash-point ranges at CREATE TABLE (ts.ranges_per_table) on one
 * node: every statement gives the same answer as on the same data in an unsplit table — writes
 * divided by range, scans range after range (300,000 rows: each range's scan takes two pages,
 * the second asked for ahead), DELETE, tag UPDATE, ALTER
 * TABLE, retention's and COMPRESS's commands sent to each range, DROP — and after a restart
 * (the new ranges come back from their descriptors and logs).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
let c: pg.Client;

const load = (t: string) =>
  c.query(
    `insert into ${t} select '2026-03-01'::timestamptz + (g % 1000) * interval '1 minute' + (g / 1000) * interval '1 millisecond', g % 97, (g * 31) % 1000 / 10.0, 'h' || (g / 1000)::text, 'r' || ((g / 1000) % 3)::text from generate_series(0, 299999) g`,
  );

const create = (t: string) =>
  c.query(
    `create table ${t} (ts timestamptz not null, v int4, u float8) tags (host varchar(16) not null, region varchar(8)) primary tags (host)`,
  );

beforeAll(async () => {
  node = await startNode();
  c = new pg.Client(node.url);
  await c.connect();
  await c.query('create ts database q');
  await c.query('use q');
  await c.query('set cluster setting ts.ranges_per_table = 4');
  await create('split');
  await c.query('reset cluster setting ts.ranges_per_table');
  await create('whole');
  await load('split');
  await load('whole');
});

afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

const queries = [
  'select count(*), sum(v), min(ts), max(ts), avg(u) from T',
  'select host, count(*), sum(v), max(u) from T group by host order by host',
  'select region, count(*) from T group by region order by region',
  "select ts, v, u, host, region from T where host in ('h3', 'h250', 'h299') order by host, ts",
  "select time_bucket(ts, '1h') as b, count(*), sum(v) from T group by b order by b",
  'select * from T order by host, ts limit 5 offset 250000',
  'select last(v), first(v) from T',
];

async function same(): Promise<void> {
  for (const q of queries) {
    const a = await c.query(q.replace('T', 'split'));
    const b = await c.query(q.replace('T', 'whole'));
    expect(a.rows, q).toEqual(b.rows);
  }
}

describe('a time-series table split into hash-point ranges', () => {
  it('is split at CREATE TABLE: its ranges cover its hash points and hold its devices', async () => {
    const r = await c.query('show ranges from table split');
    expect(r.rows.map((x: { start_key: string; end_key: string }) => [x.start_key, x.end_key])).toEqual([
      [expect.stringMatching(/^\/TS\/\d+\/0$/), expect.stringMatching(/\/500$/)],
      [expect.stringMatching(/\/500$/), expect.stringMatching(/\/1000$/)],
      [expect.stringMatching(/\/1000$/), expect.stringMatching(/\/1500$/)],
      [expect.stringMatching(/\/1500$/), expect.stringMatching(/^\/TS\/\d+\/0$/)],
    ]);
    expect(r.rows.every((x: { range_type: string }) => x.range_type === 'ts')).toBe(true);
    const whole = await c.query('show ranges from table whole');
    expect(whole.rows.map((x: { range_id: string }) => Number(x.range_id))).toEqual([1]);
  });

  it('answers every query as the unsplit table does', async () => {
    expect((await c.query('select count(*) from split')).rows[0].count).toBe('300000');
    await same();
  });

  it('divides DELETE, tag UPDATE, ALTER TABLE and more writes over its ranges alike', async () => {
    for (const t of ['split', 'whole']) {
      await c.query(`delete from ${t} where host = 'h7'`);
      await c.query(`delete from ${t} where ts < '2026-03-01 02:00:00+00'`);
      await c.query(`update ${t} set region = 'moved' where host = 'h11'`);
      await c.query(`alter table ${t} add column w int8`);
      await c.query(
        `insert into ${t} (ts, v, u, host, region, w) values ('2026-04-01 00:00:00+00', 1, 2.5, 'h1', 'r1', 77), ('2026-04-01 00:00:01+00', 3, 4.5, 'h400', 'r9', 78)`,
      );
    }
    await same();
    const w = 'select host, w from T where w is not null order by host';
    expect((await c.query(w.replace('T', 'split'))).rows).toEqual(
      (await c.query(w.replace('T', 'whole'))).rows,
    );
  });

  it('comes back whole after a restart', async () => {
    await c.end();
    await node.restart();
    c = new pg.Client(node.url);
    await c.connect();
    await c.query('use q');
    expect((await c.query('show ranges from table split')).rows).toHaveLength(4);
    await same();
    await c.query('insert into split (ts, v, u, host) values (now(), 5, 0.5, $1)', ['after-restart']);
    expect((await c.query("select count(*) from split where host = 'after-restart'")).rows[0].count).toBe(
      '1',
    );
  });

  it('refuses a split beyond 64 ranges, and DROP TABLE removes its data and its ranges', async () => {
    await expect(c.query('set cluster setting ts.ranges_per_table = 65')).rejects.toMatchObject({
      code: '22023',
    });
    const rangeIds = async () => (await c.query('show ranges')).rows.map((x: { range_id: string }) => Number(x.range_id));
    const tableId = Number((await c.query("select 'split'::regclass::oid as id")).rows[0].id);
    const groups = () => (existsSync(join(node.dir, 'ts', `t${tableId}`)) ? readdirSync(join(node.dir, 'ts', `t${tableId}`)).filter((d) => /^r\d+$/.test(d)) : []);
    const before = await rangeIds();
    expect(before).toHaveLength(5);
    expect(groups()).toHaveLength(4);
    await c.query('drop table split');
    // Its four ranges are gone (replicas, data, entity groups); the first range stays.
    expect(await rangeIds()).toEqual([1]);
    expect(groups()).toEqual([]);
    await create('split');
    expect((await c.query('select count(*) from split')).rows[0].count).toBe('0');
    await c.end();
    await node.restart();
    c = new pg.Client(node.url);
    await c.connect();
    await c.query('use q');
    expect(await rangeIds()).toEqual([1]);
    expect((await c.query('select count(*) from split')).rows[0].count).toBe('0');
    expect((await c.query('select count(*) from whole')).rows[0].count).toBe('263122');
  });
});
