/**
 * KWDB time-series DDL: CREATE TS DATABASE, the TAGS … PRIMARY TAGS form of CREATE TABLE, ALTER
 * TABLE (names, options, columns and tags) and tag indexes, with KWDB's rules and limits
 * (../shared/reference/kwdb-user-features.md §1). The descriptors live in the catalog; schema
 * changes reach the TS engine (packages/ts) as commands through the replica log.
 */
import { PgError, SqlState } from '@strata/common';
import type { AlterTableCmd, ColumnDef, Statement, TsTableClause } from './parser/ast.js';
import { alterTable } from './ddl.js';
import type { ColumnDesc, DatabaseDesc, TableDesc, TagDesc, TsTableInfo } from './catalog/descriptors.js';
import { T, formatType } from './types/types.js';
import type { SqlType } from './types/types.js';
import { typeFromName } from './plan/binder.js';
import type { DdlEnv } from './ddl.js';

export const tsDefaults = {
  /** 0 = keep forever. */
  retentionSeconds: 0,
  partitionIntervalSeconds: 10 * 86400,
  activeTimeSeconds: 86400,
  hashNum: 2000,
} as const;

export const tsLimits = {
  columnsMax: 4096,
  columnsMin: 2,
  tagsMax: 128,
  primaryTagsMax: 4,
  primaryTagVarcharBytesMax: 128,
  primaryTagVarcharBytesDefault: 64,
  hashNumMin: 1,
  hashNumMax: 50000,
  nameBytesMax: 128,
} as const;

const dataTypes = new Set(['timestamp', 'timestamptz', 'int2', 'int4', 'int8', 'float4', 'float8', 'bool', 'bpchar', 'varchar', 'bytea']);

function bad(msg: string, code: SqlState = SqlState.InvalidTableDefinition, position?: number): PgError {
  return new PgError(code, msg, position === undefined ? {} : { position: position + 1 });
}

function checkName(kind: string, name: string, pos?: number): void {
  if (Buffer.byteLength(name) > tsLimits.nameBytesMax) throw bad(`${kind} name "${name}" exceeds ${tsLimits.nameBytesMax} bytes`, SqlState.InvalidTableDefinition, pos);
  if (!/^[\x20-\x7e]*$/.test(name)) throw bad(`${kind} name "${name}" must be ASCII in a time-series table`, SqlState.InvalidTableDefinition, pos);
}

export function createTsDatabase(env: DdlEnv, s: Statement & { kind: 'createDatabase' }): DatabaseDesc | null {
  if (env.view.database(s.name)) {
    if (s.ifNotExists) {
      env.notice(`database "${s.name}" already exists, skipping`);
      return null;
    }
    throw new PgError(SqlState.DuplicateDatabase, `database "${s.name}" already exists`);
  }
  const db = env.catalog.createDatabase(env.txn, s.name);
  db.ts = {
    retentionSeconds: s.ts?.retentionSeconds ?? tsDefaults.retentionSeconds,
    partitionIntervalSeconds: s.ts?.partitionIntervalSeconds ?? tsDefaults.partitionIntervalSeconds,
    comment: s.ts?.comment ?? null,
  };
  env.catalog.writeDescriptor(env.txn, db);
  return db;
}

