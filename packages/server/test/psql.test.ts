/**
 * The real psql binary runs a script of DDL, DML and queries, and its meta-commands print.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

let node: TestNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

function psql(args: string[]): string {
  return execFileSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', node.url, ...args], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' }, timeout: 60_000 }).toString();
}

describe('psql', () => {
  it('runs a script of DDL, DML and queries', () => {
    const script = join(mkdtempSync(join(tmpdir(), 'psql-')), 'script.sql');
    writeFileSync(
      script,
      `
create table devices (id serial primary key, name varchar(40) not null unique, model text default 'm1', installed date);
insert into devices (name, installed) values ('pump-1', '2024-01-05'), ('pump-2', '2024-02-10'), ('valve-7', null);
begin;
update devices set model = 'm2' where name like 'pump%';
commit;
select id, name, model, installed from devices order by id;
select model, count(*) from devices group by model order by model;
\\d devices
\\dt
\\dn
\\l
\\du
`,
    );
    const out = psql(['-f', script]);
    expect(out).toContain('INSERT 0 3');
    expect(out).toMatch(/ 1 \| pump-1 {2}\| m2 {4}\| 2024-01-05/);
    expect(out).toMatch(/ m1 {4}\| {5}1/);
    expect(out).toContain('Table "public.devices"');
    expect(out).toMatch(/ name {6}\| character varying\(40\) \|/);
    expect(out).toContain("nextval('devices_id_seq'::regclass)");
    expect(out).toContain('"devices_pkey" PRIMARY KEY, btree (id)');
    expect(out).toContain('"devices_name_key" UNIQUE CONSTRAINT, btree (name)');
    expect(out).toMatch(/ public \| devices \| table \| root/);
    expect(out).toContain('List of schemas');
    expect(out).toMatch(/ defaultdb +\| root/);
    expect(out).toMatch(/ root +\| Superuser/);
  });

  it('reports errors with SQLSTATE and position, and stops on them', () => {
    let err = '';
    try {
      execFileSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose', node.url, '-c', '\\set VERBOSITY verbose', '-c', 'select * from nosuch_table'], { stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toMatch(/42P01/);
    expect(err).toMatch(/relation "nosuch_table" does not exist/);
    expect(err).toMatch(/LINE 1: select \* from nosuch_table/);
  });
});

describe('names across databases', () => {
  it('resolves database.table and joins tables of different databases in one query', async () => {
    const c = new pg.Client(node.url);
    await c.connect();
    await c.query('create database iot');
    await c.query('create table iot.sensors (id int primary key, site text)');
    await c.query("insert into iot.sensors values (1, 'plant-a'), (2, 'plant-b')");
    await c.query('create schema ops');
    await c.query('create table ops.tickets (id int primary key, sensor int)');
    await c.query('insert into ops.tickets values (10, 2)');
    const r = await c.query('select t.id, s.site from defaultdb.ops.tickets t join iot.sensors s on s.id = t.sensor');
    expect(r.rows).toEqual([{ id: 10, site: 'plant-b' }]);
    // USE / SET database switches the current database.
    await c.query('use iot');
    expect((await c.query('select count(*)::int as n from sensors')).rows[0].n).toBe(2);
    expect((await c.query('select current_database() as d')).rows[0].d).toBe('iot');
    await c.query('set database = defaultdb');
    expect((await c.query('select count(*)::int as n from ops.tickets')).rows[0].n).toBe(1);
    expect((await c.query('show databases')).rows.map((x: { database_name: string }) => x.database_name)).toEqual(['defaultdb', 'iot', 'postgres']);
    await c.end();
  });
});
