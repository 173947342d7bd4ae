/**
 * CREATE/ALTER/DROP USER|ROLE, GRANT/REVOKE (roles and object privileges), SHOW GRANTS, SHOW
 * USERS — run inside the statement's transaction like any schema change, with PostgreSQL 15's
 * rules and messages (user.c, aclchk.c):
 *
 * - CREATE/ALTER/DROP ROLE need CREATEROLE (or a superuser); roles with superuser power (root,
 *   admin, members of admin) are changed only by superusers; anyone may change their own password.
 * - GRANT role needs a superuser, CREATEROLE, or the ADMIN OPTION on the role; membership cycles
 *   are refused (0LP01).
 * - GRANT on an object is made by its owner (a superuser or member of the owner grants as the
 *   owner, as in PostgreSQL) or by a holder of the grant option; what it cannot grant is a
 *   warning, nothing at all 42501.
 * - DROP ROLE refuses a role that owns objects or holds privileges (2BP01, listing them).
 */
import { PgError, SqlState } from '@strata/common';
import type { Txn } from '@strata/kv';
import type { CatalogView } from '../catalog/catalog.js';
import type { TableDesc } from '../catalog/descriptors.js';
import type { Column, Row } from '../exec/context.js';
import { T } from '../types/types.js';
import type { AuthStatement, GrantTarget, RoleOption, RoleSpec } from './ast.js';
import { auditChange } from './audit.js';
import { adminRoleOid, publicRoleOid, roleNameBytesMax, rootRoleOid } from './constants.js';
import { Priv, aclGrant, aclPrivileges, aclRevoke, allPrivileges, permissionDenied, privilegeByName, privilegeNames } from './privileges.js';
import type { AclItem, ObjectKind } from './privileges.js';
import { makeVerifier, parseVerifier } from './scram.js';
import type { AuthStore } from './store.js';
import type { AuthView, RoleRecord } from './view.js';

export interface AuthStatementContext {
  txn: Txn;
  store: AuthStore;
  /** Read through txn. */
  auth: AuthView;
  /** The catalog through txn. */
  view: CatalogView;
  allocateOid(): number;
  /** current_user and session_user (the same: SET ROLE is not supported). */
  user: string;
  database: string;
  /** Resolves a table, view or sequence name (throws 42P01 / 3F000). */
  findTable(parts: string[]): { desc: TableDesc; schema: string; db: string };
  notice(msg: string): void;
  warning(msg: string): void;
}

export interface AuthResult {
  rows: Row[];
  tag: string;
}

const undefinedRole = (name: string) => new PgError(SqlState.UndefinedObject, `role "${name}" does not exist`);

function me(c: AuthStatementContext): number {
  return c.auth.role(c.user)?.oid ?? -1;
}

function resolveRole(c: AuthStatementContext, name: string): RoleRecord {
  const r = c.auth.role(name);
  if (!r) throw undefinedRole(name);
  return r;
}

/** A grantee's OID (PUBLIC is 0). */
function granteeOid(c: AuthStatementContext, s: RoleSpec): number {
  switch (s.kind) {
    case 'public':
      return publicRoleOid;
    case 'current_user':
    case 'session_user':
      return resolveRole(c, c.user).oid;
    case 'name':
      return resolveRole(c, s.name).oid;
  }
}

function specName(c: AuthStatementContext, s: RoleSpec): string {
  return s.kind === 'name' ? s.name : s.kind === 'public' ? 'public' : c.user;
}

/** Whether a role has superuser power (changing it needs a superuser). */
function isSuperRole(c: AuthStatementContext, oid: number): boolean {
  return c.auth.isSuperuser(oid);
}