/** Validates a TS CREATE TABLE and builds its descriptor. */
export function createTsTable(env: DdlEnv, s: Statement & { kind: 'createTable' }, db: DatabaseDesc): TableDesc | null {
  const c = s.ts as TsTableClause;
  const tgt = env.target(s.name);
  if (env.view.table(tgt.schemaId, tgt.name)) {
    if (s.ifNotExists) {
      env.notice(`relation "${tgt.name}" already exists, skipping`);
      return null;
    }
    throw new PgError(SqlState.DuplicateTable, `relation "${tgt.name}" already exists`);
  }
  checkName('table', tgt.name);
  if (s.constraints.length > 0) throw bad('time-series tables do not support table constraints (PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY)', SqlState.FeatureNotSupported);
  const cols = s.columns;
  if (cols.length < tsLimits.columnsMin) throw bad(`a time-series table needs at least ${tsLimits.columnsMin} columns (a timestamp and a value)`);
  if (cols.length > tsLimits.columnsMax) throw bad(`a time-series table can have at most ${tsLimits.columnsMax} columns`, SqlState.TooManyColumns);
  const first = cols[0] as ColumnDef;
  const firstType = typeFromName(first.type);
  if (firstType.kind !== 'timestamp' && firstType.kind !== 'timestamptz') {
    throw bad(`the first column of a time-series table must be TIMESTAMP or TIMESTAMPTZ, not ${formatType(firstType)}`, SqlState.InvalidTableDefinition, first.pos);
  }
  if (!first.notNull) throw bad(`the first column "${first.name}" of a time-series table must be NOT NULL`, SqlState.InvalidTableDefinition, first.pos);
  const names = new Set<string>();
  const columns: ColumnDesc[] = cols.map((cd, i) => {
    checkName('column', cd.name, cd.pos);
    if (names.has(cd.name)) throw new PgError(SqlState.DuplicateColumn, `column "${cd.name}" specified more than once`);
    names.add(cd.name);
    let type = typeFromName(cd.type);
    if (i === 0) type = T.timestamptz; // a TIMESTAMP first column is treated as TIMESTAMPTZ (KWDB)
    if (!dataTypes.has(type.kind)) throw bad(`column "${cd.name}": type ${formatType(type)} is not supported in time-series tables`, SqlState.FeatureNotSupported, cd.pos);
    if (cd.primaryKey || cd.unique || cd.check || cd.references) throw bad(`column "${cd.name}": constraints are not supported in time-series tables`, SqlState.FeatureNotSupported, cd.pos);
    return { id: i + 1, name: cd.name, type, nullable: !cd.notNull, default: cd.defaultText, hidden: false };
  });
  if (c.tags.length === 0) throw bad('a time-series table needs at least one tag');
  if (c.tags.length > tsLimits.tagsMax) throw bad(`a time-series table can have at most ${tsLimits.tagsMax} tags`);
  const tags: TagDesc[] = c.tags.map((td) => {
    checkName('tag', td.name, td.pos);
    if (names.has(td.name)) throw new PgError(SqlState.DuplicateColumn, `tag "${td.name}" has the same name as a column or another tag`);
    names.add(td.name);
    return { name: td.name, type: tagType(td), nullable: !td.notNull, primary: false };
  });
  tags.forEach((g, i) => (g.id = i));
  if (c.primaryTags.length < 1 || c.primaryTags.length > tsLimits.primaryTagsMax) {
    throw bad(`a time-series table needs 1 to ${tsLimits.primaryTagsMax} primary tags, not ${c.primaryTags.length}`);
  }
  for (const p of c.primaryTags) {
    const t = tags.find((x) => x.name === p);
    if (!t) throw bad(`primary tag "${p}" is not in the tag list`, SqlState.UndefinedColumn);
    if (t.primary) throw new PgError(SqlState.DuplicateColumn, `primary tag "${p}" specified more than once`);
    if (t.nullable) throw bad(`primary tag "${p}" must be NOT NULL`);
    if (t.type.kind === 'float4' || t.type.kind === 'float8') throw bad(`primary tag "${p}" cannot be a floating-point type`, SqlState.FeatureNotSupported);
    if (t.type.kind === 'bytea' || t.type.kind === 'text') throw bad(`primary tag "${p}": variable-length types other than VARCHAR are not allowed`, SqlState.FeatureNotSupported);
    if (t.type.kind === 'varchar') {
      if (t.type.typmod < 0) t.type = { kind: 'varchar', typmod: tsLimits.primaryTagVarcharBytesDefault } as SqlType;
      if (t.type.typmod > tsLimits.primaryTagVarcharBytesMax) throw bad(`primary tag "${p}": VARCHAR is limited to ${tsLimits.primaryTagVarcharBytesMax} bytes`, SqlState.FeatureNotSupported);
    }
    t.primary = true;
  }
  const hashNum = c.hashNum ?? tsDefaults.hashNum;
  if (!(Number.isInteger(hashNum) && hashNum >= tsLimits.hashNumMin && hashNum <= tsLimits.hashNumMax)) {
    throw bad(`WITH HASH(${hashNum}) is out of range [${tsLimits.hashNumMin}, ${tsLimits.hashNumMax}]`, SqlState.InvalidParameterValue);
  }
  const t: TableDesc = {
    kind: 'ts',
    id: env.catalog.allocateId(env.txn),
    name: tgt.name,
    parentId: tgt.dbId,
    schemaId: tgt.schemaId,
    columns,
    nextColumnId: columns.length + 1,
    primaryIndex: { id: 1, name: `${tgt.name}_primary_tags`, columnIds: [], desc: [], unique: true, constraint: null },
    indexes: [],
    nextIndexId: 2,
    checks: [],
    foreignKeys: [],
    ts: {
      tags,
      primaryTags: c.primaryTags,
      retentionSeconds: c.retentionSeconds ?? 0,
      activeTimeSeconds: c.activeTimeSeconds ?? tsDefaults.activeTimeSeconds,
      hashNum,
      comment: c.comment,
      nextTagId: tags.length,
    },
    ...(s.reloptions ? { reloptions: s.reloptions } : {}),
    version: 1,
  };
  void db;
  env.catalog.writeDescriptor(env.txn, t);
  env.catalog.writeName(env.txn, tgt.dbId, tgt.schemaId, tgt.name, t.id);
  return t;
}

