/**
 * Schema changes. Each runs inside the session's transaction: descriptors and any backfilled
 * rows/index entries are written through it and become visible atomically at commit.
 */
import { initialCounter, seqKey } from './sequences.js';
import { serialSequence } from './sequence_options.js';
import type { SequenceInfo } from './sequence_options.js';
import { PgError, SqlState } from '@strata/common';
import { prefixEnd, tablePrefix } from '@strata/kv';
import type { Txn } from '@strata/kv';
import type { AlterTableCmd, ColumnDef, Statement, TableConstraint } from './parser/ast.js';
import { mergeRelOptions } from './parser/storage_params.js';
import type { Catalog, CatalogView } from './catalog/catalog.js';
import type { ColumnDesc, IndexDesc, TableDesc } from './catalog/descriptors.js';
import { decodeRow, encodeRow, indexEntry, primaryKey, tableCodec } from './catalog/rowcodec.js';
import { isSerialType, typeFromName } from './plan/binder.js';
import { userTypeFromName } from './plan/domains.js';
import { T, formatType, formatValue } from './types/types.js';
import type { SqlType, Value } from './types/types.js';
import { castValue } from './types/cast.js';
import type { ExecCtx, Row } from './exec/context.js';

export interface DdlEnv {
  txn: Txn;
  catalog: Catalog;
  view: CatalogView;
  database: string;
  searchPath: string[];
  /** Resolves a possibly qualified name for creation: (db, schema) ids and the object name. */
  target(parts: string[]): { dbId: number; schemaId: number; schemaName: string; name: string };
  /** Resolves an existing table/view/sequence. */
  findTable(parts: string[]): TableDesc | undefined;
  /** Evaluates a default expression text for a backfill. */
  evalDefault(text: string, col: ColumnDesc): Value;
  /** Checks a value against a domain's constraints (plan/domains.ts); nothing for other types. */
  checkDomain(type: SqlType, v: Value): void;
  /** Validates (binds) a CHECK or DEFAULT expression against a table's columns. */
  validateExpr(text: string, table: TableDesc, kind: 'check' | 'default'): void;
  execCtx(): ExecCtx;
  notice(msg: string): void;
}

function dup(code: SqlState, msg: string): PgError {
  return new PgError(code, msg);
}

function scanRows(env: DdlEnv, t: TableDesc): Row[] {
  const codec = tableCodec(t);
  const p = primaryKey(codec, []).subarray(0, 9); // /Table/<id>/<pk index id>
  const start = Buffer.from(p);
  const rows: Row[] = [];
  for (const { value } of env.txn.scan(start, prefixEnd(start))) rows.push(decodeRow(t, value, codec.colIndexById));
  return rows;
}

