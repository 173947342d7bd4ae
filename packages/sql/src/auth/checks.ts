/**
 * Which privileges a statement needs, and the check against a role's privileges (42501).
 *
 * Requirements are collected when a statement is compiled — every table the planner resolves
 * needs SELECT (and USAGE on its schema, CONNECT on another database), the DML target needs
 * INSERT/UPDATE/DELETE (and SELECT where the statement reads its columns) — and checked every
 * time it runs, against the auth snapshot of that moment: a cached plan never outlives a REVOKE.
 * Tables read through a view are checked as the view's owner, as PostgreSQL does.
 *
 * INVARIANT: no statement reads or writes a table before its requirements were checked.
 */
import { PgError, SqlState } from '@strata/common';
import type { CatalogView } from '../catalog/catalog.js';
import type { TableDesc } from '../catalog/descriptors.js';
import type { Statement } from '../parser/ast.js';
import { Priv, allPrivileges, permissionDenied } from './privileges.js';
import type { ObjectKind } from './privileges.js';
import type { AuthView } from './view.js';

export interface PrivilegeRequirement {
  kind: ObjectKind;
  objectId: number;
  /** The name errors show (PostgreSQL shows the bare relation name). */
  name: string;
  /** For error messages: "view" for views, else the kind. */
  word: ObjectKind | 'view';
  /** Needs any one of these bits when `any`, else all of them. */
  privs: number;
  any?: boolean;
  /** The schema is a database's public schema (its default ACL gives PUBLIC USAGE). */
  publicSchema?: boolean;
  /** For a public schema: its database, whose owner owns the schema until it is given another owner. */
  databaseId?: number;
  /** Checked as the owner of this view (looked up when checked) instead of the session's user. */
  asOwnerOf?: number;
  /** Only superusers (pg_authid and pg_shadow hold password verifiers). */
  superuserOnly?: boolean;
}

/** Collects what a statement's plan reads, in planning order. */
export class PrivilegeCollector {
  readonly requirements: PrivilegeRequirement[] = [];
  private readonly views: number[] = [];

  constructor(
    private readonly catalog: CatalogView,
    private readonly currentDatabase: string,
  ) {}

  private get asOwnerOf(): number | undefined {
    return this.views[this.views.length - 1];
  }

  /** A table, view or sequence the statement reads (or `privs` of it, for DML targets). */
  table(t: TableDesc, privs: number = Priv.SELECT): void {
    const kind: ObjectKind = t.kind === 'sequence' ? 'sequence' : 'table';
    this.schemaOf(t);
    this.requirements.push({ kind, objectId: t.id, name: t.name, word: t.kind === 'view' ? 'view' : kind, privs, asOwnerOf: this.asOwnerOf });
  }

  /** USAGE on a table's schema; CONNECT on its database when that is not the session's. */
  private schemaOf(t: TableDesc): void {
    const s = this.catalog.byId.get(t.schemaId);
    if (s && s.kind === 'schema') this.requirements.push({ ...schemaRequirement(s, Priv.USAGE), asOwnerOf: this.asOwnerOf });
    const db = this.catalog.databaseById(t.parentId);
    if (db && db.name !== this.currentDatabase) this.requirements.push({ kind: 'database', objectId: db.id, name: db.name, word: 'database', privs: Priv.CONNECT, asOwnerOf: this.asOwnerOf });
  }

  /** A virtual catalog table: pg_authid and pg_shadow are for superusers only. */
  virtual(schema: string, name: string): void {
    if (schema === 'pg_catalog' && (name === 'pg_authid' || name === 'pg_shadow')) {
      this.requirements.push({ kind: 'table', objectId: 0, name, word: 'table', privs: Priv.SELECT, superuserOnly: true, asOwnerOf: this.asOwnerOf });
    }
  }

  /** Plans `f` (a view's query) with its tables checked as the view's owner. */
  asOwner<T>(viewId: number, f: () => T): T {
    this.views.push(viewId);
    try {
      return f();
    } finally {
      this.views.pop();
    }
  }
}

