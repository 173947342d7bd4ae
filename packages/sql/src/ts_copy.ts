/**
 * COPY into a time-series table: text fields go straight into the columns of a TS write command
 * (command.ts TsWriteBuilder), with no SQL row or value objects in between for the common types.
 *
 * A field of a common shape takes a fast path — a plain decimal integer, a plain decimal float8,
 * an ISO timestamp (`YYYY-MM-DD HH:MM:SS[.ffffff]` with a numeric UTC offset for TIMESTAMPTZ,
 * without one for TIMESTAMP) whose fraction fits the column's precision. Every other field is
 * parsed and assigned exactly as INSERT does (parseValue, assignValue), so the fast path decides
 * only speed, never the value or the error. Tags are parsed once per distinct tag text.
 */
import { PgError, SqlState } from '@strata/common';
import { ColumnBuilder, TsWriteBuilder } from '@strata/ts';
import type { ColumnData, ColumnType, TsGroupBuilder, TsSchema, TsValue } from '@strata/ts';
import { chunkColumn } from './copy_chunk.js';
import type { TsChunk } from './copy_chunk.js';
import type { ColumnDesc, TableDesc } from './catalog/descriptors.js';
import type { CopyRow } from './copy.js';
import { fastBinaryParser, fastParser } from './copy_fast_fields.js';
import type { BinaryFieldParser, FieldParser } from './copy_fast_fields.js';
import type { BinaryCopyParser } from './copy_binary.js';
import type { ExecCtx } from './exec/context.js';
import { assignValue } from './exec/mutate.js';
import { toTsValue } from './ts_dml.js';
import { parseValue } from './types/types.js';
import type { Value } from './types/types.js';

/** Distinct tag texts whose parsed values are remembered during one COPY (then forgotten). */
const tagTextsCachedMax = 100_000;

export { fastBinaryParser, fastParser, isoMicros } from './copy_fast_fields.js';
export type { BinaryFieldParser, FieldParser } from './copy_fast_fields.js';

/** Rows of one COPY batch, added field by field, turned into one TS write command. */
export class TsCopyBatch {
  private builder: TsWriteBuilder;
  private readonly nCols: number;
  /** For each data column position: the COPY field feeding it (-1: not in the column list). */
  private readonly fieldOfColumn: number[];
  private readonly fieldOfTag: number[];
  private readonly fast: (FieldParser | null)[];
  private readonly fastBinary: (BinaryFieldParser | null)[];
  /** Tag text → parsed tag values (kept across batches). */
  private readonly tagCache = new Map<string, TsValue[]>();
  /** Tag text → its group in the current batch. */
  private groups = new Map<string, TsGroupBuilder>();

  constructor(
    private readonly t: TableDesc,
    private readonly cols: ColumnDesc[],
    targets: number[],
    private readonly schema: TsSchema,
    private readonly rejectDuplicates: boolean,
    private readonly ctx: ExecCtx,
  ) {
    this.nCols = schema.columns.length;
    const fieldAt = cols.map((_c, pos) => targets.indexOf(pos));
    this.fieldOfColumn = fieldAt.slice(0, this.nCols);
    this.fieldOfTag = fieldAt.slice(this.nCols);
    fieldAt.forEach((f, pos) => {
      const c = cols[pos] as ColumnDesc;
      if (f < 0 && !c.nullable) throw notNull(t, c);
    });
    this.fast = cols.slice(0, this.nCols).map(fastParser);
    this.fastBinary = cols.slice(0, this.nCols).map(fastBinaryParser);
    this.builder = new TsWriteBuilder(t.id, schema, rejectDuplicates);
  }

  get rows(): number {
    return this.builder.rows;
  }

  /** The table's data columns (the first of `cols`; the rest are its tags). */
  get dataColumns(): number {
    return this.nCols;
  }

  /** The command column types of the data columns. */
  get columnTypes(): ColumnType[] {
    return this.schema.columns;
  }

  /** For each data column, the COPY field feeding it (-1: none). */
  get fieldOfColumns(): number[] {
    return this.fieldOfColumn;
  }

  /** For each tag, the COPY field feeding it (-1: none). */
  get fieldOfTags(): number[] {
    return this.fieldOfTag;
  }