export async function runAuthStatement(stmt: AuthStatement, c: AuthStatementContext): Promise<AuthResult> {
  switch (stmt.kind) {
    case 'createRole':
      return createRole(stmt, c);
    case 'alterRole':
      return alterRole(stmt, c);
    case 'dropRole':
      return dropRole(stmt, c);
    case 'grantRole':
      return grantRole(stmt, c);
    case 'revokeRole':
      return revokeRole(stmt, c);
    case 'grant':
    case 'revoke':
      return grantObjects(stmt, c);
    case 'showGrants':
      return showGrants(stmt, c);
    case 'showRoles':
      return showRoles(c);
    case 'alterOwner':
      return alterOwner(stmt, c);
  }
}

function checkRoleName(name: string): void {
  if (name.startsWith('pg_')) throw new PgError(SqlState.ReservedName, `role name "${name}" is reserved`, { detail: 'Role names starting with "pg_" are reserved.' });
  if (Buffer.byteLength(name) > roleNameBytesMax) throw new PgError(SqlState.ProgramLimitExceeded, `role name "${name}" is too long (at most ${roleNameBytesMax} bytes)`);
}

async function passwordOf(value: string | null): Promise<string | null> {
  if (value === null || value === '') return null; // PostgreSQL: an empty password means none
  if (value.startsWith('SCRAM-SHA-256$')) {
    if (!parseVerifier(value)) throw new PgError(SqlState.InvalidParameterValue, 'invalid SCRAM-SHA-256 verifier');
    return value;
  }
  if (/^md5[0-9a-f]{32}$/.test(value)) throw new PgError(SqlState.FeatureNotSupported, 'MD5 password hashes are not supported: give the password, or a SCRAM-SHA-256 verifier');
  return makeVerifier(value);
}

function optionsSeen(opts: RoleOption[]): void {
  const seen = new Set<string>();
  for (const o of opts) {
    if (seen.has(o.kind)) throw new PgError(SqlState.SyntaxError, 'conflicting or redundant options');
    seen.add(o.kind);
  }
}

async function createRole(s: AuthStatement & { kind: 'createRole' }, c: AuthStatementContext): Promise<AuthResult> {
  const tag = 'CREATE ROLE'; // PostgreSQL's tag for CREATE USER too
  const self = me(c);
  if (!c.auth.canCreateRole(self)) throw new PgError(SqlState.InsufficientPrivilege, 'permission denied to create role');
  checkRoleName(s.name);
  optionsSeen(s.options);
  if (c.auth.role(s.name)) {
    if (s.ifNotExists) {
      c.notice(`role "${s.name}" already exists, skipping`);
      return { rows: [], tag };
    }
    throw new PgError(SqlState.DuplicateObject, `role "${s.name}" already exists`);
  }
  const r: RoleRecord = { oid: c.allocateOid(), name: s.name, login: s.isUser, createdb: false, createrole: false, superuser: false, password: null };
  const memberships: { role: number; member: number; admin: boolean }[] = [];
  for (const o of s.options) {
    if (o.kind === 'password') r.password = await passwordOf(o.value);
    else if (o.kind === 'login' || o.kind === 'createdb' || o.kind === 'createrole') r[o.kind] = o.value;
    else if (!('roles' in o)) continue;
    else if (o.kind === 'inRole') for (const n of o.roles) memberships.push({ role: resolveRole(c, n).oid, member: r.oid, admin: false });
    else for (const n of o.roles) memberships.push({ role: r.oid, member: resolveRole(c, n).oid, admin: o.kind === 'admin' });
  }
  c.store.putRole(c.txn, r);
  for (const m of memberships) {
    if (m.role !== r.oid) checkCanGrantRole(c, self, m.role);
    c.store.putMember(c.txn, { roleOid: m.role, memberOid: m.member, admin: m.admin, grantorOid: self });
  }
  auditChange(c.txn, c.user, `CREATE ${s.isUser ? 'USER' : 'ROLE'}`, { role: s.name, login: r.login, createdb: r.createdb, createrole: r.createrole, password: r.password !== null });
  return { rows: [], tag };
}

