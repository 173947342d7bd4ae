import { PgError, SqlState, assert } from '@strata/common';
import { KeyWriter, KeyspaceSystem, Txn, prefixEnd, systemKey } from '@strata/kv';
import type { KvSender } from '@strata/kv';
import type { DatabaseDesc, Descriptor, SchemaDesc, TableDesc } from './descriptors.js';
import { firstDescriptorId } from './descriptors.js';
import type { FunctionDesc } from './routines.js';
import type { DomainDesc, UserTypeDesc } from './user_types.js';
import { registerEnumOrder } from '../types/enum_order.js';

/** What is stored under /System/desc: relations, databases and schemas, functions (routines.ts) and types (user_types.ts). */
export type StoredDescriptor = Descriptor | FunctionDesc | UserTypeDesc;

const descPrefix = systemKey('desc');

export function descKey(id: number): Buffer {
  return new KeyWriter(24).byte(KeyspaceSystem).string('desc').int(id).finish();
}

export function nsKey(parentId: number, schemaId: number, name: string): Buffer {
  return new KeyWriter(48).byte(KeyspaceSystem).string('ns').int(parentId).int(schemaId).string(name).finish();
}

const idCounterKey = systemKey('next_id');

/** The prefix of temp schemas' names, `pg_temp_<node>_<backend pid>` (see temp_schemas.ts). */
export const tempSchemaPrefix = 'pg_temp_';

export function isTempSchemaName(name: string): boolean {
  return name.startsWith(tempSchemaPrefix);
}

/** The virtual schemas every database has, with their fixed OIDs (as in PostgreSQL). */
export const virtualSchemas = { pg_catalog: 11, information_schema: 13_000 } as const;

/**
 * An immutable snapshot of all descriptors, indexed for name resolution.
 * INVARIANT: names are unique per (parent, schema).
 */
export class CatalogView {
  readonly byId = new Map<number, Descriptor>();
  readonly databases = new Map<string, DatabaseDesc>();
  /** dbId → schema name → schema */
  readonly schemas = new Map<number, Map<string, SchemaDesc>>();
  /** schemaId → name → table */
  readonly tables = new Map<number, Map<string, TableDesc>>();
  /** schemaId → name → the overloads of that name (routines.ts); not in byId, which holds relations. */
  readonly functions = new Map<number, Map<string, FunctionDesc[]>>();
  readonly functionsById = new Map<number, FunctionDesc>();
  /** schemaId → name → user-defined type (user_types.ts); not in byId. */
  readonly types = new Map<number, Map<string, UserTypeDesc>>();
  readonly typesById = new Map<number, UserTypeDesc>();

  constructor(stored: StoredDescriptor[]) {
    const descs: Descriptor[] = [];
    for (const d of stored) {
      if (d.kind === 'function') {
        this.functionsById.set(d.id, d);
        let m = this.functions.get(d.schemaId);
        if (!m) this.functions.set(d.schemaId, (m = new Map()));
        const list = m.get(d.name);
        if (list) list.push(d);
        else m.set(d.name, [d]);
      } else if (d.kind === 'domain' || d.kind === 'enum' || d.kind === 'composite') {
        if (d.kind === 'enum') registerEnumOrder(d.id, d.labels);
        this.typesById.set(d.id, d);
        let m = this.types.get(d.schemaId);
        if (!m) this.types.set(d.schemaId, (m = new Map()));
        m.set(d.name, d);
      } else descs.push(d);
    }
    for (const d of descs) {
      this.byId.set(d.id, d);
      if (d.kind === 'database') this.databases.set(d.name, d);
    }
    for (const d of descs) {
      if (d.kind === 'schema') {
        let m = this.schemas.get(d.parentId);
        if (!m) this.schemas.set(d.parentId, (m = new Map()));
        m.set(d.name, d);
      } else if (d.kind !== 'database') {
        let m = this.tables.get(d.schemaId);
        if (!m) this.tables.set(d.schemaId, (m = new Map()));
        m.set(d.name, d);
      }
    }
  }

