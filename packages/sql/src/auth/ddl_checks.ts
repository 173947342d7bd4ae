/**
 * Privileges for schema changes (PostgreSQL's rules): creating needs CREATE on the schema (or
 * database, for a schema; CREATEDB for a database); altering, dropping and indexing need
 * ownership (members of the owning role have it); TRUNCATE needs the TRUNCATE privilege; a
 * foreign key needs REFERENCES on the referenced table; cluster settings need a superuser.
 * Every object a statement creates is owned by the role that ran it, and the ACL records of
 * objects it drops go with them (ownership and ACLs live in auth/store.ts, keyed by descriptor id).
 */
import { PgError, SqlState } from '@strata/common';
import type { Txn } from '@strata/kv';
import type { CatalogView } from '../catalog/catalog.js';
import type { TableDesc } from '../catalog/descriptors.js';
import type { Statement } from '../parser/ast.js';
import { checkRequirements, databaseRequirement, schemaRequirement, superuserRequired } from './checks.js';
import type { PrivilegeRequirement } from './checks.js';
import { rootRoleOid } from './constants.js';
import { Priv, mustBeOwner, permissionDenied } from './privileges.js';
import type { AuthStore } from './store.js';
import type { AuthView } from './view.js';

export interface DdlCheckContext {
  auth: AuthView;
  /** The session user's role OID (-1 if it no longer exists: PUBLIC's privileges only). */
  role: number;
  view: CatalogView;
  database: string;
  /** Where a new object named `parts` goes (throws for a missing schema or database). */
  target(parts: string[]): { dbId: number; schemaId: number; schemaName: string; name: string };
  findTable(parts: string[]): TableDesc | undefined;
}

function ownerWord(t: TableDesc): 'table' | 'view' | 'sequence' {
  return t.kind === 'view' ? 'view' : t.kind === 'sequence' ? 'sequence' : 'table';
}