/** Durations as KWDB shows them: "864000s" for retentions, "10d" for intervals when whole days. */
export function formatRetention(seconds: number): string {
  return `${seconds}s`;
}

export function formatInterval(seconds: number): string {
  return seconds % 86400 === 0 ? `${seconds / 86400}d` : `${seconds}s`;
}

/** SHOW CREATE TABLE for a time-series table, in KWDB's shape. */
export function showCreateTs(t: TableDesc, db: DatabaseDesc | undefined): string {
  const info = t.ts as NonNullable<TableDesc['ts']>;
  const typeName = (ty: SqlType, first: boolean) => (first ? 'TIMESTAMPTZ(3)' : formatType(ty).toUpperCase().replace('DOUBLE PRECISION', 'FLOAT8').replace('INTEGER', 'INT4').replace('BIGINT', 'INT8').replace('SMALLINT', 'INT2').replace('REAL', 'FLOAT4').replace('BOOLEAN', 'BOOL').replace('CHARACTER VARYING', 'VARCHAR').replace('CHARACTER', 'CHAR').replace('BYTEA', 'VARBYTES'));
  const cols = t.columns.map((c, i) => `\t${c.name} ${typeName(c.type, i === 0)} ${c.nullable ? 'NULL' : 'NOT NULL'}${c.default ? ` DEFAULT ${c.default}` : ''}`);
  const tags = info.tags.map((g) => `\t${g.name} ${typeName(g.type, false)} ${g.nullable ? 'NULL' : 'NOT NULL'}`);
  const retention = info.retentionSeconds || db?.ts?.retentionSeconds || 0;
  return `CREATE TABLE ${t.name} (\n${cols.join(',\n')}\n) TAGS (\n${tags.join(',\n')} ) PRIMARY TAGS(${info.primaryTags.join(', ')})\n\tretentions ${formatRetention(retention)}\n\tactivetime ${formatInterval(info.activeTimeSeconds)}\n\tpartition interval ${formatInterval(db?.ts?.partitionIntervalSeconds ?? tsDefaults.partitionIntervalSeconds)}${info.hashNum !== tsDefaults.hashNum ? `\n\twith hash(${info.hashNum})` : ''}`;
}

