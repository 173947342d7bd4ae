/**
 * Privileges and access control lists, as PostgreSQL defines them (ddl-priv.html, utils/acl.h):
 * an object's ACL is a list of items `grantee=privileges/grantor`, one per (grantee, grantor),
 * each privilege possibly grantable (`*`). An object whose ACL was never changed has the default
 * ACL of its kind (acldefault), which GRANT and REVOKE first make explicit.
 *
 * INVARIANT: an item's grantable bits are a subset of its privilege bits.
 * INVARIANT: an ACL holds at most one item per (grantee, grantor); items with no privilege left
 *   are removed.
 */
import { PgError, SqlState, assert } from '@strata/common';
import { publicRoleOid } from './constants.js';

export type ObjectKind = 'database' | 'schema' | 'table' | 'sequence';

/** One bit per privilege, in PostgreSQL's letter order (ACL_ALL_RIGHTS_STR "arwdDxtXUCTc"). */
export const Priv = {
  INSERT: 1 << 0,
  SELECT: 1 << 1,
  UPDATE: 1 << 2,
  DELETE: 1 << 3,
  TRUNCATE: 1 << 4,
  REFERENCES: 1 << 5,
  TRIGGER: 1 << 6,
  EXECUTE: 1 << 7,
  USAGE: 1 << 8,
  CREATE: 1 << 9,
  TEMPORARY: 1 << 10,
  CONNECT: 1 << 11,
} as const;
export type PrivName = keyof typeof Priv;

const letters: [number, string][] = [
  [Priv.INSERT, 'a'],
  [Priv.SELECT, 'r'],
  [Priv.UPDATE, 'w'],
  [Priv.DELETE, 'd'],
  [Priv.TRUNCATE, 'D'],
  [Priv.REFERENCES, 'x'],
  [Priv.TRIGGER, 't'],
  [Priv.EXECUTE, 'X'],
  [Priv.USAGE, 'U'],
  [Priv.CREATE, 'C'],
  [Priv.TEMPORARY, 'T'],
  [Priv.CONNECT, 'c'],
];

/** Every privilege an object of each kind can have (what ALL means for it). */
export const allPrivileges: Record<ObjectKind, number> = {
  table: Priv.INSERT | Priv.SELECT | Priv.UPDATE | Priv.DELETE | Priv.TRUNCATE | Priv.REFERENCES | Priv.TRIGGER,
  sequence: Priv.SELECT | Priv.UPDATE | Priv.USAGE,
  database: Priv.CREATE | Priv.TEMPORARY | Priv.CONNECT,
  schema: Priv.USAGE | Priv.CREATE,
};

export interface AclItem {
  /** Role OID; 0 is PUBLIC. */
  grantee: number;
  grantor: number;
  privs: number;
  /** Privileges the grantee may grant on (WITH GRANT OPTION). */
  grantable: number;
}

/** The privilege names of a mask, in letter order (for SHOW GRANTS and information_schema). */
export function privilegeNames(mask: number): PrivName[] {
  const out: PrivName[] = [];
  for (const [bit] of letters) if (mask & bit) out.push((Object.keys(Priv) as PrivName[]).find((k) => Priv[k] === bit) as PrivName);
  return out;
}

/** A privilege keyword as written in GRANT (TEMP is TEMPORARY); undefined if unknown. */
export function privilegeByName(name: string): number | undefined {
  const n = name.toUpperCase();
  if (n === 'TEMP') return Priv.TEMPORARY;
  return (Priv as Record<string, number>)[n];
}

/**
 * The default ACL (PostgreSQL's acldefault): the owner holds everything; PUBLIC may connect to
 * (and create temporary tables in) every database. A database's `public` schema is made with
 * USAGE for PUBLIC (PostgreSQL 15 creates it so, and without CREATE for PUBLIC).
 */
export function defaultAcl(kind: ObjectKind, owner: number, publicSchema: boolean): AclItem[] {
  const all = allPrivileges[kind];
  const items: AclItem[] = [{ grantee: owner, grantor: owner, privs: all, grantable: 0 }];
  if (kind === 'database') items.push({ grantee: publicRoleOid, grantor: owner, privs: Priv.TEMPORARY | Priv.CONNECT, grantable: 0 });
  if (kind === 'schema' && publicSchema) items.push({ grantee: publicRoleOid, grantor: owner, privs: Priv.USAGE, grantable: 0 });
  return items;
}

