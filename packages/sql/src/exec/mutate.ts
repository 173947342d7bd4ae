/**
 * INSERT, UPSERT, UPDATE and DELETE against relational tables: constraint checks, index
 * maintenance and RETURNING. All writes go into the transaction's buffer; nothing touches the
 * engine until commit.
 */
import { PgError, SqlState } from '@strata/common';
import type { ColumnDesc, TableDesc } from '../catalog/descriptors.js';
import { decodeIndexValue as decodeIndexValuePk, encodeRow, indexEntry, primaryKey, tableCodec, decodeRow } from '../catalog/rowcodec.js';
import type { TableCodec } from '../catalog/rowcodec.js';
import { castValue, canAssignCast } from '../types/cast.js';
import { formatType, formatValue, sameType } from '../types/types.js';
import type { SqlType, Value, ValueContext } from '../types/types.js';
import type { ExecCtx, Row } from './context.js';
import type { Ev } from './operators.js';

export interface TableWriter {
  table: TableDesc;
  codec: TableCodec;
  /** Default value per column (null → NULL). */
  defaults: (Ev | null)[];
  checks: { name: string; ev: Ev }[];
  /** Foreign keys to verify on write. */
  foreignKeys: { name: string; positions: number[]; refTable: TableDesc; refCodec: TableCodec; refPositions: number[] }[];
}

export function makeWriter(table: TableDesc, defaults: (Ev | null)[], checks: { name: string; ev: Ev }[], fks: TableWriter['foreignKeys']): TableWriter {
  return { table, codec: tableCodec(table), defaults, checks, foreignKeys: fks };
}

function hasTypmod(t: SqlType): boolean {
  return t.typmod >= 0 || (t.kind === 'array' && t.elem !== undefined && hasTypmod(t.elem));
}

/** Converts a value to a column's type with assignment-cast rules (errors name the column). */
export function assignValue(v: Value, from: SqlType, col: ColumnDesc, ctx: ExecCtx): Value {
  return assignValueIn(v, from, col, ctx.vctx);
}

/** assignValue given only the session's value context (for a Bind decoded before Execute). */
export function assignValueIn(v: Value, from: SqlType, col: ColumnDesc, vctx: ValueContext): Value {
  if (v === null) return null;
  // A composite column: field by field (types/cast.ts), even from another record.
  if (col.type.composite && from.kind === 'record') return castValue(v, from, col.type, vctx, false);
  // The same type without a typmod to enforce: nothing to convert. Arrays compare by element
  // (a date[] stored into a timestamp[] column was kept as days, read back as microseconds).
  if (sameType(from, col.type) && !hasTypmod(col.type)) return v;
  if (!canAssignCast(from, col.type)) {
    throw new PgError(SqlState.DatatypeMismatch, `column "${col.name}" is of type ${formatType(col.type)} but expression is of type ${formatType(from)}`, {
      hint: 'You will need to rewrite or cast the expression.',
    });
  }
  return castValue(v, from, col.type, vctx, false);
}

/** The schema of a table, for the SCHEMA NAME field of constraint errors (as PostgreSQL's). */
function schemaField(t: TableDesc, ctx: ExecCtx): { schema?: string } {
  const s = ctx.catalog.byId.get(t.schemaId);
  return s?.kind === 'schema' ? { schema: s.name } : {};
}

function failingRow(t: TableDesc, row: Row, ctx: ExecCtx): string {
  return `Failing row contains (${row.filter((_v, j) => !(t.columns[j] as ColumnDesc).hidden).map((v, j) => (v === null ? 'null' : formatValue(v, (t.columns[j] as ColumnDesc).type, ctx.vctx))).join(', ')}).`;
}