export function createTable(env: DdlEnv, s: Statement & { kind: 'createTable' }): TableDesc | null {
  const tgt = env.target(s.name);
  if (env.view.table(tgt.schemaId, tgt.name)) {
    if (s.ifNotExists) {
      env.notice(`relation "${tgt.name}" already exists, skipping`);
      return null;
    }
    throw dup(SqlState.DuplicateTable, `relation "${tgt.name}" already exists`);
  }
  const id = env.catalog.allocateId(env.txn);
  const t: TableDesc = {
    kind: 'table',
    id,
    name: tgt.name,
    parentId: tgt.dbId,
    schemaId: tgt.schemaId,
    columns: [],
    nextColumnId: 1,
    primaryIndex: { id: 1, name: `${tgt.name}_pkey`, columnIds: [], desc: [], unique: true, constraint: 'primary' },
    indexes: [],
    nextIndexId: 2,
    checks: [],
    foreignKeys: [],
    ...(s.reloptions ? { reloptions: s.reloptions } : {}),
    version: 1,
  };
  const seen = new Set<string>();
  let pkCols: string[] | null = null;
  let pkName: string | null = null;
  const uniques: { name: string | null; cols: string[] }[] = [];
  for (const c of s.columns) {
    if (seen.has(c.name)) throw dup(SqlState.DuplicateColumn, `column "${c.name}" specified more than once`);
    seen.add(c.name);
    const col = columnFromDef(env, t, c);
    t.columns.push(col);
    if (c.primaryKey) {
      if (pkCols) throw new PgError(SqlState.InvalidTableDefinition, `multiple primary keys for table "${t.name}" are not allowed`);
      pkCols = [c.name];
    }
    if (c.unique) uniques.push({ name: null, cols: [c.name] });
    if (c.check) t.checks.push({ name: c.checkName ?? `${t.name}_${c.name}_check`, expr: c.checkText as string });
    if (c.references) addForeignKey(env, t, c.references.name ?? null, [c.name], c.references.table, c.references.column ? [c.references.column] : []);
  }
  if (s.columns.length > 1600) throw new PgError(SqlState.TooManyColumns, 'tables can have at most 1600 columns');
  for (const con of s.constraints) {
    switch (con.kind) {
      case 'primary':
        if (pkCols) throw new PgError(SqlState.InvalidTableDefinition, `multiple primary keys for table "${t.name}" are not allowed`);
        pkCols = con.columns;
        pkName = con.name;
        break;
      case 'unique':
        uniques.push({ name: con.name, cols: con.columns });
        break;
      case 'check':
        t.checks.push({ name: con.name ?? `${t.name}_check${t.checks.length > 0 ? t.checks.length : ''}`, expr: con.text });
        break;
      case 'foreign':
        addForeignKey(env, t, con.name, con.columns, con.table, con.refColumns);
        break;
    }
  }
  if (pkCols) {
    for (const n of pkCols) {
      const col = t.columns.find((c) => c.name === n);
      if (!col) throw new PgError(SqlState.UndefinedColumn, `column "${n}" named in key does not exist`);
      col.nullable = false;
      if (col.type.kind === 'jsonb' || col.type.kind === 'json' || col.type.kind === 'array') throw new PgError(SqlState.FeatureNotSupported, `column "${n}" of type ${formatType(col.type)} cannot be part of a primary key`);
    }
    t.primaryIndex.columnIds = pkCols.map((n) => (t.columns.find((c) => c.name === n) as ColumnDesc).id);
    t.primaryIndex.desc = pkCols.map(() => false);
    if (pkName) t.primaryIndex.name = pkName;
  } else {
    // No primary key: a hidden rowid (unique_rowid()) keys the rows, as in CockroachDB.
    const rowid: ColumnDesc = { id: t.nextColumnId++, name: 'rowid', type: T.int8, nullable: false, default: 'unique_rowid()', hidden: true };
    t.columns.push(rowid);
    t.primaryIndex.columnIds = [rowid.id];
    t.primaryIndex.desc = [false];
    t.primaryIndex.constraint = 'primary';
  }
  for (const u of uniques) addIndex(env, t, u.name ?? `${t.name}_${u.cols.join('_')}_key`, u.cols, true, 'unique', false);
  for (const ch of t.checks) env.validateExpr(ch.expr, t, 'check');
  for (const c of t.columns) if (c.default && !c.hidden) env.validateExpr(c.default, t, 'default');
  env.catalog.writeDescriptor(env.txn, t);
  env.catalog.writeName(env.txn, tgt.dbId, tgt.schemaId, tgt.name, t.id);
  return t;
}

function columnFromDef(env: DdlEnv, t: TableDesc, c: ColumnDef): ColumnDesc {
  const serial = isSerialType(c.type);
  let type: SqlType;
  try {
    type = typeFromName(c.type);
  } catch (e) {
    // A domain (plan/domains.ts); its default applies to columns without their own (session.writerFor).
    const u = userTypeFromName(env.view, env, c.type);
    if (!u) throw e;
    type = u;
  }
  const col: ColumnDesc = { id: t.nextColumnId++, name: c.name, type, nullable: !c.notNull && !c.primaryKey, default: null, hidden: false };
  if (c.default) col.default = c.defaultText;
  if (serial) {
    // SERIAL: a sequence named <table>_<column>_seq and a nextval default, as PostgreSQL.
    const seqName = `${t.name}_${c.name}_seq`;
    const seq = createSequenceDesc(env, t.parentId, t.schemaId, seqName, { ...serialSequence(serial), ownedBy: { tableId: t.id, columnId: col.id } });
    col.default = `nextval('${seqName}'::regclass)`;
    col.nullable = false;
    void seq;
  }
  return col;
}

