/**
 * The TS write command: what a replica's log carries for an INSERT into a time-series table and
 * what every replica applies to its own TS engine (DESIGN.md "Replication": a TS write is proposed
 * as the raw insert payload). The command is self-describing — it carries the table's schema — so
 * a replica can apply it (or replay it after a crash) without the SQL catalog.
 *
 * Layout (big endian unless said otherwise):
 *   u8 version | u8 flags (bit 0: reject duplicate timestamps) | schema header | u32 groups
 *   | groups × (tag values | u32 rows | columns × column)
 * The schema header is command_header.ts's.
 * Rows are grouped by their tag values (one group per device in the command), so tags are sent,
 * logged and looked up once per device, not once per row. Within a group the rows travel
 * column-wise (version 5), so applying a command copies arrays instead of decoding values:
 *   column: u8 nulls (0 none | 1: one byte per row follows, 1 = NULL) | values — Timestamp
 *   (microseconds) and Int64: i64 × rows, Int32: i32 × rows, Float64: f64 × rows, all little
 *   endian (the platform's order: the arrays are copied as they are); Bool: u8 × rows; String:
 *   rows × (u32 byte length | UTF-8 bytes). NULL slots hold zero / ''.
 * Tag values are in value_codec.ts's format.
 * Version 4 (still read, for logs written before it) carried each row's values in that format.
 */
import { ByteWriter, PgError, SqlState } from '@strata/common';
import { ColumnType } from './block.js';
import type { ColumnData, ColumnValues } from './block.js';
import { ByteReader } from './byte_reader.js';
import { ColumnBuilder } from './column_builder.js';
import { readSchemaHeader, readVersion, tsCommandVersion, writeSchemaHeader } from './command_header.js';
import type { FullTsSchema, TsSchema, TsValue } from './command_header.js';
import { readValue, writeValue } from './value_codec.js';

/** Typed arrays are copied into and out of commands as they are, so the byte order must be fixed. */
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('the time-series engine needs a little-endian platform');

/** A payload above this is refused before it reaches the log (the log's record limit is larger). */
export const tsCommandBytesMax = 64 * 1024 * 1024;

export interface TsWrite {
  tableId: number;
  schema: TsSchema;
  /** ts.dedup.rule = reject: the whole command fails if a row repeats a device's timestamp. */
  rejectDuplicates?: boolean;
  /** Rows as the SQL layer builds them: column values then tag values. */
  rows: TsValue[][];
}

/** Rows of one device in a command, column-wise (ColumnData as blocks hold them). */
export interface TsColumnGroup {
  tags: TsValue[];
  rows: number;
  columns: ColumnData[];
}

/** A decoded command: rows grouped by tag values, each group's column values. */
export interface TsWriteGroups {
  tableId: number;
  schema: FullTsSchema;
  rejectDuplicates: boolean;
  groups: TsColumnGroup[];
}

const twoTo32 = 4294967296;

/**
 * The rows of one device being built: its tag values and either a builder per data column (rows
 * added column by column: COPY) or the rows themselves (addRow: INSERT, whose commands often hold
 * one or two rows per device, where typed arrays per column would cost more than the rows).
 */
export interface TsGroupBuilder {
  tags: TsValue[];
  tagBytes: Buffer;
  columns: ColumnBuilder[];
  rows: (readonly TsValue[])[];
}

/**
 * Builds a write command: rows are added to the group of their tag values (found by the tag
 * values' encoded bytes), column by column.
 */
export class TsWriteBuilder {
  private readonly groups = new Map<string, TsGroupBuilder>();
  private readonly tagWriter = new ByteWriter(64);
  /** Rows so far: addRow counts them; a caller filling group columns itself adds its own. */
  rows = 0;

  constructor(
    readonly tableId: number,
    readonly schema: TsSchema,
    readonly rejectDuplicates = false,
  ) {}

  /** The group for these tag values (in the schema's tag layout), created on first use. */
  group(tags: TsValue[], columnar = true): TsGroupBuilder {
    const tw = this.tagWriter;
    tw.len = 0;
    const types = this.schema.tags;
    for (let i = 0; i < types.length; i++) writeValue(tw, types[i] as ColumnType, tags[i] ?? null);
    const key = tw.buf.toString('latin1', 0, tw.len);
    let g = this.groups.get(key);
    if (!g) {
      g = { tags: tags.slice(0, types.length), tagBytes: Buffer.from(tw.buf.subarray(0, tw.len)), columns: columnar ? this.schema.columns.map((t) => new ColumnBuilder(t)) : [], rows: [] };
      this.groups.set(key, g);
    }
    return g;
  }

