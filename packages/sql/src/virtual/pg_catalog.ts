/**
 * Virtual pg_catalog and information_schema tables, generated from the descriptors of the
 * current database: enough for psql's \l \dn \dt \d \du and drivers' type lookups.
 */
import type { CatalogView } from '../catalog/catalog.js';
import { virtualSchemas } from '../catalog/catalog.js';
import type { IndexDesc, TableDesc } from '../catalog/descriptors.js';
import { T, allTypeOids, arrayOf, category, formatType, typeLen, typeOid, typeName } from '../types/types.js';
import type { SqlType, Value } from '../types/types.js';
import type { ExecCtx, Row } from '../exec/context.js';
import type { VirtualTableDef } from '../plan/query.js';
import { arrayInOid } from '../plan/binder.js';
import { aclColumn, authCatalogDefs, canSeeTable, ownerName, ownerOid, tableAclKind } from '../auth/catalog_tables.js';

import { rootRoleOid } from '../auth/constants.js';
import { sequenceBounds } from '../sequence_options.js';
import { quoteIdent } from '../functions/format.js';
import { largeObjectProcs } from '../functions/large_object_functions.js';
export { rootRoleOid };
export const btreeAmOid = 403;
export const heapAmOid = 2;
/** pg_language.oid of `sql` (PostgreSQL's). */
export const sqlLanguageOid = 14;

/** The OID pg_constraint gives a domain's i-th CHECK constraint (pg_get_constraintdef reads it back). */
export function domainConstraintOid(domainId: number, i: number): number {
  return domainId * 1000 + 800 + i;
}

export function indexOid(t: TableDesc, idx: IndexDesc): number {
  return t.id * 1000 + idx.id;
}

const b = T.bool;
const o = T.oid;
const n = T.name;
const txt = T.text;
const i2 = T.int2;
const i4 = T.int4;
const c = T.char;
const f4 = T.float4;

type Cols = [string, SqlType][];

interface Def {
  schema: 'pg_catalog' | 'information_schema';
  name: string;
  cols: Cols;
  rows: (ctx: ExecCtx, v: CatalogView, dbId: number) => Iterable<Row>;
}

function dbOf(ctx: ExecCtx): number {
  return ctx.catalog.database(ctx.session.database)?.id ?? 0;
}

function userTables(v: CatalogView, dbId: number): { t: TableDesc; schema: string; schemaOid: number }[] {
  const out: { t: TableDesc; schema: string; schemaOid: number }[] = [];
  for (const s of v.schemasOf(dbId)) for (const t of v.tables.get(s.id)?.values() ?? []) out.push({ t, schema: s.name, schemaOid: s.id });
  return out.sort((a, b2) => a.t.id - b2.t.id);
}

/**
 * A relation's attributes as the catalogs list them: its visible columns, then — for a
 * time-series table — its tags (KWDB's `SELECT *` order), so tools that discover columns through
 * pg_attribute or information_schema.columns (Grafana, DBeaver, ORMs) offer tags too. Each tag's
 * role is its column comment (tsColumnComment).
 */
export function catalogAttributes(t: TableDesc): { name: string; type: SqlType; nullable: boolean; default: string | null; comment: string | null }[] {
  const cols = t.columns.filter((x) => !x.hidden).map((x) => ({ name: x.name, type: x.type, nullable: x.nullable, default: x.default, comment: null as string | null }));
  for (const g of t.ts?.tags ?? []) cols.push({ name: g.name, type: g.type, nullable: g.nullable, default: null, comment: g.primary ? 'primary tag' : 'tag' });
  return cols;
}

/** col_description(table, attnum): a time-series tag's role ('tag' or 'primary tag'), else NULL. */
export function columnComment(t: TableDesc, attnum: number): string | null {
  return catalogAttributes(t)[attnum - 1]?.comment ?? null;
}

function relkind(t: TableDesc): string {
  // Time-series tables show as ordinary tables so psql's \d and driver introspection list them.
  return t.kind === 'view' ? 'v' : t.kind === 'sequence' ? 'S' : t.matview ? 'm' : 'r';
}

