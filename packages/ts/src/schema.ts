/**
 * Schema changes of a time-series table (ALTER TABLE ADD/DROP/ALTER TYPE of columns and tags)
 * without rewriting stored data.
 *
 * Every data column and tag has a stable id (its position when the table was created; an added
 * one gets the next unused id). Blocks record their columns' ids (block.ts), and a table's layout
 * lists the ids and types in effect. Reading maps a block's columns to the layout by id: a column
 * the block lacks (added later) reads as NULL, a column of another type (widened later) is
 * converted, a column no longer in the layout (dropped) is not read. Values that do not fit the
 * new type read as NULL, as in KWDB.
 */
import { ColumnType } from './block.js';
import type { ColumnData } from './block.js';
import { allocValues } from './command.js';
import type { TsValue } from './command.js';

/** The columns in effect: stable ids and types, and the schema version they come from. */
export interface TsLayout {
  version: number;
  ids: number[];
  types: ColumnType[];
}

/** Which conversions ALTER TYPE allows (engine types; the SQL layer checks widths). */
export function canConvert(from: ColumnType, to: ColumnType): boolean {
  if (from === to) return true;
  switch (from) {
    case ColumnType.Int32:
      return to === ColumnType.Int64 || to === ColumnType.String;
    case ColumnType.Int64:
    case ColumnType.Float64:
      return to === ColumnType.String;
    case ColumnType.String:
      return to === ColumnType.Int32 || to === ColumnType.Int64 || to === ColumnType.Float64;
    default:
      return false;
  }
}

const int32Min = -2147483648;
const int32Max = 2147483647;

/** One value in another type (see canConvert); null when it does not fit. */
export function convertValue(v: TsValue, from: ColumnType, to: ColumnType): TsValue {
  if (v === null || from === to) return v;
  if (to === ColumnType.String) return typeof v === 'number' && from === ColumnType.Float64 ? floatText(v) : String(v);
  if (from !== ColumnType.String) {
    if (from === ColumnType.Int32 && to === ColumnType.Int64) return BigInt(v as number);
    return null;
  }
  const s = (v as string).trim();
  if (to === ColumnType.Float64) {
    const n = Number(s);
    return s !== '' && !Number.isNaN(n) ? n : null;
  }
  if (!/^[+-]?\d+$/.test(s)) return null;
  const n = BigInt(s);
  if (to === ColumnType.Int64) return n >= -(2n ** 63n) && n < 2n ** 63n ? n : null;
  return n >= BigInt(int32Min) && n <= BigInt(int32Max) ? Number(n) : null;
}

/** float8 as PostgreSQL writes it (shortest round trip; Infinity/NaN spelled its way). */
function floatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return String(n);
}

/** A column of `rows` zero values ('' for strings) and no NULLs: a stand-in for a column not read. */
export function zeroColumn(type: ColumnType, rows: number): ColumnData {
  const values = allocValues(type, rows);
  if (Array.isArray(values)) values.fill('');
  return { type, values, nulls: null };
}

/** A column of `rows` NULLs. */
export function nullColumn(type: ColumnType, rows: number): ColumnData {
  return { ...zeroColumn(type, rows), nulls: new Uint8Array(rows).fill(1) };
}

/** A column converted to another type, value by value (values that do not fit become NULL). */
export function convertColumn(c: ColumnData, to: ColumnType): ColumnData {
  if (c.type === to) return c;
  const rows = c.values.length;
  const out = nullColumn(to, rows);
  const nulls = out.nulls as Uint8Array;
  for (let i = 0; i < rows; i++) {
    if (c.nulls && c.nulls[i]) continue;
    const raw = c.values[i] as TsValue | number;
    const v = convertValue(c.type === ColumnType.Bool ? raw === 1 : (raw as TsValue), c.type, to);
    if (v === null) continue;
    nulls[i] = 0;
    (out.values as unknown[])[i] = v;
  }
  return { type: to, values: out.values, nulls: nulls.some((x) => x === 1) ? nulls : null };
}

/** For each id of `to`, its position in `from` (-1 when absent). */
export function positionsById(from: readonly number[], to: readonly number[]): number[] {
  const at = new Map(from.map((id, i) => [id, i]));
  return to.map((id) => at.get(id) ?? -1);
}

/** Whether two id lists are equal (the common case: nothing to map). */
export function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Values laid out by (fromIds, fromTypes) rearranged to (toIds, toTypes): by id, converted,
 * NULL where `from` lacks the id.
 */
export function remapValues(values: readonly TsValue[], fromIds: readonly number[], fromTypes: readonly ColumnType[], toIds: readonly number[], toTypes: readonly ColumnType[]): TsValue[] {
  const pos = positionsById(fromIds, toIds);
  return pos.map((p, i) => (p < 0 ? null : convertValue(values[p] ?? null, fromTypes[p] as ColumnType, toTypes[i] as ColumnType)));
}
