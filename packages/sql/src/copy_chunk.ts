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
import { invalidUtf8Offset } from '@strata/common';
import { fastParser } from './copy_fast_fields.js';
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
  const delim = o.delimiter ?? '\t';
  const nullStr = o.null ?? '\\N';
  // One ASCII delimiter byte, and a NULL string that cannot hold a delimiter or a line end.
  if (delim.length !== 1 || delim.charCodeAt(0) >= 0x80 || delim === '\\' || /[\n\r]/.test(nullStr) || nullStr.includes(delim)) return false;
  return columns.every((c) => fieldKind(c) !== null);
}

/** How a worker reads a data column's field, in bytes (the fast parsers' shapes, copy_fast_fields.ts). */
const enum Kind {
  Int8,
  Int4,
  Int2,
  Float8,
  Timestamp,
  TimestampTz,
}

function fieldKind(c: Pick<ColumnDesc, 'type'>): Kind | null {
  if (fastParser(c) === null) return null;
  switch (c.type.kind) {
    case 'int8':
      return Kind.Int8;
    case 'int4':
      return Kind.Int4;
    case 'int2':
      return Kind.Int2;
    case 'float8':
      return Kind.Float8;
    case 'timestamp':
      return Kind.Timestamp;
    case 'timestamptz':
      return Kind.TimestampTz;
    default:
      return null;
  }
}

/** A chunk the worker does not take whole: the event loop parses it. */
export class Bail extends Error {}

const lf = 0x0a;
const cr = 0x0d;
const backslash = 0x5c;

export interface Building {
  key: string;
  /** The group's tag signature (tagSignature's bytes of its first row). */
  signature: Uint8Array;
  tagFields: (string | null)[];
  line: number;
  columns: ColumnBuilder[];
}

/**
 * Parses `bytes` (whole lines: the chunk ends with a newline, or is the COPY's last data) into
 * column groups; null when the chunk must be parsed on the event loop (see the file comment).
 *
 * It reads bytes, not strings — no string per line or field — but takes exactly what CopyParser
 * followed by the fast field parsers take, with the same values: lines end at LF (a CR before it
 * is dropped), fields are split at the delimiter byte, a field equal to the NULL string is NULL,
 * any other field holding a backslash (an escape) bails, as does a `\.` line; data fields must
 * have the fast parsers' shapes (plainInteger, plainDecimal, isoMicros, ported byte for byte).
 */
export function parseTsChunk(spec: TsChunkSpec, bytes: Uint8Array): TsChunk | null {
  if (invalidUtf8Offset(bytes) >= 0) return null;
  try {
    return new ChunkReader(spec, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).read();
  } catch (e) {
    if (e instanceof Bail) return null;
    throw e;
  }
}

class ChunkReader {
  private readonly kinds: Kind[];
  private readonly digits: number[];
  private readonly delim: number;
  private readonly nullBytes: Buffer;
  /** Field boundaries of the current line: field i is [starts[i], ends[i]). */
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly tags = new TagGroups();

  constructor(
    private readonly spec: TsChunkSpec,
    private readonly b: Buffer,
  ) {
    this.kinds = spec.columns.map((c) => fieldKind(c) as Kind);
    this.digits = spec.columns.map((c) => (c.type.typmod < 0 ? 6 : c.type.typmod));
    this.delim = (spec.options.delimiter ?? '\t').charCodeAt(0);
    this.nullBytes = Buffer.from(spec.options.null ?? '\\N', 'utf8');
    this.starts = new Int32Array(spec.fields + 1);
    this.ends = new Int32Array(spec.fields + 1);
  }

  read(): TsChunk {
    const b = this.b;
    let rows = 0;
    let line = 0;
    for (let at = 0; at < b.length; ) {
      let nl = b.indexOf(lf, at);
      if (nl < 0) nl = b.length;
      let end = nl;
      if (end > at && b[end - 1] === cr) end--;
      line++;
      if (end - at === 2 && b[at] === backslash && b[at + 1] === 0x2e) throw new Bail(); // \.
      this.row(at, end, line);
      rows++;
      at = nl + 1;
    }
    return pack(this.tags.order, rows);
  }