const defs: Def[] = [
  {
    schema: 'pg_catalog',
    name: 'pg_database',
    cols: [['oid', o], ['datname', n], ['datdba', o], ['encoding', i4], ['datlocprovider', c], ['datistemplate', b], ['datallowconn', b], ['datconnlimit', i4], ['datcollate', n], ['datctype', n], ['daticulocale', txt], ['datacl', arrayOf(txt)], ['dattablespace', o]],
    rows: (ctx, v) => [...v.databases.values()].sort((a, b2) => a.id - b2.id).map((d) => [d.id, d.name, ownerOid(ctx, d.id), 6, 'c', false, true, -1, 'C.UTF-8', 'C.UTF-8', null, aclColumn(ctx, 'database', d.id), 1663]),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_namespace',
    cols: [['oid', o], ['nspname', n], ['nspowner', o], ['nspacl', arrayOf(txt)]],
    rows: (ctx, v, db) => [
      [virtualSchemas.pg_catalog, 'pg_catalog', rootRoleOid, null],
      [virtualSchemas.information_schema, 'information_schema', rootRoleOid, null],
      ...v.schemasOf(db).map((s) => [s.id, s.name, ownerOid(ctx, s.id), aclColumn(ctx, 'schema', s.id, s.name === 'public')]),
    ],
  },
  {
    schema: 'pg_catalog',
    name: 'pg_class',
    cols: [
      ['oid', o], ['relname', n], ['relnamespace', o], ['reltype', o], ['reloftype', o], ['relowner', o], ['relam', o], ['relfilenode', o], ['reltablespace', o],
      ['relpages', i4], ['reltuples', f4], ['relallvisible', i4], ['reltoastrelid', o], ['relhasindex', b], ['relisshared', b], ['relpersistence', c], ['relkind', c],
      ['relnatts', i2], ['relchecks', i2], ['relhasrules', b], ['relhastriggers', b], ['relhassubclass', b], ['relrowsecurity', b], ['relforcerowsecurity', b],
      ['relispopulated', b], ['relreplident', c], ['relispartition', b], ['relrewrite', o], ['relfrozenxid', o], ['relminmxid', o], ['relacl', arrayOf(txt)], ['reloptions', arrayOf(txt)], ['relpartbound', txt],
    ],
    rows: function* (ctx, v, db) {
      const row = (oid: number, name: string, ns: number, kind: string, am: number, natts: number, checks: number, hasIndex: boolean, owner = rootRoleOid, acl: string[] | null = null, persistence = 'p', triggers = false, reloptions: string[] | undefined = undefined): Row => [
        // reltuples: -1 (never analyzed) for tables, 0 for indexes, as a new PostgreSQL 15 table's.
        oid, name, ns, 0, 0, owner, am, oid, 0, 1, kind === 'i' ? 0 : -1, 0, 0, hasIndex, false, persistence, kind, natts, checks, false, triggers, false, false, false, true, 'd', false, 0, 0, 0, acl, reloptions ?? null, null,
      ];
      const tables = userTables(v, db);
      // A foreign key is carried out by triggers in PostgreSQL, on both tables: relhastriggers
      // is how psql's \d decides to look for foreign keys and references.
      const withTriggers = new Set<number>();
      for (const { t } of tables) {
        for (const fk of t.foreignKeys) {
          withTriggers.add(t.id);
          withTriggers.add(fk.refTableId);
        }
      }
      for (const { t, schema, schemaOid } of tables) {
        const owner = ownerOid(ctx, t.id);
        // Temporary tables (temp_schemas.ts) are 't', as PostgreSQL's.
        const persistence = schema.startsWith('pg_temp_') ? 't' : 'p';
        const r = row(t.id, t.name, schemaOid, relkind(t), t.kind === 'table' ? heapAmOid : 0, catalogAttributes(t).length, t.checks.length, catalogIndexes(t).length > 0, owner, aclColumn(ctx, tableAclKind(t), t.id), persistence, withTriggers.has(t.id), t.reloptions);
        if (t.matview) r[24] = t.matview.populated; // relispopulated
        yield r;
        for (const idx of catalogIndexes(t)) yield row(indexOid(t, idx), idx.name, schemaOid, 'i', btreeAmOid, idx.columnIds.length, 0, false, owner, null, persistence, false, idx.reloptions);
      }
      let k = 0;
      for (const d of defs) {
        const oid = catalogOids[d.name] ?? virtualOid(k);
        k++;
        yield row(oid, d.name, virtualSchemas[d.schema], catalogOids[d.name] !== undefined ? 'r' : 'v', 0, d.cols.length, 0, false);
      }
    },
  },
  {
    schema: 'pg_catalog',
    name: 'pg_attribute',
    cols: [['attrelid', o], ['attname', n], ['atttypid', o], ['attstattarget', i4], ['attlen', i2], ['attnum', i2], ['attndims', i4], ['atttypmod', i4], ['attbyval', b], ['attalign', c], ['attstorage', c], ['attcompression', c], ['attnotnull', b], ['atthasdef', b], ['atthasmissing', b], ['attidentity', c], ['attgenerated', c], ['attisdropped', b], ['attislocal', b], ['attinhcount', i4], ['attcollation', o], ['attacl', arrayOf(txt)]],
    rows: function* (_ctx, v, db) {
      for (const { t } of userTables(v, db)) {
        let num = 0;
        for (const col of catalogAttributes(t)) {
          num++;
          yield [t.id, col.name, col.type.domain?.id ?? col.type.enumType?.id ?? typeOid(col.type), -1, typeLen(col.type), num, col.type.kind === 'array' ? 1 : 0, pgTypmod(col.type), typeLen(col.type) > 0 && typeLen(col.type) <= 8, 'i', typeStorage(col.type), '', !col.nullable, col.default !== null, false, '', '', false, true, 0, isStringType(col.type) && !col.type.enumType ? 100 : 0, null];
        }
        for (const idx of catalogIndexes(t)) {
          idx.columnIds.forEach((cid, i) => {
            const col = t.columns.find((x) => x.id === cid);
            if (!col) return;
            // generators cannot yield from callbacks; collected below
            attIdx.push([indexOid(t, idx), col.name, typeOid(col.type), -1, typeLen(col.type), i + 1, 0, pgTypmod(col.type), true, 'i', typeStorage(col.type), '', false, false, false, '', '', false, true, 0, 0, null]);
          });
        }
      }
      yield* attIdx.splice(0);
    },
  },
  {
    schema: 'pg_catalog',
    name: 'pg_attrdef',
    cols: [['oid', o], ['adrelid', o], ['adnum', i2], ['adbin', txt]],
    rows: function* (_ctx, v, db) {
      for (const { t } of userTables(v, db)) {
        let num = 0;
        for (const col of t.columns) {
          if (col.hidden) continue;
          num++;
          if (col.default !== null) yield [t.id * 1000 + 500 + num, t.id, num, renderDefault(col.default, col.type)];
        }
      }
    },
  },
  {
    schema: 'pg_catalog',
    name: 'pg_index',
    cols: [['indexrelid', o], ['indrelid', o], ['indnatts', i2], ['indnkeyatts', i2], ['indisunique', b], ['indnullsnotdistinct', b], ['indisprimary', b], ['indisexclusion', b], ['indimmediate', b], ['indisclustered', b], ['indisvalid', b], ['indcheckxmin', b], ['indisready', b], ['indislive', b], ['indisreplident', b], ['indkey', T.int2vector], ['indcollation', T.oidvector], ['indclass', T.oidvector], ['indoption', T.int2vector], ['indexprs', txt], ['indpred', txt]],
    rows: function* (_ctx, v, db) {
      for (const { t } of userTables(v, db)) {
        if (t.kind !== 'table') continue;
        const visible = t.columns.filter((x) => !x.hidden);
        for (const idx of catalogIndexes(t)) {
          const keys = idx.columnIds.map((id) => visible.findIndex((x) => x.id === id) + 1);
          // indoption: bit 0 DESC, bit 1 NULLS FIRST (DESC implies NULLS FIRST, as PostgreSQL's default).
          const collations = idx.columnIds.map((id) => (isStringType(visible.find((x) => x.id === id)?.type ?? T.int4) ? 100 : 0));
          yield [indexOid(t, idx), t.id, keys.length, keys.length, idx.unique, false, idx === t.primaryIndex, false, true, false, true, false, true, true, false, keys, collations, keys.map(() => 0), keys.map((_k, i) => (idx.desc[i] ? 3 : 0)), null, null];
        }
      }
    },
  },
  {
    schema: 'pg_catalog',
    name: 'pg_constraint',
    cols: [['oid', o], ['conname', n], ['connamespace', o], ['contype', c], ['condeferrable', b], ['condeferred', b], ['convalidated', b], ['conrelid', o], ['contypid', o], ['conindid', o], ['confrelid', o], ['conkey', arrayOf(i2)], ['confkey', arrayOf(i2)], ['consrc', txt], ['conparentid', o], ['confupdtype', c], ['confdeltype', c], ['confmatchtype', c], ['conislocal', b], ['coninhcount', i4], ['connoinherit', b]],
    rows: function* (_ctx, v, db) {
      for (const { t, schemaOid } of userTables(v, db)) {
        if (t.kind !== 'table') continue;
        const visible = t.columns.filter((x) => !x.hidden);
        const pos = (id: number) => visible.findIndex((x) => x.id === id) + 1;
        for (const idx of [t.primaryIndex, ...t.indexes]) {
          if (!idx.constraint) continue;
          if (idx === t.primaryIndex && t.columns.some((x) => x.hidden && idx.columnIds.includes(x.id))) continue;
          yield [indexOid(t, idx) + 100_000_000, idx.name, schemaOid, idx.constraint === 'primary' ? 'p' : 'u', false, false, true, t.id, 0, indexOid(t, idx), 0, idx.columnIds.map(pos), null, null, 0, ' ', ' ', ' ', true, 0, true];
        }
        for (let i = 0; i < t.checks.length; i++) yield [t.id * 1000 + 900 + i, (t.checks[i] as { name: string }).name, schemaOid, 'c', false, false, true, t.id, 0, 0, 0, [], null, (t.checks[i] as { expr: string }).expr, 0, ' ', ' ', ' ', true, 0, false];
        for (let i = 0; i < t.foreignKeys.length; i++) {
          const fk = t.foreignKeys[i] as TableDesc['foreignKeys'][number];
          const rt = v.tableById(fk.refTableId);
          const rvisible = rt ? rt.columns.filter((x) => !x.hidden) : [];
          // The unique index of the referenced table the key points at (conindid), as PostgreSQL records it.
          const refIdx = rt ? [rt.primaryIndex, ...rt.indexes].find((ix) => ix.unique && ix.columnIds.length === fk.refColumnIds.length && ix.columnIds.every((id) => fk.refColumnIds.includes(id))) : undefined;
          // No cascades: ON UPDATE/DELETE NO ACTION ('a'), MATCH SIMPLE ('s').
          yield [t.id * 1000 + 950 + i, fk.name, schemaOid, 'f', false, false, true, t.id, 0, rt && refIdx ? indexOid(rt, refIdx) : 0, fk.refTableId, fk.columnIds.map(pos), fk.refColumnIds.map((id) => rvisible.findIndex((x) => x.id === id) + 1), null, 0, 'a', 'a', 's', true, 0, true];
        }
      }
      // Domain CHECK constraints (contypid; oid = domain oid × 1000 + 800 + position).
      for (const d of v.allTypes(db)) {
        if (d.kind !== 'domain') continue;
        for (let i = 0; i < d.checks.length; i++) {
          const ch = d.checks[i] as { name: string; expr: string };
          yield [domainConstraintOid(d.id, i), ch.name, d.schemaId, 'c', false, false, true, 0, d.id, 0, 0, null, null, ch.expr, 0, ' ', ' ', ' ', true, 0, false];
        }
      }
    },
  },
  {
    schema: 'pg_catalog',
    name: 'pg_type',
    cols: [['oid', o], ['typname', n], ['typnamespace', o], ['typowner', o], ['typlen', i2], ['typbyval', b], ['typtype', c], ['typcategory', c], ['typispreferred', b], ['typisdefined', b], ['typdelim', c], ['typrelid', o], ['typelem', o], ['typarray', o], ['typinput', T.regproc], ['typoutput', T.regproc], ['typreceive', T.regproc], ['typsend', T.regproc], ['typbasetype', o], ['typtypmod', i4], ['typndims', i4], ['typcollation', o], ['typnotnull', b], ['typdefault', txt]],
    rows: function* (ctx, v, db) {
      // PostgreSQL's catalog lists _timetz after _interval (pg_type.dat order), which pgJDBC's
      // getTypeInfo shows as is: that one array row is held back until then.
      let heldBack: Row | null = null;
      for (const t of allTypeOids()) {
        const st: SqlType = { kind: t.kind, typmod: -1 };
        yield [t.oid, typeName(st), virtualSchemas.pg_catalog, rootRoleOid, typeLen(st), typeLen(st) > 0 && typeLen(st) <= 8, 'b', category(st), false, true, ',', 0, 0, t.arrayOid, t.oid, t.oid, t.oid, t.oid, 0, -1, 0, isStringType(st) ? 100 : 0, false, null];
        if (t.arrayOid) {
          const at = arrayOf(st);
          const row: Row = [t.arrayOid, typeName(at), virtualSchemas.pg_catalog, rootRoleOid, -1, false, 'b', 'A', false, true, ',', 0, t.oid, 0, arrayInOid, t.arrayOid, t.arrayOid, t.arrayOid, 0, -1, 0, isStringType(st) ? 100 : 0, false, null];
          if (t.kind === 'timetz') heldBack = row;
          else yield row;
        }
        if (t.kind === 'interval' && heldBack) {
          yield heldBack;
          heldBack = null;
        }
      }
      if (heldBack) yield heldBack;
      // Domains (catalog/user_types.ts): typtype 'd' over their base type.
      for (const d of v.allTypes(db)) {
        if (d.kind === 'enum') {
          yield [d.id, d.name, d.schemaId, ownerOid(ctx, d.id), 4, true, 'e', 'E', false, true, ',', 0, 0, 0, 3504, 3504, 3504, 3504, 0, -1, 0, 0, false, null];
          continue;
        }
        if (d.kind === 'composite') {
          // typrelid 0: no pg_class row stands for it here (psql's \dT lists it all the same).
          yield [d.id, d.name, d.schemaId, ownerOid(ctx, d.id), -1, false, 'c', 'C', false, true, ',', 0, 0, 0, 2290, 2291, 2402, 2403, 0, -1, 0, 0, false, null];
          continue;
        }
        const base = d.base;
        yield [d.id, d.name, d.schemaId, ownerOid(ctx, d.id), typeLen(base), typeLen(base) > 0 && typeLen(base) <= 8, 'd', category(base), false, true, ',', 0, 0, 0, typeOid(base), typeOid(base), typeOid(base), typeOid(base), d.parent ?? typeOid(base), pgTypmod(base), 0, isStringType(base) ? 100 : 0, d.notNull, d.default];
      }
    },
  },
  // pg_roles, pg_authid, pg_user, pg_shadow, pg_auth_members, information_schema.table_privileges.
  ...authCatalogDefs,
  { schema: 'pg_catalog', name: 'pg_am', cols: [['oid', o], ['amname', n], ['amhandler', T.regproc], ['amtype', c]], rows: () => [[heapAmOid, 'heap', 0, 't'], [btreeAmOid, 'btree', 0, 'i']] },
  { schema: 'pg_catalog', name: 'pg_collation', cols: [['oid', o], ['collname', n], ['collnamespace', o], ['collprovider', c]], rows: () => [[100, 'default', virtualSchemas.pg_catalog, 'd'], [950, 'C', virtualSchemas.pg_catalog, 'c']] },
  { schema: 'pg_catalog', name: 'pg_tablespace', cols: [['oid', o], ['spcname', n], ['spcowner', o]], rows: () => [[1663, 'pg_default', rootRoleOid]] },
  {
    // Comments: a time-series table's own COMMENT, and each tag's role (catalogAttributes).
    schema: 'pg_catalog',
    name: 'pg_description',
    cols: [['objoid', o], ['classoid', o], ['objsubid', i4], ['description', txt]],
    rows: function* (_ctx, v, db) {
      for (const { t } of userTables(v, db)) {
        if (!t.ts) continue;
        if (t.ts.comment) yield [t.id, 1259, 0, t.ts.comment];
        let num = 0;
        for (const a of catalogAttributes(t)) {
          num++;
          if (a.comment) yield [t.id, 1259, num, a.comment];
        }
      }
    },
  },
  { schema: 'pg_catalog', name: 'pg_shdescription', cols: [['objoid', o], ['classoid', o], ['description', txt]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_inherits', cols: [['inhrelid', o], ['inhparent', o], ['inhseqno', i4], ['inhdetachpending', b]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_policy', cols: [['oid', o], ['polname', n], ['polrelid', o], ['polcmd', c], ['polpermissive', b], ['polroles', arrayOf(o)], ['polqual', txt], ['polwithcheck', txt]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_statistic_ext', cols: [['oid', o], ['stxrelid', o], ['stxname', n], ['stxnamespace', o], ['stxowner', o], ['stxstattarget', i4], ['stxkeys', T.int2vector], ['stxkind', arrayOf(c)]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_publication', cols: [['oid', o], ['pubname', n], ['pubowner', o], ['puballtables', b]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_publication_namespace', cols: [['oid', o], ['pnpubid', o], ['pnnspid', o]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_publication_rel', cols: [['oid', o], ['prpubid', o], ['prrelid', o], ['prqual', txt], ['prattrs', T.int2vector]], rows: () => [] },
  {
    // No triggers (foreign keys are checked without them; relhastriggers still says true for
    // their tables so that psql looks for foreign keys).
    schema: 'pg_catalog',
    name: 'pg_trigger',
    cols: [['oid', o], ['tgrelid', o], ['tgparentid', o], ['tgname', n], ['tgfoid', o], ['tgtype', i2], ['tgenabled', c], ['tgisinternal', b], ['tgconstrrelid', o], ['tgconstrindid', o], ['tgconstraint', o], ['tgdeferrable', b], ['tginitdeferred', b], ['tgnargs', i2], ['tgattr', T.int2vector], ['tgargs', T.bytea], ['tgqual', txt], ['tgoldtable', n], ['tgnewtable', n]],
    rows: () => [],
  },
  { schema: 'pg_catalog', name: 'pg_rewrite', cols: [['oid', o], ['rulename', n], ['ev_class', o]], rows: () => [] },
  {
    // Only a SERIAL sequence's automatic dependency on its column (psql's "Owned by").
    schema: 'pg_catalog',
    name: 'pg_depend',
    cols: [['classid', o], ['objid', o], ['objsubid', i4], ['refclassid', o], ['refobjid', o], ['refobjsubid', i4], ['deptype', c]],
    rows: function* (_ctx, v, db) {
      for (const { t } of userTables(v, db)) {
        const owner = t.kind === 'sequence' ? t.sequence?.ownedBy : undefined;
        const table = owner ? v.tableById(owner.tableId) : undefined;
        if (!owner || !table) continue;
        const num = table.columns.filter((x) => !x.hidden).findIndex((x) => x.id === owner.columnId) + 1;
        if (num > 0) yield [1259, t.id, 0, 1259, table.id, num, 'a'];
      }
    },
  },
  {
    // Enum labels (catalog/user_types.ts); a label's OID is its enum's × 1000 + its position.
    schema: 'pg_catalog',
    name: 'pg_enum',
    cols: [['oid', o], ['enumtypid', o], ['enumsortorder', f4], ['enumlabel', n]],
    rows: function* (_ctx, v, db) {
      for (const e of v.allTypes(db)) {
        if (e.kind !== 'enum') continue;
        let i = 0;
        for (const l of e.labels) yield [e.id * 1000 + i++, e.id, l.sortOrder, l.label];
      }
    },
  },
  { schema: 'pg_catalog', name: 'pg_range', cols: [['rngtypid', o], ['rngsubtype', o]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_extension', cols: [['oid', o], ['extname', n], ['extowner', o], ['extnamespace', o], ['extversion', txt]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_event_trigger', cols: [['oid', o], ['evtname', n]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_foreign_table', cols: [['ftrelid', o], ['ftserver', o]], rows: () => [] },
  { schema: 'pg_catalog', name: 'pg_partitioned_table', cols: [['partrelid', o], ['partstrat', c]], rows: () => [] },
  {
    schema: 'pg_catalog',
    name: 'pg_proc',
    // User SQL functions, and the large-object functions (other built-in functions are not listed).
    cols: [
      ['oid', o], ['proname', n], ['pronamespace', o], ['proowner', o], ['prolang', o], ['procost', f4], ['prorows', f4], ['provariadic', o], ['prosupport', T.regproc],
      ['prokind', c], ['prosecdef', b], ['proleakproof', b], ['proisstrict', b], ['proretset', b], ['provolatile', c], ['proparallel', c], ['pronargs', i2],
      ['pronargdefaults', i2], ['prorettype', o], ['proargtypes', T.oidvector], ['proallargtypes', arrayOf(o)], ['proargmodes', arrayOf(c)], ['proargnames', arrayOf(txt)],
      ['proargdefaults', txt], ['protrftypes', arrayOf(o)], ['prosrc', txt], ['probin', txt], ['prosqlbody', txt], ['proconfig', arrayOf(txt)], ['proacl', arrayOf(txt)],
    ],
    rows: function* (ctx, v, db) {
      // The large-object functions: libpq's lo_* calls find them here by name and call them by OID.
      for (const p of largeObjectProcs) {
        yield [p.oid, p.name, virtualSchemas.pg_catalog, rootRoleOid, 12, 1, 0, 0, 0, 'f', false, false, true, false, 'v', 'u', p.args.length, 0, typeOid(p.result), p.args.map(typeOid), null, null, null, null, null, p.name, null, null, null, null];
      }
      for (const f of v.allFunctions(db)) {
        const ins = f.params.filter((p) => p.mode !== 'out');
        const modes = f.params.map((p) => ({ in: 'i', out: 'o', inout: 'b', variadic: 'v' })[p.mode]);
        const tableCols = f.returnsTable ? (f.result.fields ?? []) : [];
        const all = [...f.params.map((p) => typeOid(p.type)), ...tableCols.map((x) => typeOid(x.type))];
        const allModes = [...modes, ...tableCols.map(() => 't')];
        const names = [...f.params.map((p) => p.name ?? ''), ...tableCols.map((x) => x.name)];
        const simple = allModes.every((m) => m === 'i');
        const rettype = f.rowTypeName !== undefined ? 0 : typeOid(f.result.kind === 'record' ? T.record : f.result);
        yield [
          f.id, f.name, f.schemaId, ownerOid(ctx, f.id), sqlLanguageOid, 100, f.retSet ? 1000 : 0, 0, 0,
          'f', false, false, f.strict, f.retSet, f.volatility, 'u', ins.length,
          ins.filter((p) => p.default !== null).length, rettype, ins.map((p) => typeOid(p.type)), simple ? null : all, simple ? null : allModes, names.some((x) => x !== '') ? names : null,
          null, null, f.body, null, null, null, null,
        ];
      }
    },
  },
  {
    schema: 'pg_catalog',
    name: 'pg_language',
    cols: [['oid', o], ['lanname', n], ['lanowner', o], ['lanispl', b], ['lanpltrusted', b], ['lanplcallfoid', o], ['laninline', o], ['lanvalidator', o], ['lanacl', arrayOf(txt)]],
    rows: () => [[12, 'internal', rootRoleOid, false, false, 0, 0, 2246, null], [13, 'c', rootRoleOid, false, false, 0, 0, 2247, null], [sqlLanguageOid, 'sql', rootRoleOid, false, true, 0, 0, 2248, null]],
  },
  {
    schema: 'pg_catalog',
    name: 'pg_settings',
    cols: [['name', txt], ['setting', txt], ['unit', txt], ['category', txt], ['short_desc', txt], ['context', txt], ['vartype', txt], ['source', txt]],
    rows: (ctx) => [...ctx.session.settings.entries()].sort().map(([k, val]) => [k, val, null, 'Strata', '', 'user', 'string', 'session']),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_tables',
    cols: [['schemaname', n], ['tablename', n], ['tableowner', n], ['tablespace', n], ['hasindexes', b], ['hasrules', b], ['hastriggers', b], ['rowsecurity', b]],
    rows: (ctx, v, db) => userTables(v, db).filter((x) => x.t.kind === 'table' && !x.t.matview).map(({ t, schema }) => [schema, t.name, ownerName(ctx, t.id), null, catalogIndexes(t).length > 0, false, false, false]),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_matviews',
    cols: [['schemaname', n], ['matviewname', n], ['matviewowner', n], ['tablespace', n], ['hasindexes', b], ['ispopulated', b], ['definition', txt]],
    rows: (ctx, v, db) => userTables(v, db).filter((x) => x.t.matview).map(({ t, schema }) => [schema, t.name, ownerName(ctx, t.id), null, catalogIndexes(t).length > 0, t.matview?.populated ?? false, t.matview?.query ?? null]),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_views',
    cols: [['schemaname', n], ['viewname', n], ['viewowner', n], ['definition', txt]],
    rows: (ctx, v, db) => userTables(v, db).filter((x) => x.t.kind === 'view').map(({ t, schema }) => [schema, t.name, ownerName(ctx, t.id), t.viewQuery ?? null]),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_indexes',
    cols: [['schemaname', n], ['tablename', n], ['indexname', n], ['tablespace', n], ['indexdef', txt]],
    rows: function* (_ctx, v, db) {
      for (const { t, schema } of userTables(v, db)) {
        if (t.kind !== 'table') continue;
        for (const idx of catalogIndexes(t)) yield [schema, t.name, idx.name, null, indexDef(t, idx, schema)];
      }
    },
  },
  {
    schema: 'pg_catalog',
    name: 'pg_sequences',
    // No last_value column: this node cannot tell the sequence's last value cluster-wide.
    cols: [['schemaname', n], ['sequencename', n], ['sequenceowner', n], ['data_type', T.regtype], ['start_value', T.int8], ['min_value', T.int8], ['max_value', T.int8], ['increment_by', T.int8], ['cycle', b], ['cache_size', T.int8]],
    rows: (ctx, v, db) =>
      userTables(v, db)
        .filter((x) => x.t.kind === 'sequence')
        .map(({ t, schema }) => {
          const sb = sequenceBounds(t.sequence);
          return [schema, t.name, ownerName(ctx, t.id), sb.typeOid, BigInt(t.sequence?.start ?? 1), sb.min, sb.max, BigInt(t.sequence?.increment ?? 1), false, BigInt(sb.cache)];
        }),
  },
  {
    // One row per sequence: its type, bounds and cache as CREATE SEQUENCE resolved them (sequence_options.ts).
    schema: 'pg_catalog',
    name: 'pg_sequence',
    cols: [['seqrelid', o], ['seqtypid', o], ['seqstart', T.int8], ['seqincrement', T.int8], ['seqmax', T.int8], ['seqmin', T.int8], ['seqcache', T.int8], ['seqcycle', b]],
    rows: (_ctx, v, db) =>
      userTables(v, db)
        .filter((x) => x.t.kind === 'sequence')
        .map(({ t }) => {
          const sb = sequenceBounds(t.sequence);
          return [t.id, sb.typeOid, BigInt(t.sequence?.start ?? 1), BigInt(t.sequence?.increment ?? 1), sb.max, sb.min, BigInt(sb.cache), false];
        }),
  },
  {
    schema: 'pg_catalog',
    name: 'pg_stat_activity',
    cols: [['datid', o], ['datname', n], ['pid', i4], ['usename', n], ['application_name', txt], ['state', txt], ['query', txt]],
    // Every session of this node (backends.ts); another user's state and query only for a
    // superuser, as PostgreSQL shows them. Without a registry (a statement the node runs itself):
    // this session alone.
    rows: (ctx, v) => {
      const all = ctx.server.backends?.all() ?? [];
      if (all.length === 0) return [[dbOf(ctx), ctx.session.database, ctx.session.backendPid, ctx.session.user, ctx.session.applicationName, 'active', '']];
      const su = ctx.session.settings.get('is_superuser') === 'on';
      return all.map(([pid, b]) => {
        const a = b.activity();
        const visible = su || b.user === ctx.session.user;
        return [v.database(a.database)?.id ?? null, a.database, pid, b.user, a.applicationName, visible ? a.state : null, visible ? a.query : '<insufficient privilege>'];
      });
    },
  },
  {
    schema: 'pg_catalog',
    name: 'pg_prepared_statements',
    cols: [['name', txt], ['statement', txt], ['prepare_time', T.timestamptz], ['parameter_types', arrayOf(T.regtype)], ['from_sql', b], ['generic_plans', T.int8], ['custom_plans', T.int8]],
    rows: (ctx) => ctx.session.preparedStatements?.() ?? [],
  },
  {
    schema: 'pg_catalog',
    name: 'pg_cursors',
    cols: [['name', txt], ['statement', txt], ['is_holdable', b], ['is_binary', b], ['is_scrollable', b], ['creation_time', T.timestamptz]],
    rows: (ctx) => ctx.session.cursors?.() ?? [],
  },
  {
    // Two-phase commit is disabled (max_prepared_transactions = 0): never a prepared transaction.
    schema: 'pg_catalog',
    name: 'pg_prepared_xacts',
    cols: [['transaction', o], ['gid', txt], ['prepared', T.timestamptz], ['owner', n], ['database', n]],
    rows: () => [],
  },
  // information_schema
  {
    schema: 'information_schema',
    name: 'schemata',
    cols: [['catalog_name', n], ['schema_name', n], ['schema_owner', n], ['default_character_set_catalog', n], ['sql_path', txt]],
    rows: (ctx, v, db) => [
      [ctx.session.database, 'information_schema', 'root', null, null],
      [ctx.session.database, 'pg_catalog', 'root', null, null],
      ...v.schemasOf(db).map((s) => [ctx.session.database, s.name, ownerName(ctx, s.id), null, null]),
    ],
  },
  {
    schema: 'information_schema',
    name: 'tables',
    cols: [['table_catalog', n], ['table_schema', n], ['table_name', n], ['table_type', txt], ['is_insertable_into', txt]],
    rows: (ctx, v, db) => userTables(v, db).filter((x) => x.t.kind !== 'sequence' && canSeeTable(ctx, x.t)).map(({ t, schema }) => [ctx.session.database, schema, t.name, t.kind === 'view' ? 'VIEW' : schema.startsWith('pg_temp_') ? 'LOCAL TEMPORARY' : 'BASE TABLE', t.kind === 'view' ? 'NO' : 'YES']),
  },
  {
    schema: 'information_schema',
    name: 'columns',
    cols: [['table_catalog', n], ['table_schema', n], ['table_name', n], ['column_name', n], ['ordinal_position', i4], ['column_default', txt], ['is_nullable', txt], ['data_type', txt], ['character_maximum_length', i4], ['numeric_precision', i4], ['numeric_scale', i4], ['datetime_precision', i4], ['udt_name', n]],
    rows: function* (ctx, v, db) {
      for (const { t, schema } of userTables(v, db)) {
        if (!canSeeTable(ctx, t)) continue;
        let pos = 0;
        for (const col of catalogAttributes(t)) {
          pos++;
          const ty = col.type;
          const prec = ty.kind === 'int2' ? 16 : ty.kind === 'int4' ? 32 : ty.kind === 'int8' ? 64 : ty.kind === 'float4' ? 24 : ty.kind === 'float8' ? 53 : ty.kind === 'numeric' && ty.typmod >= 0 ? ty.typmod >> 16 : null;
          const scale = ty.kind === 'int2' || ty.kind === 'int4' || ty.kind === 'int8' ? 0 : ty.kind === 'numeric' && ty.typmod >= 0 ? ty.typmod & 0xffff : null;
          yield [ctx.session.database, schema, t.name, col.name, pos, col.default === null ? null : renderDefault(col.default, ty), col.nullable ? 'YES' : 'NO', infoDataType(ty), (ty.kind === 'varchar' || ty.kind === 'bpchar') && ty.typmod >= 0 ? ty.typmod : null, prec, scale, ty.kind === 'timestamp' || ty.kind === 'timestamptz' ? 6 : null, typeName(ty)];
        }
      }
    },
  },
  {
    schema: 'information_schema',
    name: 'table_constraints',
    cols: [['constraint_catalog', n], ['constraint_schema', n], ['constraint_name', n], ['table_schema', n], ['table_name', n], ['constraint_type', txt]],
    rows: function* (ctx, v, db) {
      for (const { t, schema } of userTables(v, db)) {
        if (!canSeeTable(ctx, t)) continue;
        for (const idx of keyConstraints(t)) yield [ctx.session.database, schema, idx.name, schema, t.name, idx.constraint === 'primary' ? 'PRIMARY KEY' : 'UNIQUE'];
        for (const fk of t.foreignKeys) yield [ctx.session.database, schema, fk.name, schema, t.name, 'FOREIGN KEY'];
        for (const ch of t.checks) yield [ctx.session.database, schema, ch.name, schema, t.name, 'CHECK'];
      }
    },
  },
  {
    // The columns of primary keys, unique constraints and foreign keys, in key order.
    schema: 'information_schema',
    name: 'key_column_usage',
    cols: [['constraint_catalog', n], ['constraint_schema', n], ['constraint_name', n], ['table_catalog', n], ['table_schema', n], ['table_name', n], ['column_name', n], ['ordinal_position', i4], ['position_in_unique_constraint', i4]],
    rows: function* (ctx, v, db) {
      for (const { t, schema } of userTables(v, db)) {
        if (!canSeeTable(ctx, t)) continue;
        const name = (tt: TableDesc, id: number) => tt.columns.find((x) => x.id === id)?.name ?? '?';
        for (const idx of keyConstraints(t)) {
          for (let i = 0; i < idx.columnIds.length; i++) yield [ctx.session.database, schema, idx.name, ctx.session.database, schema, t.name, name(t, idx.columnIds[i] as number), i + 1, null];
        }
        for (const fk of t.foreignKeys) {
          const ref = referencedKey(v, fk);
          for (let i = 0; i < fk.columnIds.length; i++) {
            const pos = ref ? ref.idx.columnIds.indexOf(fk.refColumnIds[i] as number) + 1 : 0;
            yield [ctx.session.database, schema, fk.name, ctx.session.database, schema, t.name, name(t, fk.columnIds[i] as number), i + 1, pos > 0 ? pos : null];
          }
        }
      }
    },
  },
  {
    // Foreign keys: the unique constraint they reference; no cascades (NO ACTION), MATCH SIMPLE (NONE).
    schema: 'information_schema',
    name: 'referential_constraints',
    cols: [['constraint_catalog', n], ['constraint_schema', n], ['constraint_name', n], ['unique_constraint_catalog', n], ['unique_constraint_schema', n], ['unique_constraint_name', n], ['match_option', txt], ['update_rule', txt], ['delete_rule', txt]],
    rows: function* (ctx, v, db) {
      for (const { t, schema } of userTables(v, db)) {
        if (!canSeeTable(ctx, t)) continue;
        for (const fk of t.foreignKeys) {
          const ref = referencedKey(v, fk);
          const refSchema = ref ? (v.byId.get(ref.t.schemaId)?.name ?? null) : null;
          yield [ctx.session.database, schema, fk.name, ref ? ctx.session.database : null, refSchema, ref?.idx.name ?? null, 'NONE', 'NO ACTION', 'NO ACTION'];
        }
      }
    },
  },
  {
    schema: 'information_schema',
    name: 'views',
    cols: [['table_catalog', n], ['table_schema', n], ['table_name', n], ['view_definition', txt], ['check_option', txt], ['is_updatable', txt], ['is_insertable_into', txt], ['is_trigger_updatable', txt], ['is_trigger_deletable', txt], ['is_trigger_insertable_into', txt]],
    // Views are read-only here (no INSERT/UPDATE through a view): NO, where PostgreSQL says YES for simple views.
    rows: (ctx, v, db) => userTables(v, db).filter((x) => x.t.kind === 'view' && canSeeTable(ctx, x.t)).map(({ t, schema }) => [ctx.session.database, schema, t.name, t.viewQuery ?? null, 'NONE', 'NO', 'NO', 'NO', 'NO', 'NO']),
  },
];

/**
 * A table's indexes as PostgreSQL would list them: not the hidden rowid key of a table created
 * without a primary key (PostgreSQL has no index there; \d, pg_indexes and drivers' getIndexInfo
 * would otherwise show one on a column they cannot see).
 */
function catalogIndexes(t: TableDesc): IndexDesc[] {
  if (t.kind !== 'table') return [];
  const rowidKey = t.columns.some((x) => x.hidden && t.primaryIndex.columnIds.includes(x.id));
  return rowidKey ? t.indexes : [t.primaryIndex, ...t.indexes];
}

/** A table's PRIMARY KEY and UNIQUE constraints (not the hidden rowid key of a table without a primary key). */
function keyConstraints(t: TableDesc): IndexDesc[] {
  if (t.kind !== 'table') return [];
  return [t.primaryIndex, ...t.indexes].filter((idx) => idx.constraint && !(idx === t.primaryIndex && t.columns.some((x) => x.hidden && idx.columnIds.includes(x.id))));
}

/** The referenced table and the unique key a foreign key points at (PostgreSQL's conindid), if found. */
function referencedKey(v: CatalogView, fk: TableDesc['foreignKeys'][number]): { t: TableDesc; idx: IndexDesc } | null {
  const rt = v.tableById(fk.refTableId);
  if (!rt) return null;
  const idx = keyConstraints(rt).find((ix) => ix.columnIds.length === fk.refColumnIds.length && ix.columnIds.every((id) => fk.refColumnIds.includes(id)));
  return idx ? { t: rt, idx } : null;
}

const attIdx: Row[] = [];

function virtualOid(k: number): number {
  return 12_000 + k;
}

/** PostgreSQL's fixed OIDs of its system catalogs (pg_class.dat); views keep Strata's own. */
const catalogOids: Record<string, number> = {
  pg_database: 1262,
  pg_namespace: 2615,
  pg_class: 1259,
  pg_attribute: 1249,
  pg_attrdef: 2604,
  pg_index: 2610,
  pg_constraint: 2606,
  pg_type: 1247,
  pg_authid: 1260,
  pg_proc: 1255,
  pg_sequence: 2224,
};

/** PostgreSQL's typstorage: 'p' for fixed-length types, 'm' for numeric, 'x' for other varlena types. */
export function typeStorage(t: SqlType): string {
  if (t.kind === 'numeric') return 'm';
  return typeLen(t) === -1 || typeLen(t) === -2 ? 'x' : 'p';
}

function isStringType(t: SqlType): boolean {
  return t.kind === 'text' || t.kind === 'varchar' || t.kind === 'bpchar' || t.kind === 'name';
}

/** PostgreSQL's atttypmod: varchar(n) → n + 4; numeric(p,s) → ((p << 16) | s) + 4. */
export function pgTypmod(t: SqlType): number {
  if (t.typmod < 0) return -1;
  if (t.kind === 'varchar' || t.kind === 'bpchar' || t.kind === 'numeric') return t.typmod + 4;
  return t.typmod;
}

export function typmodFromPg(kind: SqlType['kind'], typmod: number): number {
  if (typmod < 0) return -1;
  if (kind === 'varchar' || kind === 'bpchar' || kind === 'numeric') return typmod - 4;
  return typmod;
}

function infoDataType(t: SqlType): string {
  if (t.kind === 'array') return 'ARRAY';
  const f = formatType({ kind: t.kind, typmod: -1 });
  return f === 'bpchar' ? 'character' : f;
}

/** A default expression as PostgreSQL's pg_get_expr would print it (common forms). */
export function renderDefault(text: string, t: SqlType): string {
  const s = text.trim();
  if (/^'.*'$/s.test(s) && t.kind !== 'unknown') return `${s}::${formatType({ kind: t.kind, typmod: -1 }) === 'bpchar' ? 'bpchar' : formatType({ kind: t.kind, typmod: -1 })}`;
  const m = /^nextval\('([^']+)'(?:::regclass)?\)$/i.exec(s);
  if (m) return `nextval('${m[1]}'::regclass)`;
  return s;
}

export function indexDef(t: TableDesc, idx: IndexDesc, schema: string): string {
  const cols = idx.columnIds.map((id, i) => (t.columns.find((x) => x.id === id)?.name ?? '?') + (idx.desc[i] ? ' DESC' : '')).join(', ');
  const withClause = idx.reloptions ? ` WITH (${flattenRelOptions(idx.reloptions)})` : '';
  return `CREATE ${idx.unique ? 'UNIQUE ' : ''}INDEX ${idx.name} ON ${schema}.${t.name} USING btree (${cols})${withClause}`;
}

/**
 * reloptions as ruleutils.c's flatten_reloptions prints them in a definition: `name=value, …`,
 * the value bare when it is an identifier needing no quotes, else a quoted literal (`'80'`).
 */
function flattenRelOptions(options: readonly string[]): string {
  return options
    .map((o) => {
      const at = o.indexOf('=');
      const name = o.slice(0, at);
      const value = o.slice(at + 1);
      return `${quoteIdent(name)}=${quoteIdent(value) === value ? value : `'${value.replace(/'/g, "''")}'`}`;
    })
    .join(', ');
}

let byName: Map<string, VirtualTableDef> | null = null;

function buildIndex(): Map<string, VirtualTableDef> {
  const m = new Map<string, VirtualTableDef>();
  defs.forEach((d, k) => {
    const def: VirtualTableDef = {
      oid: catalogOids[d.name] ?? virtualOid(k),
      schema: d.schema,
      name: d.name,
      columns: d.cols.map(([name, type]) => ({ name, type })),
      rows: (ctx) => d.rows(ctx, ctx.catalog, dbOf(ctx)) as Iterable<Value[]>,
    };
    m.set(`${d.schema}.${d.name}`, def);
  });
  return m;
}

export function virtualTable(schema: string, name: string): VirtualTableDef | undefined {
  byName ??= buildIndex();
  return byName.get(`${schema}.${name}`);
}

/** A virtual table's schema and name by OID (regclass output). */
export function virtualTableByOid(oid: number): { schema: string; name: string } | undefined {
  byName ??= buildIndex();
  for (const d of byName.values()) if (d.oid === oid) return { schema: d.schema, name: d.name };
  return undefined;
}

/** The schema of a virtual table by OID (pg_table_is_visible: only pg_catalog's are on the path). */
export function virtualSchemaOfOid(oid: number): string | undefined {
  return defs[oid - virtualOid(0)]?.schema;
}

export function virtualTableNames(schema: string): string[] {
  return defs.filter((d) => d.schema === schema).map((d) => d.name);
}
