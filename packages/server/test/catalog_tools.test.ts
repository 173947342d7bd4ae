/**
 * Catalog completeness for tools (issue 12): psql's describe commands print exactly what they
 * print on PostgreSQL 15 for the same schema (catalog/schema.sql). The expected outputs in
 * catalog/psql_*.out were recorded from a PostgreSQL 15 as a superuser named root, in a database
 * owned by root:
 *   psql -X -U root DB -f catalog/schema.sql; psql -X -U root DB -c '\d+ t' > catalog/psql_d_plus_t.out
 * Left out on purpose: `\dt+`/`\di+` (the Size column is the storage's own), `\d+ v` (the view
 * definition is printed as written, PostgreSQL deparses it).
 *
 * pgJDBC's DatabaseMetaData (drivers/JdbcMetaProbe.java with Debian's postgresql.jar) returns the
 * rows it returns on PostgreSQL 15 (catalog/jdbc_meta.out, recorded with the same program against
 * a PostgreSQL 15 database `defaultdb` owned by root, with catalog/schema.sql). getTypeInfo lists
 * only the types Strata has: each row as PostgreSQL's for that type, in PostgreSQL's order.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode } from '../../../qa/harness/node.js';
import type { TestNode } from '../../../qa/harness/node.js';

const dir = join(import.meta.dirname, 'catalog');
let node: TestNode;

function psql(args: string[]): string {
  return execFileSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', node.url, ...args], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' }, timeout: 60_000 }).toString();
}

beforeAll(async () => {
  node = await startNode();
  psql(['-q', '-f', join(dir, 'schema.sql')]);
});
afterAll(async () => {
  await node.stop();
  node.cleanup();
});

describe('psql describe commands print what PostgreSQL 15 prints', () => {
  const commands: [string, string][] = [
    ['\\d t', 'psql_d_t.out'],
    ['\\d+ t', 'psql_d_plus_t.out'],
    ['\\d parent', 'psql_d_parent.out'],
    ['\\d+ parent', 'psql_d_plus_parent.out'],
    ['\\dt', 'psql_dt.out'],
    ['\\di', 'psql_di.out'],
    ['\\dv', 'psql_dv.out'],
    ['\\ds', 'psql_ds.out'],
    ['\\dp', 'psql_dp.out'],
    ['\\df', 'psql_df.out'],
    ['\\d t_pkey', 'psql_d_t_pkey.out'],
    ['\\d+ t_pkey', 'psql_d_plus_t_pkey.out'],
    ['\\d t_parent_name', 'psql_d_t_parent_name.out'],
    ['\\d parent_name_key', 'psql_d_parent_name_key.out'],
    ['\\dn+', 'psql_dn_plus.out'],
  ];
  for (const [cmd, file] of commands) {
    it(cmd, () => {
      expect(psql(['-c', cmd])).toBe(readFileSync(join(dir, file), 'utf8'));
    });
  }

  it('information_schema table_constraints, key_column_usage, referential_constraints, views (catalog/info_schema.sql)', () => {
    expect(psql(['-f', join(dir, 'info_schema.sql')])).toBe(readFileSync(join(dir, 'info_schema.out'), 'utf8'));
    // A table without a primary key has no PRIMARY KEY constraint (its hidden rowid key is not one).
    psql(['-q', '-c', 'create table nopk (a int)']);
    expect(psql(['-A', '-t', '-c', `select count(*) from information_schema.table_constraints where table_name = 'nopk'`])).toBe('0\n');
    psql(['-q', '-c', 'drop table nopk']);
  });

  it('sequence types, bounds and cache: pg_sequence, pg_sequences, nextval/setval limits, \\d sequence (catalog/sequences.sql)', () => {
    // Recorded from PostgreSQL 15 in an empty database with psql -X -a -f - < sequences.sql 2>&1.
    psql(['-q', '-c', 'create database seqt']);
    const url = node.url.replace(/\/defaultdb$/, '/seqt');
    const out = execFileSync('sh', ['-c', `psql -X -a "${url}" -f - 2>&1`], { input: readFileSync(join(dir, 'sequences.sql'), 'utf8'), timeout: 60_000 }).toString();
    expect(out).toBe(readFileSync(join(dir, 'sequences.out'), 'utf8'));
  });

  it('regclass reads names and numbers and prints names, as regclassin/regclassout', () => {
    const out = psql(['-A', '-t', '-c', `select 't'::regclass, 'T'::regclass, 'public.t'::regclass, 'pg_class'::regclass, 't_pkey'::regclass, 99999::regclass, to_regclass('"T"') is null, to_regclass('PUBLIC.T')`]);
    expect(out).toBe('t|t|t|pg_class|t_pkey|99999|t|t\n');
  });
});

const jdbcJar = '/usr/share/java/postgresql.jar';

/** The probe's output as sections: call name → row lines. */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) out.set(line.slice(3), (cur = []));
    else if (line !== '') cur.push(line);
  }
  return out;
}