async function alterRole(s: AuthStatement & { kind: 'alterRole' }, c: AuthStatementContext): Promise<AuthResult> {
  const name = specName(c, s.role);
  const target = c.auth.role(name);
  if (!target) {
    if (s.ifExists) {
      c.notice(`role "${name}" does not exist, skipping`);
      return { rows: [], tag: 'ALTER ROLE' };
    }
    throw undefinedRole(name);
  }
  optionsSeen(s.options);
  const self = me(c);
  const superuser = c.auth.isSuperuser(self);
  if (s.renameTo !== null) {
    if (target.oid === rootRoleOid || target.oid === adminRoleOid) throw new PgError(SqlState.InsufficientPrivilege, `role "${target.name}" cannot be renamed`);
    if (target.oid === self) throw new PgError(SqlState.FeatureNotSupported, 'session user cannot be renamed');
    if (!c.auth.canCreateRole(self) || (isSuperRole(c, target.oid) && !superuser)) throw new PgError(SqlState.InsufficientPrivilege, 'permission denied to rename role');
    checkRoleName(s.renameTo);
    if (c.auth.role(s.renameTo)) throw new PgError(SqlState.DuplicateObject, `role "${s.renameTo}" already exists`);
    c.store.putRole(c.txn, { ...target, name: s.renameTo });
    auditChange(c.txn, c.user, 'ALTER ROLE RENAME', { role: target.name, to: s.renameTo });
    return { rows: [], tag: 'ALTER ROLE' };
  }
  const onlyOwnPassword = target.oid === self && s.options.every((o) => o.kind === 'password');
  if (isSuperRole(c, target.oid) && !superuser) throw new PgError(SqlState.InsufficientPrivilege, 'must be superuser to alter superuser roles or change superuser attribute');
  if (!onlyOwnPassword && !c.auth.canCreateRole(self)) throw new PgError(SqlState.InsufficientPrivilege, 'permission denied');
  const next: RoleRecord = { ...target };
  for (const o of s.options) {
    if (o.kind === 'password') next.password = await passwordOf(o.value);
    else if (o.kind === 'login' || o.kind === 'createdb' || o.kind === 'createrole') {
      if (target.oid === rootRoleOid && o.kind === 'login' && !o.value) throw new PgError(SqlState.InsufficientPrivilege, 'root must be able to log in');
      next[o.kind] = o.value;
    }
  }
  c.store.putRole(c.txn, next);
  auditChange(c.txn, c.user, 'ALTER ROLE', { role: target.name, login: next.login, createdb: next.createdb, createrole: next.createrole, passwordChanged: s.options.some((o) => o.kind === 'password') });
  return { rows: [], tag: 'ALTER ROLE' };
}

/** What depends on a role (DROP ROLE refuses while anything does), as PostgreSQL's detail lines. */
function dependents(c: AuthStatementContext, oid: number): string[] {
  const out: string[] = [];
  const describe = (id: number): string | null => {
    const d = c.view.byId.get(id);
    if (!d) return null;
    return d.kind === 'database' ? `database ${d.name}` : d.kind === 'schema' ? `schema ${d.name}` : `${d.kind === 'ts' ? 'table' : d.kind} ${d.name}`;
  };
  for (const rec of c.auth.acls.values()) {
    const what = describe(rec.objectId);
    if (!what) continue;
    if (rec.owner === oid) out.push(`owner of ${what}`);
    if (rec.acl?.some((it) => it.grantee === oid || it.grantor === oid)) out.push(`privileges for ${what}`);
  }
  return out;
}

