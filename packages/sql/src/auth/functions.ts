/**
 * PostgreSQL's access privilege inquiry functions (functions-info.html, Table 9.69):
 * has_table_privilege, has_sequence_privilege, has_column_privilege (as the table's),
 * has_schema_privilege, has_database_privilege and pg_has_role, each with an optional leading
 * user (name or OID), the object by name or OID, and a privilege list such as
 * 'SELECT, INSERT WITH GRANT OPTION' (true if any listed privilege is held).
 */
import { PgError, SqlState } from '@strata/common';
import type { CatalogView } from '../catalog/catalog.js';
import type { TableDesc } from '../catalog/descriptors.js';
import type { Value } from '../types/types.js';
import { aclPrivileges, privilegeByName } from './privileges.js';
import type { ObjectKind } from './privileges.js';
import type { AuthView } from './view.js';

export const privilegeFunctionNames = new Set(['has_table_privilege', 'has_sequence_privilege', 'has_column_privilege', 'has_schema_privilege', 'has_database_privilege', 'has_any_column_privilege', 'pg_has_role']);

export interface PrivilegeFunctionEnv {
  auth: AuthView;
  catalog: CatalogView;
  user: string;
  database: string;
  resolveTable(name: string): TableDesc | null;
}

function roleOf(env: PrivilegeFunctionEnv, v: Value): number {
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
  const r = env.auth.role(String(v));
  if (!r) throw new PgError(SqlState.UndefinedObject, `role "${String(v)}" does not exist`);
  return r.oid;
}

function parsePrivileges(text: string, kind: ObjectKind | 'role'): { mask: number; grantOption: boolean }[] {
  return text.split(',').map((p) => {
    const m = /^\s*([a-z ]+?)(\s+with\s+(grant|admin)\s+option)?\s*$/i.exec(p);
    const word = (m?.[1] ?? '').trim().toUpperCase();
    if (kind === 'role') {
      if (!['MEMBER', 'USAGE', 'SET'].includes(word)) throw new PgError(SqlState.InvalidParameterValue, `unrecognized privilege type: "${p.trim()}"`);
      return { mask: word === 'MEMBER' ? 1 : 2, grantOption: !!m?.[2] };
    }
    const bit = privilegeByName(word);
    if (!m || bit === undefined) throw new PgError(SqlState.InvalidParameterValue, `unrecognized privilege type: "${p.trim()}"`);
    return { mask: bit, grantOption: !!m[2] };
  });
}

/** Evaluates one of privilegeFunctionNames; null arguments give null (the functions are strict). */
export function privilegeFunction(name: string, args: Value[], env: PrivilegeFunctionEnv): boolean | null {
  if (args.some((a) => a === null)) return null;
  const explicitUser = name === 'has_column_privilege' ? args.length === 4 : args.length === 3;
  const user = explicitUser ? roleOf(env, args[0] as Value) : (env.auth.role(env.user)?.oid ?? -1);
  const rest = explicitUser ? args.slice(1) : args;
  const obj = rest[0] as Value;
  const privText = String(rest[rest.length - 1]);
  const a = env.auth;
  if (name === 'pg_has_role') {
    const role = roleOf(env, obj);
    return parsePrivileges(privText, 'role').some((p) => (p.grantOption ? a.isSuperuser(user) || (a.memberOf.get(user) ?? []).some((m) => m.roleOid === role && m.admin) : a.isMemberOf(user, role)));
  }
  let kind: ObjectKind;
  let id: number;
  let publicSchema = false;
  if (name === 'has_schema_privilege') {
    kind = 'schema';
    const db = env.catalog.database(env.database);
    const s = typeof obj === 'number' || typeof obj === 'bigint' ? env.catalog.byId.get(Number(obj)) : db ? env.catalog.schema(db.id, String(obj)) : undefined;
    if (!s || s.kind !== 'schema') {
      if (String(obj) === 'pg_catalog' || String(obj) === 'information_schema') return parsePrivileges(privText, kind).every((p) => p.mask === privilegeByName('USAGE'));
      throw new PgError(SqlState.InvalidSchemaName, `schema "${String(obj)}" does not exist`);
    }
    id = s.id;
    publicSchema = s.name === 'public';
  } else if (name === 'has_database_privilege') {
    kind = 'database';
    const d = typeof obj === 'number' || typeof obj === 'bigint' ? env.catalog.databaseById(Number(obj)) : env.catalog.database(String(obj));
    if (!d) throw new PgError(SqlState.InvalidCatalogName, `database "${String(obj)}" does not exist`);
    id = d.id;
  } else {
    const t = typeof obj === 'number' || typeof obj === 'bigint' ? (env.catalog.tableById(Number(obj)) ?? null) : env.resolveTable(String(obj));
    if (!t) {
      if (typeof obj === 'number' || typeof obj === 'bigint') return null; // PostgreSQL: NULL for an OID that names nothing
      throw new PgError(SqlState.UndefinedTable, `relation "${String(obj)}" does not exist`);
    }
    kind = t.kind === 'sequence' ? 'sequence' : 'table';
    id = t.id;
  }
  const wanted = parsePrivileges(privText, kind);
  if (a.isSuperuser(user)) return true;
  const held = aclPrivileges(a.acl(kind, id, publicSchema), a.rolesOf(user));
  return wanted.some((p) => ((p.grantOption ? held.grantable : held.privs) & p.mask) !== 0);
}