  private row(from: number, to: number, line: number): void {
    const b = this.b;
    const spec = this.spec;
    let n = 0;
    let s = from;
    for (let i = from; ; i++) {
      if (i === to || b[i] === this.delim) {
        if (n === spec.fields) throw new Bail(); // extra data after the last column
        this.starts[n] = s;
        this.ends[n] = i;
        n++;
        s = i + 1;
        if (i === to) break;
      }
    }
    if (n !== spec.fields) throw new Bail();
    const g = this.groupOf(line);
    for (let c = 0; c < this.kinds.length; c++) {
      const fi = spec.fieldOfColumn[c] as number;
      const col = g.columns[c] as ColumnBuilder;
      if (fi < 0 || this.isNull(fi)) {
        if (!(spec.columns[c] as Pick<ColumnDesc, 'nullable'>).nullable) throw new Bail();
        col.pushNull();
        continue;
      }
      const fs = this.starts[fi] as number;
      const fe = this.ends[fi] as number;
      const kind = this.kinds[c] as Kind;
      let v: number;
      if (kind === Kind.Timestamp || kind === Kind.TimestampTz) v = isoMicrosAt(b, fs, fe, this.digits[c] as number, kind === Kind.TimestampTz);
      else if (kind === Kind.Float8) v = plainDecimalAt(b, fs, fe);
      else {
        v = plainIntegerAt(b, fs, fe);
        const bound = kind === Kind.Int4 ? 2147483648 : kind === Kind.Int2 ? 32768 : 0;
        if (bound !== 0 && (v >= bound || v < -bound)) throw new Bail();
      }
      col.pushNumber(v);
    }
  }

  /** Field fi is the NULL string; a field holding any other backslash is an escape: bail. */
  private isNull(fi: number): boolean {
    const b = this.b;
    const s = this.starts[fi] as number;
    const e = this.ends[fi] as number;
    const nb = this.nullBytes;
    if (e - s === nb.length) {
      let same = true;
      for (let k = 0; k < nb.length && same; k++) same = b[s + k] === nb[k];
      if (same) return true;
    }
    for (let k = s; k < e; k++) if (b[k] === backslash) throw new Bail();
    return false;
  }

  /** The row's group, found by its tag fields' bytes (TagGroups). */
  private groupOf(line: number): Building {
    const spec = this.spec;
    const tg = this.tags;
    tg.begin();
    for (const fi of spec.fieldOfTag) {
      if (fi < 0) tg.add(1, this.b, 0, 0);
      else if (this.isNull(fi)) tg.add(2, this.b, 0, 0);
      else tg.add(0, this.b, this.starts[fi] as number, this.ends[fi] as number);
    }
    const known = tg.find();
    if (known) return known;
    const tagFields = spec.fieldOfTag.map((fi) => (fi < 0 || this.isNull(fi) ? null : this.b.toString('utf8', this.starts[fi] as number, this.ends[fi] as number)));
    // The key TsCopyBatch.groupOf builds from a row's fields, so one tag cache serves both paths.
    let key = '';
    spec.fieldOfTag.forEach((fi, k) => (key += fi < 0 ? '\u0001' : (tagFields[k] ?? '\u0002') + '\u0000'));
    return tg.create(key, tagFields, line, spec.types);
  }
}

/**
 * The groups (devices) of a chunk's rows, found by their tag fields' bytes: per row a signature
 * (per tag a mark — 0 bytes follow, 1 not in the column list, 2 NULL — a length and the bytes) is
 * hashed (FNV-1a) and compared byte for byte with the groups of that hash. No string per row.
 */
export class TagGroups {
  readonly order: Building[] = [];
  private readonly byHash = new Map<number, Building[]>();
  private sig = new Uint8Array(256);
  private len = 0;
  private hash = 0;

  begin(): void {
    this.len = 0;
  }

  add(mark: number, b: Uint8Array, s: number, e: number): void {
    const need = this.len + 5 + (e - s);
    if (need > this.sig.length) {
      const next = new Uint8Array(Math.max(need, this.sig.length * 2));
      next.set(this.sig.subarray(0, this.len));
      this.sig = next;
    }
    const sig = this.sig;
    let len = this.len;
    sig[len++] = mark;
    sig[len++] = (e - s) & 0xff;
    sig[len++] = ((e - s) >>> 8) & 0xff;
    sig[len++] = ((e - s) >>> 16) & 0xff;
    sig[len++] = (e - s) >>> 24;
    for (let k = s; k < e; k++) sig[len++] = b[k] as number;
    this.len = len;
  }

  /** The group of the signature added since begin(), or null: then create() it. */
  find(): Building | null {
    const sig = this.sig;
    const len = this.len;
    let h = 0x811c9dc5;
    for (let k = 0; k < len; k++) h = Math.imul(h ^ (sig[k] as number), 0x01000193);
    this.hash = h;
    const bucket = this.byHash.get(h);
    if (!bucket) return null;
    search: for (const g of bucket) {
      const other = g.signature;
      if (other.length !== len) continue;
      for (let k = 0; k < len; k++) if (sig[k] !== other[k]) continue search;
      return g;
    }
    return null;
  }