  /**
   * Rows of one device given as finished columns: a device new to the command keeps them as they
   * are (no copy); one already in it gets them appended.
   */
  addColumns(tags: TsValue[], columns: ColumnData[], rows: number): void {
    const known = this.groups.size;
    const g = this.group(tags, false);
    if (g.rows.length > 0) throw new Error('a group is built either by rows or by columns');
    if (this.groups.size > known) g.columns = columns.map((c) => ColumnBuilder.of(c));
    else for (let c = 0; c < columns.length; c++) (g.columns[c] as ColumnBuilder).append(columns[c] as ColumnData, 0, rows);
    this.rows += rows;
  }

  /** One row given as values: data columns then tags. */
  addRow(row: readonly TsValue[]): void {
    const g = this.group(row.slice(this.schema.columns.length) as TsValue[], false);
    if (g.columns.length > 0) throw new Error('a group is built either by rows or by columns');
    g.rows.push(row);
    this.rows++;
  }

  finish(): Buffer {
    const s = this.schema;
    const nCols = s.columns.length;
    const w = new ByteWriter(64 + this.rows * nCols * 9);
    w.u8(tsCommandVersion).u8(this.rejectDuplicates ? 1 : 0);
    writeSchemaHeader(w, this.tableId, s);
    w.u32(this.groups.size);
    for (const g of this.groups.values()) {
      if (g.columns.length === 0) {
        w.bytes(g.tagBytes).u32(g.rows.length);
        s.columns.forEach((t, c) => writeRowsColumn(w, t, g.rows, c));
        continue;
      }
      const n = (g.columns[0] as ColumnBuilder).rows;
      w.bytes(g.tagBytes).u32(n);
      for (const b of g.columns) {
        if (b.rows !== n) throw new Error(`column builder holds ${b.rows} rows, the group ${n}`);
        writeColumn(w, b.finish());
      }
    }
    if (w.len > tsCommandBytesMax) throw new PgError(SqlState.ProgramLimitExceeded, `time-series write of ${w.len} bytes exceeds ${tsCommandBytesMax} bytes; insert fewer rows per statement`);
    return w.finish();
  }
}