/** A statement time-series tables do not support (or a node without a time-series engine). */
export function tsNotImplemented(t: TableDesc, what: string): PgError {
  return new PgError(SqlState.FeatureNotSupported, `${what} on time-series table "${t.name}" is not implemented yet`, {
    detail: what === 'TRUNCATE' ? 'Use DELETE FROM t (every row) or DROP TABLE.' : 'This node has no time-series engine.',
  });
}

const alterKindNames: Record<string, string> = {
  alterColumnDefault: 'ALTER COLUMN DEFAULT',
  alterColumnNotNull: 'ALTER COLUMN NOT NULL',
  addConstraint: 'ADD CONSTRAINT',
  dropConstraint: 'DROP CONSTRAINT',
};

/** ALTER TABLE changes that change what is stored (they go to the TS engine through the log). */
const structural = new Set(['addColumn', 'dropColumn', 'alterColumnType', 'addTag', 'dropTag', 'alterTagType']);

/** A type's family and width for ALTER TYPE's rules. */
function family(t: SqlType): { kind: string; width: number } {
  if (t.kind === 'varchar' || t.kind === 'bpchar') return { kind: 'char', width: t.typmod < 0 ? Infinity : t.typmod };
  return { kind: t.kind, width: 0 };
}

/**
 * KWDB's ALTER TYPE rules: widths only grow; INT2 → INT4/INT8/VARCHAR, INT4 → INT8/VARCHAR,
 * INT8 → VARCHAR, FLOAT4 → FLOAT8/VARCHAR, FLOAT8 → VARCHAR, CHAR/VARCHAR among each other (not
 * narrower), VARCHAR → INT4/INT8/FLOAT4/FLOAT8 (values that do not parse read as NULL).
 */
function checkRetype(what: string, name: string, from: SqlType, to: SqlType): void {
  const f = family(from);
  const g = family(to);
  const allowed: Record<string, string[]> = {
    int2: ['int2', 'int4', 'int8', 'char'],
    int4: ['int4', 'int8', 'char'],
    int8: ['int8', 'char'],
    float4: ['float4', 'float8', 'char'],
    float8: ['float8', 'char'],
    char: ['char', 'int4', 'int8', 'float4', 'float8'],
  };
  const ok = (allowed[f.kind] ?? [f.kind]).includes(g.kind) && (f.kind !== 'char' || g.kind !== 'char' || g.width >= f.width);
  if (!ok || !dataTypes.has(to.kind)) {
    throw new PgError(SqlState.DatatypeMismatch, `${what} "${name}" cannot be changed from ${formatType(from)} to ${formatType(to)}`, {
      hint: 'allowed: INT2 → INT4/INT8/VARCHAR, INT4 → INT8/VARCHAR, INT8 → VARCHAR, FLOAT4 → FLOAT8/VARCHAR, FLOAT8 → VARCHAR, CHAR/VARCHAR to a type at least as wide, VARCHAR → INT4/INT8/FLOAT4/FLOAT8',
    });
  }
}

/** A tag's type from its definition, checked as CREATE TABLE checks tags. */
function tagType(td: ColumnDef): SqlType {
  const type = typeFromName(td.type);
  if (type.kind === 'timestamp' || type.kind === 'timestamptz' || td.type.name.toLowerCase() === 'nvarchar') {
    throw bad(`tag "${td.name}": type ${td.type.name.toUpperCase()} is not allowed for tags`, SqlState.FeatureNotSupported, td.pos);
  }
  if (!dataTypes.has(type.kind)) throw bad(`tag "${td.name}": type ${formatType(type)} is not supported in time-series tables`, SqlState.FeatureNotSupported, td.pos);
  return type;
}

/** Tag ids, filled in for descriptors written before tags had ids (then ids were positions). */
export function tagIdsOf(info: TsTableInfo): number[] {
  return info.tags.map((g, i) => g.id ?? i);
}