  create(key: string, tagFields: (string | null)[], line: number, types: ColumnType[]): Building {
    const g: Building = { key, signature: this.sig.slice(0, this.len), tagFields, line, columns: types.map((t) => new ColumnBuilder(t, 64)) };
    const bucket = this.byHash.get(this.hash);
    if (bucket) bucket.push(g);
    else this.byHash.set(this.hash, [g]);
    this.order.push(g);
    return g;
  }
}

const digit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;

/** copy_fast_fields' plainInteger + Number(): an optional '-' then 1–15 digits (-0 stays -0). */
function plainIntegerAt(b: Buffer, s: number, e: number): number {
  const neg = b[s] === 0x2d;
  let i = neg ? s + 1 : s;
  if (i === e || e - i > 15) throw new Bail();
  let v = 0;
  for (; i < e; i++) {
    const d = (b[i] as number) - 0x30;
    if (d < 0 || d > 9) throw new Bail();
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** copy_fast_fields' plainDecimal (/^-?\d{1,15}(\.\d{1,15})?$/) + Number(). */
function plainDecimalAt(b: Buffer, s: number, e: number): number {
  let i = b[s] === 0x2d ? s + 1 : s;
  const intStart = i;
  while (i < e && digit(b[i])) i++;
  const intDigits = i - intStart;
  if (intDigits < 1 || intDigits > 15) throw new Bail();
  if (i < e) {
    if (b[i] !== 0x2e) throw new Bail();
    const fracStart = ++i;
    while (i < e && digit(b[i])) i++;
    if (i !== e || i - fracStart < 1 || i - fracStart > 15) throw new Bail();
  }
  return Number(b.toString('latin1', s, e));
}

const daysIn = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Reads `n` digits at b[at] as a number; -1 if they are not all digits. */
function digitsAt(b: Buffer, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = (b[i] ?? 0) - 0x30;
    if (!(d >= 0 && d <= 9)) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * copy_fast_fields' isoMicros on bytes: the same pattern
 * (/^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:(Z)|([+-])(\d\d)(?::?(\d\d))?)?$/),
 * the same checks, the same arithmetic; bails where isoMicros returns null.
 */
function isoMicrosAt(b: Buffer, s: number, e: number, fractionDigits: number, withZone: boolean): number {
  if (e - s < 19) throw new Bail();
  const year = digitsAt(b, s, 4);
  const month = digitsAt(b, s + 5, 2);
  const day = digitsAt(b, s + 8, 2);
  const hour = digitsAt(b, s + 11, 2);
  const min = digitsAt(b, s + 14, 2);
  const sec = digitsAt(b, s + 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || min < 0 || sec < 0) throw new Bail();
  const sep = b[s + 10];
  if (b[s + 4] !== 0x2d || b[s + 7] !== 0x2d || (sep !== 0x20 && sep !== 0x54) || b[s + 13] !== 0x3a || b[s + 16] !== 0x3a) throw new Bail();
  let i = s + 19;
  let frac = 0;
  let fracDigits = 0;
  if (i < e && b[i] === 0x2e) {
    i++;
    while (i < e && digit(b[i]) && fracDigits < 6) {
      frac = frac * 10 + ((b[i] as number) - 0x30);
      fracDigits++;
      i++;
    }
    if (fracDigits === 0) throw new Bail();
  }
  let hasZone = false;
  let offsetMin = 0;
  if (i < e && b[i] === 0x5a) {
    hasZone = true;
    i++;
  } else if (i < e && (b[i] === 0x2b || b[i] === 0x2d)) {
    hasZone = true;
    const negative = b[i] === 0x2d;
    const oh = digitsAt(b, i + 1, 2);
    if (i + 3 > e || oh < 0) throw new Bail();
    i += 3;
    let om = 0;
    if (i < e) {
      if (b[i] === 0x3a) i++;
      om = digitsAt(b, i, 2);
      if (i + 2 > e || om < 0) throw new Bail();
      i += 2;
    }
    if (oh > 15 || om > 59) throw new Bail();
    offsetMin = (negative ? -1 : 1) * (oh * 60 + om);
  }
  if (i !== e || hasZone !== withZone) throw new Bail();
  if (fracDigits > fractionDigits || year < 1000 || month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || sec > 59) throw new Bail();
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (daysIn[month - 1] as number) + (month === 2 && leap ? 1 : 0)) throw new Bail();
  const ms = Date.UTC(year, month - 1, day, hour, min, sec) - offsetMin * 60_000;
  return ms * 1000 + frac * 10 ** (6 - fracDigits);
}

/** Lays every group's columns out in one buffer, each value array aligned to 8 bytes. */
export function pack(groups: Building[], rows: number): TsChunk {
  const finished = groups.map((g) => ({ g, cols: g.columns.map((b) => b.finish()) }));
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