export function createSequenceDesc(env: DdlEnv, dbId: number, schemaId: number, name: string, sequence: SequenceInfo): TableDesc {
  if (env.view.table(schemaId, name)) throw dup(SqlState.DuplicateTable, `relation "${name}" already exists`);
  const seq: TableDesc = {
    kind: 'sequence',
    id: env.catalog.allocateId(env.txn),
    name,
    parentId: dbId,
    schemaId,
    columns: [],
    nextColumnId: 1,
    primaryIndex: { id: 1, name: `${name}_pkey`, columnIds: [], desc: [], unique: true, constraint: null },
    indexes: [],
    nextIndexId: 2,
    checks: [],
    foreignKeys: [],
    sequence,
    version: 1,
  };
  env.catalog.writeDescriptor(env.txn, seq);
  env.catalog.writeName(env.txn, dbId, schemaId, name, seq.id);
  // The counter nodes reserve blocks from (sequences.ts) exists from the start.
  env.txn.put(seqKey(seq.id), Buffer.from(initialCounter(seq).toString(), 'latin1'));
  return seq;
}

function addForeignKey(env: DdlEnv, t: TableDesc, name: string | null, cols: string[], refName: string[], refCols: string[]): void {
  const ref = refName.length === 1 && refName[0] === t.name ? t : env.findTable(refName);
  if (!ref || ref.kind !== 'table') throw new PgError(SqlState.UndefinedTable, `relation "${refName.join('.')}" does not exist`);
  const rc = refCols.length > 0 ? refCols : ref.primaryIndex.columnIds.map((id) => (ref.columns.find((c) => c.id === id) as ColumnDesc).name);
  if (rc.length !== cols.length) throw new PgError(SqlState.InvalidTableDefinition, 'number of referencing and referenced columns for foreign key disagree');
  const refIds = rc.map((n) => {
    const c = ref.columns.find((x) => x.name === n);
    if (!c) throw new PgError(SqlState.UndefinedColumn, `column "${n}" referenced in foreign key constraint does not exist`);
    return c.id;
  });
  const colIds = cols.map((n) => {
    const c = t.columns.find((x) => x.name === n);
    if (!c) throw new PgError(SqlState.UndefinedColumn, `column "${n}" referenced in foreign key constraint does not exist`);
    return c.id;
  });
  t.foreignKeys.push({ name: name ?? `${t.name}_${cols.join('_')}_fkey`, columnIds: colIds, refTableId: ref.id, refColumnIds: refIds });
}

export function addIndex(env: DdlEnv, t: TableDesc, name: string, cols: string[], unique: boolean, constraint: IndexDesc['constraint'], backfill: boolean, desc: boolean[] = []): IndexDesc {
  for (const idx of [t.primaryIndex, ...t.indexes]) if (idx.name === name) throw dup(SqlState.DuplicateTable, `relation "${name}" already exists`);
  if (env.view.table(t.schemaId, name)) throw dup(SqlState.DuplicateTable, `relation "${name}" already exists`);
  const ids = cols.map((n) => {
    const c = t.columns.find((x) => x.name === n && !x.hidden);
    if (!c) throw new PgError(SqlState.UndefinedColumn, `column "${n}" does not exist`);
    if (c.type.kind === 'jsonb' || c.type.kind === 'json') throw new PgError(SqlState.FeatureNotSupported, `column "${n}" of type ${c.type.kind} cannot be indexed`);
    return c.id;
  });
  const idx: IndexDesc = { id: t.nextIndexId++, name, columnIds: ids, desc: cols.map((_c, i) => desc[i] ?? false), unique, constraint };
  t.indexes.push(idx);
  if (backfill) {
    const codec = tableCodec(t);
    const seen = new Set<string>();
    for (const row of scanRows(env, t)) {
      const e = indexEntry(codec, idx, row);
      if (unique && e.uniqueForm) {
        const k = e.key.toString('latin1');
        if (seen.has(k)) throw new PgError(SqlState.UniqueViolation, `could not create unique index "${name}"`, { detail: 'Key is duplicated.' });
        seen.add(k);
      }
      env.txn.put(e.key, e.value);
    }
  }
  return idx;
}

export function dropTableData(env: DdlEnv, t: TableDesc): void {
  const p = tablePrefix(t.id);
  for (const { key } of env.txn.scan(p, prefixEnd(p))) env.txn.del(key);
}

export function truncate(env: DdlEnv, t: TableDesc): void {
  dropTableData(env, t);
}