function dropRole(s: AuthStatement & { kind: 'dropRole' }, c: AuthStatementContext): AuthResult {
  const self = me(c);
  if (!c.auth.canCreateRole(self)) throw new PgError(SqlState.InsufficientPrivilege, 'permission denied to drop role');
  for (const name of s.names) {
    const r = c.auth.role(name);
    if (!r) {
      if (s.ifExists) {
        c.notice(`role "${name}" does not exist, skipping`);
        continue;
      }
      throw undefinedRole(name);
    }
    if (r.oid === rootRoleOid || r.oid === adminRoleOid) throw new PgError(SqlState.ObjectInUse, `cannot drop role ${r.name} because it is required by the database system`);
    if (r.oid === self) throw new PgError(SqlState.ObjectInUse, 'current user cannot be dropped');
    if (isSuperRole(c, r.oid) && !c.auth.isSuperuser(self)) throw new PgError(SqlState.InsufficientPrivilege, 'must be superuser to drop superusers');
    const deps = dependents(c, r.oid);
    if (deps.length > 0) throw new PgError(SqlState.DependentObjectsStillExist, `role "${r.name}" cannot be dropped because some objects depend on it`, { detail: deps.join('\n') });
    c.store.deleteRole(c.txn, r.oid);
    for (const m of c.auth.memberOf.get(r.oid) ?? []) c.store.deleteMember(c.txn, m.roleOid, m.memberOid);
    for (const m of c.auth.membersOf.get(r.oid) ?? []) c.store.deleteMember(c.txn, m.roleOid, m.memberOid);
    auditChange(c.txn, c.user, `DROP ${s.isUser ? 'USER' : 'ROLE'}`, { role: r.name });
  }
  return { rows: [], tag: 'DROP ROLE' };
}

/** Superusers grant any role; CREATEROLE any non-superuser role; others need its admin option. */
function checkCanGrantRole(c: AuthStatementContext, self: number, role: number): void {
  if (c.auth.isSuperuser(self)) return;
  const name = c.auth.roleName(role);
  if (isSuperRole(c, role)) throw new PgError(SqlState.InsufficientPrivilege, `must be superuser to alter superusers`);
  if (c.auth.byOid.get(self)?.createrole) return;
  const adminOf = (m: number) => (c.auth.memberOf.get(m) ?? []).some((x) => x.roleOid === role && x.admin);
  for (const r of c.auth.rolesOf(self)) if (adminOf(r)) return;
  throw new PgError(SqlState.InsufficientPrivilege, `must have admin option on role "${name}"`);
}

function grantRole(s: AuthStatement & { kind: 'grantRole' }, c: AuthStatementContext): AuthResult {
  const self = me(c);
  for (const roleName of s.roles) {
    const role = resolveRole(c, roleName);
    checkCanGrantRole(c, self, role.oid);
    for (const spec of s.members) {
      if (spec.kind === 'public') throw new PgError(SqlState.InvalidGrantOperation, 'role "public" cannot have explicit members');
      const member = granteeOid(c, spec);
      const memberName = c.auth.roleName(member);
      // A cycle (including granting a role to itself) would make a role its own member.
      if (c.auth.isMemberOf(role.oid, member)) throw new PgError(SqlState.InvalidGrantOperation, `role "${role.name}" is a member of role "${memberName}"`);
      const existing = (c.auth.memberOf.get(member) ?? []).find((m) => m.roleOid === role.oid);
      if (existing && (existing.admin || !s.adminOption)) {
        c.notice(`role "${memberName}" is already a member of role "${role.name}"`);
        continue;
      }
      c.store.putMember(c.txn, { roleOid: role.oid, memberOid: member, admin: s.adminOption, grantorOid: self });
      auditChange(c.txn, c.user, 'GRANT ROLE', { role: role.name, member: memberName, adminOption: s.adminOption });
    }
  }
  return { rows: [], tag: 'GRANT ROLE' };
}

