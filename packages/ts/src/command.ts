/**
 * The TS write command: what a replica's log carries for an INSERT into a time-series table and
 * what every replica applies to its own TS engine (DESIGN.md "Replication": a TS write is proposed
 * as the raw insert payload). The command is self-describing — it carries the table's schema — so
 * a replica can apply it (or replay it after a crash) without the SQL catalog.
 *
 * Layout (big endian unless said otherwise):
 *   u8 version | u8 flags (bit 0: reject duplicate timestamps) | schema header | u32 groups
 *   | groups × (tag values | u32 rows | columns × column)
 * Schema header (every TS command that names rows or devices starts with it, so a replica
 * decodes it with the schema it was built under, whatever schema the table has when it applies):
 *   u32 tableId | f64 partitionIntervalUs | u32 schemaVersion | u16 rowsPerBlock
 *   | u32 blocksPerSegment | u8 codec | u8 level | u16 columns | (u8 type | u16 id) × columns
 *   | u16 tags | (u8 type | u16 id) × tags | u8 primaryTags | u16 tagIndex × primaryTags
 * Rows are grouped by their tag values (one group per device in the command), so tags are sent,
 * logged and looked up once per device, not once per row. Within a group the rows travel
 * column-wise (version 5), so applying a command copies arrays instead of decoding values:
 *   column: u8 nulls (0 none | 1: one byte per row follows, 1 = NULL) | values — Timestamp
 *   (microseconds) and Int64: i64 × rows, Int32: i32 × rows, Float64: f64 × rows, all little
 *   endian (the platform's order: the arrays are copied as they are); Bool: u8 × rows; String:
 *   rows × (u32 byte length | UTF-8 bytes). NULL slots hold zero / ''.
 * A tag value: u8 null flag (1 = NULL, then nothing) | payload by type — Timestamp: f64
 * microseconds (the SQL layer's own representation, exact), Int64: i64, Int32: i32, Float64: f64,
 * Bool: u8, String: u32 byte length + UTF-8 bytes.
 * Version 4 (still read, for logs written before it) carried each row's values in that format.
 */
import { ByteWriter, PgError, SqlState } from '@strata/common';
import { ColumnType } from './block.js';
import type { ColumnData, ColumnValues } from './block.js';

export { ByteWriter };

export const tsCommandVersion = 5;

/** The write command version before columns (decoded for replay of older logs). */
const tsCommandVersionRows = 4;

/** Typed arrays are copied into and out of commands as they are, so the byte order must be fixed. */
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('the time-series engine needs a little-endian platform');

/** A payload above this is refused before it reaches the log (the log's record limit is larger). */
export const tsCommandBytesMax = 64 * 1024 * 1024;

/** How new blocks and segments of a table are laid out (cluster settings, carried by commands). */
export interface TsStorage {
  /** ts.rows_per_block.max_limit */
  rowsPerBlock: number;
  /** ts.blocks_per_segment.max_limit */
  blocksPerSegment: number;
  /** ts.compression.type as a block codec (block.ts Codec) and ts.compression.level as zlib's. */
  codec: number;
  level: number;
}

export const tsStorageDefault: TsStorage = { rowsPerBlock: 1000, blocksPerSegment: 1000, codec: 1, level: 6 };

export interface TsSchema {
  /** PARTITION INTERVAL in microseconds. */
  partitionIntervalUs: number;
  /** Data columns; columns[0] is the timestamp. */
  columns: ColumnType[];
  tags: ColumnType[];
  /** Positions in `tags` of the primary tags (they identify the entity). */
  primaryTags: number[];
  /**
   * The table descriptor's schema version. A command with a newer version than the table's
   * changes the table's schema first (schema.ts); an older one has its rows mapped by id.
   */
  version?: number;
  /** Stable ids of the columns and tags (default: positions). */
  columnIds?: number[];
  tagIds?: number[];
  storage?: TsStorage;
}

/** A schema with every optional part filled in. */
export type FullTsSchema = Required<TsSchema>;

export function fullSchema(s: TsSchema): FullTsSchema {
  return {
    ...s,
    version: s.version ?? 0,
    columnIds: s.columnIds ?? s.columns.map((_t, i) => i),
    tagIds: s.tagIds ?? s.tags.map((_t, i) => i),
    storage: s.storage ?? tsStorageDefault,
  };
}