/**
 * ALTER TABLE on a time-series table. Names and options (RENAME TO / COLUMN / TAG, SET
 * RETENTIONS / ACTIVETIME) change the descriptor only. ADD / DROP / ALTER TYPE of a column or a
 * tag — one per statement, as in KWDB — also change what is stored: the caller proposes the new
 * schema to the TS engine after the descriptor commits (returned `storageChanged`); stored blocks
 * are not rewritten (packages/ts/src/schema.ts maps them by column id when read).
 */
export function alterTsTable(env: DdlEnv, t: TableDesc, cmds: AlterTableCmd[], source: string): { desc: TableDesc; storageChanged: boolean } {
  const info = t.ts as NonNullable<TableDesc['ts']>;
  for (const c of cmds) {
    const what = alterKindNames[c.kind];
    if (what) throw new PgError(SqlState.FeatureNotSupported, `ALTER TABLE … ${what} is not supported on time-series table "${t.name}"`);
    if (c.kind === 'renameColumn' && info.tags.some((g) => g.name === c.to)) throw new PgError(SqlState.DuplicateColumn, `"${c.to}" is already a tag of "${t.name}"`);
  }
  const changes = cmds.filter((c) => structural.has(c.kind));
  if (changes.length > 1) throw new PgError(SqlState.FeatureNotSupported, 'a time-series table can change one column or tag per ALTER TABLE statement');
  const nt = alterTable(env, t, cmds.filter((c) => c.kind === 'renameColumn' || c.kind === 'renameTable' || c.kind === 'setRelOptions'), source);
  const ni = nt.ts as NonNullable<TableDesc['ts']>;
  const tagIds = tagIdsOf(ni);
  ni.tags.forEach((g, i) => (g.id = tagIds[i]));
  ni.nextTagId ??= ni.tags.length;
  const exists = (name: string) => nt.columns.some((x) => x.name === name) || ni.tags.some((x) => x.name === name);
  const findTag = (name: string) => {
    const g = ni.tags.find((x) => x.name === name);
    if (!g) throw new PgError(SqlState.UndefinedColumn, `tag "${name}" of relation "${t.name}" does not exist`);
    return g;
  };
  // IF [NOT] EXISTS: true = skip this change with a notice; a clash without it is an error.
  const taken = (kind: string, name: string, ifNotExists: boolean): boolean => {
    if (!exists(name)) return false;
    if (!ifNotExists) throw new PgError(SqlState.DuplicateColumn, `column or tag "${name}" of relation "${t.name}" already exists`);
    env.notice(`${kind} "${name}" of relation "${t.name}" already exists, skipping`);
    return true;
  };
  const skipMissing = (kind: string, name: string, ifExists: boolean): void => {
    if (!ifExists) throw new PgError(SqlState.UndefinedColumn, `${kind} "${name}" of relation "${t.name}" does not exist`);
    env.notice(`${kind} "${name}" of relation "${t.name}" does not exist, skipping`);
  };
  let storageChanged = false;
  for (const c of cmds) {
    if (c.kind === 'renameTag') {
      const g = findTag(c.from);
      if (exists(c.to)) throw new PgError(SqlState.DuplicateColumn, `column or tag "${c.to}" of relation "${t.name}" already exists`);
      checkName('tag', c.to);
      ni.primaryTags = ni.primaryTags.map((p) => (p === c.from ? c.to : p));
      for (const i of ni.tagIndexes ?? []) i.tags = i.tags.map((x) => (x === c.from ? c.to : x));
      g.name = c.to;
    } else if (c.kind === 'setTsOption') {
      if (c.option === 'retentions') ni.retentionSeconds = c.seconds;
      else ni.activeTimeSeconds = c.seconds;
    } else if (c.kind === 'addColumn') {
      const cd = c.column;
      if (taken('column', cd.name, c.ifNotExists)) continue;
      checkName('column', cd.name, cd.pos);
      if (nt.columns.length >= tsLimits.columnsMax) throw bad(`a time-series table can have at most ${tsLimits.columnsMax} columns`, SqlState.TooManyColumns);
      const type = typeFromName(cd.type);
      if (!dataTypes.has(type.kind) || type.kind === 'timestamp' || type.kind === 'timestamptz') throw bad(`column "${cd.name}": type ${formatType(type)} cannot be added to a time-series table`, SqlState.FeatureNotSupported, cd.pos);
      if (cd.notNull) throw bad(`column "${cd.name}": an added column must allow NULL (rows written before it have no value)`, SqlState.FeatureNotSupported, cd.pos);
      if (cd.default || cd.primaryKey || cd.unique || cd.check || cd.references) throw bad(`column "${cd.name}": DEFAULT and constraints are not supported on an added time-series column`, SqlState.FeatureNotSupported, cd.pos);
      nt.columns.push({ id: nt.nextColumnId++, name: cd.name, type, nullable: true, default: null, hidden: false });
      storageChanged = true;
    } else if (c.kind === 'dropColumn') {
      const i = nt.columns.findIndex((x) => x.name === c.name);
      if (i < 0) {
        if (ni.tags.some((g) => g.name === c.name)) throw new PgError(SqlState.WrongObjectType, `"${c.name}" is a tag of "${t.name}"`, { hint: `use ALTER TABLE ${t.name} DROP TAG ${c.name}` });
        skipMissing('column', c.name, c.ifExists);
        continue;
      }
      if (i === 0) throw new PgError(SqlState.FeatureNotSupported, `the timestamp column "${c.name}" of a time-series table cannot be dropped`);
      if (nt.columns.length <= tsLimits.columnsMin) throw bad(`a time-series table needs at least ${tsLimits.columnsMin} columns (a timestamp and a value)`);
      nt.columns.splice(i, 1);
      storageChanged = true;
    } else if (c.kind === 'alterColumnType' && !nt.columns.some((x) => x.name === c.column) && ni.tags.some((g) => g.name === c.column)) {
      retypeTag(findTag(c.column), typeFromName(c.type));
      storageChanged = true;
    } else if (c.kind === 'alterColumnType') {
      const i = nt.columns.findIndex((x) => x.name === c.column);
      if (i < 0) throw new PgError(SqlState.UndefinedColumn, `column "${c.column}" of relation "${t.name}" does not exist`);
      if (i === 0) throw new PgError(SqlState.FeatureNotSupported, `the timestamp column "${c.column}" of a time-series table cannot change type (its precision is fixed)`);
      const col = nt.columns[i] as ColumnDesc;
      const to = typeFromName(c.type);
      checkRetype('column', col.name, col.type, to);
      col.type = to;
      storageChanged = true;
    } else if (c.kind === 'addTag') {
      const td = c.tag;
      if (taken('tag', td.name, c.ifNotExists)) continue;
      checkName('tag', td.name, td.pos);
      if (ni.tags.length >= tsLimits.tagsMax) throw bad(`a time-series table can have at most ${tsLimits.tagsMax} tags`);
      if (td.notNull || td.default || td.primaryKey) throw bad(`tag "${td.name}": only nullable, non-primary tags without a default can be added`, SqlState.FeatureNotSupported, td.pos);
      ni.tags.push({ id: ni.nextTagId++, name: td.name, type: tagType(td), nullable: true, primary: false });
      storageChanged = true;
    } else if (c.kind === 'dropTag') {
      const g = ni.tags.find((x) => x.name === c.name);
      if (!g) {
        skipMissing('tag', c.name, c.ifExists);
        continue;
      }
      if (g.primary) throw new PgError(SqlState.FeatureNotSupported, `primary tag "${c.name}" cannot be dropped`);
      if (ni.tags.length <= 1) throw bad('a time-series table needs at least one tag');
      const idx = (ni.tagIndexes ?? []).find((x) => x.tags.includes(c.name));
      if (idx) throw new PgError(SqlState.DependentObjectsStillExist, `tag "${c.name}" is used by index "${idx.name}"`, { hint: `drop the index first: DROP INDEX ${t.name}@${idx.name}` });
      ni.tags = ni.tags.filter((x) => x !== g);
      storageChanged = true;
    } else if (c.kind === 'alterTagType') {
      retypeTag(findTag(c.tag), typeFromName(c.type));
      storageChanged = true;
    }
  }
  env.catalog.writeDescriptor(env.txn, nt);
  return { desc: nt, storageChanged };
}

