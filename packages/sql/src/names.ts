/**
 * Name resolution for a session: a table reference `t`, `schema.t`, `database.t` (when not a
 * schema of the current database, as in CockroachDB/KWDB) or `database.schema.t`, looked up in
 * the session's temp schema first, then pg_catalog, then the search path (PostgreSQL's order);
 * and where a new object named by such a reference goes. Other sessions' temp schemas are
 * never visible (0A000).
 */
import { PgError, SqlState } from '@strata/common';
import type { CatalogView } from './catalog/catalog.js';
import type { SchemaDesc, TableDesc } from './catalog/descriptors.js';
import type { ResolvedTable, VirtualTableDef } from './plan/query.js';
import { isTempSchemaName } from './temp_schemas.js';
import { virtualTable } from './virtual/pg_catalog.js';

/** What resolution needs of its session. */
export interface NameHost {
  database(): string;
  searchPath(): string[];
  /** The session's own temp schema name (pg_temp_<n>). */
  tempSchemaName(): string;
  /** The session's temp schema in a database, if it made one. */
  ownTempSchema(view: CatalogView, dbId: number): SchemaDesc | undefined;
}

/** 0A000: another session's temp schema named in a reference. */
export function otherSessionsTemp(): PgError {
  return new PgError(SqlState.FeatureNotSupported, 'cannot access temporary tables of other sessions');
}

export class NameResolver {
  constructor(private readonly h: NameHost) {}

  currentDbId(view: CatalogView): number {
    const db = view.database(this.h.database());
    if (!db) throw new PgError(SqlState.InvalidCatalogName, `database "${this.h.database()}" does not exist`);
    return db.id;
  }

  /** Resolves a table reference: t, schema.t, database.t (CockroachDB), database.schema.t. */
  resolveTable(parts: string[], pos: number, view: CatalogView): ResolvedTable | { kind: 'virtual'; def: VirtualTableDef } {
    const notFound = () => new PgError(SqlState.UndefinedTable, `relation "${parts.join('.')}" does not exist`, { position: pos + 1 });
    const name = parts[parts.length - 1] as string;
    const virt = (schema: string) => {
      const def = virtualTable(schema, name);
      return def ? { kind: 'virtual' as const, def } : undefined;
    };
    if (parts.length === 1) {
      const dbId = this.currentDbId(view);
      // The session's temp schema comes first, even before pg_catalog (PostgreSQL's order).
      const temp = this.h.ownTempSchema(view, dbId);
      const tt = temp ? view.table(temp.id, name) : undefined;
      if (tt && temp) return { kind: 'table', desc: tt, db: this.h.database(), schema: temp.name };
      const v = virt('pg_catalog');
      if (v) return v;
      for (const s of this.h.searchPath()) {
        if (s === '$user' || s === 'pg_temp' || isTempSchemaName(s)) continue;
        if (s === 'pg_catalog' || s === 'information_schema') {
          const x = virt(s);
          if (x) return x;
          continue;
        }
        const schema = view.schema(dbId, s);
        const t = schema ? view.table(schema.id, name) : undefined;
        if (t && schema) return { kind: 'table', desc: t, db: this.h.database(), schema: schema.name };
      }
      throw notFound();
    }
    let dbName = this.h.database();
    let schemaName: string;
    if (parts.length === 2) {
      const q = parts[0] as string;
      if (q === 'pg_catalog' || q === 'information_schema') return virt(q) ?? (() => { throw notFound(); })();
      const dbId = this.currentDbId(view);
      if (q === 'pg_temp' || isTempSchemaName(q)) {
        if (q !== 'pg_temp' && q !== this.h.tempSchemaName()) throw otherSessionsTemp();
        const temp = this.h.ownTempSchema(view, dbId);
        const t = temp ? view.table(temp.id, name) : undefined;
        if (!t || !temp) throw notFound();
        return { kind: 'table', desc: t, db: this.h.database(), schema: temp.name };
      }
      if (view.schema(dbId, q)) schemaName = q;
      else if (view.database(q)) {
        dbName = q;
        schemaName = 'public';
      } else throw new PgError(SqlState.UndefinedTable, `relation "${parts.join('.')}" does not exist`, { position: pos + 1 });
    } else if (parts.length === 3) {
      dbName = parts[0] as string;
      schemaName = parts[1] as string;
      if (schemaName === 'pg_catalog' || schemaName === 'information_schema') return virt(schemaName) ?? (() => { throw notFound(); })();
      if (isTempSchemaName(schemaName) && (schemaName !== this.h.tempSchemaName() || dbName !== this.h.database())) throw otherSessionsTemp();
    } else throw new PgError(SqlState.SyntaxError, `improper qualified name (too many dotted names): ${parts.join('.')}`, { position: pos + 1 });
    const db = view.database(dbName);
    if (!db) throw new PgError(SqlState.InvalidCatalogName, `database "${dbName}" does not exist`, { position: pos + 1 });
    const schema = view.schema(db.id, schemaName);
    if (!schema) throw new PgError(SqlState.InvalidSchemaName, `schema "${schemaName}" does not exist`, { position: pos + 1 });
    const t = view.table(schema.id, name);
    if (!t) throw notFound();
    return { kind: 'table', desc: t, db: dbName, schema: schemaName };
  }

