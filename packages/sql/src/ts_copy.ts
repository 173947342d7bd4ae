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
import type { ExecCtx } from './exec/context.js';
import { assignValue } from './exec/mutate.js';
import { toTsValue } from './ts_dml.js';
import { formatValue, parseValue } from './types/types.js';
import type { Value } from './types/types.js';

/** Distinct tag texts whose parsed values are remembered during one COPY (then forgotten). */
const tagTextsCachedMax = 100_000;

type FieldParser = (b: ColumnBuilder, f: string) => boolean;

/** Rows of one COPY batch, added field by field, turned into one TS write command. */
export class TsCopyBatch {
  private builder: TsWriteBuilder;
  private readonly nCols: number;
  /** For each data column position: the COPY field feeding it (-1: not in the column list). */
  private readonly fieldOfColumn: number[];
  private readonly fieldOfTag: number[];
  private readonly fast: (FieldParser | null)[];
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
   * One binary COPY row: values of the columns' base types (copy_binary.ts), assigned as INSERT
   * assigns them. Tags go through their text, which keys the same tag cache as add().
   */
  addValues(values: Value[], line: number): void {
    const tagFields: CopyRow = [];
    for (let k = 0; k < this.fieldOfTag.length; k++) {
      const fi = this.fieldOfTag[k] as number;
      if (fi < 0) continue;
      const v = values[fi] as Value;
      const col = this.cols[this.nCols + k] as ColumnDesc;
      tagFields[fi] = v === null ? null : formatValue(v, col.type, this.ctx.vctx);
    }
    const g = this.groupOf(tagFields, line);
    for (let c = 0; c < this.nCols; c++) {
      const fi = this.fieldOfColumn[c] as number;
      const b = g.columns[c] as ColumnBuilder;
      const col = this.cols[c] as ColumnDesc;
      const v = fi < 0 ? null : (values[fi] as Value);
      if (v === null) {
        if (!col.nullable) throw notNull(this.t, col);
        b.pushNull();
        continue;
      }
      let tv: TsValue;
      try {
        tv = toTsValue(assignValue(v, col.type.typmod < 0 ? col.type : { ...col.type, typmod: -1 }, col, this.ctx), col.type, col.name);
      } catch (e) {
        if (e instanceof PgError) throw new PgError(e.code, e.message, { detail: `COPY ${this.t.name}, line ${line}, column ${col.name}` });
        throw e;
      }
      if (tv === null) {
        if (!col.nullable) throw notNull(this.t, col);
        b.pushNull();
      } else b.push(tv);
    }
    this.builder.rows++;
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
function fastParser(c: ColumnDesc): FieldParser | null {
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