export function writeColumn(w: ByteWriter, c: ColumnData): void {
  if (c.nulls) w.u8(1).bytes(Buffer.from(c.nulls.buffer, c.nulls.byteOffset, c.nulls.length));
  else w.u8(0);
  if (c.type === ColumnType.String) {
    for (const s of c.values as string[]) writeString(w, s);
    return;
  }
  const v = c.values as Exclude<ColumnValues, string[]>;
  w.align(v.BYTES_PER_ELEMENT);
  w.bytes(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
}

function writeString(w: ByteWriter, s: string): void {
  const at = w.len;
  w.u32(0);
  w.utf8(s);
  w.buf.writeUInt32BE(w.len - at - 4, at);
}

/** Column `c` of rows given as values, in writeColumn's layout. */
function writeRowsColumn(w: ByteWriter, t: ColumnType, rows: readonly (readonly TsValue[])[], c: number): void {
  const n = rows.length;
  let nulls = false;
  for (let i = 0; i < n && !nulls; i++) nulls = (rows[i] as readonly TsValue[])[c] == null;
  w.u8(nulls ? 1 : 0);
  if (nulls) for (let i = 0; i < n; i++) w.u8((rows[i] as readonly TsValue[])[c] == null ? 1 : 0);
  if (t === ColumnType.String) {
    for (let i = 0; i < n; i++) writeString(w, ((rows[i] as readonly TsValue[])[c] ?? '') as string);
    return;
  }
  const width = t === ColumnType.Bool ? 1 : t === ColumnType.Int32 ? 4 : 8;
  w.align(width);
  w.reserve(n * width);
  const b = w.buf;
  for (let i = 0; i < n; i++) {
    const v = (rows[i] as readonly TsValue[])[c] ?? null;
    const o = w.len;
    w.len += width;
    if (t === ColumnType.Bool) b[o] = v ? 1 : 0;
    else if (t === ColumnType.Int32) b.writeInt32LE(v === null ? 0 : Number(v), o);
    else if (t === ColumnType.Float64) b.writeDoubleLE(v === null ? 0 : (v as number), o);
    else if (typeof v === 'bigint') b.writeBigInt64LE(v, o);
    else {
      const x = v === null ? 0 : (v as number);
      if (!Number.isSafeInteger(x)) b.writeBigInt64LE(BigInt(x), o);
      else {
        b.writeUInt32LE(x >>> 0, o);
        b.writeInt32LE(Math.floor(x / twoTo32), o + 4);
      }
    }
  }
}

/**
 * Reads a column. Fixed-width values are views into `arena` — an aligned copy of the whole
 * command, whose value arrays the encoder aligned to their width — so a column costs no copy.
 */
function readColumn(r: ByteReader, type: ColumnType, rows: number, arena: ArrayBuffer): ColumnData {
  const mode = r.u8();
  if (mode > 1) throw new PgError(SqlState.DataCorrupted, `unknown null mode ${mode} in a time-series write`);
  let nulls: Uint8Array | null = null;
  if (mode === 1) {
    nulls = new Uint8Array(arena, r.o, rows);
    r.bytes(rows);
  }
  if (type === ColumnType.String) {
    const values = new Array<string>(rows);
    for (let i = 0; i < rows; i++) values[i] = r.bytes(r.u32()).toString('utf8');
    return { type, values, nulls };
  }
  const width = type === ColumnType.Bool ? 1 : type === ColumnType.Int32 ? 4 : 8;
  r.align(width);
  const at = r.o;
  r.bytes(rows * width);
  let values: ColumnValues;
  switch (type) {
    case ColumnType.Timestamp:
    case ColumnType.Int64:
      values = new BigInt64Array(arena, at, rows);
      break;
    case ColumnType.Int32:
      values = new Int32Array(arena, at, rows);
      break;
    case ColumnType.Float64:
      values = new Float64Array(arena, at, rows);
      break;
    default:
      values = new Uint8Array(arena, at, rows);
  }
  return { type, values, nulls };
}

/** A group's rows as value arrays (timestamps and Int64 as bigint, Bool as boolean, NULL as null). */
export function rowsOfGroup(g: TsColumnGroup): TsValue[][] {
  return Array.from({ length: g.rows }, (_, i) =>
    g.columns.map((c) => {
      if (c.nulls && c.nulls[i]) return null;
      const v = c.values[i] as TsValue;
      return c.type === ColumnType.Bool ? v === 1 : v;
    }),
  );
}

export function encodeTsWrite(c: TsWrite): Buffer {
  const b = new TsWriteBuilder(c.tableId, c.schema, c.rejectDuplicates);
  for (const row of c.rows) b.addRow(row);
  return b.finish();
}

export function decodeTsWrite(b: Buffer): TsWriteGroups {
  const r = new ByteReader(b);
  const version = readVersion(r);
  const flags = r.u8();
  const { tableId, schema } = readSchemaHeader(r);
  const columns = schema.columns;
  const tags = schema.tags;
  const nGroups = r.u32();
  const groups: TsColumnGroup[] = [];
  // One aligned copy of the command; its columns are views into it (readColumn).
  let arena: ArrayBuffer | null = null;
  if (version === tsCommandVersion) {
    arena = new ArrayBuffer(b.length);
    new Uint8Array(arena).set(b);
  }
  for (let g = 0; g < nGroups; g++) {
    const tagValues = tags.map((t) => readValue(r, t));
    const n = r.u32();
    if (version === tsCommandVersion) {
      groups.push({ tags: tagValues, rows: n, columns: columns.map((t) => readColumn(r, t, n, arena as ArrayBuffer)) });
      continue;
    }
    const builders = columns.map((t) => new ColumnBuilder(t, Math.max(1, n)));
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < columns.length; c++) {
        const v = readValue(r, columns[c] as ColumnType);
        const cb = builders[c] as ColumnBuilder;
        if (v === null) cb.pushNull();
        else cb.push(v);
      }
    }
    groups.push({ tags: tagValues, rows: n, columns: builders.map((cb) => cb.finish()) });
  }
  return { tableId, schema, rejectDuplicates: (flags & 1) === 1, groups };
}