  tableFor(parts: string[], pos: number, view: CatalogView): { desc: TableDesc; schema: string; db: string } {
    const r = this.resolveTable(parts, pos, view);
    if (r.kind === 'virtual') throw new PgError(SqlState.InsufficientPrivilege, `${r.def.name} is a system catalog and cannot be modified`);
    return r;
  }

  /** Where a new object named `parts` goes. */
  createTarget(parts: string[], view: CatalogView): { dbId: number; schemaId: number; schemaName: string; name: string } {
    const name = parts[parts.length - 1] as string;
    let dbName = this.h.database();
    let schemaName = this.h.searchPath().find((s) => s !== '$user' && s !== 'pg_catalog') ?? 'public';
    if (parts.length === 2) {
      const q = parts[0] as string;
      const dbId = this.currentDbId(view);
      if (q === 'pg_temp' || isTempSchemaName(q)) {
        if (q !== 'pg_temp' && q !== this.h.tempSchemaName()) throw otherSessionsTemp();
        // Only CREATE TEMP TABLE makes the schema (runDdl); other objects cannot go there yet.
        if (!this.h.ownTempSchema(view, dbId)) throw new PgError(SqlState.FeatureNotSupported, 'only tables can be temporary (create a TEMP TABLE first; temporary views, sequences and indexes on them are not supported)');
        schemaName = this.h.tempSchemaName();
      } else if (view.schema(dbId, q)) schemaName = q;
      else if (view.database(q)) {
        dbName = q;
        schemaName = 'public';
      } else throw new PgError(SqlState.InvalidSchemaName, `schema "${q}" does not exist`);
    } else if (parts.length === 3) {
      dbName = parts[0] as string;
      schemaName = parts[1] as string;
    }
    if (name.length > 63) throw new PgError(SqlState.ProgramLimitExceeded, `identifier "${name}" is too long (63 bytes at most)`);
    const db = view.database(dbName);
    if (!db) throw new PgError(SqlState.InvalidCatalogName, `database "${dbName}" does not exist`);
    const schema = view.schema(db.id, schemaName);
    if (!schema) throw new PgError(SqlState.InvalidSchemaName, `schema "${schemaName}" does not exist`);
    return { dbId: db.id, schemaId: schema.id, schemaName, name };
  }
}

/**
 * A relation name as regclassin and to_regclass read it: dot-separated identifiers, unquoted ones
 * lower-cased, "quoted" ones as written ("" for a quote).
 */
export function relationNameParts(text: string): string[] {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  for (;;) {
    let part = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new PgError(SqlState.InvalidNameSyntax, 'invalid name syntax');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i++];
      }
    } else {
      const start = i;
      while (i < s.length && s[i] !== '.') i++;
      part = s.slice(start, i).trim().toLowerCase();
      if (part === '') throw new PgError(SqlState.InvalidNameSyntax, 'invalid name syntax');
    }
    parts.push(part);
    if (i >= s.length) return parts;
    if (s[i] !== '.') throw new PgError(SqlState.InvalidNameSyntax, 'invalid name syntax');
    i++;
  }
}
