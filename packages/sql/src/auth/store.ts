/**
 * Users, roles, memberships and object ACLs in the replicated system keyspace, next to the
 * catalog's descriptors and written the same way (inside the statement's transaction):
 *
 *   /System/auth/role/<oid>               → RoleRecord (JSON)
 *   /System/auth/member/<role>/<member>   → MemberRecord
 *   /System/auth/acl/<objectId>           → AclRecord (owner and explicit ACL of a database,
 *                                            schema or table; absent: owned by root, default ACL)
 *
 * Reads are asynchronous requests (pages through the transaction, so the leaseholder serves them
 * and the transaction's read set covers them); each node caches the latest snapshot and drops it
 * when an applied write touches /System/auth.
 *
 * INVARIANT: a transaction that wrote auth keys reads its own snapshot (never the cache), so DDL
 *   inside BEGIN sees itself; any other reader sees a committed snapshot.
 * INVARIANT: the cache is only filled with a snapshot loaded after the last invalidation began
 *   (a load that raced an invalidation is used once, not cached).
 */
import { PgError, SqlState, assert } from '@strata/common';
import { Txn, prefixEnd, systemKey } from '@strata/kv';
import type { KvSender } from '@strata/kv';
import { adminRoleOid, authScanPageKeys, rolesMax, rootRoleOid } from './constants.js';
import { AuthView } from './view.js';
import { spanMinusKeys } from '../catalog/catalog.js';
import type { AclRecord, MemberRecord, RoleRecord } from './view.js';

const authPrefix = systemKey('auth');
const rolePrefix = systemKey('auth', 'role');
const memberPrefix = systemKey('auth', 'member');
const aclPrefix = systemKey('auth', 'acl');

const roleKey = (oid: number) => systemKey('auth', 'role', oid);
const memberKey = (role: number, member: number) => systemKey('auth', 'member', role, member);
const aclKey = (id: number) => systemKey('auth', 'acl', id);

function startsWith(key: Uint8Array, prefix: Buffer): boolean {
  return key.length >= prefix.length && Buffer.compare(Buffer.from(key.buffer, key.byteOffset, prefix.length), prefix) === 0;
}

export class AuthStore {
  private cached: AuthView | null = null;
  private loading: Promise<AuthView> | null = null;
  private generation = 0;
  /** Transactions that wrote auth keys (they read their own snapshot). */
  private readonly writers = new WeakSet<Txn>();

  constructor(private readonly sender: KvSender) {}

  /** The ids of temporary objects as a transaction sees them (set by the engine: the catalog's). */
  tempObjectIds: ((txn: Txn) => Set<number>) | null = null;

  /** Whether an applied write to this key changes the snapshot. */
  touches(key: Uint8Array): boolean {
    return startsWith(key, authPrefix);
  }

  invalidate(): void {
    this.cached = null;
    this.loading = null;
    this.generation++;
  }

  /** The snapshot `txn` should see: its own if it wrote auth keys, else the latest committed. */
  async view(txn: Txn | null): Promise<AuthView> {
    if (txn && this.writers.has(txn) && txn.isOpen()) return this.load(txn);
    if (this.cached) return this.cached;
    if (this.loading) return this.loading;
    const gen = this.generation;
    const p = (async () => {
      const t = await Txn.begin(this.sender);
      try {
        return await this.load(t);
      } finally {
        t.rollback();
      }
    })();
    this.loading = p;
    try {
      const v = await p;
      if (gen === this.generation) this.cached = v;
      return v;
    } finally {
      if (this.loading === p) this.loading = null;
    }
  }

  /** The cached snapshot if there is one (for synchronous paths that may use a slightly old one). */
  peek(): AuthView | null {
    return this.cached;
  }

  /**
   * The snapshot read through `txn` (recorded in its read set): what DDL checks and changes
   * read, so that two transactions racing on the same roles conflict instead of both committing.
   */
  async load(txn: Txn): Promise<AuthView> {
    const roles: RoleRecord[] = [];
    const members: MemberRecord[] = [];
    const acls: AclRecord[] = [];
    let start: Buffer | null = authPrefix;
    const end = prefixEnd(authPrefix);
    // The ACL records of temporary objects are left out of the read set, for the reason
    // Catalog.load leaves out their descriptors.
    const temp = this.tempObjectIds?.(txn) ?? new Set<number>();
    while (start) {
      const from: Buffer = start;
      const page: { rows: { key: Buffer; value: Buffer }[]; resume: Buffer | null } = await txn.withUntrackedReadsAsync(() => txn.scanPage(from, end, authScanPageKeys));
      txn.recordReadSpans(spanMinusKeys(from, page.resume ?? end, [...temp].map(aclKey)));
      for (const { key, value } of page.rows) {
        const v: unknown = JSON.parse(value.toString());
        if (startsWith(key, rolePrefix)) roles.push(v as RoleRecord);
        else if (startsWith(key, memberPrefix)) members.push(v as MemberRecord);
        else if (startsWith(key, aclPrefix)) acls.push(v as AclRecord);
      }
      if (roles.length > rolesMax) throw new PgError(SqlState.ProgramLimitExceeded, `more than ${rolesMax} roles`);
      start = page.resume;
    }
    return new AuthView(roles, members, acls);
  }

  putRole(txn: Txn, r: RoleRecord): void {
    assert(Number.isInteger(r.oid) && r.oid > 0 && r.name.length > 0, 'a role has an OID and a name');
    this.write(txn, roleKey(r.oid), r);
  }

  deleteRole(txn: Txn, oid: number): void {
    this.writers.add(txn);
    txn.del(roleKey(oid));
  }

  putMember(txn: Txn, m: MemberRecord): void {
    assert(m.roleOid !== m.memberOid, 'a role is never a member of itself');
    this.write(txn, memberKey(m.roleOid, m.memberOid), m);
  }

  deleteMember(txn: Txn, roleOid: number, memberOid: number): void {
    this.writers.add(txn);
    txn.del(memberKey(roleOid, memberOid));
  }

  putAcl(txn: Txn, a: AclRecord): void {
    this.write(txn, aclKey(a.objectId), a);
  }

  deleteAcl(txn: Txn, objectId: number): void {
    this.writers.add(txn);
    txn.del(aclKey(objectId));
  }

  private write(txn: Txn, key: Buffer, v: unknown): void {
    this.writers.add(txn);
    txn.put(key, Buffer.from(JSON.stringify(v)));
  }

  /** Creates root (superuser, may log in) and admin (a superuser role root belongs to) once. */
  async bootstrap(): Promise<void> {
    const txn = await Txn.begin(this.sender);
    try {
      const v = await this.load(txn);
      if (v.byOid.has(rootRoleOid)) {
        txn.rollback();
        return;
      }
      this.putRole(txn, { oid: rootRoleOid, name: 'root', login: true, createdb: true, createrole: true, superuser: true, password: null });
      if (!v.byOid.has(adminRoleOid)) this.putRole(txn, { oid: adminRoleOid, name: 'admin', login: false, createdb: true, createrole: true, superuser: true, password: null });
      this.putMember(txn, { roleOid: adminRoleOid, memberOid: rootRoleOid, admin: true, grantorOid: rootRoleOid });
      await txn.commit();
    } catch (e) {
      if (txn.isOpen()) txn.rollback();
      throw e;
    }
    this.invalidate();
  }
}
