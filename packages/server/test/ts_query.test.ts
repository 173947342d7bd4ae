/**
 * The column-at-a-time aggregation over time-series scans (exec/ts_aggregate.ts): the plans that
 * take it, and answers equal to the row-at-a-time plan's — also with NULLs, every aggregate and
 * integer type, int8 values beyond ±2^53 (where it hands over), and filters the scan answers
 * exactly (so no filter runs above it) or not (then it is not used).
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
  await c.query('create ts database q');
  await c.query('use q');
  await c.query(`create table m (ts timestamptz not null, a int2, b int4, d int8, f float8, r float4) tags (dev int4 not null, site varchar(8)) primary tags (dev)`);
  await c.query(`insert into m select '2026-03-01'::timestamptz + g * interval '7 seconds', (g % 100)::int2, case when g % 13 = 0 then null else g * 3 end, g::int8 * 1000003, g * 0.37, (g % 17)::float4 / 4, g % 5, 's' || (g % 2)::text from generate_series(0, 4999) g`);
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

const rows = async (q: string) => (await c.query({ text: q, rowMode: 'array' })).rows;
const plan = async (q: string) => (await rows(`explain ${q}`)).flat().join('\n');

describe('columnar aggregation on TS scans', () => {
  const aggs = 'count(*), count(b), sum(a), sum(b), sum(d), avg(a), avg(b), avg(d), avg(f), sum(f), min(b), max(d), min(f), max(r), avg(r)';
  // The same aggregates over `x + 0` are expressions, not columns: the row-at-a-time plan.
  const slow = aggs.replace(/\(([abdfr])\)/g, '($1 + 0)');

  it('GROUP BY time_bucket and tags with every supported aggregate: the same rows as the row-at-a-time plan', async () => {
    for (const [select, where, group] of [
      ["time_bucket(ts, '10m') as k, dev", '', 'k, dev'],
      ["dev, time_bucket('1 hour', ts) as k", "where ts >= '2026-03-01 01:00:00+00' and ts < '2026-03-01 05:30:00+00'", 'dev, k'],
      ['site', "where dev in (1, 3) and site = 's1'", 'site'],
      ["time_bucket(ts, '1d') as k", 'where dev = 2', 'k'],
    ] as const) {
      const q = `select ${select}, ${aggs} from m ${where} group by ${group} order by 1, 2`;
      expect(await plan(q), q).toMatch(/columnar/);
      expect(await plan(q), q).not.toMatch(/(•|──) filter/); // the scan answers the WHERE exactly
      const fast = await rows(q);
      expect(fast.length, q).toBeGreaterThan(0);
      expect(fast, q).toEqual(await rows(q.replace(aggs, slow)));
    }
  });

  it('scalar aggregates, empty ranges and HAVING', async () => {
    expect(await rows(`select ${aggs} from m`)).toEqual(await rows(`select ${slow} from m`));
    expect(await rows(`select count(*), sum(d), max(f) from m where ts > '2030-01-01'`)).toEqual([['0', null, null]]);
    expect(await rows(`select dev, sum(b) from m group by dev having sum(b) > 7500000 order by dev`)).toEqual(await rows(`select dev, sum(b + 0) from m group by dev having sum(b + 0) > 7500000 order by dev`));
  });

  it('hands over to the exact plan when int8 sums leave ±2^53; residual filters keep the row plan', async () => {
    await c.query(`insert into m values ('2026-03-02', 1, 1, 9007199254740000, 0, 0, 9, 's9'), ('2026-03-02 00:00:01', 1, 1, 9007199254740000, 0, 0, 9, 's9'), ('2026-03-02 00:00:02', 1, 1, -3, 0, 0, 9, 's9')`);
    const big = 'select sum(d), avg(d), max(d) from m where dev = 9';
    expect(await plan(big)).toMatch(/columnar/);
    expect((await rows(big))[0]?.[0]).toBe('18014398509479997'); // exact: as doubles it would be ...996 or ...8000
    expect(await rows(big)).toEqual(await rows('select sum(d + 0), avg(d + 0), max(d + 0) from m where dev = 9'));
    const q = 'select dev, max(f) from m where f > 100 group by dev order by dev';
    expect(await plan(q)).not.toMatch(/columnar/);
    expect(await rows(q)).toEqual(await rows('select dev, max(f + 0) from m where f > 100 group by dev order by dev'));
  });
});

describe('blocks skipped by their header min/max', () => {
  it('gives the same rows as the unpruned filter, also with duplicates under override and keep', async () => {
    await c.query('create table p (ts timestamptz not null, v int4, w int8) tags (dev int4 not null) primary tags (dev)');
    await c.query(`insert into p select '2026-04-01'::timestamptz + g * interval '1 second', g % 50, g, 1 from generate_series(0, 4999) g`);
    await c.query(`insert into p values ('2026-04-01 00:10:00+00', 95, -1, 1)`); // a newer duplicate that passes v > 90
    await new Promise((r) => setTimeout(r, 1500)); // the engine flushes buffers into blocks every second
    const q = (pred: string) => rows(`select ts::text, v, w from p where ${pred} order by ts, w`);
    expect(await plan('select * from p where v > 90')).toMatch(/block min\/max/);
    expect(await q('v > 90')).toEqual([['2026-04-01 00:10:00+00', 95, '-1']]);
    expect(await q('v > 90')).toEqual(await q('v + 0 > 90'));
    // the reverse: a stored row that passes, then a newer duplicate that does not
    await c.query(`insert into p values ('2026-04-01 00:20:00+00', 97, -2, 1)`);
    await new Promise((r) => setTimeout(r, 1500));
    await c.query(`insert into p values ('2026-04-01 00:20:00+00', 3, -3, 1)`);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await q('v >= 97')).toEqual([]);
    expect(await q('w < -1')).toEqual([['2026-04-01 00:20:00+00', 3, '-3']]);
    await c.query(`set cluster setting ts.dedup.rule = 'keep'`);
    expect(await q('v > 90')).toEqual(await q('v + 0 > 90'));
    expect((await q('v > 90')).length).toBe(2);
    await c.query(`reset cluster setting ts.dedup.rule`);
    expect(await q('v = 49 and ts < $$2026-04-01 00:02:00+00$$')).toEqual(await q('v + 0 = 49 and ts < $$2026-04-01 00:02:00+00$$'));
  });
});

describe('aggregates answered from block headers', () => {
  const reads = async (how: string) => {
    const m = await (await fetch(`http://127.0.0.1:${node.httpPort}/_status/vars`)).text();
    return Number(new RegExp(`strata_ts_block_reads\\{how="${how}"\\} (\\d+)`).exec(m)?.[1] ?? NaN);
  };
  const aggs = 'count(*), count(v), count(f), sum(v), avg(v), min(v), max(v), sum(w), avg(w), min(w), max(w)';
  const slow = aggs.replace(/\(([vwf])\)/g, '($1 + 0)');
  const same = async (select: string, rest: string) => {
    const q = `select ${select}${select ? ', ' : ''}${aggs} from h ${rest}`;
    expect(await plan(q), q).toMatch(/columnar/);
    const fast = await rows(q);
    expect(fast.length, q).toBeGreaterThan(0);
    expect(fast, q).toEqual(await rows(q.replace(aggs, slow)));
  };

  it('count/sum/avg/min/max of whole blocks without decoding them, the same answers as decoding, also with duplicates and deletes', async () => {
    await c.query("set cluster setting ts.rows_per_block.max_limit = '100'");
    await c.query('create table h (ts timestamptz not null, v int4, w int8, f float8) tags (dev int4 not null) primary tags (dev)');
    await c.query(`insert into h select '2026-05-01'::timestamptz + g * interval '10 seconds', case when g % 11 = 0 then null else g % 1000 end, g::int8 * 1000003 - 7000000000, g * 0.5, g % 3 from generate_series(0, 5999) g`);
    await new Promise((r) => setTimeout(r, 1500)); // the engine flushes buffers into blocks every second
    const before = await reads('header');
    const queries: [string, string][] = [
      ['', ''],
      ['dev', 'group by dev order by dev'],
      ["time_bucket(ts, '1d') as k, dev", 'group by k, dev order by k, dev'],
      ['dev', "where ts >= '2026-05-01 03:00:05+00' and ts < '2026-05-01 09:00:00+00' group by dev order by dev"], // blocks cut by the range are decoded
      ["time_bucket(ts, '1h') as k", 'where dev = 1 group by k order by k'], // blocks straddling an hour are decoded
    ];
    for (const [select, rest] of queries) await same(select, rest);
    expect(await reads('header')).toBeGreaterThan(before);
    // sum/avg of a float column decode (NaN and rounding order); count of it need not.
    expect(await rows('select sum(f), avg(f), max(f) from h')).toEqual(await rows('select sum(f + 0), avg(f + 0), max(f + 0) from h'));

    // A newer duplicate replaces a stored row (override): the device's blocks are decoded and dedup applies.
    await c.query("insert into h values ('2026-05-01 00:10:10+00', 999999, 5, 0.25, 1)");
    await new Promise((r) => setTimeout(r, 1500));
    for (const [select, rest] of queries) await same(select, rest);
    expect((await rows("select max(v) from h where dev = 1 and ts < '2026-05-02'"))[0]).toEqual([999999]);
    // A DELETE hides rows of stored blocks: those blocks are decoded.
    await c.query("delete from h where dev = 2 and ts >= '2026-05-01 01:00:00+00' and ts < '2026-05-01 02:00:00+00'");
    for (const [select, rest] of queries) await same(select, rest);
    await c.query('reset cluster setting ts.rows_per_block.max_limit');
  });
});
