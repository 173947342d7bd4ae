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
import type { TsGroupBuilder, TsSchema, TsValue } from '@strata/ts';
import type { ColumnDesc, TableDesc } from './catalog/descriptors.js';
import type { CopyRow } from './copy.js';
import type { BinaryCopyParser } from './copy_binary.js';
import type { ExecCtx } from './exec/context.js';
import { assignValue } from './exec/mutate.js';
import { toTsValue } from './ts_dml.js';
import { parseValue } from './types/types.js';
import type { Value } from './types/types.js';

/** Distinct tag texts whose parsed values are remembered during one COPY (then forgotten). */
const tagTextsCachedMax = 100_000;

export type FieldParser = (b: ColumnBuilder, f: string) => boolean;
/** Pushes a binary field data[at, at + len) when it has the common shape; false: take the general path. */
export type BinaryFieldParser = (b: ColumnBuilder, data: Buffer, at: number, len: number) => boolean;

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
    let tags = this.tagCache.get(key);
    if (!tags) {
      tags = this.fieldOfTag.map((fi, k) => {
        const pos = this.nCols + k;
        const len = fi < 0 ? -1 : (lengths[fi] as number);
        if (len < 0) {
          const col = this.cols[pos] as ColumnDesc;
          if (!col.nullable) throw notNull(this.t, col);
          return null;
        }
        return this.assignDecoded(parser.decodeField(data, starts[fi] as number, len, fi, line, this.ctx.vctx), pos, line);
      });
      if (this.tagCache.size >= tagTextsCachedMax) this.tagCache.clear();
      this.tagCache.set(key, tags);
    }
    const g = this.builder.group(tags);
    this.groups.set(key, g);
    return g;
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
    const known = this.groups.get(key);
    if (known) return known;
    let tags = this.tagCache.get(key);
    if (!tags) {
      tags = this.fieldOfTag.map((fi, k) => {
        const pos = this.nCols + k;
        const f = fi < 0 ? null : (fields[fi] as string | null);
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

/** The fast path for a column's type, or null when every field takes the general one. */
export function fastParser(c: ColumnDesc): FieldParser | null {
  const t = c.type;
  switch (t.kind) {
    case 'int8':
      return (b, f) => {
        if (!plainInteger(f)) return false;
        b.pushNumber(Number(f));
        return true;
      };
    case 'int4':
    case 'int2': {
      const bound = t.kind === 'int4' ? 2147483648 : 32768;
      return (b, f) => {
        if (!plainInteger(f)) return false;
        const n = Number(f);
        if (n >= bound || n < -bound) return false; // out of range: the general path says so
        b.pushNumber(n);
        return true;
      };
    }
    case 'float8':
      return (b, f) => {
        if (!plainDecimal.test(f)) return false;
        b.pushNumber(Number(f));
        return true;
      };
    case 'timestamptz':
    case 'timestamp': {
      const digits = t.typmod < 0 ? 6 : t.typmod;
      const withZone = t.kind === 'timestamptz';
      return (b, f) => {
        const us = isoMicros(f, digits, withZone);
        if (us === null) return false;
        b.pushNumber(us);
        return true;
      };
    }
    default:
      return null;
  }
}

const twoTo32 = 4_294_967_296;
/** 2000-01-01 (PostgreSQL's binary timestamp epoch) in µs since 1970. */
const pgEpochMicros = 946_684_800_000_000;

/**
 * The binary fast path for a column's type, or null when every field takes the general one. An
 * int64 whose high word is within ±2^21 is a safe integer, so it needs no BigInt; a timestamp
 * must also stay a safe integer after the epoch shift (and not be ±infinity, the safe extremes).
 */
export function fastBinaryParser(c: ColumnDesc): BinaryFieldParser | null {
  const t = c.type;
  switch (t.kind) {
    case 'int8':
      return (b, d, at, len) => {
        if (len !== 8) return false;
        const hi = d.readInt32BE(at);
        if (hi >= 0x200000 || hi < -0x200000) return false;
        b.pushNumber(hi * twoTo32 + d.readUInt32BE(at + 4));
        return true;
      };
    case 'int4':
      return (b, d, at, len) => {
        if (len !== 4) return false;
        b.pushNumber(d.readInt32BE(at));
        return true;
      };
    case 'int2':
      return (b, d, at, len) => {
        if (len !== 2) return false;
        b.pushNumber(d.readInt16BE(at));
        return true;
      };
    case 'float8':
      return (b, d, at, len) => {
        if (len !== 8) return false;
        b.pushNumber(d.readDoubleBE(at));
        return true;
      };
    case 'timestamptz':
    case 'timestamp': {
      if (t.typmod >= 0 && t.typmod < 6) return null; // rounding to the column's precision: the general path
      return (b, d, at, len) => {
        if (len !== 8) return false;
        const hi = d.readInt32BE(at);
        if (hi >= 0x100000 || hi < -0x100000) return false;
        b.pushNumber(hi * twoTo32 + d.readUInt32BE(at + 4) + pgEpochMicros);
        return true;
      };
    }
    default:
      return null;
  }
}

/** An optional '-' then 1–15 decimal digits: exact as a double, no BigInt needed. */
function plainInteger(f: string): boolean {
  const n = f.length;
  let i = f.charCodeAt(0) === 45 ? 1 : 0;
  if (n === i || n - i > 15) return false;
  for (; i < n; i++) {
    const d = f.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

const plainDecimal = /^-?\d{1,15}(\.\d{1,15})?$/;

const isoTimestamp = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:(Z)|([+-])(\d\d)(?::?(\d\d))?)?$/;
const daysIn = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Microseconds since the epoch of a plain ISO timestamp, or null when the text needs the general
 * parser: another shape, a field out of range, more fraction digits than the column keeps, a
 * TIMESTAMPTZ without an offset (the session time zone applies) or a TIMESTAMP with one.
 */
export function isoMicros(f: string, fractionDigits: number, withZone: boolean): number | null {
  const m = isoTimestamp.exec(f);
  if (!m) return null;
  const hasZone = m[8] !== undefined || m[9] !== undefined;
  if (hasZone !== withZone) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const min = Number(m[5]);
  const sec = Number(m[6]);
  const frac = m[7] ?? '';
  // Date.UTC reads years 0–99 as 1900–1999: those take the general path.
  if (frac.length > fractionDigits || year < 1000 || month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || sec > 59) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (daysIn[month - 1] as number) + (month === 2 && leap ? 1 : 0)) return null;
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11] ?? '0');
    if (oh > 15 || om > 59) return null;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, min, sec) - offsetMin * 60_000;
  const us = frac === '' ? 0 : Number(frac.padEnd(6, '0'));
  return ms * 1000 + us;
}
