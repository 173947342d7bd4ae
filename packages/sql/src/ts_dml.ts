/**
 * Rows of time-series tables: SQL values ↔ TS engine values, the TS write path (INSERT builds TS
 * write commands that the store proposes through the replica log) and the scan that reads a table
 * back as SQL rows (data columns, then tags — KWDB's SELECT * order).
 *
 * TS writes are not transactional (as in KWDB): an INSERT's rows are proposed when the statement
 * completes and a later ROLLBACK does not undo them.
 */
import { PgError, SqlState } from '@strata/common';
import { ColumnType, encodeTsWrite } from '@strata/ts';
import type { ColumnData, TsSchema, TsTable, TsValue } from '@strata/ts';
import type { ColumnDesc, DatabaseDesc, TableDesc } from './catalog/descriptors.js';
import type { Column, ExecCtx, Row } from './exec/context.js';
import type { SqlType, Value } from './types/types.js';
import { tsDefaults } from './ts_ddl.js';
import { timestampInfinity, timestampNegInfinity } from './types/datetime.js';

/** What the SQL layer needs from the store's time-series engine. */
export interface TsSender {
  proposeTs(tableId: number, payload: Buffer): Promise<void>;
  proposeTsDrop(tableId: number): Promise<void>;
  tsTable(tableId: number): TsTable | undefined;
}

/** Rows per proposed TS write command (a statement with more rows proposes several). */
export const tsRowsPerCommandMax = 20_000;

const usPerSecond = 1_000_000;

export function columnTypeOf(t: SqlType): ColumnType {
  switch (t.kind) {
    case 'timestamp':
    case 'timestamptz':
      return ColumnType.Timestamp;
    case 'int2':
    case 'int4':
      return ColumnType.Int32;
    case 'int8':
      return ColumnType.Int64;
    case 'float4':
    case 'float8':
      return ColumnType.Float64;
    case 'bool':
      return ColumnType.Bool;
    default:
      return ColumnType.String; // char, varchar, bytea (latin1)
  }
}

export function tsSchemaOf(t: TableDesc, db: DatabaseDesc | undefined): TsSchema {
  const info = t.ts as NonNullable<TableDesc['ts']>;
  return {
    partitionIntervalUs: (db?.ts?.partitionIntervalSeconds ?? tsDefaults.partitionIntervalSeconds) * usPerSecond,
    columns: t.columns.map((c) => columnTypeOf(c.type)),
    tags: info.tags.map((g) => columnTypeOf(g.type)),
    primaryTags: info.primaryTags.map((p) => info.tags.findIndex((g) => g.name === p)),
  };
}

/** The SQL columns of a TS table as scanned: data columns then tags. */
export function tsScanColumns(t: TableDesc): Column[] {
  const cols: Column[] = t.columns.map((c, i) => ({ name: c.name, type: c.type, tableOid: t.id, columnNum: i + 1 }));
  for (const g of t.ts?.tags ?? []) cols.push({ name: g.name, type: g.type, tableOid: t.id, columnNum: cols.length + 1 });
  return cols;
}

/** Column name, type and NOT NULL of every writable position (data columns then tags). */
export function tsTargets(t: TableDesc): { name: string; type: SqlType; notNull: boolean }[] {
  return [
    ...t.columns.map((c) => ({ name: c.name, type: c.type, notNull: !c.nullable })),
    ...(t.ts?.tags ?? []).map((g) => ({ name: g.name, type: g.type, notNull: !g.nullable })),
  ];
}

/** Column descriptors for the writable positions (for assignValue's casts and length checks). */
export function tsColumnDescs(t: TableDesc): ColumnDesc[] {
  return tsTargets(t).map((c, i) => ({ id: i + 1, name: c.name, type: c.type, nullable: !c.notNull, default: null, hidden: false }));
}

/** Throws 23502 if a NOT NULL position (timestamp, NOT NULL column, primary tag) is NULL. */
export function checkTsRow(t: TableDesc, cols: ColumnDesc[], row: TsValue[]): void {
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i] as ColumnDesc;
    if (!c.nullable && row[i] === null) throw new PgError(SqlState.NotNullViolation, `null value in column "${c.name}" of relation "${t.name}" violates not-null constraint`);
  }
}

export function toTsValue(v: Value, t: SqlType, column: string): TsValue {
  if (v === null) return null;
  switch (t.kind) {
    case 'timestamp':
    case 'timestamptz': {
      const n = v as number;
      if (!Number.isFinite(n) || n === timestampInfinity || n === timestampNegInfinity) throw new PgError(SqlState.DatetimeFieldOverflow, `column "${column}": timestamp out of range for a time-series table`);
      return BigInt(Math.round(n));
    }
    case 'int8':
      return BigInt(v as bigint);
    case 'bytea':
      return (v as Buffer).toString('latin1');
    case 'bool':
      return v as boolean;
    default:
      return v as number | string;
  }
}

function fromTs(v: unknown, t: SqlType): Value {
  switch (t.kind) {
    case 'timestamp':
    case 'timestamptz':
      return Number(v as bigint);
    case 'bool':
      return v === 1 || v === true;
    case 'bytea':
      return Buffer.from(v as string, 'latin1');
    default:
      return v as Value;
  }
}

/** Encodes rows (already SQL-checked) into commands and proposes them in order. */
export async function proposeTsRows(sender: TsSender, t: TableDesc, db: DatabaseDesc | undefined, rows: TsValue[][]): Promise<void> {
  const schema = tsSchemaOf(t, db);
  for (let i = 0; i < rows.length; i += tsRowsPerCommandMax) {
    await sender.proposeTs(t.id, encodeTsWrite({ tableId: t.id, schema, rows: rows.slice(i, i + tsRowsPerCommandMax) }));
  }
}

/** Every row of a TS table (all entities, all time), per entity in timestamp order. */
export function* tsScanRows(t: TableDesc, ctx: ExecCtx): Generator<Row> {
  const table = ctx.ts?.tsTable(t.id);
  if (!table) return; // nothing written yet
  const types = t.columns.map((c) => c.type);
  const tagTypes = (t.ts?.tags ?? []).map((g) => g.type);
  for (const b of table.scan(null, -(2n ** 63n), 2n ** 63n - 1n)) {
    const rawTags = table.tags?.tagsOf(b.entityId) ?? [];
    const tags: Value[] = tagTypes.map((ty, i) => (rawTags[i] === null || rawTags[i] === undefined ? null : fromTs(rawTags[i], ty)));
    const n = (b.columns[0] as ColumnData).values.length;
    for (let r = 0; r < n; r++) {
      const row: Row = new Array<Value>(types.length + tags.length);
      for (let c = 0; c < types.length; c++) {
        const col = b.columns[c] as ColumnData;
        row[c] = col.nulls && col.nulls[r] ? null : fromTs(col.values[r], types[c] as SqlType);
      }
      for (let g = 0; g < tags.length; g++) row[types.length + g] = tags[g] as Value;
      yield row;
    }
  }
}
