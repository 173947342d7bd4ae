/**
 * KWDB time-series DDL over the wire: CREATE TS DATABASE, TS CREATE TABLE with TAGS / PRIMARY TAGS,
 * ALTER TS DATABASE, SHOW TAGS / SHOW CREATE TABLE, and the errors for everything KWDB refuses.
 * Statements not implemented for TS tables yet (DELETE, UPDATE, …) are refused; that is tested too.
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
  await c.query('create ts database iot retentions 30d partition interval 1d');
  await c.query('use iot');
});
afterAll(async () => {
  await c.end();
  await node.stop();
  node.cleanup();
});

async function sqlstate(q: string): Promise<{ code: string; message: string }> {
  try {
    await c.query(q);
  } catch (e) {
    const err = e as { code: string; message: string };
    return { code: err.code, message: err.message };
  }
  throw new Error(`expected an error from: ${q}`);
}

const meter = `create table meters (
  ts timestamp not null, current float, voltage int, phase float
) tags (location varchar(64) not null, group_id int not null, model nchar(16))
  primary tags (location, group_id) activetime 2d`;

describe('time-series DDL', () => {
  it('creates a TS table and describes it', async () => {
    await c.query(meter);
    const tags = await c.query('show tags from meters');
    expect(tags.rows).toEqual([
      { tag: 'location', type: 'character varying(64)', is_primary: true, nullable: false },
      { tag: 'group_id', type: 'integer', is_primary: true, nullable: false },
      { tag: 'model', type: 'character(16)', is_primary: false, nullable: true },
    ]);
    const cols = await c.query('show columns from meters');
    expect(cols.rows.map((r) => [r.column_name, r.data_type])).toEqual([
      ['ts', 'timestamp with time zone'],
      ['current', 'double precision'],
      ['voltage', 'integer'],
      ['phase', 'double precision'],
    ]);
    const create = (await c.query('show create table meters')).rows[0].create_statement as string;
    expect(create).toContain('PRIMARY TAGS(location, group_id)');
    expect(create).toContain('retentions 2592000s');
    expect(create).toContain('activetime 2d');
    expect(create).toContain('partition interval 1d');
    const tables = await c.query('show tables');
    expect(tables.rows.map((r) => r.table_name)).toContain('meters');
  });

  it('ALTER TS DATABASE changes the defaults new SHOW CREATE output reflects', async () => {
    await c.query('alter ts database iot set retentions = 10d');
    await c.query('alter ts database iot set partition interval = 2d');
    const create = (await c.query('show create table meters')).rows[0].create_statement as string;
    expect(create).toContain('retentions 864000s');
    expect(create).toContain('partition interval 2d');
    expect((await sqlstate('alter ts database defaultdb set retentions = 1d')).code).toBe('42809');
  });

  it('a primary VARCHAR tag without a length defaults to 64 bytes; WITH HASH is range-checked', async () => {
    await c.query('create table t_hash (k timestamptz not null, v int8) tags (dev varchar not null) primary tags (dev) with hash(100)');
    expect((await c.query('show tags from t_hash')).rows[0].type).toBe('character varying(64)');
    expect((await c.query('show create table t_hash')).rows[0].create_statement).toContain('with hash(100)');
    expect((await sqlstate('create table t_h2 (k timestamp not null, v int) tags (d int not null) primary tags (d) with hash(50001)')).code).toBe('22023');
  });

  it('refuses what KWDB refuses, with SQLSTATEs', async () => {
    const cases: [string, string, RegExp][] = [
      ['create table e1 (v int, k timestamp not null) tags (d int not null) primary tags (d)', '42P16', /first column .* must be TIMESTAMP/],
      ['create table e2 (k timestamp, v int) tags (d int not null) primary tags (d)', '42P16', /must be NOT NULL/],
      ['create table e3 (k timestamp not null) tags (d int not null) primary tags (d)', '42P16', /at least 2 columns/],
      ['create table e4 (k timestamp not null, v int) tags (d float8 not null) primary tags (d)', '0A000', /floating-point/],
      ['create table e5 (k timestamp not null, v int) tags (d int) primary tags (d)', '42P16', /primary tag "d" must be NOT NULL/],
      ['create table e6 (k timestamp not null, v int) tags (d int not null) primary tags (x)', '42703', /not in the tag list/],
      ['create table e7 (k timestamp not null, v int) tags (d timestamp not null) primary tags (d)', '0A000', /not allowed for tags/],
      ['create table e8 (k timestamp not null, v int) tags (a int not null, b int not null, c int not null, d int not null, e int not null) primary tags (a, b, c, d, e)', '42P16', /1 to 4 primary tags/],
      ['create table e9 (k timestamp not null, v jsonb) tags (d int not null) primary tags (d)', '0A000', /not supported in time-series tables/],
      ['create table e10 (k timestamp not null, v int) tags (d varchar(200) not null) primary tags (d)', '0A000', /limited to 128 bytes/],
      ['create table e11 (k timestamp not null, v int primary key) tags (d int not null) primary tags (d)', '0A000', /constraints/],
      ['create table e12 (k timestamp not null, v int) tags (v int not null) primary tags (v)', '42701', /same name/],
      ['create table plain (a int primary key)', '42809', /relational table in time-series database/],
      ['create ts database bad retentions 5q', '22023', /.*/],
    ];
    for (const [q, code, msg] of cases) {
      const e = await sqlstate(q);
      expect(e.code, q).toBe(code);
      expect(e.message, q).toMatch(msg);
    }
    // A TS table cannot live in a relational database.
    const d = new pg.Client(node.url);
    await d.connect();
    try {
      const e = await d.query('create table x (k timestamp not null, v int) tags (t int not null) primary tags (t)').catch((err: { code: string }) => err);
      expect((e as { code: string }).code).toBe('42809');
    } finally {
      await d.end();
    }
  });

  it('statements not implemented for TS tables yet are refused with 0A000; the session survives', async () => {
    for (const q of ['delete from meters where voltage = 1', 'update meters set voltage = 1', 'truncate meters', 'create index on meters (voltage)', 'alter table meters alter column voltage set not null']) {
      const e = await sqlstate(q);
      expect(e.code, q).toBe('0A000');
      expect(e.message, q).toMatch(/time-series table "meters"/);
    }
    expect((await c.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('DROP TABLE and DROP DATABASE remove TS objects', async () => {
    await c.query('drop table t_hash');
    expect((await sqlstate('show tags from t_hash')).code).toBe('42P01');
    await c.query('create ts database if not exists iot');
    await c.query('use defaultdb');
    await c.query('drop database iot');
    expect((await c.query('show databases')).rows.map((r) => r.database_name)).not.toContain('iot');
  });
});
