/**
 * The role catalogs PostgreSQL 15 has (pg_roles, pg_authid, pg_user, pg_shadow, pg_auth_members,
 * information_schema.table_privileges), and the owner/ACL columns other catalogs show (relowner,
 * relacl, datdba, datacl, nspowner, nspacl), from the auth snapshot of the running statement.
 * Like PostgreSQL: pg_authid and pg_shadow (which hold password verifiers) are readable only by
 * superusers (the planner's privilege collector refuses them to others); pg_roles and pg_user
 * show '********' for passwords; information_schema lists only what the user has a privilege on.
 */
import type { CatalogView } from '../catalog/catalog.js';
import type { TableDesc } from '../catalog/descriptors.js';
import type { ExecCtx, Row } from '../exec/context.js';
import { T, arrayOf } from '../types/types.js';
import type { SqlType } from '../types/types.js';
import { publicRoleOid, rootRoleOid } from './constants.js';
import { Priv, privilegeNames } from './privileges.js';
import type { ObjectKind } from './privileges.js';
import type { AuthView, RoleRecord } from './view.js';

export interface AuthCatalogDef {
  schema: 'pg_catalog' | 'information_schema';
  name: string;
  cols: [string, SqlType][];
  rows: (ctx: ExecCtx, v: CatalogView, dbId: number) => Iterable<Row>;
}

const b = T.bool;
const o = T.oid;
const n = T.name;
const txt = T.text;
const i4 = T.int4;
const ts = T.timestamptz;

/** The statement's auth snapshot; an empty one where none was loaded (no session: tests). */
function authOf(ctx: ExecCtx): AuthView | null {
  return ctx.auth ?? null;
}

function roles(ctx: ExecCtx): RoleRecord[] {
  const a = authOf(ctx);
  if (!a) return [{ oid: rootRoleOid, name: 'root', login: true, createdb: true, createrole: true, superuser: true, password: null }];
  return [...a.byOid.values()].sort((x, y) => x.oid - y.oid);
}

/** Superuser attributes: root and admin carry them (members of admin have the power, not the attribute). */
const roleRow = (r: RoleRecord) => ({ sup: r.superuser, createrole: r.superuser || r.createrole, createdb: r.superuser || r.createdb });

