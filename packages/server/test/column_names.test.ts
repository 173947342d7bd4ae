/**
 * Result column names as PostgreSQL 15's FigureColname gives them (drivers key rows by them): a
 * cast is named after its type unless what it casts has a name of its own (a column, a function),
 * the outermost cast winning over inner ones; typed literals (`int4 '1'`) are casts; CASE is named
 * after its ELSE when that has a name; `position(a in b)` is `position`. The expected names were
 * recorded from PostgreSQL 15: run with COMPAT_PG_URL=postgresql://postgres@127.0.0.1:PORT/postgres
 * (a throwaway PostgreSQL 15) and the same assertions run against it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const pgUrl = process.env.COMPAT_PG_URL ?? null;
let node: TestNode | null = null;
let client: pg.Client;

beforeAll(async () => {
  let url = pgUrl;
  if (url === null) {
    node = await startNode();
    url = node.url;
  }
  client = new pg.Client({ connectionString: url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  if (node) {
    await node.stop();
    node.cleanup();
  }
});

const cases: [string, string[]][] = [
  [
    `select 1::bigint::text::jsonb, (1)::numeric::int4, '1'::text::int, 1::int8::text`,
    ['jsonb', 'int4', 'int4', 'text'],
  ],
  [
    `select int4 '1', float8 '2.5', double precision '2.5', integer '3', bigint '4', timestamptz '2020-01-01', timestamp with time zone '2020-01-01', date '2020-01-01', time '01:00', interval '1 day', bool 't', varchar 'x', char 'x', text 'x', numeric '1.5', jsonb '{}', real '1'`,
    [
      'int4',
      'float8',
      'float8',
      'int4',
      'int8',
      'timestamptz',
      'timestamptz',
      'date',
      'time',
      'interval',
      'bool',
      'varchar',
      'bpchar',
      'text',
      'numeric',
      'jsonb',
      'float4',
    ],
  ],
  [
    `select 1::double precision, 1::float, 1::real, 'x'::char(3), 'x'::character varying(5), 'x'::varchar, 1::boolean, 1::smallint, 1::decimal(5,2), '{1}'::int[]`,
    ['float8', 'float8', 'float4', 'bpchar', 'varchar', 'varchar', 'bool', 'int2', 'numeric', 'int4'],
  ],
  [
    `select a::text, (a+1)::text, b::varchar::text, (a)::int8::text, (case when a > 0 then 1 end)::text, (case when a > 0 then 1 else a end)::text, abs(a)::text, (-a)::text, cast(a as text), cast(1 as text) from (values (1, 'x')) nm(a, b)`,
    ['a', 'text', 'b', 'a', 'text', 'a', 'abs', 'text', 'a', 'text'],
  ],
  [
    `select case when a > 0 then 1 end, case when a > 0 then 1 else a end, case when a > 0 then a else 1 end, case a when 1 then 'x' else b end, case when true then 1 else 2::int8 end from (values (1, 'x')) nm(a, b)`,
    ['case', 'a', 'case', 'b', 'case'],
  ],
  [
    `select position('l' in 'hello'), substring('abc' from 2), trim(' x '), overlay('abc' placing 'x' from 2), extract(year from date '2020-01-01'), coalesce(1), greatest(1), nullif(1, 2), array[1], exists(select 1), (select 1), (select 1 as z)`,
    [
      'position',
      'substring',
      'btrim',
      'overlay',
      'extract',
      'coalesce',
      'greatest',
      'nullif',
      'array',
      'exists',
      '?column?',
      'z',
    ],
  ],
];

describe('result column names (FigureColname)', () => {
  it.each(cases)('%s', async (sql, names) => {
    const r = await client.query(sql);
    expect(r.fields.map((f) => f.name)).toEqual(names);
  });
});