export function alterTable(env: DdlEnv, t: TableDesc, cmds: AlterTableCmd[], _source: string): TableDesc {
  const nt: TableDesc = JSON.parse(JSON.stringify(t)) as TableDesc;
  nt.version++;
  let rewrite = false;
  let pkChanged = false;
  for (const cmd of cmds) {
    switch (cmd.kind) {
      case 'addColumn': {
        if (nt.columns.some((c) => c.name === cmd.column.name && !c.hidden)) {
          if (cmd.ifNotExists) {
            env.notice(`column "${cmd.column.name}" of relation "${t.name}" already exists, skipping`);
            continue;
          }
          throw dup(SqlState.DuplicateColumn, `column "${cmd.column.name}" of relation "${t.name}" already exists`);
        }
        const col = columnFromDef(env, nt, cmd.column);
        if (cmd.column.primaryKey) throw new PgError(SqlState.FeatureNotSupported, 'adding a primary key column is not supported');
        if (col.type.domain) {
          // Existing rows get the column's default, else the domain's, which must pass the domain's constraints.
          if (col.default === null) col.default = env.view.domainById(col.type.domain.id)?.default ?? null;
          if (scanRows(env, t).length > 0) env.checkDomain(col.type, col.default === null ? null : env.evalDefault(col.default, col));
        }
        nt.columns.push(col);
        if (cmd.column.unique) addIndex(env, nt, `${nt.name}_${col.name}_key`, [col.name], true, 'unique', false);
        if (cmd.column.check) nt.checks.push({ name: cmd.column.checkName ?? `${nt.name}_${col.name}_check`, expr: cmd.column.checkText as string });
        if (col.default !== null || !col.nullable) rewrite = true;
        if (!col.nullable && col.default === null) {
          if (scanRows(env, t).length > 0) throw new PgError(SqlState.NotNullViolation, `column "${col.name}" of relation "${t.name}" contains null values`);
        }
        break;
      }
      case 'dropColumn': {
        const i = nt.columns.findIndex((c) => c.name === cmd.name && !c.hidden);
        if (i < 0) {
          if (cmd.ifExists) {
            env.notice(`column "${cmd.name}" of relation "${t.name}" does not exist, skipping`);
            continue;
          }
          throw new PgError(SqlState.UndefinedColumn, `column "${cmd.name}" of relation "${t.name}" does not exist`);
        }
        const col = nt.columns[i] as ColumnDesc;
        if (nt.primaryIndex.columnIds.includes(col.id)) throw new PgError(SqlState.InvalidTableDefinition, `cannot drop column "${cmd.name}" because it is part of the primary key`);
        const dropped = nt.indexes.filter((x) => x.columnIds.includes(col.id));
        for (const d of dropped) for (const row of scanRows(env, t)) env.txn.del(indexEntry(tableCodec(t), d, row).key);
        nt.indexes = nt.indexes.filter((x) => !x.columnIds.includes(col.id));
        nt.columns.splice(i, 1);
        rewrite = true;
        break;
      }
      case 'renameColumn': {
        const col = nt.columns.find((c) => c.name === cmd.from && !c.hidden);
        if (!col) throw new PgError(SqlState.UndefinedColumn, `column "${cmd.from}" does not exist`);
        // A materialized view keeps its query as written (matviews.ts): a column it names cannot be renamed under it.
        const word = new RegExp(`(^|[^\\w$])${cmd.from.replace(/[^\w]/g, '\\$&')}($|[^\\w$])`, 'i');
        const mv = env.view.allTables().find((m) => m.matview?.dependsOn?.includes(t.id) && word.test(m.matview.query));
        if (mv) throw new PgError(SqlState.FeatureNotSupported, `cannot rename column "${cmd.from}" of table "${t.name}" while materialized view "${mv.name}" reads it`, { hint: 'Drop the materialized view first, or create it again after the rename.' });
        if (nt.columns.some((c) => c.name === cmd.to)) throw dup(SqlState.DuplicateColumn, `column "${cmd.to}" of relation "${t.name}" already exists`);
        col.name = cmd.to;
        break;
      }
      case 'renameTable': {
        if (env.view.table(nt.schemaId, cmd.to)) throw dup(SqlState.DuplicateTable, `relation "${cmd.to}" already exists`);
        env.catalog.deleteDescriptor(env.txn, t);
        nt.name = cmd.to;
        env.catalog.writeName(env.txn, nt.parentId, nt.schemaId, nt.name, nt.id);
        break;
      }
      case 'alterColumnDefault': {
        const col = nt.columns.find((c) => c.name === cmd.column && !c.hidden);
        if (!col) throw new PgError(SqlState.UndefinedColumn, `column "${cmd.column}" of relation "${t.name}" does not exist`);
        col.default = cmd.defaultText;
        break;
      }
      case 'alterColumnNotNull': {
        const col = nt.columns.find((c) => c.name === cmd.column && !c.hidden);
        if (!col) throw new PgError(SqlState.UndefinedColumn, `column "${cmd.column}" of relation "${t.name}" does not exist`);
        if (!cmd.notNull && nt.primaryIndex.columnIds.includes(col.id)) throw new PgError(SqlState.InvalidTableDefinition, `column "${col.name}" is in a primary key`);
        if (cmd.notNull) {
          const idx = t.columns.findIndex((c) => c.id === col.id);
          if (scanRows(env, t).some((r) => r[idx] === null)) throw new PgError(SqlState.NotNullViolation, `column "${col.name}" of relation "${t.name}" contains null values`);
        }
        col.nullable = !cmd.notNull;
        break;
      }
      case 'alterColumnType': {
        const col = nt.columns.find((c) => c.name === cmd.column && !c.hidden);
        if (!col) throw new PgError(SqlState.UndefinedColumn, `column "${cmd.column}" of relation "${t.name}" does not exist`);
        const to = typeFromName(cmd.type);
        const from = col.type;
        col.type = to;
        const idx = t.columns.findIndex((c) => c.id === col.id);
        const ctx = env.execCtx();
        // Validate every existing value converts; the rewrite below stores them converted.
        for (const r of scanRows(env, t)) if (r[idx] !== null) castValue(r[idx] as Value, from, to, ctx.vctx, false);
        rewrite = true;
        break;
      }
      case 'addConstraint': {
        const con: TableConstraint = cmd.constraint;
        if (con.kind === 'unique') addIndex(env, nt, con.name ?? `${nt.name}_${con.columns.join('_')}_key`, con.columns, true, 'unique', true);
        else if (con.kind === 'check') {
          nt.checks.push({ name: con.name ?? `${nt.name}_check`, expr: con.text });
          env.validateExpr(con.text, nt, 'check');
        } else if (con.kind === 'foreign') addForeignKey(env, nt, con.name, con.columns, con.table, con.refColumns);
        else {
          addPrimaryKey(env, nt, con.name, con.columns);
          pkChanged = true;
          rewrite = true;
        }
        break;
      }
      case 'dropConstraint': {
        const ci = nt.checks.findIndex((c) => c.name === cmd.name);
        if (ci >= 0) {
          nt.checks.splice(ci, 1);
          break;
        }
        const fi = nt.foreignKeys.findIndex((f) => f.name === cmd.name);
        if (fi >= 0) {
          nt.foreignKeys.splice(fi, 1);
          break;
        }
        const ii = nt.indexes.findIndex((x) => x.name === cmd.name && x.constraint === 'unique');
        if (ii >= 0) {
          const d = nt.indexes[ii] as IndexDesc;
          for (const row of scanRows(env, t)) env.txn.del(indexEntry(tableCodec(t), d, row).key);
          nt.indexes.splice(ii, 1);
          break;
        }
        if (cmd.ifExists) {
          env.notice(`constraint "${cmd.name}" of relation "${t.name}" does not exist, skipping`);
          break;
        }
        throw new PgError(SqlState.UndefinedObject, `constraint "${cmd.name}" of relation "${t.name}" does not exist`);
      }
      case 'setRelOptions': {
        const merged = mergeRelOptions(nt.reloptions ?? [], cmd.set, cmd.reset);
        if (merged.length > 0) nt.reloptions = merged;
        else delete nt.reloptions;
        break;
      }
    }
  }
  if (rewrite) rewriteRows(env, t, nt, pkChanged);
  env.catalog.writeDescriptor(env.txn, nt);
  return nt;
}