  /** One COPY row (fields in the COPY column list's order). */
  add(fields: CopyRow, line: number): void {
    const g = this.groupOf(fields, line);
    for (let c = 0; c < this.nCols; c++) {
      const fi = this.fieldOfColumn[c] as number;
      const b = g.columns[c] as ColumnBuilder;
      const f = fi < 0 ? null : (fields[fi] as string | null);
      if (f === null) {
        const col = this.cols[c] as ColumnDesc;
        if (!col.nullable) throw notNull(this.t, col);
        b.pushNull();
        continue;
      }
      const fast = this.fast[c];
      if (fast && fast(b, f)) continue;
      const v = this.parse(f, c, line);
      if (v === null) b.pushNull();
      else b.push(v);
    }
    this.builder.rows++;
  }

  /**
   * One binary COPY tuple (copy_binary.ts): fields of the common fixed-size types go straight
   * into the columns; every other field is decoded by the parser and assigned as INSERT assigns
   * it, so the fast path decides only speed, never the value or the error.
   */
  addTuple(data: Buffer, starts: Int32Array, lengths: Int32Array, line: number, parser: BinaryCopyParser): void {
    const g = this.binaryGroupOf(data, starts, lengths, line, parser);
    for (let c = 0; c < this.nCols; c++) {
      const fi = this.fieldOfColumn[c] as number;
      const b = g.columns[c] as ColumnBuilder;
      const len = fi < 0 ? -1 : (lengths[fi] as number);
      if (len < 0) {
        const col = this.cols[c] as ColumnDesc;
        if (!col.nullable) throw notNull(this.t, col);
        b.pushNull();
        continue;
      }
      const at = starts[fi] as number;
      const fast = this.fastBinary[c];
      if (fast && fast(b, data, at, len)) continue;
      const v = this.assignDecoded(parser.decodeField(data, at, len, fi, line, this.ctx.vctx), c, line);
      if (v === null) b.pushNull();
      else b.push(v);
    }
    this.builder.rows++;
  }

  /** The group of a binary tuple's tags, keyed by their bytes (length-prefixed, so unambiguous). */
  private binaryGroupOf(data: Buffer, starts: Int32Array, lengths: Int32Array, line: number, parser: BinaryCopyParser): TsGroupBuilder {
    let key = '\u0003';
    for (const fi of this.fieldOfTag) {
      if (fi < 0) key += '\u0001';
      else {
        const len = lengths[fi] as number;
        const at = starts[fi] as number;
        key += len < 0 ? '\u0002' : String.fromCharCode(len & 0xffff, len >>> 16) + data.toString('latin1', at, at + len);
      }
    }
    const known = this.groups.get(key);
    if (known) return known;
    return this.newBinaryGroup(
      key,
      this.fieldOfTag.map((fi) => (fi < 0 || (lengths[fi] as number) < 0 ? null : data.subarray(starts[fi] as number, (starts[fi] as number) + (lengths[fi] as number)))),
      line,
      parser,
    );
  }

  /** The group of binary tag fields (their bytes; null: NULL or absent) first seen in this batch. */
  private newBinaryGroup(key: string, tagBytes: (Buffer | null)[], line: number, parser: BinaryCopyParser, ready?: ColumnData[]): TsGroupBuilder {
    let tags = this.tagCache.get(key);
    if (!tags) {
      tags = this.fieldOfTag.map((fi, k) => {
        const pos = this.nCols + k;
        const bytes = tagBytes[k] ?? null;
        if (bytes === null) {
          const col = this.cols[pos] as ColumnDesc;
          if (!col.nullable) throw notNull(this.t, col);
          return null;
        }
        return this.assignDecoded(parser.decodeField(bytes, 0, bytes.length, fi, line, this.ctx.vctx), pos, line);
      });
      if (this.tagCache.size >= tagTextsCachedMax) this.tagCache.clear();
      this.tagCache.set(key, tags);
    }
    return this.addGroup(key, tags, ready);
  }

  /**
   * The tuples of a binary chunk a worker parsed (copy_binary_chunk.ts), numbered after
   * `linesBefore`: as addChunk, each group's tags decoded and assigned as addTuple's are.
   */
  addBinaryChunk(chunk: TsChunk, linesBefore: number, parser: BinaryCopyParser): void {
    const types = this.schema.columns;
    for (const cg of chunk.groups) {
      const cols = types.map((t, c) => chunkColumn(chunk, cg, c, t));
      const g = this.groups.get(cg.key);
      if (g) this.appendColumns(g, cols, cg.rows);
      else this.newBinaryGroup(cg.key, cg.tagFields.map((t) => (t === null ? null : Buffer.from(t, 'latin1'))), linesBefore + cg.line, parser, cols);
    }
  }