/** One row: values of the data columns then of the tags; null for NULL. */
export type TsValue = null | bigint | number | boolean | string;

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
 * One column being built a value at a time into a typed array that doubles as it fills.
 * 64-bit columns also keep an Int32Array view, so a safe integer given as a number is stored as
 * its two 32-bit halves without a BigInt.
 */
export class ColumnBuilder {
  rows = 0;
  private values: ColumnValues;
  private halves: Int32Array | null = null;
  private nulls: Uint8Array | null = null;

  constructor(
    readonly type: ColumnType,
    private capacity = 16,
  ) {
    this.values = allocValues(type, capacity);
    if (type === ColumnType.Timestamp || type === ColumnType.Int64) this.halves = new Int32Array((this.values as BigInt64Array).buffer);
  }

  /** Doubles the capacity, or more: to the first doubling that holds `atLeast` rows (one copy, not one per doubling). */
  /**
   * A builder that starts out holding `c` (its arrays are used as they are, not copied: a column
   * a COPY worker built, sql/src/copy_chunk.ts); pushing more copies them into arrays of its own.
   */
  static of(c: ColumnData): ColumnBuilder {
    const n = c.values.length;
    const b = new ColumnBuilder(c.type, 0);
    b.values = c.values;
    b.capacity = n;
    b.rows = n;
    b.nulls = c.nulls;
    if (b.halves) {
      const v = c.values as BigInt64Array;
      b.halves = new Int32Array(v.buffer, v.byteOffset, 2 * n);
    }
    return b;
  }

  private grow(atLeast = 0): void {
    let cap = Math.max(16, this.capacity * 2);
    while (cap < atLeast) cap *= 2;
    const next = allocValues(this.type, cap);
    if (Array.isArray(next)) (next as string[]).splice(0, this.rows, ...(this.values as string[]).slice(0, this.rows));
    else (next as Exclude<ColumnValues, string[]>).set(this.values as never);
    this.values = next;
    if (this.halves) this.halves = new Int32Array((next as BigInt64Array).buffer);
    if (this.nulls) {
      const n = new Uint8Array(cap);
      n.set(this.nulls);
      this.nulls = n;
    }
    this.capacity = cap;
  }

  pushNull(): void {
    if (this.rows === this.capacity) this.grow();
    if (!this.nulls) this.nulls = new Uint8Array(this.capacity);
    this.nulls[this.rows] = 1;
    if (this.type === ColumnType.String) (this.values as string[])[this.rows] = '';
    this.rows++;
  }

  /**
   * A number: for Timestamp (microseconds) and Int64 a safe integer, stored without a BigInt;
   * for Int32, Float64 and Bool (0/1) the value itself.
   */
  pushNumber(n: number): void {
    if (this.rows === this.capacity) this.grow();
    const h = this.halves;
    if (h) {
      h[2 * this.rows] = n >>> 0;
      h[2 * this.rows + 1] = Math.floor(n / twoTo32);
    } else (this.values as Int32Array | Float64Array | Uint8Array)[this.rows] = n;
    this.rows++;
  }

  /** Any non-NULL value of the column's type (a timestamp may be a bigint or a number). */
  push(v: Exclude<TsValue, null>): void {
    if (typeof v === 'number' && this.type !== ColumnType.String) {
      if (this.halves && !Number.isSafeInteger(v)) {
        this.pushBig(BigInt(v));
        return;
      }
      this.pushNumber(v);
      return;
    }
    if (typeof v === 'bigint') {
      if (this.halves) this.pushBig(v);
      else this.pushNumber(Number(v));
      return;
    }
    if (typeof v === 'boolean') {
      this.pushNumber(v ? 1 : 0);
      return;
    }
    if (this.rows === this.capacity) this.grow();
    (this.values as string[])[this.rows++] = v as string;
  }

  private pushBig(v: bigint): void {
    if (this.rows === this.capacity) this.grow();
    (this.values as BigInt64Array)[this.rows++] = v;
  }

  /** Rows [from, to) of a column of the same type. */
  append(c: ColumnData, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (this.rows + n > this.capacity) this.grow(this.rows + n);
    if (c.nulls) {
      if (!this.nulls) this.nulls = new Uint8Array(this.capacity);
      this.nulls.set(c.nulls.subarray(from, to), this.rows);
    }
    if (Array.isArray(this.values)) {
      const src = c.values as string[];
      for (let i = 0; i < n; i++) this.values[this.rows + i] = src[from + i] as string;
    } else if (n <= 4) {
      // A few values: copied one by one (a subarray per column costs more than the copy).
      const dst = this.values as BigInt64Array;
      const src = c.values as BigInt64Array;
      for (let i = 0; i < n; i++) dst[this.rows + i] = src[from + i] as bigint;
    } else (this.values as BigInt64Array).set((c.values as BigInt64Array).subarray(from, to), this.rows);
    this.rows += n;
  }