/** Whether an expression tree refers to a column (the statement then reads the table). */
export function readsColumns(node: unknown): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some(readsColumns);
  const o = node as Record<string, unknown>;
  if (o.kind === 'column' || o.kind === 'star') return true;
  for (const k in o) if (k !== 'pos' && readsColumns(o[k])) return true;
  return false;
}

/**
 * The privileges a DML statement needs on its target (PostgreSQL's rules): INSERT, UPDATE or
 * DELETE; SELECT too where it reads the target's columns (WHERE, SET expressions, RETURNING,
 * an ON CONFLICT target); ON CONFLICT DO UPDATE and UPSERT also need UPDATE.
 */
export function targetPrivileges(stmt: Statement & { kind: 'insert' | 'update' | 'delete' }): number {
  switch (stmt.kind) {
    case 'insert': {
      let p = Priv.INSERT;
      if (stmt.returning) p |= Priv.SELECT;
      if (stmt.upsert) p |= Priv.UPDATE | Priv.SELECT;
      const oc = stmt.onConflict;
      if (oc) {
        if (oc.columns) p |= Priv.SELECT;
        if (oc.action !== 'nothing') p |= Priv.UPDATE | (readsColumns(oc.action) ? Priv.SELECT : 0);
      }
      return p;
    }
    case 'update':
      return Priv.UPDATE | (stmt.returning || readsColumns(stmt.where) || readsColumns(stmt.sets.map((s) => s.value)) ? Priv.SELECT : 0);
    case 'delete':
      return Priv.DELETE | (stmt.returning || readsColumns(stmt.where) ? Priv.SELECT : 0);
  }
}

/** Throws 42501 for the first requirement `role` does not meet. */
export function checkRequirements(auth: AuthView, role: number, reqs: readonly PrivilegeRequirement[]): void {
  for (const r of reqs) {
    const who = r.asOwnerOf !== undefined ? auth.owner(r.asOwnerOf) : role;
    if (auth.isSuperuser(who)) continue;
    if (r.superuserOnly) throw permissionDenied('table', r.name);
    // PostgreSQL 15's public schema belongs to pg_database_owner: the database's owner holds
    // every right on it (CREATE included) until the schema is given an owner of its own.
    if (r.publicSchema && r.databaseId !== undefined && !auth.hasOwnerRecord(r.objectId) && auth.isMemberOf(who, auth.owner(r.databaseId))) continue;
    const held = auth.privileges(who, r.kind, r.objectId, r.publicSchema === true);
    const ok = r.any ? (held & r.privs) !== 0 : (held & r.privs) === r.privs;
    if (!ok) throw permissionDenied(r.word, r.name);
  }
}

/** A schema's requirement (USAGE to look into it, CREATE to create in it). */
export function schemaRequirement(s: { id: number; name: string; parentId?: number }, privs: number): PrivilegeRequirement {
  const pub = s.name === 'public';
  return { kind: 'schema', objectId: s.id, name: s.name, word: 'schema', privs, publicSchema: pub, ...(pub && s.parentId !== undefined ? { databaseId: s.parentId } : {}) };
}

export function databaseRequirement(d: { id: number; name: string }, privs: number): PrivilegeRequirement {
  return { kind: 'database', objectId: d.id, name: d.name, word: 'database', privs };
}

/** Sequence functions: nextval needs USAGE or UPDATE, currval SELECT or USAGE, setval UPDATE. */
export function sequenceRequirement(seq: TableDesc, fn: 'nextval' | 'currval' | 'setval'): PrivilegeRequirement {
  const privs = fn === 'nextval' ? Priv.USAGE | Priv.UPDATE : fn === 'currval' ? Priv.SELECT | Priv.USAGE : Priv.UPDATE;
  return { kind: 'sequence', objectId: seq.id, name: seq.name, word: 'sequence', privs, any: true };
}

/** The superuser-only error for statements that change the whole cluster. */
export function superuserRequired(what: string): PgError {
  return new PgError(SqlState.InsufficientPrivilege, `must be superuser to ${what}`);
}

export { allPrivileges };