  database(name: string): DatabaseDesc | undefined {
    return this.databases.get(name);
  }
  /** The database a table (parentId) belongs to. */
  databaseById(id: number): DatabaseDesc | undefined {
    for (const d of this.databases.values()) if (d.id === id) return d;
    return undefined;
  }


  schema(dbId: number, name: string): SchemaDesc | undefined {
    return this.schemas.get(dbId)?.get(name);
  }

  table(schemaId: number, name: string): TableDesc | undefined {
    return this.tables.get(schemaId)?.get(name);
  }

  tableById(id: number): TableDesc | undefined {
    const d = this.byId.get(id);
    return d && d.kind !== 'database' && d.kind !== 'schema' ? d : undefined;
  }

  allTables(): TableDesc[] {
    const out: TableDesc[] = [];
    for (const m of this.tables.values()) for (const t of m.values()) out.push(t);
    return out.sort((a, b) => a.id - b.id);
  }

  /** The functions named `name` in a schema (every overload). */
  functionsNamed(schemaId: number, name: string): FunctionDesc[] {
    return this.functions.get(schemaId)?.get(name) ?? [];
  }

  /** A domain by OID (undefined for other types). */
  domainById(id: number): DomainDesc | undefined {
    const t = this.typesById.get(id);
    return t?.kind === 'domain' ? t : undefined;
  }

  /** A user-defined type by schema and name. */
  type(schemaId: number, name: string): UserTypeDesc | undefined {
    return this.types.get(schemaId)?.get(name);
  }

  /** Every user-defined type of a database, by OID. */
  allTypes(dbId: number): UserTypeDesc[] {
    return [...this.typesById.values()].filter((t) => t.parentId === dbId).sort((a, b) => a.id - b.id);
  }

  /** Every function of a database, by OID. */
  allFunctions(dbId: number): FunctionDesc[] {
    return [...this.functionsById.values()].filter((f) => f.parentId === dbId).sort((a, b) => a.id - b.id);
  }

  /** The ids of temp schemas (see temp_schemas.ts) and of everything in them. */
  tempObjectIds(): Set<number> {
    const ids = new Set<number>();
    for (const d of this.byId.values()) if (d.kind === 'schema' && isTempSchemaName(d.name)) ids.add(d.id);
    for (const d of this.byId.values()) if (d.kind !== 'schema' && d.kind !== 'database' && ids.has(d.schemaId)) ids.add(d.id);
    return ids;
  }

  schemasOf(dbId: number): SchemaDesc[] {
    return [...(this.schemas.get(dbId)?.values() ?? [])].sort((a, b) => a.id - b.id);
  }
}

/**
 * Reads and writes descriptors through transactions, with a cache of the latest committed view.
 * A transaction that wrote catalog keys reads its own view (uncached) so DDL inside explicit
 * transactions sees itself.
 */
export class Catalog {
  private cached: CatalogView | null = null;

  constructor(private readonly sender: KvSender) {}

  /** Called when a committed write touched the catalog. */
  invalidate(): void {
    this.cached = null;
  }

  view(txn: Txn | null): CatalogView {
    if (txn && txn.wroteSystem) return this.load(txn);
    if (!this.cached) this.cached = this.loadLatest();
    return this.cached;
  }

  private loadLatest(): CatalogView {
    const descs: StoredDescriptor[] = [];
    for (const { value } of this.sender.scan(descPrefix, prefixEnd(descPrefix), (1n << 63n) - 1n, false, null)) {
      descs.push(JSON.parse(value.toString()) as StoredDescriptor);
    }
    return new CatalogView(descs);
  }

  /**
   * The view of a transaction that wrote the catalog. Its read set is the descriptor span minus
   * the keys of temporary objects (temp schemas and what is in them): only the session a temp
   * schema belongs to changes it (temp_schemas.ts's invariant), and a session runs one
   * transaction at a time, so such a change never invalidates what this transaction decided. Left
   * in, every DDL transaction failed with 40001 when another session ended meanwhile (its temp
   * schema dropped), which drivers' test suites do between every two tests. New descriptors stay
   * covered (the gaps are tracked), so two transactions still cannot both create one name.
   */
  private load(txn: Txn): CatalogView {
    const rows = txn.withUntrackedReads(() => [...txn.scan(descPrefix, prefixEnd(descPrefix))]);
    const view = new CatalogView(rows.map(({ value }) => JSON.parse(value.toString()) as StoredDescriptor));
    const temp = view.tempObjectIds();
    txn.recordReadSpans(spanMinusKeys(descPrefix, prefixEnd(descPrefix), [...temp].map(descKey)));
    return view;
  }