function revokeRole(s: AuthStatement & { kind: 'revokeRole' }, c: AuthStatementContext): AuthResult {
  const self = me(c);
  for (const roleName of s.roles) {
    const role = resolveRole(c, roleName);
    checkCanGrantRole(c, self, role.oid);
    for (const spec of s.members) {
      const member = granteeOid(c, spec);
      const memberName = c.auth.roleName(member);
      if (role.oid === adminRoleOid && member === rootRoleOid) throw new PgError(SqlState.InsufficientPrivilege, 'root must remain a member of admin');
      const existing = (c.auth.memberOf.get(member) ?? []).find((m) => m.roleOid === role.oid);
      if (!existing) {
        c.warning(`role "${memberName}" is not a member of role "${role.name}"`);
        continue;
      }
      if (s.adminOptionOnly) c.store.putMember(c.txn, { ...existing, admin: false });
      else c.store.deleteMember(c.txn, role.oid, member);
      auditChange(c.txn, c.user, s.adminOptionOnly ? 'REVOKE ADMIN OPTION' : 'REVOKE ROLE', { role: role.name, member: memberName });
    }
  }
  return { rows: [], tag: 'REVOKE ROLE' };
}

interface GrantObject {
  kind: ObjectKind;
  id: number;
  name: string;
  publicSchema: boolean;
}

/** The objects a GRANT/REVOKE names. */
function targetObjects(t: GrantTarget, c: AuthStatementContext): GrantObject[] {
  const v = c.view;
  const dbId = v.database(c.database)?.id ?? -1;
  const schemaByName = (name: string) => {
    const s = v.schema(dbId, name);
    if (!s) throw new PgError(SqlState.InvalidSchemaName, `schema "${name}" does not exist`);
    return s;
  };
  switch (t.kind) {
    case 'database':
      return t.names.map((n) => {
        const d = v.database(n);
        if (!d) throw new PgError(SqlState.InvalidCatalogName, `database "${n}" does not exist`);
        return { kind: 'database', id: d.id, name: d.name, publicSchema: false };
      });
    case 'schema':
      return t.names.map((n) => {
        const s = schemaByName(n);
        return { kind: 'schema', id: s.id, name: s.name, publicSchema: s.name === 'public' };
      });
    case 'table':
    case 'sequence':
      return t.names.map((parts) => {
        const { desc } = c.findTable(parts);
        if (t.kind === 'sequence' && desc.kind !== 'sequence') throw new PgError(SqlState.WrongObjectType, `"${desc.name}" is not a sequence`);
        return { kind: desc.kind === 'sequence' ? 'sequence' : 'table', id: desc.id, name: desc.name, publicSchema: false };
      });
    case 'allTablesInSchema':
    case 'allSequencesInSchema': {
      const out: GrantObject[] = [];
      for (const n of t.schemas) {
        const s = schemaByName(n);
        for (const d of [...(v.tables.get(s.id)?.values() ?? [])].sort((a, b) => a.id - b.id)) {
          const isSeq = d.kind === 'sequence';
          if (isSeq === (t.kind === 'allSequencesInSchema')) out.push({ kind: isSeq ? 'sequence' : 'table', id: d.id, name: d.name, publicSchema: false });
        }
      }
      return out;
    }
  }
}

function privilegeMask(privs: string[] | 'all', o: GrantObject, targetKind: GrantTarget['kind'], c: AuthStatementContext): number {
  if (privs === 'all') return allPrivileges[o.kind];
  let mask = 0;
  for (const p of privs) {
    const bit = privilegeByName(p);
    if (bit === undefined) throw new PgError(SqlState.SyntaxError, `unrecognized privilege type "${p}"`);
    mask |= bit;
  }
  const valid = allPrivileges[o.kind];
  if ((mask & ~valid) !== 0) {
    // PostgreSQL: GRANT … ON TABLE naming a sequence grants what applies, with a warning.
    if (o.kind === 'sequence' && (targetKind === 'table' || targetKind === 'allTablesInSchema')) {
      c.warning(`sequence "${o.name}" only supports USAGE, SELECT, and UPDATE privileges`);
      return mask & valid;
    }
    const bad = privilegeNames(mask & ~valid)[0] as string;
    throw new PgError(SqlState.InvalidGrantOperation, `invalid privilege type ${bad} for ${o.kind}`);
  }
  return mask;
}