/** The privileges an ACL gives a role whose effective roles (itself and its memberships) are `roles`. */
export function aclPrivileges(acl: readonly AclItem[], roles: ReadonlySet<number>): { privs: number; grantable: number } {
  let privs = 0;
  let grantable = 0;
  for (const it of acl) {
    if (it.grantee === publicRoleOid || roles.has(it.grantee)) {
      privs |= it.privs;
      grantable |= it.grantable;
    }
  }
  return { privs, grantable };
}

/** Adds privileges to (grantee, grantor), creating its item if needed. Returns a new ACL. */
export function aclGrant(acl: readonly AclItem[], grantee: number, grantor: number, privs: number, grantable: boolean): AclItem[] {
  const out = acl.map((it) => ({ ...it }));
  let it = out.find((x) => x.grantee === grantee && x.grantor === grantor);
  if (!it) {
    it = { grantee, grantor, privs: 0, grantable: 0 };
    out.push(it);
  }
  it.privs |= privs;
  if (grantable) it.grantable |= privs;
  assert((it.grantable & ~it.privs) === 0, 'grant options are a subset of the privileges');
  return out;
}

/**
 * Removes privileges (or only their grant option) granted by `grantor` to `grantee`. Privileges
 * the grantee passed on (items it granted, transitively) lose what it no longer holds: with
 * `cascade` they are removed too; without it the revoke fails with 2BP01, as in PostgreSQL.
 */
export function aclRevoke(acl: readonly AclItem[], grantee: number, grantor: number, privs: number, grantOptionOnly: boolean, cascade: boolean, /** The grant options a role holds under an ACL (an owner holds every one). */
  holdsOf: (acl: readonly AclItem[], role: number) => number): AclItem[] {
  let out = acl.map((it) => ({ ...it }));
  const it = out.find((x) => x.grantee === grantee && x.grantor === grantor);
  if (!it) return out;
  it.grantable &= ~privs;
  if (!grantOptionOnly) it.privs &= ~privs;
  out = out.filter((x) => x.privs !== 0);
  // Dependent grants: items granted by a role that no longer holds the grant option for them.
  for (let changed = true; changed; ) {
    changed = false;
    for (const x of out) {
      if (x.grantor === x.grantee) continue;
      const lost = x.privs & ~holdsOf(out.filter((y) => y !== x), x.grantor);
      if (lost === 0) continue;
      if (!cascade) throw new PgError(SqlState.DependentObjectsStillExist, 'dependent privileges exist', { hint: 'Use CASCADE to revoke them too.' });
      x.privs &= ~lost;
      x.grantable &= ~lost;
      changed = true;
    }
    out = out.filter((x) => x.privs !== 0);
  }
  for (const x of out) assert((x.grantable & ~x.privs) === 0, 'grant options are a subset of the privileges');
  return out;
}

/** A role name as it appears in an aclitem: quoted when it is not a plain lower-case word. */
export function aclName(name: string): string {
  if (/^[a-z0-9_]*$/.test(name)) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/** PostgreSQL's aclitem text: `grantee=privs/grantor` (empty grantee: PUBLIC). */
export function aclItemText(it: AclItem, roleName: (oid: number) => string): string {
  let s = it.grantee === publicRoleOid ? '' : aclName(roleName(it.grantee));
  s += '=';
  for (const [bit, ch] of letters) {
    if (it.privs & bit) s += ch + (it.grantable & bit ? '*' : '');
  }
  return `${s}/${aclName(roleName(it.grantor))}`;
}

/** The word PostgreSQL uses for an object kind in "permission denied for …". */
export function kindWord(kind: ObjectKind | 'view'): string {
  return kind;
}

export function permissionDenied(kind: ObjectKind | 'view', name: string): PgError {
  return new PgError(SqlState.InsufficientPrivilege, `permission denied for ${kindWord(kind)} ${name}`);
}

export function mustBeOwner(kind: ObjectKind | 'view' | 'index', name: string): PgError {
  return new PgError(SqlState.InsufficientPrivilege, `must be owner of ${kind} ${name}`);
}