export const authCatalogDefs: AuthCatalogDef[] = [
  {
    schema: 'pg_catalog',
    name: 'pg_roles',
    cols: [['rolname', n], ['rolsuper', b], ['rolinherit', b], ['rolcreaterole', b], ['rolcreatedb', b], ['rolcanlogin', b], ['rolreplication', b], ['rolconnlimit', i4], ['rolpassword', txt], ['rolvaliduntil', ts], ['rolbypassrls', b], ['rolconfig', arrayOf(txt)], ['oid', o]],
    rows: (ctx) =>
      roles(ctx).map((r) => {
        const x = roleRow(r);
        return [r.name, x.sup, true, x.createrole, x.createdb, r.login, x.sup, -1, '********', null, x.sup, null, r.oid];
      }),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_authid',
    cols: [['oid', o], ['rolname', n], ['rolsuper', b], ['rolinherit', b], ['rolcreaterole', b], ['rolcreatedb', b], ['rolcanlogin', b], ['rolreplication', b], ['rolbypassrls', b], ['rolconnlimit', i4], ['rolpassword', txt], ['rolvaliduntil', ts]],
    rows: (ctx) =>
      roles(ctx).map((r) => {
        const x = roleRow(r);
        return [r.oid, r.name, x.sup, true, x.createrole, x.createdb, r.login, x.sup, x.sup, -1, r.password, null];
      }),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_user',
    cols: [['usename', n], ['usesysid', o], ['usecreatedb', b], ['usesuper', b], ['userepl', b], ['usebypassrls', b], ['passwd', txt], ['valuntil', ts], ['useconfig', arrayOf(txt)]],
    rows: (ctx) =>
      roles(ctx)
        .filter((r) => r.login)
        .map((r) => {
          const x = roleRow(r);
          return [r.name, r.oid, x.createdb, x.sup, x.sup, x.sup, '********', null, null];
        }),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_shadow',
    cols: [['usename', n], ['usesysid', o], ['usecreatedb', b], ['usesuper', b], ['userepl', b], ['usebypassrls', b], ['passwd', txt], ['valuntil', ts], ['useconfig', arrayOf(txt)]],
    rows: (ctx) =>
      roles(ctx)
        .filter((r) => r.login)
        .map((r) => {
          const x = roleRow(r);
          return [r.name, r.oid, x.createdb, x.sup, x.sup, x.sup, r.password, null, null];
        }),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_auth_members',
    cols: [['roleid', o], ['member', o], ['grantor', o], ['admin_option', b]],
    rows: function* (ctx) {
      const a = authOf(ctx);
      if (!a) return;
      for (const ms of a.membersOf.values()) for (const m of ms) yield [m.roleOid, m.memberOid, m.grantorOid, m.admin];
    },
  },
  {
    schema: 'information_schema',
    name: 'table_privileges',
    cols: [['grantor', n], ['grantee', n], ['table_catalog', n], ['table_schema', n], ['table_name', n], ['privilege_type', txt], ['is_grantable', txt], ['with_hierarchy', txt]],
    rows: function* (ctx, v, dbId) {
      const a = authOf(ctx);
      if (!a) return;
      const me = a.role(ctx.session.user)?.oid ?? -1;
      const mine = a.rolesOf(me);
      const all = a.isSuperuser(me);
      for (const s of v.schemasOf(dbId)) {
        for (const t of [...(v.tables.get(s.id)?.values() ?? [])].sort((x, y) => x.id - y.id)) {
          const kind: ObjectKind = t.kind === 'sequence' ? 'sequence' : 'table';
          if (kind === 'sequence') continue;
          for (const it of a.acl(kind, t.id)) {
            if (!all && !(it.grantee === publicRoleOid || mine.has(it.grantee) || mine.has(it.grantor))) continue;
            for (const p of privilegeNames(it.privs)) {
              yield [a.roleName(it.grantor), it.grantee === publicRoleOid ? 'PUBLIC' : a.roleName(it.grantee), ctx.session.database, s.name, t.name, p, it.grantable & Priv[p] ? 'YES' : 'NO', p === 'SELECT' ? 'YES' : 'NO'];
            }
          }
        }
      }
    },
  },
];

/** relowner / datdba / nspowner. */
export function ownerOid(ctx: ExecCtx, objectId: number): number {
  return authOf(ctx)?.owner(objectId) ?? rootRoleOid;
}

/** tableowner, schema_owner…: the owner's name. */
export function ownerName(ctx: ExecCtx, objectId: number): string {
  const a = authOf(ctx);
  return a ? a.roleName(a.owner(objectId)) : 'root';
}

/** relacl / datacl / nspacl in aclitem text form; null while the default ACL applies. */
export function aclColumn(ctx: ExecCtx, kind: ObjectKind, objectId: number, publicSchema = false): string[] | null {
  const a = authOf(ctx);
  if (!a) return null;
  return a.aclText(kind, objectId, publicSchema);
}

export function tableAclKind(t: TableDesc): ObjectKind {
  return t.kind === 'sequence' ? 'sequence' : 'table';
}

/** information_schema shows a table only to roles holding some privilege on it (or superusers). */
export function canSeeTable(ctx: ExecCtx, t: TableDesc): boolean {
  const a = authOf(ctx);
  if (!a) return true;
  const me = a.role(ctx.session.user)?.oid ?? -1;
  return a.isOwner(me, t.id) || a.privileges(me, tableAclKind(t), t.id) !== 0;
}

/** pg_get_userbyid. */
export function roleNameByOid(ctx: ExecCtx, oid: number): string {
  const a = authOf(ctx);
  if (!a) return oid === rootRoleOid ? 'root' : `unknown (OID=${oid})`;
  return a.roleName(oid);
}