function grantObjects(s: AuthStatement & { kind: 'grant' | 'revoke' }, c: AuthStatementContext): AuthResult {
  const self = me(c);
  const isGrant = s.kind === 'grant';
  const objects = targetObjects(s.target, c);
  const grantees = s.grantees.map((g) => granteeOid(c, g));
  if (isGrant && s.grantOption && grantees.includes(publicRoleOid)) throw new PgError(SqlState.InvalidGrantOperation, 'grant options can only be granted to roles');
  for (const o of objects) {
    const mask = privilegeMask(s.privileges, o, s.target.kind, c);
    const rec = c.auth.acls.get(o.id);
    const owner = rec?.owner ?? rootRoleOid;
    let acl: AclItem[] = c.auth.acl(o.kind, o.id, o.publicSchema);
    // A superuser or a member of the owner acts as the owner (PostgreSQL's select_best_grantor).
    const asOwner = c.auth.isSuperuser(self) || c.auth.isMemberOf(self, owner);
    const grantor = asOwner ? owner : self;
    const options = c.auth.grantOptions(self, o.kind, o.id, acl, owner);
    const allowed = mask & options;
    if (allowed === 0) {
      const held = aclPrivileges(acl, c.auth.rolesOf(self)).privs;
      if (held === 0) throw permissionDenied(o.kind, o.name);
      // PostgreSQL's REVOKE on a table also revokes its columns' privileges, and refuses a role
      // that holds no column-level privilege (SELECT, INSERT, UPDATE, REFERENCES) on them.
      const columnPrivs = Priv.SELECT | Priv.INSERT | Priv.UPDATE | Priv.REFERENCES;
      if (!isGrant && o.kind === 'table' && (held & columnPrivs) === 0) throw permissionDenied(o.kind, o.name);
      c.warning(isGrant ? `no privileges were granted for "${o.name}"` : `no privileges could be revoked for "${o.name}"`);
      continue;
    }
    if (allowed !== mask) c.warning(isGrant ? `not all privileges were granted for "${o.name}"` : `not all privileges could be revoked for "${o.name}"`);
    const holdsOf = (a: readonly AclItem[], role: number) => (role === owner || c.auth.isMemberOf(role, owner) ? allPrivileges[o.kind] : aclPrivileges(a, c.auth.rolesOf(role)).grantable);
    for (const g of grantees) {
      if (isGrant) acl = aclGrant(acl, g, grantor, allowed, s.grantOption);
      else acl = aclRevoke(acl, g, grantor, allowed, s.grantOptionOnly, s.cascade, holdsOf);
    }
    c.store.putAcl(c.txn, { objectId: o.id, owner, acl });
    auditChange(c.txn, c.user, isGrant ? 'GRANT' : 'REVOKE', {
      object: `${o.kind} ${o.name}`,
      privileges: privilegeNames(allowed),
      grantees: grantees.map((g) => c.auth.roleName(g)),
      grantOption: isGrant ? s.grantOption : s.grantOptionOnly,
    });
  }
  return { rows: [], tag: isGrant ? 'GRANT' : 'REVOKE' };
}

/**
 * ALTER … OWNER TO (PostgreSQL's rules): the current owner (a member of it) or a superuser, who
 * must also be a member of the new owner; the new owner needs what creating the object needs
 * (CREATE on the schema, on the database for a schema, CREATEDB for a database). The ACL keeps
 * its grants, with the old owner's entries moved to the new owner (aclnewowner).
 */
