/**
 * An immutable snapshot of users, roles, memberships and object ACLs, indexed for the checks
 * every statement and login makes. Loaded whole from the system keyspace (auth/store.ts).
 *
 * INVARIANT: role names and OIDs are unique; root and admin exist in every snapshot of a
 *   bootstrapped cluster.
 * INVARIANT: the membership graph has no cycle (GRANT refuses one), so effective roles are a
 *   finite closure.
 */
import { assert } from '@strata/common';
import { adminRoleOid, heldCacheEntriesMax, publicRoleOid, roleMembershipDepthMax, rootRoleOid } from './constants.js';
import { aclItemText, aclPrivileges, allPrivileges, defaultAcl } from './privileges.js';
import type { AclItem, ObjectKind } from './privileges.js';

export interface RoleRecord {
  oid: number;
  name: string;
  login: boolean;
  createdb: boolean;
  createrole: boolean;
  /** Only root and admin: superuser power otherwise comes from membership in admin. */
  superuser: boolean;
  /** The SCRAM-SHA-256 verifier (PostgreSQL's format), or null: no password login. */
  password: string | null;
}

export interface MemberRecord {
  roleOid: number;
  memberOid: number;
  admin: boolean;
  grantorOid: number;
}

/** An object's owner and explicit ACL (null: the default ACL of its kind). */
export interface AclRecord {
  objectId: number;
  owner: number;
  acl: AclItem[] | null;
}

export class AuthView {
  readonly byOid = new Map<number, RoleRecord>();
  readonly byName = new Map<string, RoleRecord>();
  /** member → the roles it is a direct member of. */
  readonly memberOf = new Map<number, MemberRecord[]>();
  /** role → its direct members. */
  readonly membersOf = new Map<number, MemberRecord[]>();
  readonly acls = new Map<number, AclRecord>();
  private readonly effective = new Map<number, ReadonlySet<number>>();
  private readonly held = new Map<string, number>();

  constructor(roles: RoleRecord[], members: MemberRecord[], acls: AclRecord[]) {
    for (const r of roles) {
      assert(!this.byOid.has(r.oid) && !this.byName.has(r.name), () => `role ${r.name} (OID ${r.oid}) is stored twice`);
      this.byOid.set(r.oid, r);
      this.byName.set(r.name, r);
    }
    for (const m of members) {
      push(this.memberOf, m.memberOid, m);
      push(this.membersOf, m.roleOid, m);
    }
    for (const a of acls) this.acls.set(a.objectId, a);
  }

  role(name: string): RoleRecord | undefined {
    return this.byName.get(name);
  }

  roleName(oid: number): string {
    if (oid === publicRoleOid) return 'public';
    return this.byOid.get(oid)?.name ?? `unknown (OID=${oid})`;
  }

  /** The role itself and every role it is a member of, transitively (all roles inherit). */
  rolesOf(oid: number): ReadonlySet<number> {
    let s = this.effective.get(oid);
    if (s) return s;
    const out = new Set<number>([oid]);
    let frontier = [oid];
    for (let depth = 0; frontier.length > 0 && depth < roleMembershipDepthMax; depth++) {
      const next: number[] = [];
      for (const r of frontier) {
        for (const m of this.memberOf.get(r) ?? []) {
          if (!out.has(m.roleOid)) {
            out.add(m.roleOid);
            next.push(m.roleOid);
          }
        }
      }
      frontier = next;
    }
    s = out;
    this.effective.set(oid, s);
    return s;
  }

  /** Whether `member` is `role` or a member of it (pg_has_role … 'MEMBER'). */
  isMemberOf(member: number, role: number): boolean {
    return this.rolesOf(member).has(role);
  }

  /** root, admin, and members of admin (CockroachDB's rule) bypass every privilege check. */
  isSuperuser(oid: number): boolean {
    if (oid === rootRoleOid) return true;
    const rs = this.rolesOf(oid);
    if (rs.has(adminRoleOid)) return true;
    for (const r of rs) if (this.byOid.get(r)?.superuser) return true;
    return false;
  }

  /** Whether `oid` may create roles (CREATEROLE, or superuser). */
  canCreateRole(oid: number): boolean {
    return this.isSuperuser(oid) || this.byOid.get(oid)?.createrole === true;
  }

  canCreateDb(oid: number): boolean {
    return this.isSuperuser(oid) || this.byOid.get(oid)?.createdb === true;
  }

  /** Whether the object has an ownership record (absent: owned by root, default ACL). */
  hasOwnerRecord(objectId: number): boolean {
    return this.acls.has(objectId);
  }

  /** The object's owner (root for objects created before ownership was recorded). */
  owner(objectId: number): number {
    return this.acls.get(objectId)?.owner ?? rootRoleOid;
  }

  /** Ownership rights (DROP, ALTER, GRANT without grant option): members of the owner have them. */
  isOwner(role: number, objectId: number): boolean {
    return this.isSuperuser(role) || this.isMemberOf(role, this.owner(objectId));
  }

  /** The ACL in force: explicit, else the default of the kind. */
  acl(kind: ObjectKind, objectId: number, publicSchema = false): AclItem[] {
    const rec = this.acls.get(objectId);
    return rec?.acl ?? defaultAcl(kind, rec?.owner ?? rootRoleOid, publicSchema);
  }

  /**
   * The privileges `role` holds on an object (superusers: all of the kind). Memoized: every
   * statement checks its tables, and the snapshot never changes.
   */
  privileges(role: number, kind: ObjectKind, objectId: number, publicSchema = false): number {
    const key = `${role}/${kind}/${objectId}/${publicSchema ? 1 : 0}`;
    let p = this.held.get(key);
    if (p === undefined) {
      p = this.isSuperuser(role) ? allPrivileges[kind] : aclPrivileges(this.acl(kind, objectId, publicSchema), this.rolesOf(role)).privs;
      if (this.held.size < heldCacheEntriesMax) this.held.set(key, p);
    }
    return p;
  }

  /**
   * The privileges `role` may grant on an object: every one for superusers and members of the
   * owner, else those it holds WITH GRANT OPTION.
   */
  grantOptions(role: number, kind: ObjectKind, objectId: number, acl: readonly AclItem[], owner: number): number {
    if (this.isSuperuser(role) || this.isMemberOf(role, owner)) return allPrivileges[kind];
    return aclPrivileges(acl, this.rolesOf(role)).grantable;
  }

  /** The aclitem[] text PostgreSQL shows (relacl, datacl, nspacl); null for a default ACL. */
  aclText(kind: ObjectKind, objectId: number, publicSchema = false): string[] | null {
    const rec = this.acls.get(objectId);
    if (!rec?.acl && !publicSchema) return null;
    return this.acl(kind, objectId, publicSchema).map((it) => aclItemText(it, (o) => this.roleName(o)));
  }

  /** Roles, ordered by name (SHOW USERS, \du). */
  allRoles(): RoleRecord[] {
    return [...this.byOid.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}