/**
 * `ALTER TABLE t ADD [CONSTRAINT name] PRIMARY KEY (cols)` on a table keyed by its hidden rowid
 * (one created without a primary key, as pgbench -i creates its tables): the columns become the
 * key and NOT NULL, the hidden rowid goes away, and rewriteRows re-keys every row (checking
 * NULLs and duplicates as PostgreSQL's index build does). Changing an existing primary key stays
 * refused, as PostgreSQL refuses a second one.
 */
function addPrimaryKey(env: DdlEnv, nt: TableDesc, name: string | null, cols: string[]): void {
  const rowid = nt.primaryIndex.columnIds.length === 1 ? nt.columns.find((c) => c.id === nt.primaryIndex.columnIds[0] && c.hidden) : undefined;
  if (!rowid) throw new PgError(SqlState.InvalidTableDefinition, `multiple primary keys for table "${nt.name}" are not allowed`);
  const pkName = name ?? `${nt.name}_pkey`;
  if (env.view.table(nt.schemaId, pkName) || nt.indexes.some((x) => x.name === pkName)) throw dup(SqlState.DuplicateTable, `relation "${pkName}" already exists`);
  const ids = cols.map((n) => {
    const c = nt.columns.find((x) => x.name === n && !x.hidden);
    if (!c) throw new PgError(SqlState.UndefinedColumn, `column "${n}" of relation "${nt.name}" does not exist`);
    if (c.type.kind === 'jsonb' || c.type.kind === 'json' || c.type.kind === 'array') throw new PgError(SqlState.FeatureNotSupported, `column "${n}" of type ${formatType(c.type)} cannot be part of a primary key`);
    c.nullable = false;
    return c.id;
  });
  nt.primaryIndex = { ...nt.primaryIndex, name: pkName, columnIds: ids, desc: ids.map(() => false), unique: true, constraint: 'primary' };
  nt.columns = nt.columns.filter((c) => c !== rowid);
}

