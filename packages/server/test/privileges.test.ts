/**
 * Users, roles and privileges on a real secure-mode node, with real clients:
 * - the privilege matrix (13 users × 41 operations on databases, schemas, tables, views,
 *   sequences, roles) gives PostgreSQL 15's answer in every cell (privilege_matrix.json,
 *   recorded by privilege_record.ts), and CONNECT on a locked database;
 * - time-series tables and COPY follow the same rules;
 * - role DDL: dependencies, cycles, reserved names, root and admin;
 * - psql's \du and \dp, pg_roles/pg_authid, SHOW GRANTS/USERS, information_schema visibility;
 * - changes survive a restart (they live in the replicated system keyspace);
 * - the audit log has logins, failed logins and role/privilege changes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libpqUrl, makeCerts, pgClientConfig, startSecureNode } from '../../../qa/harness/secure.js';
import type { TestCerts } from '../../../qa/harness/secure.js';
import type { TestNode } from '../../../qa/harness/node.js';
import { matrixDb, ops, users } from './privilege_matrix.js';
import type { MatrixResult } from './privilege_matrix.js';
import { runMatrix } from './privilege_record.js';

const expected = JSON.parse(readFileSync(join(import.meta.dirname, 'privilege_matrix.json'), 'utf8')) as { cells: MatrixResult; connect: Record<string, string> };

describe('privileges (secure mode)', () => {
  let node: TestNode;
  let certs: TestCerts;
  const clients: pg.Client[] = [];

  async function connect(user: string | null, database = 'defaultdb', password?: string): Promise<pg.Client> {
    const c = new pg.Client(user === null ? pgClientConfig(node, certs, 'root', { cert: true, database }) : pgClientConfig(node, certs, user, { password: password ?? `pw-${user}`, database }));
    await c.connect();
    clients.push(c);
    return c;
  }

  async function code(c: pg.Client, sql: string): Promise<string> {
    try {
      await c.query(sql);
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code ?? String(e);
    }
  }

  beforeAll(async () => {
    certs = await makeCerts(['root']);
    node = await startSecureNode(certs);
    const root = await connect(null);
    await root.query(`create database ${matrixDb}`);
  });

  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await node.stop();
    node.cleanup();
  });

  it("answers the privilege matrix as PostgreSQL 15 does (every user × operation), and CONNECT", async () => {
    const got = await runMatrix((user, database) => connect(user, database), 'strata');
    const diffs: string[] = [];
    for (const u of users) for (const op of ops) if (got.cells[u]?.[op.name] !== expected.cells[u]?.[op.name]) diffs.push(`${u} / ${op.name}: PostgreSQL ${expected.cells[u]?.[op.name]}, Strata ${got.cells[u]?.[op.name]}`);
    expect(diffs).toEqual([]);
    expect(got.connect).toEqual(expected.connect);
    expect(Object.keys(expected.cells).length * ops.length).toBeGreaterThan(500);
  });

  it('checks time-series tables and COPY like relational tables', async () => {
    const root = await connect(null);
    await root.query('create ts database tsdb');
    await root.query('create table tsdb.public.m (ts timestamptz not null, v float8) tags (dev int not null) primary tags (dev)');
    await root.query("insert into tsdb.public.m values ('2024-01-01 00:00:00+00', 1.5, 1)");
    await root.query("create user ts_reader password 'pw-ts_reader'");
    await root.query("create user ts_writer password 'pw-ts_writer'");
    await root.query('grant select on tsdb.public.m to ts_reader');
    await root.query('grant insert on tsdb.public.m to ts_writer');
    const reader = await connect('ts_reader', 'tsdb');
    const writer = await connect('ts_writer', 'tsdb');
    expect(await code(reader, 'select count(*) from m')).toBe('ok');
    expect(await code(reader, "insert into m values ('2024-01-01 00:01:00+00', 2, 1)")).toBe('42501');
    expect(await code(writer, "insert into m values ('2024-01-01 00:01:00+00', 2, 1)")).toBe('ok');
    expect(await code(writer, 'select count(*) from m')).toBe('42501');
    expect(await code(writer, 'select last(v) from m')).toBe('42501');
    expect(await code(reader, "delete from m where ts < '2000-01-01' and dev = 1")).toBe('42501');
    expect(await code(reader, 'compress table m')).toBe('42501');
    // COPY FROM needs INSERT, COPY TO needs SELECT (psql's \copy, the real client).
    const copy = (user: string, cmd: string, input = '') =>
      spawnSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', libpqUrl(node, certs, user, { dbname: 'tsdb' }), '-c', cmd], { input, env: { ...process.env, PGPASSWORD: `pw-${user}` }, encoding: 'utf8' });
    const rows = '2024-01-01 00:02:00+00\t3\t1\n';
    expect(copy('ts_writer', '\\copy m from stdin', rows).status).toBe(0);
    const denied = copy('ts_reader', '\\copy m from stdin', rows);
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/permission denied for table m/);
    expect(copy('ts_reader', '\\copy m to stdout').stdout).toMatch(/1\.5/);
    expect(copy('ts_writer', '\\copy m to stdout').stderr).toMatch(/permission denied for table m/);
    expect((await root.query('select count(*)::int as n from tsdb.public.m')).rows[0].n).toBe(3);
  });

  it('role DDL: dependencies, cycles, reserved names, root and admin', async () => {
    const root = await connect(null);
    await root.query("create user dep_owner password 'pw-dep_owner'");
    await root.query('create role r1');
    await root.query('create role r2');
    await root.query('grant r1 to r2');
    expect(await code(root, 'grant r2 to r1')).toBe('0LP01');
    expect(await code(root, 'grant r1 to r1')).toBe('0LP01');
    expect(await code(root, 'create role pg_x')).toBe('42939');
    expect(await code(root, 'create user r1')).toBe('42710');
    expect(await code(root, 'create user if not exists r1')).toBe('ok');
    expect(await code(root, 'drop role nosuch')).toBe('42704');
    expect(await code(root, 'drop role if exists nosuch')).toBe('ok');
    expect(await code(root, 'drop user root')).toBe('55006');
    expect(await code(root, 'drop role admin')).toBe('55006');
    expect(await code(root, 'revoke admin from root')).toBe('42501');
    expect(await code(root, 'create user su superuser')).toBe('0A000');
    await root.query('grant usage, create on schema public to dep_owner');
    const owner = await connect('dep_owner');
    await owner.query('create table dep_t (a int primary key)');
    const drop = await root.query('drop user dep_owner').catch((e: { code: string; message: string; detail: string }) => e);
    expect(drop).toMatchObject({ code: '2BP01', message: 'role "dep_owner" cannot be dropped because some objects depend on it' });
    expect((drop as { detail: string }).detail).toMatch(/owner of table dep_t/);
    expect((drop as { detail: string }).detail).toMatch(/privileges for schema public/);
    await owner.query('drop table dep_t');
    await root.query('revoke all on schema public from dep_owner');
    await owner.end();
    expect(await code(root, 'drop user dep_owner')).toBe('ok');
    // A member of admin is a superuser (CockroachDB's rule).
    await root.query("create user boss password 'pw-boss'");
    await root.query('grant admin to boss');
    const boss = await connect('boss');
    expect((await boss.query('show is_superuser')).rows[0].is_superuser).toBe('on');
    expect(await code(boss, 'select count(*) from pg_authid')).toBe('ok');
    expect(await code(boss, "set cluster setting ts.dedup.rule = 'override'")).toBe('ok');
    // ALTER … OWNER TO moves ownership (and the owner's ACL entries).
    await root.query("create user new_owner password 'pw-new_owner'");
    await root.query('create table own_t (a int primary key)');
    await root.query('grant select on own_t to boss');
    await root.query('alter table own_t owner to new_owner');
    expect((await root.query("select pg_get_userbyid(relowner) as o, relacl::text[] as a from pg_class where relname = 'own_t'")).rows[0]).toEqual({ o: 'new_owner', a: ['new_owner=arwdDxt/new_owner', 'boss=r/new_owner'] });
    expect((await root.query("select tableowner from pg_tables where tablename = 'own_t'")).rows[0].tableowner).toBe('new_owner');
    const newOwner = await connect('new_owner');
    expect(await code(newOwner, 'alter table own_t owner to boss')).toBe('42501'); // not a member of boss
    expect(await code(newOwner, 'alter table own_t add column b int')).toBe('ok');
    expect(await code(newOwner, 'drop table own_t')).toBe('ok');
    expect(await code(newOwner, 'alter schema public owner to new_owner')).toBe('42501');
    // ALL TABLES IN SCHEMA: every table and view there now (not later ones), not sequences.
    await root.query('create schema bulk');
    await root.query('create table bulk.a (x int primary key)');
    await root.query('create view bulk.v as select 1 as one');
    await root.query('create sequence bulk.q');
    await root.query('grant usage on schema bulk to new_owner');
    await root.query('grant select on all tables in schema bulk to new_owner');
    await root.query('create table bulk.later (x int primary key)');
    expect(await code(newOwner, 'select * from bulk.a')).toBe('ok');
    expect(await code(newOwner, 'select * from bulk.v')).toBe('ok');
    expect(await code(newOwner, 'select * from bulk.later')).toBe('42501');
    expect(await code(newOwner, "select nextval('bulk.q')")).toBe('42501');
    await root.query('grant usage on all sequences in schema bulk to new_owner');
    expect(await code(newOwner, "select nextval('bulk.q')")).toBe('ok');
        // Changes are transactional: a rolled-back CREATE USER leaves nothing.
    await root.query('begin');
    await root.query("create user ghost password 'x'");
    await root.query('grant r1 to ghost');
    await root.query('rollback');
    expect((await root.query("select count(*)::int as n from pg_roles where rolname = 'ghost'")).rows[0].n).toBe(0);
  });

  it("psql's \\du and \\dp, pg_roles, SHOW GRANTS and SHOW USERS, information_schema", async () => {
    const root = await connect(null);
    await root.query('create table cat_t (id int primary key)');
    await root.query("create user cat_u password 'pw-cat_u'");
    await root.query('create role cat_r');
    await root.query('grant cat_r to cat_u');
    await root.query('grant select, insert on cat_t to cat_u with grant option');
    await root.query('grant update on cat_t to cat_r');
    const psql = (user: string, cmd: string) => execFileSync('psql', ['-X', libpqUrl(node, certs, user, user === 'root' ? { sslcert: certs.client('root').cert, sslkey: certs.client('root').key } : {}), '-c', cmd], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: `pw-${user}` } });
    const du = psql('root', '\\du');
    expect(du).toMatch(/ admin +\| Superuser, Create role, Create DB, Cannot login, Replication, Bypass RLS \| \{\}/);
    expect(du).toMatch(/ cat_r +\| Cannot login +\| \{\}/);
    expect(du).toMatch(/ cat_u +\| +\| \{cat_r\}/);
    expect(du).toMatch(/ root +\| Superuser, Create role, Create DB, Replication, Bypass RLS +\| \{admin\}/);
    const dp = psql('cat_u', '\\dp cat_t');
    expect(dp).toMatch(/ public +\| cat_t +\| table +\| root=arwdDxt\/root\+/);
    expect(dp).toMatch(/cat_u=a\*r\*\/root +\+/);
    expect(dp).toMatch(/cat_r=w\/root/);
    expect((await root.query("select relacl::text[] as a from pg_class where relname = 'cat_t'")).rows[0].a).toEqual(['root=arwdDxt/root', 'cat_u=a*r*/root', 'cat_r=w/root']);
    expect((await root.query("select datacl::text[] as a from pg_database where datname = 'defaultdb'")).rows[0].a).toBeNull();
    expect((await root.query("select nspacl::text[] as a from pg_namespace where nspname = 'public'")).rows[0].a).toEqual(['root=UC/root', '=U/root']);
    const u = await connect('cat_u');
    // pg_authid holds verifiers: superusers only; pg_roles masks passwords.
    expect(await code(u, 'select * from pg_authid')).toBe('42501');
    expect((await u.query("select rolpassword from pg_roles where rolname = 'cat_u'")).rows[0].rolpassword).toBe('********');
    expect((await root.query("select rolpassword from pg_authid where rolname = 'cat_u'")).rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect((await u.query("select has_table_privilege('cat_t', 'select') as s, has_table_privilege('cat_t', 'update') as up, has_table_privilege('cat_t', 'delete') as d, pg_has_role('cat_r', 'member') as m")).rows[0]).toEqual({ s: true, up: true, d: false, m: true });
    // information_schema lists only tables the user has a privilege on.
    const visible = (await u.query("select table_name from information_schema.tables where table_schema = 'public' order by 1")).rows.map((r: { table_name: string }) => r.table_name);
    expect(visible).toContain('cat_t');
    expect(visible).not.toContain('dep_t');
    const grants = (await root.query('show grants on table cat_t')).rows.filter((r: { grantee: string }) => r.grantee !== 'root');
    expect(grants.map((r: { grantee: string; privilege_type: string; is_grantable: boolean }) => `${r.grantee}:${r.privilege_type}:${r.is_grantable}`)).toEqual(['cat_u:INSERT:true', 'cat_u:SELECT:true', 'cat_r:UPDATE:false']);
    const forRole = (await root.query('show grants on role cat_r')).rows;
    expect(forRole).toEqual([{ role_name: 'cat_r', member: 'cat_u', is_admin: false }]);
    const usersRows = (await root.query('show users')).rows as { username: string; options: string; member_of: string }[];
    expect(usersRows.find((r) => r.username === 'cat_r')).toEqual({ username: 'cat_r', options: 'NOLOGIN', member_of: '{}' });
    expect(usersRows.find((r) => r.username === 'cat_u')).toEqual({ username: 'cat_u', options: '', member_of: '{cat_r}' });
    // A grantee with the grant option passes it on; revoking it cascades (or fails without CASCADE).
    await root.query("create user cat_v password 'pw-cat_v'");
    await u.query('grant select on cat_t to cat_v');
    expect(await code(root, 'revoke grant option for select on cat_t from cat_u')).toBe('2BP01');
    await root.query('revoke grant option for select on cat_t from cat_u cascade');
    expect((await root.query("select relacl::text[] as a from pg_class where relname = 'cat_t'")).rows[0].a).toEqual(['root=arwdDxt/root', 'cat_u=a*r/root', 'cat_r=w/root']);
  });

  it('keeps users, grants and passwords across a restart', async () => {
    const root = await connect(null);
    await root.query("create user keep_u password 'pw-keep_u'");
    await root.query('create table keep_t (a int primary key)');
    await root.query('grant select on keep_t to keep_u');
    for (const c of clients.splice(0)) await c.end().catch(() => undefined);
    await node.restart();
    const u = await connect('keep_u');
    expect(await code(u, 'select * from keep_t')).toBe('ok');
    expect(await code(u, 'insert into keep_t values (1)')).toBe('42501');
  });

  it('writes audit lines for logins, failed logins and role and privilege changes (never a password)', async () => {
    const root = await connect(null);
    await root.query("create user audit_u password 'pw-audit-secret'");
    await root.query('grant select on keep_t to audit_u');
    await expect(connect('audit_u', 'defaultdb', 'wrong')).rejects.toMatchObject({ code: '28P01' });
    await connect('audit_u', 'defaultdb', 'pw-audit-secret');
    await new Promise((r) => setTimeout(r, 300));
    const lines = node.stderr.split('\n').filter((l) => l.includes('"component":"audit"'));
    const events = lines.map((l) => JSON.parse(l) as { event: string; user: string; statement?: string; role?: string; reason?: string; method?: string });
    expect(events.some((e) => e.event === 'privilege_change' && e.statement === 'CREATE USER' && e.role === 'audit_u' && e.user === 'root')).toBe(true);
    expect(events.some((e) => e.event === 'privilege_change' && e.statement === 'GRANT' && e.user === 'root')).toBe(true);
    expect(events.some((e) => e.event === 'login_failed' && e.user === 'audit_u' && e.reason === 'wrong password')).toBe(true);
    expect(events.some((e) => e.event === 'login' && e.user === 'audit_u' && e.method === 'scram-sha-256')).toBe(true);
    expect(events.some((e) => e.event === 'login' && e.user === 'root' && e.method === 'cert')).toBe(true);
    expect(node.stderr).not.toMatch(/pw-audit-secret/);
  });
});