  /** The ids of temporary objects (temp schemas and their contents) as `txn` sees them. */
  tempObjectIds(txn: Txn): Set<number> {
    return txn.withUntrackedReads(() => this.view(txn)).tempObjectIds();
  }

  allocateId(txn: Txn): number {
    const cur = txn.get(idCounterKey);
    const id = cur ? Number(cur.toString()) : firstDescriptorId;
    txn.put(idCounterKey, Buffer.from(String(id + 1)));
    return id;
  }

  writeDescriptor(txn: Txn, d: StoredDescriptor): void {
    txn.put(descKey(d.id), Buffer.from(JSON.stringify(d)));
  }

  writeName(txn: Txn, parentId: number, schemaId: number, name: string, id: number): void {
    txn.put(nsKey(parentId, schemaId, name), Buffer.from(String(id)));
  }

  deleteDescriptor(txn: Txn, d: StoredDescriptor): void {
    txn.del(descKey(d.id));
    if (d.kind === 'function' || d.kind === 'domain' || d.kind === 'enum' || d.kind === 'composite') return; // no name key (routines.ts, user_types.ts)
    if (d.kind === 'database') txn.del(nsKey(0, 0, d.name));
    else if (d.kind === 'schema') txn.del(nsKey(d.parentId, 0, d.name));
    else txn.del(nsKey(d.parentId, d.schemaId, d.name));
  }

  createDatabase(txn: Txn, name: string): DatabaseDesc {
    const view = this.view(txn);
    if (view.database(name)) throw new PgError(SqlState.DuplicateDatabase, `database "${name}" already exists`);
    const db: DatabaseDesc = { kind: 'database', id: this.allocateId(txn), name };
    this.writeDescriptor(txn, db);
    this.writeName(txn, 0, 0, name, db.id);
    this.createSchema(txn, db.id, 'public');
    return db;
  }

  createSchema(txn: Txn, dbId: number, name: string): SchemaDesc {
    const s: SchemaDesc = { kind: 'schema', id: this.allocateId(txn), name, parentId: dbId };
    this.writeDescriptor(txn, s);
    this.writeName(txn, dbId, 0, name, s.id);
    return s;
  }

  /** Creates defaultdb and postgres (each with a public schema) on a new cluster. */
  async bootstrap(): Promise<void> {
    const txn = await Txn.begin(this.sender);
    const view = this.view(txn);
    if (view.database('defaultdb')) {
      txn.rollback();
      return;
    }
    for (const name of ['defaultdb', 'postgres']) this.createDatabase(txn, name);
    await txn.commit();
    this.invalidate();
  }
}

/**
 * [start, end) without the given keys (each with all its MVCC versions: the key plus a 9-byte
 * timestamp suffix), as read-set spans.
 */
export function spanMinusKeys(start: Buffer, end: Buffer, keys: Buffer[]): [Buffer, Buffer][] {
  const spans: [Buffer, Buffer][] = [];
  let from = start;
  for (const key of [...keys].sort(Buffer.compare)) {
    if (Buffer.compare(key, from) < 0 || Buffer.compare(key, end) >= 0) continue;
    if (Buffer.compare(from, key) < 0) spans.push([from, key]);
    from = Buffer.concat([key, Buffer.alloc(9, 0xff)]);
  }
  if (Buffer.compare(from, end) < 0) spans.push([from, end]);
  return spans;
}

export function assertTable(d: Descriptor | undefined): TableDesc {
  assert(d !== undefined && d.kind !== 'database' && d.kind !== 'schema', 'not a table descriptor');
  return d as TableDesc;
}
