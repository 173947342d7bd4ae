/**
 * Schema changes of time-series tables over the wire (KWDB's ALTER TABLE ADD/DROP/ALTER TYPE of
 * columns and tags): rows written before a change read back under the new schema (added → NULL,
 * widened → converted, dropped → gone, re-added under the same name → NULL for old rows), through
 * reorganization, a clean restart and a SIGKILL; and the changes KWDB refuses, with SQLSTATEs.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
let c: pg.Client;

async function connect(): Promise<pg.Client> {
  const cl = new pg.Client(node.url);
  cl.on('error', () => {});
  await cl.connect();
  await cl.query('use plant');
  return cl;
}

beforeAll(async () => {
  node = await startNode();
  const s = new pg.Client(node.url);
  await s.connect();
  await s.query('create ts database plant');
  await s.end();
  c = await connect();
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

async function sqlstate(q: string): Promise<string> {
  try {
    await c.query(q);
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'ok';
}

const rows = async (q: string) => (await c.query({ text: q, rowMode: 'array' })).rows;

describe('ALTER TABLE on a time-series table', () => {
  it('adds, widens, converts and drops columns; old rows read under the new schema', async () => {
    await c.query(`create table m (ts timestamptz not null, a int2, b float4, s varchar(8)) tags (dev int4 not null, site varchar(8)) primary tags (dev)`);
    await c.query(`insert into m values ('2026-01-01 00:00:00+00', 1, 1.5, '12', 1, 'north'), ('2026-01-01 00:00:10+00', 2, 2.5, 'x', 1, 'north'), ('2026-01-01 00:00:00+00', 3, null, '-7', 2, 'south')`);

    await c.query('alter table m add column d int8');
    await c.query(`insert into m values ('2026-01-01 00:00:20+00', 4, 4.5, '40', 400, 1, 'north')`);
    expect(await rows('select ts::text, a, b, s, d, dev, site from m order by dev, ts')).toEqual([
      ['2026-01-01 00:00:00+00', 1, 1.5, '12', null, 1, 'north'],
      ['2026-01-01 00:00:10+00', 2, 2.5, 'x', null, 1, 'north'],
      ['2026-01-01 00:00:20+00', 4, 4.5, '40', '400', 1, 'north'],
      ['2026-01-01 00:00:00+00', 3, null, '-7', null, 2, 'south'],
    ]);

    await c.query('alter table m alter column a type int8'); // INT2 → INT8: widening
    await c.query('alter table m alter column s set data type int4'); // VARCHAR → INT4: 'x' reads as NULL
    await c.query('alter table m alter b type varchar(40)'); // FLOAT4 → VARCHAR
    expect(await rows('select a, b, s, pg_typeof(a)::text, pg_typeof(s)::text from m order by dev, ts')).toEqual([
      ['1', '1.5', 12, 'bigint', 'integer'],
      ['2', '2.5', null, 'bigint', 'integer'],
      ['4', '4.5', 40, 'bigint', 'integer'],
      ['3', null, -7, 'bigint', 'integer'],
    ]);
    expect(await rows('select sum(a)::int, sum(s)::int, count(s)::int from m')).toEqual([[10, 45, 3]]);

    await c.query('alter table m drop column d');
    await c.query('alter table m add column d int8'); // same name and type, new column: old rows have no value
    await c.query(`insert into m (ts, a, d, dev) values ('2026-01-01 00:00:30+00', 5, 25, 1)`);
    expect(await rows('select a, d from m where dev = 1 order by ts')).toEqual([
      ['1', null],
      ['2', null],
      ['4', null],
      ['5', '25'],
    ]);
    expect((await c.query('select * from m limit 1')).fields.map((f) => f.name)).toEqual(['ts', 'a', 'b', 's', 'd', 'dev', 'site']);
    expect((await c.query('show create table m')).rows[0].create_statement).toMatch(/a INT8 NULL,\n\tb VARCHAR\(40\) NULL,\n\ts INT4 NULL,\n\td INT8 NULL/);
  });

  it('adds, retypes and drops tags; tag filters, UPDATE of tags and new devices follow', async () => {
    await c.query('alter table m add tag color varchar(10)');
    expect(await rows('select distinct dev, site, color from m order by dev')).toEqual([
      [1, 'north', null],
      [2, 'south', null],
    ]);
    await c.query(`insert into m (ts, a, dev, site, color) values ('2026-01-01 00:00:00+00', 9, 3, 'east', 'red')`);
    await c.query(`update m set color = 'blue' where dev = 1`);
    expect(await rows(`select dev, count(*)::int from m where color in ('red', 'blue') group by dev order by dev`)).toEqual([
      [1, 4],
      [3, 1],
    ]);
    await c.query('alter table m alter tag site type varchar(20)');
    await c.query(`update m set site = 'a-much-longer-site' where dev = 2`);
    await c.query('alter table m drop tag color');
    expect((await c.query('show tags from m')).rows.map((r) => r.tag)).toEqual(['dev', 'site']);
    expect(await rows('select distinct dev, site from m order by dev')).toEqual([
      [1, 'north'],
      [2, 'a-much-longer-site'],
      [3, 'east'],
    ]);
    await c.query('alter table m add tag if not exists color int4'); // re-added: NULL everywhere
    expect(await rows('select count(color)::int from m')).toEqual([[0]]);
  });

  it('keeps the answers through reorganization, a clean restart and a SIGKILL right after a change', async () => {
    const all = 'select ts::text, a, b, s, d, dev, site, color from m order by dev, ts';
    const before = await rows(all);
    await c.query('compress table m');
    expect(await rows(all)).toEqual(before);
    await node.restart();
    c = await connect();
    expect(await rows(all)).toEqual(before);

    await c.query('alter table m add column e bool');
    await c.query(`insert into m (ts, a, e, dev) values ('2026-01-01 00:01:00+00', 6, true, 2)`);
    await node.kill(); // the change and the row are in the log only (the engine flushes each second)
    await node.restart();
    c = await connect();
    expect(await rows('select a, e from m where dev = 2 order by ts')).toEqual([
      ['3', null],
      ['6', true],
    ]);
    expect((await rows(all)).length).toBe(before.length + 1);
  });

  it('refuses what KWDB refuses, with SQLSTATEs', async () => {
    expect(await sqlstate('alter table m drop column ts')).toBe('0A000');
    expect(await sqlstate('alter table m alter column ts type int8')).toBe('0A000');
    expect(await sqlstate('alter table m drop tag dev')).toBe('0A000');
    expect(await sqlstate('alter table m alter tag dev type int8')).toBe('0A000');
    expect(await sqlstate('alter table m alter column site type varchar(4)')).toBe('42804'); // narrower
    expect(await sqlstate('alter table m alter column a type int4')).toBe('42804'); // INT8 → INT4
    expect(await sqlstate('alter table m alter column e type int4')).toBe('42804'); // BOOL
    expect(await sqlstate('alter table m add column f int4 not null')).toBe('0A000');
    expect(await sqlstate('alter table m add tag g int4 not null')).toBe('0A000');
    expect(await sqlstate('alter table m add column a int4')).toBe('42701');
    expect(await sqlstate('alter table m add tag a int4')).toBe('42701');
    expect(await sqlstate('alter table m drop column nope')).toBe('42703');
    expect(await sqlstate('alter table m drop column site')).toBe('42809'); // a tag: DROP TAG
    expect(await sqlstate('alter table m add column f int4, add column g int4')).toBe('0A000'); // one change per statement
    await c.query('begin');
    expect(await sqlstate('alter table m add column f int4')).toBe('25001');
    await c.query('rollback');
    expect(await sqlstate('alter table m drop column if exists nope')).toBe('ok');
  });
});

describe("KWDB's storage cluster settings", () => {
  it('shows the defaults, checks values, and data written under each reads back the same', async () => {
    const show = async (n: string) => (await c.query(`show cluster setting ${n}`)).rows[0] as Record<string, string>;
    const value = async (n: string) => Object.values(await show(n))[0];
    expect(await value('ts.rows_per_block.max_limit')).toBe('1000');
    expect(await value('ts.blocks_per_segment.max_limit')).toBe('1000');
    expect(await value('ts.compression.type')).toBe('lz4');
    expect(await value('ts.compression.level')).toBe('middle');
    expect(await value('ts.auto_vacuum.enabled')).toBe('true');
    expect(await value('immediate_compression.threads')).toBe('3');
    expect(await sqlstate("set cluster setting ts.compression.type = 'zstd'")).toBe('0A000');
    expect(await sqlstate("set cluster setting ts.compression.type = 'brotli'")).toBe('22023');
    expect(await sqlstate('set cluster setting ts.rows_per_block.max_limit = 5')).toBe('22023');
    expect(await sqlstate('set cluster setting ts.blocks_per_segment.max_limit = 0')).toBe('22023');
    expect(await sqlstate("set cluster setting ts.compression.level = 'extreme'")).toBe('22023');

    await c.query(`create table st (ts timestamptz not null, v float8, n int8) tags (dev int4 not null) primary tags (dev)`);
    const ins = (from: number) => `insert into st select '2026-01-01'::timestamptz + (g * interval '1 second'), g * 0.5, g, g % 3 from generate_series(${from}, ${from + 999}) g`;
    await c.query(ins(0)); // lz4, 1000 rows per block
    await c.query("set cluster setting ts.compression.type = 'gzip'");
    await c.query("set cluster setting ts.compression.level = 'high'");
    await c.query('set cluster setting ts.rows_per_block.max_limit = 10');
    await c.query(ins(1000));
    await c.query("set cluster setting ts.compression.type = 'disabled'");
    await c.query('set cluster setting ts.blocks_per_segment.max_limit = 2');
    await c.query(ins(2000));
    const q = 'select dev, count(*)::int, sum(n)::text, min(v), max(v) from st group by dev order by dev';
    const want = [
      [0, 1000, '1498500', 0, 1498.5],
      [1, 1000, '1499500', 0.5, 1499],
      [2, 1000, '1500500', 1, 1499.5],
    ];
    expect(await rows(q)).toEqual(want);
    await c.query('compress table st'); // rewritten with the settings in force: no compression, 10-row blocks
    expect(await rows(q)).toEqual(want);
    for (const n of ['ts.compression.type', 'ts.compression.level', 'ts.rows_per_block.max_limit', 'ts.blocks_per_segment.max_limit']) await c.query(`reset cluster setting ${n}`);
    expect(await value('ts.compression.type')).toBe('lz4');
    await node.restart();
    c = await connect();
    expect(await rows(q)).toEqual(want);
  });
});

describe('tag indexes', () => {
  it('CREATE INDEX on tags: lookups through the index give the filtered answers, and follow new devices and tag updates', async () => {
    await c.query(`create table tx (ts timestamptz not null, v int4) tags (dev int4 not null, region varchar(8), rack int4, ok bool) primary tags (dev)`);
    await c.query(`insert into tx select '2026-01-01'::timestamptz + (g % 3) * interval '1 minute', g, g / 3, 'r' || ((g / 3) % 4)::text, (g / 3) % 5, true from generate_series(0, 599) g`);
    const q = `select count(distinct dev)::int, count(*)::int, sum(v)::int from tx where region = 'r1' and rack in (0, 2)`;
    const unindexed = await rows(q);
    expect(unindexed[0]?.[0]).toBeGreaterThan(0);
    await c.query('create index ri on tx (region, rack)');
    expect((await rows(`explain ${q}`)).flat().join('\n')).toMatch(/tag index ri/);
    expect(await rows(q)).toEqual(unindexed);
    const showIdx = (await c.query('show indexes from tx')).rows.map((r) => Object.values(r).slice(1, 5).map(String).join(' '));
    expect(showIdx).toEqual(['primary false 1 dev', 'ri true 1 region', 'ri true 2 rack']);

    await c.query(`insert into tx values ('2026-01-01', 7, 1000, 'r1', 2, true)`); // a new device that matches: +1 device, +1 row
    await c.query(`update tx set rack = 3 where dev = 5`); // device 5 (r1, rack 0, 3 rows) no longer matches
    await c.query(`update tx set region = 'r1' where dev = 2`); // device 2 (r2, rack 2, 3 rows) now matches
    const [[devs, n]] = (await rows(q)) as [[number, number]];
    expect(devs).toBe((unindexed[0]?.[0] as number) + 1 - 1 + 1);
    expect(n).toBe((unindexed[0]?.[1] as number) + 1 - 3 + 3);

    await c.query('alter index tx@ri rename to region_rack');
    expect((await rows(`explain ${q}`)).flat().join('\n')).toMatch(/tag index region_rack/);
    expect(await sqlstate('alter table tx drop tag region')).toBe('2BP01');
    await c.query('alter table tx rename tag rack to shelf');
    expect(await sqlstate(`select count(*) from tx where region = 'r1' and shelf = 2`)).toBe('ok');
    expect((await rows(`explain select * from tx where region = 'r1' and shelf = 2`)).flat().join('\n')).toMatch(/tag index region_rack/);
    const q2 = q.replace('rack', 'shelf');
    const before = await rows(q2);
    expect(before[0]?.slice(0, 2)).toEqual([devs, n]);
    await node.restart(); // the index is rebuilt from the tag table on first use
    c = await connect();
    expect(await rows(q2)).toEqual(before);
    await c.query('drop index tx@region_rack');
    expect((await rows(`explain ${q.replace('rack', 'shelf')}`)).flat().join('\n')).not.toMatch(/tag index/);
    await c.query('alter table tx drop tag region');
  });

  it('refuses indexes KWDB refuses', async () => {
    await c.query(`create table ty (ts timestamptz not null, v int4) tags (dev int4 not null, a int4, b int4, c2 int4, d int4, e int4, f bool) primary tags (dev)`);
    expect(await sqlstate('create index on ty (dev)')).toBe('0A000'); // primary tag
    expect(await sqlstate('create index on ty (v)')).toBe('0A000'); // data column
    expect(await sqlstate('create index on ty (f)')).toBe('0A000'); // bool
    expect(await sqlstate('create index on ty (a, b, c2, d, e)')).toBe('0A000'); // 5 tags
    expect(await sqlstate('create index on ty (nope)')).toBe('42703');
    expect(await sqlstate('create unique index on ty (a)')).toBe('0A000');
    await c.query('create index ia on ty (a)');
    expect(await sqlstate('create index ia on ty (b)')).toBe('42P07');
    expect(await sqlstate('create index ia2 on ty (a)')).toBe('42710');
    expect(await sqlstate('create index if not exists ia on ty (b)')).toBe('ok');
    expect(await sqlstate('drop index ty@nope')).toBe('42704');
  });
});