function alterOwner(s: AuthStatement & { kind: 'alterOwner' }, c: AuthStatementContext): AuthResult {
  const tag = `ALTER ${s.objectKind.toUpperCase()}`;
  const v = c.view;
  let obj: { kind: ObjectKind; id: number; name: string; publicSchema: boolean; parent: { kind: ObjectKind; id: number; name: string; publicSchema: boolean } | null };
  if (s.objectKind === 'database') {
    const d = v.database(s.name[0] as string);
    if (!d) {
      if (s.ifExists) return { rows: [], tag };
      throw new PgError(SqlState.InvalidCatalogName, `database "${s.name[0]}" does not exist`);
    }
    obj = { kind: 'database', id: d.id, name: d.name, publicSchema: false, parent: null };
  } else if (s.objectKind === 'schema') {
    const db = v.database(c.database);
    const sch = db ? v.schema(db.id, s.name[0] as string) : undefined;
    if (!sch || !db) throw new PgError(SqlState.InvalidSchemaName, `schema "${s.name[0]}" does not exist`);
    obj = { kind: 'schema', id: sch.id, name: sch.name, publicSchema: sch.name === 'public', parent: { kind: 'database', id: db.id, name: db.name, publicSchema: false } };
  } else {
    let desc: TableDesc;
    try {
      desc = c.findTable(s.name).desc;
    } catch (e) {
      if (s.ifExists && e instanceof PgError && e.code === SqlState.UndefinedTable) return { rows: [], tag };
      throw e;
    }
    if (s.objectKind === 'sequence' && desc.kind !== 'sequence') throw new PgError(SqlState.WrongObjectType, `"${desc.name}" is not a sequence`);
    if (s.objectKind === 'view' && desc.kind !== 'view') throw new PgError(SqlState.WrongObjectType, `"${desc.name}" is not a view`);
    const sch = v.byId.get(desc.schemaId);
    obj = { kind: desc.kind === 'sequence' ? 'sequence' : 'table', id: desc.id, name: desc.name, publicSchema: false, parent: sch ? { kind: 'schema', id: sch.id, name: sch.name, publicSchema: sch.name === 'public' } : null };
  }
  const self = me(c);
  const newOwner = granteeOid(c, s.owner);
  const rec = c.auth.acls.get(obj.id);
  const oldOwner = rec?.owner ?? rootRoleOid;
  if (newOwner === oldOwner) return { rows: [], tag };
  if (!c.auth.isSuperuser(self)) {
    const word = s.objectKind === 'view' ? 'view' : obj.kind;
    if (!c.auth.isMemberOf(self, oldOwner)) throw new PgError(SqlState.InsufficientPrivilege, `must be owner of ${word} ${obj.name}`);
    if (!c.auth.isMemberOf(self, newOwner)) throw new PgError(SqlState.InsufficientPrivilege, `must be member of role "${c.auth.roleName(newOwner)}"`);
    if (obj.kind === 'database') {
      if (!c.auth.canCreateDb(newOwner)) throw new PgError(SqlState.InsufficientPrivilege, 'permission denied to change owner of database');
    } else if (obj.parent && (c.auth.privileges(newOwner, obj.parent.kind, obj.parent.id, obj.parent.publicSchema) & Priv.CREATE) === 0) {
      throw permissionDenied(obj.parent.kind, obj.parent.name);
    }
  }
  const acl = rec?.acl ? rec.acl.map((it) => ({ ...it, grantee: it.grantee === oldOwner ? newOwner : it.grantee, grantor: it.grantor === oldOwner ? newOwner : it.grantor })) : null;
  c.store.putAcl(c.txn, { objectId: obj.id, owner: newOwner, acl });
  auditChange(c.txn, c.user, tag + ' OWNER', { object: `${obj.kind} ${obj.name}`, from: c.auth.roleName(oldOwner), to: c.auth.roleName(newOwner) });
  return { rows: [], tag };
}

export const showGrantsColumns: Column[] = ['database_name', 'schema_name', 'object_name', 'object_type', 'grantee', 'privilege_type', 'is_grantable'].map((name) => ({ name, type: name === 'is_grantable' ? T.bool : T.text }));
export const showRoleGrantsColumns: Column[] = [
  { name: 'role_name', type: T.text },
  { name: 'member', type: T.text },
  { name: 'is_admin', type: T.bool },
];
export const showRolesColumns: Column[] = [
  { name: 'username', type: T.text },
  { name: 'options', type: T.text },
  { name: 'member_of', type: T.text },
];

