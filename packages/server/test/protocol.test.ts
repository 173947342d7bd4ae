/**
 * Protocol behaviour checked message by message with a raw client.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { RawClient, serialize } from '../../../qa/harness/rawpg.js';

let node: TestNode;
beforeAll(async () => {
  node = await startNode();
  const c = new pg.Client(node.url);
  await c.connect();
  await c.query('create table nums (n int primary key)');
  await c.query('insert into nums select generate_series(1, 5)');
  await c.end();
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

const names = (ms: { name: string }[]) => ms.map((m) => m.name);

describe('wire protocol', () => {
  it('reports the startup ParameterStatus set and BackendKeyData', async () => {
    const c = await RawClient.connect(node.port, { startup: false });
    c.write(serialize.startup({ user: 'root', database: 'defaultdb', application_name: 'proto-test' }));
    const ms = await c.untilReady();
    const params = Object.fromEntries(ms.filter((m) => m.name === 'parameterStatus').map((m) => [(m as unknown as { parameterName: string }).parameterName, (m as unknown as { parameterValue: string }).parameterValue]));
    for (const p of ['server_version', 'server_encoding', 'client_encoding', 'DateStyle', 'TimeZone', 'integer_datetimes', 'standard_conforming_strings', 'application_name']) expect(params).toHaveProperty(p);
    expect(params.application_name).toBe('proto-test');
    expect(params.TimeZone).toBe('UTC');
    expect(names(ms)).toContain('backendKeyData');
    expect(names(ms)[0]).toBe('authenticationOk');
    c.end();
  });

  it('suspends a portal at the row limit and resumes it (Execute with max rows)', async () => {
    const c = await RawClient.connect(node.port);
    c.write(Buffer.concat([serialize.parse({ text: 'select n from nums order by n' }), serialize.bind({}), serialize.execute({ rows: 2 }), serialize.execute({ rows: 2 }), serialize.execute({ rows: 2 }), serialize.sync()]));
    const ms = await c.untilReady();
    expect(names(ms)).toEqual(['parseComplete', 'bindComplete', 'dataRow', 'dataRow', 'portalSuspended', 'dataRow', 'dataRow', 'portalSuspended', 'dataRow', 'commandComplete', 'readyForQuery']);
    expect((ms[9] as unknown as { text: string }).text).toBe('SELECT 1'); // the rows of this Execute, as PostgreSQL counts
    c.end();
  });

  it('describes statements: parameter types inferred from context, and row descriptions', async () => {
    const c = await RawClient.connect(node.port);
    c.write(Buffer.concat([serialize.parse({ name: 's1', text: 'select n, n * $1 as m from nums where n > $2' }), serialize.describe({ type: 'S', name: 's1' }), serialize.sync()]));
    const ms = await c.untilReady();
    const pd = ms.find((m) => m.name === 'parameterDescription') as unknown as { dataTypeIDs: number[] };
    expect(pd.dataTypeIDs).toEqual([23, 23]);
    const rd = ms.find((m) => m.name === 'rowDescription') as unknown as { fields: { name: string; dataTypeID: number }[] };
    expect(rd.fields.map((f) => [f.name, f.dataTypeID])).toEqual([['n', 23], ['m', 23]]);
    c.end();
  });

  it('runs several statements in one simple query and reports transaction status in ReadyForQuery', async () => {
    const c = await RawClient.connect(node.port);
    let ms = await c.query('select 1; select 2');
    expect(names(ms).filter((n) => n === 'commandComplete')).toHaveLength(2);
    ms = await c.query('begin');
    expect((ms[ms.length - 1] as unknown as { status: string }).status).toBe('T');
    ms = await c.query('select 1/0');
    expect((ms[ms.length - 1] as unknown as { status: string }).status).toBe('E');
    ms = await c.query('rollback');
    expect((ms[ms.length - 1] as unknown as { status: string }).status).toBe('I');
    c.end();
  });

  it('sends NoticeResponse and ParameterStatus when a reported setting changes', async () => {
    const c = await RawClient.connect(node.port);
    let ms = await c.query('drop table if exists no_such_table');
    expect(ms.find((m) => m.name === 'notice')).toMatchObject({ message: 'table "no_such_table" does not exist, skipping' });
    ms = await c.query("set timezone = 'America/New_York'");
    expect(ms.find((m) => m.name === 'parameterStatus')).toMatchObject({ parameterName: 'TimeZone', parameterValue: 'America/New_York' });
    ms = await c.query("select timestamptz '2016-01-01 05:59:50+00'::text");
    expect(ms.find((m) => m.name === 'dataRow')).toMatchObject({ fields: ['2016-01-01 00:59:50-05'] });
    c.end();
  });

  it('answers an empty query with EmptyQueryResponse', async () => {
    const c = await RawClient.connect(node.port);
    const ms = await c.query('  ;  ');
    expect(names(ms)).toEqual(['emptyQuery', 'readyForQuery']);
    c.end();
  });
});

describe('SHOW and EXPLAIN', () => {
  it('shows tables, columns, CREATE TABLE, indexes and settings', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    await c.query('create table shown (id int primary key, name varchar(10) not null default \'x\', v float8)');
    await c.query('create index shown_v on shown (v)');
    expect((await c.query('show tables')).rows).toContainEqual({ schema_name: 'public', table_name: 'shown', type: 'table', owner: 'root' });
    const cols = (await c.query('show columns from shown')).rows;
    expect(cols.map((r: { column_name: string; data_type: string }) => [r.column_name, r.data_type])).toEqual([['id', 'integer'], ['name', 'character varying(10)'], ['v', 'double precision']]);
    const create = (await c.query('show create table shown')).rows[0].create_statement as string;
    expect(create).toContain('CREATE TABLE public.shown (');
    expect(create).toContain('CONSTRAINT shown_pkey PRIMARY KEY (id ASC)');
    expect(create).toContain('INDEX shown_v (v ASC)');
    expect((await c.query('show indexes from shown')).rows.map((r: { index_name: string }) => r.index_name)).toEqual(['shown_pkey', 'shown_v']);
    expect((await c.query('show timezone')).rows).toEqual([{ TimeZone: 'UTC' }]);
    await expect(c.query('show no_such_setting')).rejects.toMatchObject({ code: '42704' });
    await c.end();
  });

  it('EXPLAIN shows the chosen index', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    const plan = (await c.query('explain select * from nums where n = 3')).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/scan nums@nums_pkey \(1 equality column\)/);
    const full = (await c.query('explain select count(*) from nums')).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
    expect(full).toMatch(/group \(scalar\)/);
    expect(full).toMatch(/\(full\)/);
    await c.end();
  });
});
