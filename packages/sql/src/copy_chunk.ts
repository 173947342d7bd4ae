/**
 * One chunk of a text COPY into a TS table, parsed off the event loop (copy_worker.ts): whole
 * lines of COPY data in, the rows' data columns out — grouped by their tag fields' text and laid
 * out column by column in one ArrayBuffer that is transferred, not cloned, back to the event loop,
 * which only resolves each group's tags (TsCopyBatch.addChunk) and copies the columns into the
 * write command.
 *
 * INVARIANT (same values, same errors): the chunk is parsed by the event loop's own CopyParser
 * and fast field parsers (copy.ts, copy_fast_fields.ts). Anything those do not take as it is — a
 * field that needs the general parser, NULL in a NOT NULL column, a wrong field count, an escape
 * error, invalid UTF-8, the `\.` end marker — makes the chunk *bail*: the worker returns its bytes
 * untouched and the event loop parses them (and the rest of the COPY) the ordinary way, which
 * raises the error PostgreSQL's way, with its line number. So a worker never reports an error and
 * never decides a value the ordinary path would decide differently.
 */
import { ColumnBuilder, ColumnType } from '@strata/ts';
import type { ColumnData, ColumnValues } from '@strata/ts';
import { CopyParser } from './copy.js';
import type { CopyRow } from './copy.js';
import { fastParser } from './copy_fast_fields.js';
import type { FieldParser } from './copy_fast_fields.js';
import type { ColumnDesc } from './catalog/descriptors.js';
import type { CopyOptions } from './parser/ast.js';

/** What a worker needs to parse chunks of one COPY (structured-cloneable). */
export interface TsChunkSpec {
  options: CopyOptions;
  relation: string;
  /** The table's data columns (not its tags), in command order: their types and nullability. */
  columns: Pick<ColumnDesc, 'type' | 'nullable'>[];
  /** Their command column types. */
  types: ColumnType[];
  /** For each data column: the COPY field feeding it (-1: not in the column list). */
  fieldOfColumn: number[];
  /** For each tag: the COPY field feeding it (-1: not in the column list). */
  fieldOfTag: number[];
  /** Fields a row must have. */
  fields: number;
}

/** The rows of one device (tag text) in a chunk. */
export interface TsChunkGroup {
  /** The tag fields' key, as TsCopyBatch builds it from a row. */
  key: string;
  /** The tag fields of the group's first row (null: NULL or not in the column list). */
  tagFields: (string | null)[];
  /** The group's first row's line within the chunk (1-based). */
  line: number;
  rows: number;
  /** For each data column: byte offset of its values in `data`. */
  valuesAt: number[];
  /** For each data column: byte offset of its null flags in `data`, -1 if it has no NULL. */
  nullsAt: number[];
}

export interface TsChunk {
  rows: number;
  groups: TsChunkGroup[];
  /** Every group's columns (transferred). */
  data: ArrayBuffer;
}

/** Can a COPY into columns of these types run in workers (every data column has a fast parser)? */
export function chunkableColumns(columns: Pick<ColumnDesc, 'type'>[], o: CopyOptions): boolean {
  if (o.format !== 'text' || o.header) return false;
  return columns.every((c) => fastParser(c) !== null);
}

/** A chunk the worker does not take whole: the event loop parses it. */
class Bail extends Error {}

/**
 * Parses `bytes` (whole lines: the chunk ends with a newline, or is the COPY's last data) into
 * column groups; null when the chunk must be parsed on the event loop (see the file comment).
 */
export function parseTsChunk(spec: TsChunkSpec, bytes: Uint8Array): TsChunk | null {
  let rows: CopyRow[];
  let lineOf: number[];
  const p = new CopyParser(spec.options, spec.relation);
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    rows = p.push(buf);
    lineOf = p.lineOf.slice();
    const last = p.end();
    if (last.length > 0) {
      rows = rows.concat(last);
      lineOf = lineOf.concat(p.lineOf);
    }
  } catch {
    return null;
  }
  // Every line a row: no `\.` (what follows it is ignored, which the event loop tracks).
  if (rows.length !== p.line) return null;
  try {
    return build(spec, rows, lineOf);
  } catch (e) {
    if (e instanceof Bail) return null;
    throw e;
  }
}

