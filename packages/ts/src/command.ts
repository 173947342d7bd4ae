/**
 * The TS write command: what a replica's log carries for an INSERT into a time-series table and
 * what every replica applies to its own TS engine (DESIGN.md "Replication": a TS write is proposed
 * as the raw insert payload). The command is self-describing — it carries the table's schema — so
 * a replica can apply it (or replay it after a crash) without the SQL catalog.
 *
 * Layout (big endian):
 *   u8 version | u8 flags (bit 0: reject duplicate timestamps) | schema header | u32 groups
 *   | groups × (tag values | u32 rows | rows × column values)
 * Schema header (every TS command that names rows or devices starts with it, so a replica
 * decodes it with the schema it was built under, whatever schema the table has when it applies):
 *   u32 tableId | f64 partitionIntervalUs | u32 schemaVersion | u16 rowsPerBlock
 *   | u32 blocksPerSegment | u8 codec | u8 level | u16 columns | (u8 type | u16 id) × columns
 *   | u16 tags | (u8 type | u16 id) × tags | u8 primaryTags | u16 tagIndex × primaryTags
 * Rows are grouped by their tag values (one group per device in the command), so tags are sent,
 * logged and looked up once per device, not once per row.
 * A value: u8 null flag (1 = NULL, then nothing) | payload by type — Timestamp: f64 microseconds
 * (the SQL layer's own representation, exact), Int64: i64, Int32: i32, Float64: f64, Bool: u8,
 * String: u32 byte length + UTF-8 bytes.
 */
import { PgError, SqlState } from '@strata/common';
import { ColumnType } from './block.js';

export const tsCommandVersion = 4;

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

/** A decoded command: rows grouped by tag values, each row holding column values only. */
export interface TsWriteGroups {
  tableId: number;
  schema: FullTsSchema;
  rejectDuplicates: boolean;
  groups: { tags: TsValue[]; rows: TsValue[][] }[];
}

/** A growable big-endian byte writer. */
export class ByteWriter {
  buf: Buffer;
  len = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = Buffer.allocUnsafe(size);
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.len++] = v;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }

  i32(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  i64(v: bigint): this {
    this.room(8);
    this.buf.writeBigInt64BE(v, this.len);
    this.len += 8;
    return this;
  }

  f64(v: number): this {
    this.room(8);
    this.buf.writeDoubleBE(v, this.len);
    this.len += 8;
    return this;
  }

  bytes(b: Buffer): this {
    this.room(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
    return this;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.len);
  }
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
  const s = c.schema;
  const nCols = s.columns.length;
  // Group rows by their tag values (the encoded tag bytes are the key).
  const groups = new Map<string, { tagBytes: Buffer; rows: TsValue[][] }>();
  const tw = new ByteWriter(64);
  for (const row of c.rows) {
    tw.len = 0;
    for (let i = 0; i < s.tags.length; i++) writeValue(tw, s.tags[i] as ColumnType, row[nCols + i] ?? null);
    const key = tw.buf.toString('latin1', 0, tw.len);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { tagBytes: Buffer.from(tw.buf.subarray(0, tw.len)), rows: [] }));
    g.rows.push(row);
  }
  const w = new ByteWriter(64 + c.rows.length * nCols * 9);
  w.u8(tsCommandVersion).u8(c.rejectDuplicates ? 1 : 0);
  writeSchemaHeader(w, c.tableId, s);
  w.u32(groups.size);
  for (const g of groups.values()) {
    w.bytes(g.tagBytes).u32(g.rows.length);
    for (const row of g.rows) for (let i = 0; i < nCols; i++) writeValue(w, s.columns[i] as ColumnType, row[i] ?? null);
  }
  if (w.len > tsCommandBytesMax) throw new PgError(SqlState.ProgramLimitExceeded, `time-series write of ${w.len} bytes exceeds ${tsCommandBytesMax} bytes; insert fewer rows per statement`);
  return w.finish();
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

function readVersion(r: ByteReader): void {
  const version = r.u8();
  if (version !== tsCommandVersion) throw new PgError(SqlState.DataCorrupted, `unknown time-series command version ${version}`);
}

export function decodeTsWrite(b: Buffer): TsWriteGroups {
  const r = new ByteReader(b);
  readVersion(r);
  const flags = r.u8();
  const { tableId, schema } = readSchemaHeader(r);
  const columns = schema.columns;
  const tags = schema.tags;
  const nGroups = r.u32();
  const groups: TsWriteGroups['groups'] = [];
  const nCols = columns.length;
  for (let g = 0; g < nGroups; g++) {
    const tagValues = tags.map((t) => readValue(r, t));
    const n = r.u32();
    const rows: TsValue[][] = new Array(n);
    for (let i = 0; i < n; i++) {
      const row: TsValue[] = new Array(nCols);
      for (let c = 0; c < nCols; c++) row[c] = readValue(r, columns[c] as ColumnType);
      rows[i] = row;
    }
    groups.push({ tags: tagValues, rows });
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
