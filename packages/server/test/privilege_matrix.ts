/**
 * The privilege matrix: users with different grants × objects of each kind × operations. The
 * same setup and statements run on PostgreSQL 15 (privilege_record.ts writes what it answers to
 * privilege_matrix.json) and on Strata (privileges.test.ts compares). Every statement that may
 * change something runs inside BEGIN … ROLLBACK, so cells do not affect one another; the few that
 * cannot (CREATE DATABASE) are undone by their cleanup.
 */

/** The database the matrix runs in. */
export const matrixDb = 'privdb';

/** Run by the superuser (postgres / root) in matrixDb; users get passwords for Strata's SCRAM logins. */
export const setupSql: string[] = [
  'create schema s',
  'create table public.p (id int primary key, v text)',
  "insert into public.p values (1, 'one'), (2, 'two')",
  'create table s.t (id int primary key, v text)',
  "insert into s.t values (1, 'one')",
  'create view public.pv as select id, v from public.p',
  'create sequence public.seq',
  'create role readers',
  'grant select, insert on public.p to readers',
  ...['u_none', 'u_select', 'u_all', 'u_member', 'u_view', 'u_schema', 'u_db', 'u_grant', 'u_owner', 'u_update', 'u_delete'].map((u) => `create user ${u} password 'pw-${u}'`),
  "create user u_createrole createrole password 'pw-u_createrole'",
  "create user u_createdb createdb password 'pw-u_createdb'",
  'grant select on public.p to u_select',
  'grant all on public.p to u_all',
  'grant usage on schema s to u_all',
  'grant all on s.t to u_all',
  'grant usage on sequence public.seq to u_all',
  'grant readers to u_member',
  'grant select on public.pv to u_view',
  'grant usage, create on schema s to u_schema',
  'grant create on database privdb to u_db',
  'grant select on public.p to u_grant with grant option',
  'grant usage, create on schema s to u_owner',
  'grant update on public.p to u_update',
  'grant delete on public.p to u_delete',
];

/** Run as u_owner after the setup: an object u_owner owns. */
export const ownerSetupSql: string[] = ['create table s.owned (a int primary key, b text)', "insert into s.owned values (1, 'x')"];

export const users = ['u_none', 'u_select', 'u_all', 'u_member', 'u_view', 'u_schema', 'u_db', 'u_grant', 'u_owner', 'u_update', 'u_delete', 'u_createrole', 'u_createdb'];

export interface MatrixOp {
  name: string;
  sql: string;
  /** Run inside BEGIN … ROLLBACK (default). */
  txn?: boolean;
  /** Run by the superuser after a success (for statements outside a transaction). */
  cleanup?: string;
}

export const ops: MatrixOp[] = [
  { name: 'select table', sql: 'select count(*) from public.p' },
  { name: 'insert table', sql: "insert into public.p values (100, 'x')" },
  { name: 'update table, no where', sql: "update public.p set v = 'y'" },
  { name: 'update table, where', sql: "update public.p set v = 'y' where id = 1" },
  { name: 'update table, returning', sql: "update public.p set v = 'y' returning id" },
  { name: 'delete table, no where', sql: 'delete from public.p' },
  { name: 'delete table, where', sql: 'delete from public.p where id = 1' },
  { name: 'insert … select', sql: 'insert into public.p select id + 100, v from public.p' },
  { name: 'upsert (on conflict do update)', sql: "insert into public.p values (1, 'z') on conflict (id) do update set v = excluded.v" },
  { name: 'truncate table', sql: 'truncate public.p' },
  { name: 'select view', sql: 'select count(*) from public.pv' },
  { name: 'select table in schema s', sql: 'select count(*) from s.t' },
  { name: 'insert table in schema s', sql: "insert into s.t values (100, 'x')" },
  { name: 'join two tables', sql: 'select count(*) from public.p join s.t on p.id = t.id' },
  { name: 'subquery on a table', sql: 'select (select count(*) from public.p)' },
  { name: 'create table in public', sql: 'create table public.newt (a int primary key)' },
  { name: 'create table in schema s', sql: 'create table s.newt (a int primary key)' },
  { name: 'create view in schema s', sql: 'create view s.newv as select 1 as one' },
  { name: 'create schema', sql: 'create schema news' },
  { name: 'create database', sql: 'create database newdb', txn: false, cleanup: 'drop database newdb' },
  { name: 'drop table (not owner)', sql: 'drop table public.p' },
  { name: 'alter table (not owner)', sql: 'alter table public.p add column c int' },
  { name: 'create index (not owner)', sql: 'create index p_v_idx on public.p (v)' },
  { name: 'drop schema (not owner)', sql: 'drop schema s cascade' },
  { name: 'select owned table', sql: 'select count(*) from s.owned' },
  { name: 'alter owned table', sql: 'alter table s.owned add column c int' },
  { name: 'create index on owned table', sql: 'create index owned_b_idx on s.owned (b)' },
  { name: 'drop owned table', sql: 'drop table s.owned' },
  { name: 'grant on owned table', sql: 'grant select on s.owned to u_none' },
  { name: 'grant on table', sql: 'grant select on public.p to u_none' },
  { name: 'revoke on table', sql: 'revoke select on public.p from u_select' },
  { name: 'nextval', sql: "select nextval('public.seq')" },
  { name: 'pg_authid', sql: 'select count(*) from pg_catalog.pg_authid' },
  { name: 'pg_roles', sql: 'select count(*) from pg_catalog.pg_roles' },
  { name: 'create user', sql: "create user newu password 'x'" },
  { name: 'create role', sql: 'create role newr' },
  { name: 'alter own password', sql: "alter user current_user password 'pw-new'" },
  { name: 'alter other user', sql: 'alter user u_none createdb' },
  { name: 'drop user', sql: 'drop user u_none' },
  { name: 'grant role (no admin option)', sql: 'grant readers to u_none' },
  { name: 'set cluster setting / alter system', sql: '-- per system', txn: true },
];

/** Statements that are spelled differently on the two systems (same meaning). */
export function sqlFor(op: MatrixOp, system: 'postgres' | 'strata'): string {
  if (op.name === 'set cluster setting / alter system') {
    // Both need a superuser; PostgreSQL's ALTER SYSTEM cannot run in a transaction block, so the
    // check is made with an equivalent superuser-only statement that can.
    return system === 'postgres' ? "set session_replication_role = 'replica'" : "set cluster setting ts.dedup.rule = 'merge'";
  }
  return op.sql;
}

/** The CONNECT privilege: a database PUBLIC may not connect to, open to u_all only. */
export const lockedDbSetup: string[] = ['create database lockeddb', 'revoke connect on database lockeddb from public', 'grant connect on database lockeddb to u_all'];

export type MatrixResult = Record<string, Record<string, string>>;