describe("pgJDBC's DatabaseMetaData returns what it returns on PostgreSQL 15", () => {
  let got: Map<string, string[]>;
  const want = sections(readFileSync(join(dir, 'jdbc_meta.out'), 'utf8'));
  beforeAll(() => {
    if (!existsSync(jdbcJar)) throw new Error(`${jdbcJar} is missing: install Debian's libpostgresql-jdbc-java (.ci/run does)`);
    const url = `jdbc:postgresql://127.0.0.1:${node.port}/defaultdb?user=root`;
    got = sections(execFileSync('java', ['-cp', jdbcJar, join(import.meta.dirname, 'drivers', 'JdbcMetaProbe.java'), url], { encoding: 'utf8', timeout: 120_000 }));
  });
  for (const call of [...want.keys()].filter((k) => k !== 'getTypeInfo')) {
    it(call, () => {
      expect(got.get(call)).toEqual(want.get(call));
    });
  }
  it('getTypeInfo', () => {
    const name = (row: string) => row.split('|')[0] as string;
    const pgRows = new Map((want.get('getTypeInfo') ?? []).map((r) => [name(r), r]));
    const rows = got.get('getTypeInfo') ?? [];
    expect(rows.length).toBeGreaterThan(50);
    for (const r of rows) expect(r).toBe(pgRows.get(name(r)));
    const order = [...pgRows.keys()].filter((n) => rows.some((r) => name(r) === n));
    expect(rows.map(name)).toEqual(order);
  });
});

describe('time-series tables: tags are columns for tools, their role in the column comment', () => {
  beforeAll(() => {
    psql(['-q', '-c', 'create ts database tsdb', '-c', 'create table tsdb.readings (ts timestamp not null, temp float8) tags (device_id varchar(32) not null, site varchar(16)) primary tags (device_id)']);
  });
  const inTsdb = (sql: string) => execFileSync('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', node.url.replace('/defaultdb', '/tsdb'), '-c', sql], { encoding: 'utf8' });

  it('information_schema.columns and pg_attribute list the tags after the data columns', () => {
    expect(inTsdb(`select column_name, data_type, ordinal_position, is_nullable, character_maximum_length from information_schema.columns where table_name = 'readings' order by ordinal_position`)).toBe(
      ['ts|timestamp with time zone|1|NO|', 'temp|double precision|2|YES|', 'device_id|character varying|3|NO|32', 'site|character varying|4|YES|16', ''].join('\n'),
    );
    expect(inTsdb(`select attname, attnum, col_description(attrelid, attnum) from pg_attribute where attrelid = 'readings'::regclass order by attnum`)).toBe(
      ['ts|1|', 'temp|2|', 'device_id|3|primary tag', 'site|4|tag', ''].join('\n'),
    );
  });

  it('psql \\d+ shows the role as the description; pgJDBC getColumns as REMARKS', () => {
    const out = execFileSync('psql', ['-X', node.url.replace('/defaultdb', '/tsdb'), '-c', '\\d+ readings'], { encoding: 'utf8' });
    expect(out).toMatch(/ device_id \| character varying\(32\) +\| +\| not null \| +\| extended \| +\| +\| primary tag/);
    expect(out).toMatch(/ site +\| character varying\(16\) +\| +\| +\| +\| extended \| +\| +\| tag/);
    if (!existsSync(jdbcJar)) throw new Error(`${jdbcJar} is missing`);
    const url = `jdbc:postgresql://127.0.0.1:${node.port}/tsdb?user=root`;
    const rows = sections(execFileSync('java', ['-cp', jdbcJar, join(import.meta.dirname, 'drivers', 'JdbcMetaProbe.java'), url, 'getColumns readings'], { encoding: 'utf8', timeout: 120_000 })).get('getColumns readings') ?? [];
    const field = (r: string, k: string) => r.split('|').find((f) => f.startsWith(`${k}=`))?.slice(k.length + 1);
    expect(rows.map((r) => [field(r, 'column_name'), field(r, 'type_name'), field(r, 'remarks')])).toEqual([
      ['ts', 'timestamptz', 'null'],
      ['temp', 'float8', 'null'],
      ['device_id', 'varchar', 'primary tag'],
      ['site', 'varchar', 'tag'],
    ]);
  });
});