interface Building {
  key: string;
  tagFields: (string | null)[];
  line: number;
  columns: ColumnBuilder[];
}

function build(spec: TsChunkSpec, rows: CopyRow[], lineOf: number[]): TsChunk {
  const nCols = spec.columns.length;
  const fast = spec.columns.map((c) => fastParser(c) as FieldParser);
  const groups = new Map<string, Building>();
  for (let r = 0; r < rows.length; r++) {
    const fields = rows[r] as CopyRow;
    if (fields.length !== spec.fields) throw new Bail();
    // The key TsCopyBatch.groupOf builds, so the event loop's tag cache serves both paths.
    let key = '';
    for (const fi of spec.fieldOfTag) key += fi < 0 ? '\u0001' : (fields[fi] ?? '\u0002') + '\u0000';
    let g = groups.get(key);
    if (!g) {
      g = { key, tagFields: spec.fieldOfTag.map((fi) => (fi < 0 ? null : (fields[fi] as string | null))), line: lineOf[r] as number, columns: spec.types.map((t) => new ColumnBuilder(t, 64)) };
      groups.set(key, g);
    }
    for (let c = 0; c < nCols; c++) {
      const fi = spec.fieldOfColumn[c] as number;
      const b = g.columns[c] as ColumnBuilder;
      const f = fi < 0 ? null : (fields[fi] as string | null);
      if (f === null) {
        if (!(spec.columns[c] as Pick<ColumnDesc, 'nullable'>).nullable) throw new Bail();
        b.pushNull();
      } else if (!(fast[c] as FieldParser)(b, f)) throw new Bail();
    }
  }
  return pack(groups, rows.length);
}

/** Lays every group's columns out in one buffer, each value array aligned to 8 bytes. */
function pack(groups: Map<string, Building>, rows: number): TsChunk {
  const finished = [...groups.values()].map((g) => ({ g, cols: g.columns.map((b) => b.finish()) }));
  let size = 0;
  for (const { cols } of finished) {
    for (const c of cols) {
      const v = c.values as Exclude<ColumnValues, string[]>;
      size += align8(v.byteLength) + (c.nulls ? align8(c.nulls.length) : 0);
    }
  }
  const data = new ArrayBuffer(size);
  const bytes = new Uint8Array(data);
  let at = 0;
  const out: TsChunkGroup[] = [];
  for (const { g, cols } of finished) {
    const valuesAt: number[] = [];
    const nullsAt: number[] = [];
    for (const c of cols) {
      const v = c.values as Exclude<ColumnValues, string[]>;
      bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
      valuesAt.push(at);
      at += align8(v.byteLength);
      if (c.nulls) {
        bytes.set(c.nulls, at);
        nullsAt.push(at);
        at += align8(c.nulls.length);
      } else nullsAt.push(-1);
    }
    out.push({ key: g.key, tagFields: g.tagFields, line: g.line, rows: (g.columns[0] as ColumnBuilder).rows, valuesAt, nullsAt });
  }
  return { rows, groups: out, data };
}

const align8 = (n: number) => (n + 7) & ~7;

/** Column `c` of a chunk group as ColumnData: views of the chunk's buffer, no copy. */
export function chunkColumn(chunk: TsChunk, g: TsChunkGroup, c: number, type: ColumnType): ColumnData {
  const at = g.valuesAt[c] as number;
  const n = g.rows;
  let values: ColumnValues;
  switch (type) {
    case ColumnType.Timestamp:
    case ColumnType.Int64:
      values = new BigInt64Array(chunk.data, at, n);
      break;
    case ColumnType.Int32:
      values = new Int32Array(chunk.data, at, n);
      break;
    case ColumnType.Float64:
      values = new Float64Array(chunk.data, at, n);
      break;
    default:
      throw new Error(`no chunked column of type ${type}`);
  }
  const nullsAt = g.nullsAt[c] as number;
  return { type, values, nulls: nullsAt < 0 ? null : new Uint8Array(chunk.data, nullsAt, n) };
}