/** Validates NOT NULL, CHECK and FOREIGN KEY constraints of a complete row. */
export function checkRow(w: TableWriter, row: Row, ctx: ExecCtx): void {
  const t = w.table;
  t.columns.forEach((c, i) => {
    if (!c.nullable && row[i] === null) {
      throw new PgError(SqlState.NotNullViolation, `null value in column "${c.name}" of relation "${t.name}" violates not-null constraint`, {
        detail: failingRow(t, row, ctx),
        ...schemaField(t, ctx),
        table: t.name,
        column: c.name,
      });
    }
  });
  for (const ch of w.checks) {
    if (ch.ev(row, ctx) === false) {
      throw new PgError(SqlState.CheckViolation, `new row for relation "${t.name}" violates check constraint "${ch.name}"`, { detail: failingRow(t, row, ctx), ...schemaField(t, ctx), table: t.name, constraint: ch.name });
    }
  }
  for (const fk of w.foreignKeys) {
    const vals = fk.positions.map((p) => row[p] as Value);
    if (vals.some((v) => v === null)) continue;
    const refRow: Row = new Array<Value>(fk.refTable.columns.length).fill(null);
    fk.refPositions.forEach((p, i) => (refRow[p] = vals[i] as Value));
    const pkPos = fk.refCodec.pkPositions;
    const isPk = pkPos.length === fk.refPositions.length && pkPos.every((p, i) => p === fk.refPositions[i]);
    let found = false;
    if (isPk) found = ctx.txn.get(primaryKey(fk.refCodec, refRow)) !== null;
    else {
      const idx = fk.refTable.indexes.find((ix) => ix.unique && ix.columnIds.length === fk.refPositions.length && ix.columnIds.every((id, i) => fk.refCodec.colIndexById.get(id) === fk.refPositions[i]));
      if (idx) found = ctx.txn.get(indexEntry(fk.refCodec, idx, refRow).key) !== null;
    }
    if (!found) {
      const cols = fk.positions.map((p) => (t.columns[p] as ColumnDesc).name).join(', ');
      const keys = fk.positions.map((p) => formatValue(row[p] as Value, (t.columns[p] as ColumnDesc).type, ctx.vctx)).join(', ');
      throw new PgError(SqlState.ForeignKeyViolation, `insert or update on table "${w.table.name}" violates foreign key constraint "${fk.name}"`, {
        detail: `Key (${cols})=(${keys}) is not present in table "${fk.refTable.name}".`,
        ...schemaField(w.table, ctx),
        table: w.table.name,
        constraint: fk.name,
      });
    }
  }
}

function uniqueViolation(w: TableWriter, indexName: string, cols: number[], row: Row, ctx: ExecCtx): PgError {
  const t = w.table;
  const names = cols.map((p) => (t.columns[p] as ColumnDesc).name).join(', ');
  const vals = cols.map((p) => (row[p] === null ? 'null' : formatValue(row[p] as Value, (t.columns[p] as ColumnDesc).type, ctx.vctx))).join(', ');
  return new PgError(SqlState.UniqueViolation, `duplicate key value violates unique constraint "${indexName}"`, {
    detail: `Key (${names})=(${vals}) already exists.`,
    ...schemaField(t, ctx),
    table: t.name,
    constraint: indexName,
  });
}

/** Finds the existing row (if any) that conflicts with `row` on the primary key or a unique index. */
export function findConflict(w: TableWriter, row: Row, ctx: ExecCtx, onlyColumns: number[] | null): { existing: Row; index: string; cols: number[] } | null {
  const t = w.table;
  const codec = w.codec;
  const matches = (cols: number[]) => onlyColumns === null || (cols.length === onlyColumns.length && cols.every((c) => onlyColumns.includes(c)));
  if (matches(codec.pkPositions) || onlyColumns === null) {
    const raw = ctx.txn.get(primaryKey(codec, row));
    if (raw) return { existing: decodeRow(t, raw, codec.colIndexById), index: t.primaryIndex.name, cols: codec.pkPositions };
  }
  for (const idx of t.indexes) {
    if (!idx.unique) continue;
    const cols = idx.columnIds.map((id) => codec.colIndexById.get(id) as number);
    if (!matches(cols)) continue;
    const e = indexEntry(codec, idx, row);
    if (!e.uniqueForm) continue;
    const pkVals = ctx.txn.get(e.key);
    if (pkVals) {
      const pkRow: Row = new Array<Value>(t.columns.length).fill(null);
      // decode the primary key values stored in the index entry, then fetch the row
      const vals = decodeIndexValuePk(pkVals, codec.pkPositions.length);
      codec.pkPositions.forEach((p, i) => (pkRow[p] = vals[i] as Value));
      const raw = ctx.txn.get(primaryKey(codec, pkRow));
      if (raw) return { existing: decodeRow(t, raw, codec.colIndexById), index: idx.name, cols };
    }
  }
  return null;
}