  /** A decoded binary field (of the column's base type) assigned as INSERT would. */
  private assignDecoded(v: Value, pos: number, line: number): TsValue {
    const col = this.cols[pos] as ColumnDesc;
    try {
      const from = col.type.typmod < 0 ? col.type : { ...col.type, typmod: -1 };
      const tv = toTsValue(assignValue(v, from, col, this.ctx), col.type, col.name);
      if (tv === null && !col.nullable) throw notNull(this.t, col);
      return tv;
    } catch (e) {
      if (e instanceof PgError && e.code !== SqlState.NotNullViolation) throw new PgError(e.code, e.message, { detail: `COPY ${this.t.name}, line ${line}, column ${col.name}` });
      throw e;
    }
  }

  /** The command for the rows so far; the batch starts over empty. */
  take(): Buffer {
    const payload = this.builder.finish();
    this.builder = new TsWriteBuilder(this.t.id, this.schema, this.rejectDuplicates);
    this.groups = new Map();
    return payload;
  }

  private groupOf(fields: CopyRow, line: number): TsGroupBuilder {
    let key = '';
    for (const fi of this.fieldOfTag) key += fi < 0 ? '\u0001' : (fields[fi] ?? '\u0002') + '\u0000';
    return this.groups.get(key) ?? this.newGroup(key, this.fieldOfTag.map((fi) => (fi < 0 ? null : (fields[fi] as string | null))), line);
  }

  /** The group of a tag text first seen in this batch: its tags parsed (or remembered) and added. */
  private newGroup(key: string, tagFields: (string | null)[], line: number, ready?: ColumnData[]): TsGroupBuilder {
    let tags = this.tagCache.get(key);
    if (!tags) {
      tags = tagFields.map((f, k) => {
        const pos = this.nCols + k;
        if (f === null) {
          const col = this.cols[pos] as ColumnDesc;
          if (!col.nullable) throw notNull(this.t, col);
          return null;
        }
        return this.parse(f, pos, line);
      });
      if (this.tagCache.size >= tagTextsCachedMax) this.tagCache.clear();
      this.tagCache.set(key, tags);
    }
    return this.addGroup(key, tags, ready);
  }

  /**
   * The rows of a chunk a worker parsed (copy_chunk.ts), lines counted from `linesBefore`: each
   * group's tags are resolved as add() resolves a row's (the same cache, the same errors, named
   * by the group's first line — the first line with that tag text, where add() would fail too),
   * in the order the groups first appear; the columns are copied in.
   */
  addChunk(chunk: TsChunk, linesBefore: number): void {
    const types = this.schema.columns;
    for (const cg of chunk.groups) {
      const cols = types.map((t, c) => chunkColumn(chunk, cg, c, t));
      const g = this.groups.get(cg.key);
      if (g) this.appendColumns(g, cols, cg.rows);
      else this.newGroup(cg.key, cg.tagFields, linesBefore + cg.line, cols);
    }
  }

  /** Rows given as columns appended to a group of this batch. */
  private appendColumns(g: TsGroupBuilder, cols: ColumnData[], rows: number): void {
    for (let c = 0; c < this.nCols; c++) (g.columns[c] as ColumnBuilder).append(cols[c] as ColumnData, 0, rows);
    this.builder.rows += rows;
  }

  /**
   * The group of tag values first seen (as `key`) in this batch; `ready`: its first rows, as
   * columns a worker built, kept without a copy when the device is new to the command.
   */
  private addGroup(key: string, tags: TsValue[], ready?: ColumnData[]): TsGroupBuilder {
    if (ready) this.builder.addColumns(tags, ready, (ready[0] as ColumnData).values.length);
    const g = this.builder.group(tags);
    this.groups.set(key, g);
    return g;
  }

  /** A field parsed and assigned as INSERT would (errors name the line and column). */
  private parse(f: string, pos: number, line: number): TsValue {
    const col = this.cols[pos] as ColumnDesc;
    try {
      const v = toTsValue(assignValue(parseValue(f, col.type, this.ctx.vctx), col.type, col, this.ctx), col.type, col.name);
      if (v === null && !col.nullable) throw notNull(this.t, col);
      return v;
    } catch (e) {
      if (e instanceof PgError) throw new PgError(e.code, e.message, { detail: `COPY ${this.t.name}, line ${line}, column ${col.name}: "${f}"` });
      throw e;
    }
  }
}

function notNull(t: TableDesc, c: ColumnDesc): PgError {
  return new PgError(SqlState.NotNullViolation, `null value in column "${c.name}" of relation "${t.name}" violates not-null constraint`);
}