/** Throws 42501 if the role may not run this schema change. */
export function checkDdl(stmt: Statement, c: DdlCheckContext): void {
  const { auth, role, view } = c;
  if (auth.isSuperuser(role)) return;
  const reqs: PrivilegeRequirement[] = [];
  const owns = (id: number) => auth.isOwner(role, id);
  const ownTable = (t: TableDesc | undefined) => {
    if (t && !owns(t.id)) throw mustBeOwner(ownerWord(t), t.name);
  };
  const createIn = (parts: string[]) => {
    let tgt: ReturnType<DdlCheckContext['target']>;
    try {
      tgt = c.target(parts);
    } catch {
      return; // the statement itself reports the missing schema or database
    }
    reqs.push(schemaRequirement({ id: tgt.schemaId, name: tgt.schemaName, parentId: tgt.dbId }, Priv.CREATE));
    const db = view.databaseById(tgt.dbId);
    if (db && db.name !== c.database) reqs.push(databaseRequirement(db, Priv.CONNECT));
  };
  const references = (parts: string[]) => {
    const t = c.findTable(parts);
    if (t) reqs.push({ kind: 'table', objectId: t.id, name: t.name, word: 'table', privs: Priv.REFERENCES });
  };
  const safeFind = (parts: string[]) => {
    try {
      return c.findTable(parts);
    } catch {
      return undefined;
    }
  };
  /** A function or type the statement changes or drops: its owner only (42501 `must be owner of …`). */
  const ownObject = (id: number | undefined, word: string, name: string) => {
    if (id !== undefined && !owns(id)) throw new PgError(SqlState.InsufficientPrivilege, `must be owner of ${word} ${name}`);
  };
  const db = view.database(c.database);
  const typeNamed = (parts: string[]) => {
    const name = parts[parts.length - 1] as string;
    for (const s of db ? view.schemasOf(db.id) : []) {
      if (parts.length > 1 && s.name !== parts[parts.length - 2]) continue;
      const t = view.type(s.id, name);
      if (t) return t;
    }
    return undefined;
  };
  switch (stmt.kind) {
    case 'createFunction':
      if (stmt.orReplace) {
        const name = stmt.name[stmt.name.length - 1] as string;
        for (const f of [...view.functionsById.values()].filter((x) => x.name === name && x.parentId === db?.id)) ownObject(f.id, 'function', f.name);
      }
      createIn(stmt.name);
      break;
    case 'createDomain':
    case 'createEnum':
    case 'createComposite':
    case 'createMatview':
      createIn(stmt.name);
      break;
    case 'dropFunction':
      for (const it of stmt.items) {
        const name = it.name[it.name.length - 1] as string;
        for (const f of [...view.functionsById.values()].filter((x) => x.name === name && x.parentId === db?.id)) ownObject(f.id, 'function', f.name);
      }
      break;
    case 'dropType':
      for (const parts of stmt.names) {
        const t = typeNamed(parts);
        ownObject(t?.id, 'type', t?.name ?? '');
      }
      break;
    case 'alterDomain':
    case 'alterEnum': {
      const t = typeNamed(stmt.name);
      ownObject(t?.id, 'type', t?.name ?? '');
      break;
    }
    case 'refreshMatview':
    case 'dropMatview':
      for (const parts of stmt.kind === 'dropMatview' ? stmt.names : [stmt.name]) ownTable(safeFind(parts));
      break;
    case 'setClusterSetting':
      throw superuserRequired('set cluster settings');
    case 'configureZone':
      throw superuserRequired('configure zones');
    case 'createDatabase':
      if (!auth.canCreateDb(role)) throw new PgError(SqlState.InsufficientPrivilege, 'permission denied to create database');
      break;
    case 'dropDatabase':
    case 'alterTsDatabase': {
      const db = view.database(stmt.name);
      if (db && !owns(db.id)) throw mustBeOwner('database', db.name);
      break;
    }
    case 'createSchema': {
      const db = view.database(c.database);
      if (db) reqs.push(databaseRequirement(db, Priv.CREATE));
      break;
    }
    case 'dropSchema': {
      const db = view.database(c.database);
      for (const parts of stmt.names) {
        const s = db ? view.schema(db.id, parts[parts.length - 1] as string) : undefined;
        if (s && !owns(s.id)) throw mustBeOwner('schema', s.name);
      }
      break;
    }
    case 'createTable':
      createIn(stmt.name);
      for (const col of stmt.columns) if (col.references) references(col.references.table);
      for (const k of stmt.constraints) if (k.kind === 'foreign') references(k.table);
      break;
    case 'createSequence':
      createIn(stmt.name);
      break;
    case 'createView': {
      createIn(stmt.name);
      if (stmt.orReplace) ownTable(safeFind(stmt.name));
      break;
    }
    case 'dropTable':
    case 'dropView':
    case 'dropSequence':
      for (const parts of stmt.names) ownTable(safeFind(parts));
      break;
    case 'alterTable': {
      const t = safeFind(stmt.name);
      ownTable(t);
      for (const cmd of stmt.cmds) {
        if (cmd.kind === 'addConstraint' && cmd.constraint.kind === 'foreign') references(cmd.constraint.table);
        if (cmd.kind === 'addColumn' && cmd.column.references) references(cmd.column.references.table);
      }
      break;
    }
    case 'createIndex':
      ownTable(safeFind(stmt.table));
      break;
    case 'dropIndex':
    case 'alterIndex': {
      const names = stmt.kind === 'dropIndex' ? stmt.names : [stmt.name];
      for (const parts of names) {
        const name = parts[parts.length - 1] as string;
        // `table@index` or `schema.index`: both parse to two parts.
        const qual = parts[parts.length - 2];
        const onTable = (t: TableDesc) => qual === undefined || qual === t.name || qual === view.byId.get(t.schemaId)?.name;
        const t = view.allTables().find((x) => onTable(x) && ([x.primaryIndex, ...x.indexes].some((i) => i.name === name) || x.ts?.tagIndexes?.some((i) => i.name === name)));
        if (t && !owns(t.id)) throw mustBeOwner('index', name);
      }
      break;
    }
    case 'truncate':
      for (const parts of stmt.names) {
        const t = safeFind(parts);
        if (t) reqs.push({ kind: 'table', objectId: t.id, name: t.name, word: 'table', privs: Priv.TRUNCATE });
      }
      break;
    default:
      break;
  }
  checkRequirements(auth, role, reqs);
}

/** COMPRESS TABLE t needs ownership of t; COMPRESS of databases and VACUUM TS need a superuser. */
export function checkMaintenance(auth: AuthView, role: number, table: TableDesc | null): void {
  if (auth.isSuperuser(role)) return;
  if (table === null) throw superuserRequired('compress or vacuum whole databases');
  if (!auth.isOwner(role, table.id)) throw mustBeOwner('table', table.name);
}

/**
 * After a schema change: objects that appeared are owned by `role` (root's objects need no
 * record: an object without one is root's), objects that disappeared lose their ACL record.
 */
export function recordOwnership(store: AuthStore, txn: Txn, auth: AuthView, before: CatalogView, after: CatalogView, role: number): void {
  // Functions and user-defined types are owned as relations are (they are not in byId).
  const ids = (v: CatalogView) => [...v.byId.keys(), ...v.functionsById.keys(), ...v.typesById.keys()];
  const had = (v: CatalogView, id: number) => v.byId.has(id) || v.functionsById.has(id) || v.typesById.has(id);
  for (const id of ids(after)) {
    if (had(before, id)) continue;
    if (role !== rootRoleOid && role > 0) store.putAcl(txn, { objectId: id, owner: role, acl: null });
  }
  for (const id of ids(before)) {
    if (!had(after, id) && auth.acls.has(id)) store.deleteAcl(txn, id);
  }
}

export { permissionDenied };