/** Tag indexes per table at most, and tags per index (KWDB: 1–4). */
export const tagIndexLimits = { indexesMax: 64, tagsMax: 4 } as const;

/**
 * CREATE INDEX [name] ON t (tag, …) on a time-series table (KWDB 3.x): 1–4 non-primary tags of
 * integer, float or character types. Returns the changed descriptor (to write), or null when IF
 * NOT EXISTS skipped it. The index itself is a hash index over the tag table kept in memory by
 * the engine (built on first use, updated as devices appear and tags change); equality / IN
 * filters on all of its tags then find devices without visiting every device's tags.
 */
export function createTagIndex(env: DdlEnv, desc: TableDesc, s: Statement & { kind: 'createIndex' }): TableDesc | null {
  const t: TableDesc = JSON.parse(JSON.stringify(desc)) as TableDesc;
  const info = t.ts as NonNullable<TableDesc['ts']>;
  const tags = s.columns.map((c) => c.name);
  const name = s.name ?? `${t.name}_${tags.join('_')}_idx`;
  info.tagIndexes ??= [];
  if (info.tagIndexes.some((i) => i.name === name) || env.view.table(t.schemaId, name)) {
    if (s.ifNotExists) {
      env.notice(`index "${name}" already exists, skipping`);
      return null;
    }
    throw new PgError(SqlState.DuplicateTable, `relation "${name}" already exists`);
  }
  if (s.unique || s.storing.length > 0) throw new PgError(SqlState.FeatureNotSupported, 'UNIQUE and STORING are not supported for tag indexes');
  if (tags.length < 1 || tags.length > tagIndexLimits.tagsMax) throw new PgError(SqlState.FeatureNotSupported, `a tag index has 1 to ${tagIndexLimits.tagsMax} tags`);
  if (info.tagIndexes.length >= tagIndexLimits.indexesMax) throw new PgError(SqlState.ProgramLimitExceeded, `a time-series table can have at most ${tagIndexLimits.indexesMax} tag indexes`);
  if (new Set(tags).size !== tags.length) throw new PgError(SqlState.DuplicateColumn, 'a tag appears twice in the index');
  for (const name of tags) {
    const g = info.tags.find((x) => x.name === name);
    if (!g) {
      if (t.columns.some((c) => c.name === name)) throw new PgError(SqlState.FeatureNotSupported, `"${name}" is a data column of time-series table "${t.name}": indexes on time-series tables are on tags only`);
      throw new PgError(SqlState.UndefinedColumn, `tag "${name}" of relation "${t.name}" does not exist`);
    }
    if (g.primary) throw new PgError(SqlState.FeatureNotSupported, `"${name}" is a primary tag: primary tags are indexed already`);
    if (!['int2', 'int4', 'int8', 'float4', 'float8', 'bpchar', 'varchar'].includes(g.type.kind)) throw new PgError(SqlState.FeatureNotSupported, `tag "${name}" of type ${formatType(g.type)} cannot be indexed (integer, float and character tags can)`);
  }
  if (info.tagIndexes.some((i) => i.tags.join(',') === tags.join(','))) throw new PgError(SqlState.DuplicateObject, `an index on (${tags.join(', ')}) already exists`);
  info.tagIndexes.push({ name, tags });
  return t;
}

function retypeTag(g: TagDesc, to: SqlType): void {
  if (g.primary) throw new PgError(SqlState.FeatureNotSupported, `the type of primary tag "${g.name}" cannot be changed`);
  if (to.kind === 'timestamp' || to.kind === 'timestamptz') throw new PgError(SqlState.FeatureNotSupported, `tag "${g.name}": a tag cannot be a timestamp`);
  checkRetype('tag', g.name, g.type, to);
  g.type = to;
}