/**
 * SHOW GRANTS [ON …] [FOR role, …]: one row per privilege per grantee (owners' privileges
 * included, as the ACL holds them). Without ON: the current database, its schemas and tables.
 */
function showGrants(s: AuthStatement & { kind: 'showGrants' }, c: AuthStatementContext): AuthResult {
  const forOids = s.forRoles ? new Set(s.forRoles.map((r) => granteeOid(c, r))) : null;
  if (s.target?.kind === 'role') {
    const rows: Row[] = [];
    for (const n of s.target.names) {
      const role = resolveRole(c, n);
      for (const m of c.auth.membersOf.get(role.oid) ?? []) {
        if (forOids && !forOids.has(m.memberOid)) continue;
        rows.push([role.name, c.auth.roleName(m.memberOid), m.admin]);
      }
    }
    return { rows: rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1]))), tag: 'SHOW' };
  }
  const v = c.view;
  const db = v.database(c.database);
  const objects: (GrantObject & { dbName: string; schemaName: string | null; type: string })[] = [];
  const tableObject = (d: TableDesc, dbName: string, schemaName: string) => ({ kind: (d.kind === 'sequence' ? 'sequence' : 'table') as ObjectKind, id: d.id, name: d.name, publicSchema: false, dbName, schemaName, type: d.kind === 'ts' ? 'table' : d.kind });
  if (s.target) {
    for (const o of targetObjects(s.target, c)) {
      if (o.kind === 'database') objects.push({ ...o, dbName: o.name, schemaName: null, type: 'database' });
      else if (o.kind === 'schema') objects.push({ ...o, dbName: c.database, schemaName: o.name, type: 'schema' });
      else {
        const d = v.tableById(o.id) as TableDesc;
        const sch = v.byId.get(d.schemaId);
        objects.push(tableObject(d, v.databaseById(d.parentId)?.name ?? c.database, sch?.name ?? ''));
      }
    }
  } else if (db) {
    objects.push({ kind: 'database', id: db.id, name: db.name, publicSchema: false, dbName: db.name, schemaName: null, type: 'database' });
    for (const sch of v.schemasOf(db.id)) {
      objects.push({ kind: 'schema', id: sch.id, name: sch.name, publicSchema: sch.name === 'public', dbName: db.name, schemaName: sch.name, type: 'schema' });
      for (const d of [...(v.tables.get(sch.id)?.values() ?? [])].sort((a, b) => a.id - b.id)) objects.push(tableObject(d, db.name, sch.name));
    }
  }
  const rows: Row[] = [];
  for (const o of objects) {
    for (const it of c.auth.acl(o.kind, o.id, o.publicSchema)) {
      if (forOids && !forOids.has(it.grantee)) continue;
      for (const p of privilegeNames(it.privs)) {
        rows.push([o.dbName, o.schemaName, o.kind === 'database' || o.kind === 'schema' ? null : o.name, o.type, c.auth.roleName(it.grantee), p, (it.grantable & Priv[p]) !== 0]);
      }
    }
  }
  return { rows, tag: 'SHOW' };
}

function showRoles(c: AuthStatementContext): AuthResult {
  const rows: Row[] = c.auth.allRoles().map((r) => {
    const opts: string[] = [];
    if (r.createdb) opts.push('CREATEDB');
    if (r.createrole) opts.push('CREATEROLE');
    if (!r.login) opts.push('NOLOGIN');
    const memberOf = (c.auth.memberOf.get(r.oid) ?? []).map((m) => c.auth.roleName(m.roleOid)).sort();
    return [r.name, opts.join(', '), `{${memberOf.join(',')}}`];
  });
  return { rows, tag: 'SHOW' };
}

/** Result columns of an auth statement (for Describe), or null when it returns none. */
export function authStatementColumns(s: AuthStatement): Column[] | null {
  if (s.kind === 'showRoles') return showRolesColumns;
  if (s.kind === 'showGrants') return s.target?.kind === 'role' ? showRoleGrantsColumns : showGrantsColumns;
  return null;
}