/** The key a foreign key's check reads for a row (null: a NULL column, nothing to check). */
function foreignKeyProbe(fk: TableWriter['foreignKeys'][number], row: Row): Buffer | null {
  const vals = fk.positions.map((p) => row[p] as Value);
  if (vals.some((v) => v === null)) return null;
  const refRow: Row = new Array<Value>(fk.refTable.columns.length).fill(null);
  fk.refPositions.forEach((p, i) => (refRow[p] = vals[i] as Value));
  const pkPos = fk.refCodec.pkPositions;
  if (pkPos.length === fk.refPositions.length && pkPos.every((p, i) => p === fk.refPositions[i])) return primaryKey(fk.refCodec, refRow);
  const idx = fk.refTable.indexes.find((ix) => ix.unique && ix.columnIds.length === fk.refPositions.length && ix.columnIds.every((id, i) => fk.refCodec.colIndexById.get(id) === fk.refPositions[i]));
  return idx ? indexEntry(fk.refCodec, idx, refRow).key : null;
}

/**
 * Reads, through the leaseholder and in two batched rounds, every key the constraint checks of
 * these rows will read (foreign keys, the primary key and unique index entries, then the rows
 * unique entries point to), so the checks that follow answer from the transaction's prefetched
 * values instead of synchronous reads. `olds`: for an UPDATE, each row's old version.
 */
export async function prefetchChecks(w: TableWriter, rows: Row[], ctx: ExecCtx, olds: Row[] | null = null): Promise<void> {
  const codec = w.codec;
  const first: Buffer[] = [];
  const unique: Buffer[] = [];
  rows.forEach((row, i) => {
    for (const fk of w.foreignKeys) {
      const k = foreignKeyProbe(fk, row);
      if (k) first.push(k);
    }
    first.push(primaryKey(codec, row));
    for (const idx of w.table.indexes) {
      if (!idx.unique) continue;
      const e = indexEntry(codec, idx, row);
      if (!e.uniqueForm) continue;
      if (olds && e.key.equals(indexEntry(codec, idx, olds[i] as Row).key)) continue;
      unique.push(e.key);
    }
  });
  await ctx.txn.prefetch([...first, ...unique]);
  const second: Buffer[] = [];
  for (const key of unique) {
    const pkVals = ctx.txn.get(key);
    if (!pkVals) continue;
    const pkRow: Row = new Array<Value>(w.table.columns.length).fill(null);
    const vals = decodeIndexValuePk(pkVals, codec.pkPositions.length);
    codec.pkPositions.forEach((p, i) => (pkRow[p] = vals[i] as Value));
    second.push(primaryKey(codec, pkRow));
  }
  await ctx.txn.prefetch(second);
}

/** Writes a new row (no existing row under its keys; caller checked). */
export function insertRow(w: TableWriter, row: Row, ctx: ExecCtx): void {
  const codec = w.codec;
  const pk = primaryKey(codec, row);
  ctx.txn.put(pk, encodeRow(w.table, row));
  for (const idx of w.table.indexes) {
    const e = indexEntry(codec, idx, row);
    ctx.txn.put(e.key, e.value);
  }
}

export function deleteRow(w: TableWriter, row: Row, ctx: ExecCtx): void {
  const codec = w.codec;
  ctx.txn.del(primaryKey(codec, row));
  for (const idx of w.table.indexes) ctx.txn.del(indexEntry(codec, idx, row).key);
}

/** Inserts with uniqueness checks; returns false if skipped (ON CONFLICT DO NOTHING). */
export function insertChecked(w: TableWriter, row: Row, ctx: ExecCtx): void {
  checkRow(w, row, ctx);
  const c = findConflict(w, row, ctx, null);
  if (c) throw uniqueViolation(w, c.index, c.cols, row, ctx);
  insertRow(w, row, ctx);
}

/** Replaces an existing row by a new version (keys may change). */
export function updateRow(w: TableWriter, oldRow: Row, newRow: Row, ctx: ExecCtx): void {
  checkRow(w, newRow, ctx);
  const codec = w.codec;
  const oldPk = primaryKey(codec, oldRow);
  const newPk = primaryKey(codec, newRow);
  if (!oldPk.equals(newPk) && ctx.txn.get(newPk)) throw uniqueViolation(w, w.table.primaryIndex.name, codec.pkPositions, newRow, ctx);
  for (const idx of w.table.indexes) {
    if (!idx.unique) continue;
    const ne = indexEntry(codec, idx, newRow);
    const oe = indexEntry(codec, idx, oldRow);
    if (ne.uniqueForm && !ne.key.equals(oe.key) && ctx.txn.get(ne.key)) {
      throw uniqueViolation(w, idx.name, idx.columnIds.map((id) => codec.colIndexById.get(id) as number), newRow, ctx);
    }
  }
  deleteRow(w, oldRow, ctx);
  insertRow(w, newRow, ctx);
}

export { uniqueViolation };