/**
 * Rewrites every row from the old descriptor's layout to the new one (new columns get defaults).
 * With `pkChanged` the rows get new keys: all old keys are deleted before any new one is written
 * (an old rowid and a new key value may be equal), and a repeated new key is PostgreSQL's 23505.
 */
function rewriteRows(env: DdlEnv, oldT: TableDesc, newT: TableDesc, pkChanged = false): void {
  const oldCodec = tableCodec(oldT);
  const newCodec = tableCodec(newT);
  const ctx = env.execCtx();
  const rows = scanRows(env, oldT);
  const newKeys = pkChanged ? new Set<string>() : null;
  if (pkChanged) for (const row of rows) env.txn.del(primaryKey(oldCodec, row));
  for (const row of rows) {
    const out: Row = newT.columns.map((c) => {
      const oi = oldT.columns.findIndex((x) => x.id === c.id);
      if (oi >= 0) {
        const v = row[oi] as Value;
        const from = (oldT.columns[oi] as ColumnDesc).type;
        return v === null || from.kind === c.type.kind ? v : castValue(v, from, c.type, ctx.vctx, false);
      }
      return c.default !== null ? env.evalDefault(c.default, c) : null;
    });
    for (let i = 0; i < newT.columns.length; i++) {
      const c = newT.columns[i] as ColumnDesc;
      if (!c.nullable && out[i] === null) throw new PgError(SqlState.NotNullViolation, `column "${c.name}" of relation "${newT.name}" contains null values`);
    }
    for (const idx of oldT.indexes) env.txn.del(indexEntry(oldCodec, idx, row).key);
    const key = primaryKey(newCodec, out);
    if (newKeys) {
      const k = key.toString('latin1');
      if (newKeys.has(k)) {
        const pos = newT.primaryIndex.columnIds.map((id) => newT.columns.findIndex((c) => c.id === id));
        const names = pos.map((p) => (newT.columns[p] as ColumnDesc).name).join(', ');
        const vals = pos.map((p) => formatValue(out[p] as Value, (newT.columns[p] as ColumnDesc).type, ctx.vctx)).join(', ');
        throw new PgError(SqlState.UniqueViolation, `could not create unique index "${newT.primaryIndex.name}"`, { detail: `Key (${names})=(${vals}) is duplicated.`, table: newT.name, constraint: newT.primaryIndex.name });
      }
      newKeys.add(k);
    }
    env.txn.put(key, encodeRow(newT, out));
    for (const idx of newT.indexes) {
      const e = indexEntry(newCodec, idx, out);
      env.txn.put(e.key, e.value);
    }
  }
}

export { scanRows };