  /** The column so far (views of the builder's arrays: push no more after this). */
  finish(): ColumnData {
    const n = this.rows;
    const values = Array.isArray(this.values) ? this.values.slice(0, n) : (this.values as Exclude<ColumnValues, string[]>).subarray(0, n);
    let nulls = this.nulls ? this.nulls.subarray(0, n) : null;
    if (nulls && nulls.indexOf(1) < 0) nulls = null;
    return { type: this.type, values: values as ColumnValues, nulls };
  }
}

/** A zero-filled array of n values of a column type (strings: n empty slots). */
export function allocValues(t: ColumnType, n: number): ColumnValues {
  switch (t) {
    case ColumnType.Timestamp:
    case ColumnType.Int64:
      return new BigInt64Array(n);
    case ColumnType.Int32:
      return new Int32Array(n);
    case ColumnType.Float64:
      return new Float64Array(n);
    case ColumnType.Bool:
      return new Uint8Array(n);
    case ColumnType.String:
      return new Array<string>(n);
  }
}

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

export class ByteReader {
  o = 0;

  constructor(readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.o + n > this.buf.length) throw new PgError(SqlState.DataCorrupted, `time-series payload cut short at byte ${this.o}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.o++] as number;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.o);
    this.o += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.o);
    this.o += 4;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.o);
    this.o += 8;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.o);
    this.o += 8;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.o, this.o + n);
    this.o += n;
    return b;
  }

  /** Skips to a multiple of `n` (ByteWriter.align's padding). */
  align(n: number): void {
    const o = Math.ceil(this.o / n) * n;
    this.need(o - this.o);
    this.o = o;
  }

  done(): boolean {
    return this.o >= this.buf.length;
  }
}

export function writeValue(w: ByteWriter, t: ColumnType, v: TsValue): void {
  if (v === null) {
    w.u8(1);
    return;
  }
  w.u8(0);
  switch (t) {
    case ColumnType.Timestamp:
      w.f64(typeof v === 'bigint' ? Number(v) : (v as number));
      return;
    case ColumnType.Int64: {
      // Same bytes as a BigInt write, without BigInt arithmetic when the value is a safe integer.
      const n = typeof v === 'bigint' ? Number(v) : (v as number);
      if (Number.isSafeInteger(n)) w.u32(Math.floor(n / 4294967296) >>> 0).u32(n >>> 0);
      else w.i64(typeof v === 'bigint' ? v : BigInt(v as number));
      return;
    }
    case ColumnType.Int32:
      w.i32(v as number);
      return;
    case ColumnType.Float64:
      w.f64(v as number);
      return;
    case ColumnType.Bool:
      w.u8(v ? 1 : 0);
      return;
    case ColumnType.String: {
      const b = Buffer.from(v as string, 'utf8');
      w.u32(b.length).bytes(b);
      return;
    }
  }
}

export function readValue(r: ByteReader, t: ColumnType): TsValue {
  if (r.u8() === 1) return null;
  switch (t) {
    case ColumnType.Timestamp:
      return BigInt(r.f64());
    case ColumnType.Int64:
      return r.i64();
    case ColumnType.Int32:
      return r.i32();
    case ColumnType.Float64:
      return r.f64();
    case ColumnType.Bool:
      return r.u8() === 1;
    case ColumnType.String:
      return r.bytes(r.u32()).toString('utf8');
  }
}

const validTypes = new Set<number>(Object.values(ColumnType));

export function encodeTsWrite(c: TsWrite): Buffer {
  const b = new TsWriteBuilder(c.tableId, c.schema, c.rejectDuplicates);
  for (const row of c.rows) b.addRow(row);
  return b.finish();
}

/** Writes the schema header (see the layout above). */
export function writeSchemaHeader(w: ByteWriter, tableId: number, schema: TsSchema): void {
  const s = fullSchema(schema);
  w.u32(tableId).f64(s.partitionIntervalUs).u32(s.version).u16(s.storage.rowsPerBlock).u32(s.storage.blocksPerSegment).u8(s.storage.codec).u8(s.storage.level);
  w.u16(s.columns.length);
  s.columns.forEach((t, i) => w.u8(t).u16(s.columnIds[i] as number));
  w.u16(s.tags.length);
  s.tags.forEach((t, i) => w.u8(t).u16(s.tagIds[i] as number));
  w.u8(s.primaryTags.length);
  for (const i of s.primaryTags) w.u16(i);
}

/** Reads a schema header. */
export function readSchemaHeader(r: ByteReader): { tableId: number; schema: FullTsSchema } {
  const tableId = r.u32();
  const partitionIntervalUs = r.f64();
  const version = r.u32();
  const storage: TsStorage = { rowsPerBlock: r.u16(), blocksPerSegment: r.u32(), codec: r.u8(), level: r.u8() };
  const readTyped = (n: number) => {
    const types: ColumnType[] = [];
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = r.u8();
      if (!validTypes.has(t)) throw new PgError(SqlState.DataCorrupted, `unknown time-series column type ${t}`);
      types.push(t as ColumnType);
      ids.push(r.u16());
    }
    return { types, ids };
  };
  const cols = readTyped(r.u16());
  const tags = readTyped(r.u16());
  const primaryTags = Array.from({ length: r.u8() }, () => r.u16());
  return { tableId, schema: { partitionIntervalUs, columns: cols.types, tags: tags.types, primaryTags, version, columnIds: cols.ids, tagIds: tags.ids, storage } };
}

function readVersion(r: ByteReader): number {
  const version = r.u8();
  if (version !== tsCommandVersion && version !== tsCommandVersionRows) throw new PgError(SqlState.DataCorrupted, `unknown time-series command version ${version}`);
  return version;
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

/**
 * A TS DELETE: rows with loUs <= ts <= hiUs of the devices given by their primary tag values
 * (each combination a full tag vector in the schema's tag layout, non-primary positions NULL), or
 * of every device.
 *   u8 version | u8 0 | schema header | f64 loUs | f64 hiUs | u32 combinations (0xffffffff =
 *   every device) | combinations × tag values
 */
export interface TsDelete {
  tableId: number;
  schema: TsSchema;
  loUs: number;
  hiUs: number;
  tagCombos: TsValue[][] | null;
}

export function encodeTsDelete(d: TsDelete): Buffer {
  const w = new ByteWriter(128);
  w.u8(tsCommandVersion).u8(0);
  writeSchemaHeader(w, d.tableId, d.schema);
  w.f64(d.loUs).f64(d.hiUs).u32(d.tagCombos ? d.tagCombos.length : 0xffffffff);
  for (const c of d.tagCombos ?? []) d.schema.tags.forEach((t, i) => writeValue(w, t, c[i] ?? null));
  return w.finish();
}

export function decodeTsDelete(b: Buffer): TsDelete & { schema: FullTsSchema } {
  const r = new ByteReader(b);
  readVersion(r);
  r.u8();
  const { tableId, schema } = readSchemaHeader(r);
  const loUs = r.f64();
  const hiUs = r.f64();
  const n = r.u32();
  const tagCombos = n === 0xffffffff ? null : Array.from({ length: n }, () => schema.tags.map((t) => readValue(r, t)));
  return { tableId, schema, loUs, hiUs, tagCombos };
}

/**
 * An UPDATE of non-primary tags for the devices given by primary tag values:
 *   u8 version | u8 0 | schema header | u32 combinations | combinations × tag values
 *   | u16 changes | changes × (u16 tag position | value)
 */
export interface TsTagUpdate {
  tableId: number;
  schema: TsSchema;
  tagCombos: TsValue[][];
  changes: [number, TsValue][];
}

export function encodeTsTagUpdate(u: TsTagUpdate): Buffer {
  const w = new ByteWriter(128);
  const tagTypes = u.schema.tags;
  w.u8(tsCommandVersion).u8(0);
  writeSchemaHeader(w, u.tableId, u.schema);
  w.u32(u.tagCombos.length);
  for (const c of u.tagCombos) tagTypes.forEach((t, i) => writeValue(w, t, c[i] ?? null));
  w.u16(u.changes.length);
  for (const [i, v] of u.changes) {
    w.u16(i);
    writeValue(w, tagTypes[i] as ColumnType, v);
  }
  return w.finish();
}

export function decodeTsTagUpdate(b: Buffer): TsTagUpdate & { schema: FullTsSchema } {
  const r = new ByteReader(b);
  readVersion(r);
  r.u8();
  const { tableId, schema } = readSchemaHeader(r);
  const tagTypes = schema.tags;
  const n = r.u32();
  const tagCombos = Array.from({ length: n }, () => tagTypes.map((t) => readValue(r, t)));
  const changes: [number, TsValue][] = Array.from({ length: r.u16() }, () => {
    const i = r.u16();
    const t = tagTypes[i];
    if (t === undefined) throw new PgError(SqlState.DataCorrupted, `tag position ${i} out of range`);
    return [i, readValue(r, t)];
  });
  return { tableId, schema, tagCombos, changes };
}

/**
 * Reorganization of a table's partitions that end before `beforeUs`:
 *   u32 tableId | f64 beforeUs | u8 dedup rule (0 override, 1 merge, 2 keep, 3 discard)
 *   [| u16 rowsPerBlock | u32 blocksPerSegment | u8 codec | u8 level | u8 worker threads]
 * The optional part says how to write the new blocks and how many threads may do it.
 */
export interface TsReorganize {
  tableId: number;
  beforeUs: number;
  dedup: 'override' | 'merge' | 'keep' | 'discard';
  storage: TsStorage | null;
  threads: number;
}

const dedupCodes = ['override', 'merge', 'keep', 'discard'] as const;

/** Worker threads when the command does not say (immediate_compression.threads' default). */
export const reorganizeThreadsDefault = 3;

export function encodeTsReorganize(r: TsReorganize): Buffer {
  const w = new ByteWriter(32);
  w.u32(r.tableId).f64(r.beforeUs).u8(Math.max(0, dedupCodes.indexOf(r.dedup)));
  if (r.storage) w.u16(r.storage.rowsPerBlock).u32(r.storage.blocksPerSegment).u8(r.storage.codec).u8(r.storage.level).u8(r.threads);
  return w.finish();
}

export function decodeTsReorganize(b: Buffer): TsReorganize {
  const r = new ByteReader(b);
  const tableId = r.u32();
  const beforeUs = r.f64();
  const dedup = dedupCodes[r.u8()] ?? 'override';
  if (r.done()) return { tableId, beforeUs, dedup, storage: null, threads: reorganizeThreadsDefault };
  const storage: TsStorage = { rowsPerBlock: r.u16(), blocksPerSegment: r.u32(), codec: r.u8(), level: r.u8() };
  return { tableId, beforeUs, dedup, storage, threads: Math.max(1, r.u8()) };
}

/**
 * A schema change (ALTER TABLE on a time-series table): the new schema.
 *   u8 version | u8 0 | schema header
 */
export function encodeTsAlter(tableId: number, schema: TsSchema): Buffer {
  const w = new ByteWriter(128);
  w.u8(tsCommandVersion).u8(0);
  writeSchemaHeader(w, tableId, schema);
  return w.finish();
}

export function decodeTsAlter(b: Buffer): { tableId: number; schema: FullTsSchema } {
  const r = new ByteReader(b);
  readVersion(r);
  r.u8();
  return readSchemaHeader(r);
}

/**
 * The replicated commit of a partition rewrite planned by a reorganization command (at log index
 * `planIndex`): every replica switches the rewrite in iff the partition did not change since the
 * plan, at the commit's log index — so the physical switch is a function of the log.
 *   u32 tableId | i64 partition start | f64 planIndex | u8 dedup rule
 */
export interface TsReorganizeCommit {
  tableId: number;
  start: bigint;
  planIndex: number;
  dedup: 'override' | 'merge' | 'keep' | 'discard';
}

export function encodeTsReorganizeCommit(c: TsReorganizeCommit): Buffer {
  const b = Buffer.allocUnsafe(21);
  b.writeUInt32BE(c.tableId, 0);
  b.writeBigInt64BE(c.start, 4);
  b.writeDoubleBE(c.planIndex, 12);
  b.writeUInt8(Math.max(0, dedupCodes.indexOf(c.dedup)), 20);
  return b;
}

export function decodeTsReorganizeCommit(b: Buffer): TsReorganizeCommit {
  if (b.length !== 21) throw new PgError(SqlState.DataCorrupted, `reorganization commit of ${b.length} bytes, want 21`);
  return { tableId: b.readUInt32BE(0), start: b.readBigInt64BE(4), planIndex: b.readDoubleBE(12), dedup: dedupCodes[b.readUInt8(20)] ?? 'override' };
}
