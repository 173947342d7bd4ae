/**
 * Row and index-key encoding for relational tables.
 *   primary index:  /Table/<id>/<pkIndexId>/<pk columns…>            → every column's value
 *   unique index:   /Table/<id>/<indexId>/<index columns…>             → the primary key values
 *   other indexes:  /Table/<id>/<indexId>/<index columns…>/<pk cols…>  → the primary key values
 * (A unique index entry with a NULL key column is stored in the non-unique form: NULLs are
 * distinct.) Values carry a type tag so a column's values stay readable across ALTER TYPE.
 */
import { ByteWriter, PgError, SqlState } from '@strata/common';
import { KeyWriter, indexWriter } from '@strata/kv';
import { Decimal } from '../types/numeric.js';
import { isInfiniteDateTime } from '../types/datetime.js';
import type { Interval } from '../types/datetime.js';
import { formatJsonb, parseJsonb } from '../types/types.js';
import type { JsonValue, SqlType, Value } from '../types/types.js';

const textType: SqlType = { kind: 'text', typmod: -1 };
import type { ColumnDesc, IndexDesc, TableDesc } from './descriptors.js';

const enum Tag {
  Bool = 1,
  Int32 = 2,
  Int64 = 3,
  Float = 4,
  Numeric = 5,
  Text = 6,
  Bytes = 7,
  Interval = 8,
  Uuid = 9,
  Jsonb = 10,
  Json = 11,
  Array = 12,
}

function tagFor(t: SqlType): Tag {
  switch (t.kind) {
    case 'bool':
      return Tag.Bool;
    case 'int2':
    case 'int4':
    case 'oid':
    case 'date':
    case 'regclass':
    case 'regtype':
    case 'regproc':
      return Tag.Int32;
    case 'int8':
      return Tag.Int64;
    case 'float4':
    case 'float8':
    case 'timestamp':
    case 'timestamptz':
    case 'time':
      return Tag.Float;
    case 'numeric':
      return Tag.Numeric;
    case 'bytea':
      return Tag.Bytes;
    case 'interval':
      return Tag.Interval;
    case 'uuid':
      return Tag.Uuid;
    case 'jsonb':
      return Tag.Jsonb;
    case 'json':
      return Tag.Json;
    case 'array':
    case 'record':
      // A composite value: its fields as an array's elements, each tagged with its own type.
      return Tag.Array;
    default:
      return Tag.Text;
  }
}

/** The row codec's writer: ByteWriter plus u32-length-prefixed bytes and strings. */
class Writer extends ByteWriter {
  constructor() {
    super(64);
  }
  lenBytes(b: Uint8Array): void {
    this.u32(b.length).bytes(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  str(s: string): void {
    const at = this.len;
    this.u32(0).utf8(s);
    this.buf.writeUInt32BE(this.len - at - 4, at);
  }
  /** A copy: encoded rows outlive the writer, and must not keep its spare capacity alive. */
  copy(): Buffer {
    return Buffer.from(this.finish());
  }
}

const int64Max = 0x7fffffffffffffffn;
const int64Min = -0x8000000000000000n;

function writeValue(w: Writer, v: Value, t: SqlType): void {
  // An infinite date's sentinel (±Infinity days) does not fit Int32: it is stored as a Float, which
  // reads back as the same number (older rows never hold one).
  const tag = t.kind === 'date' && isInfiniteDateTime(v) ? Tag.Float : tagFor(t);
  w.u8(tag);
  switch (tag) {
    case Tag.Bool:
      w.u8(v ? 1 : 0);
      break;
    case Tag.Int32:
      w.i32(v as number);
      break;
    case Tag.Int64:
      w.i64(v as bigint);
      break;
    case Tag.Float:
      w.f64(v as number);
      break;
    case Tag.Numeric:
      w.str((v as Decimal).toString());
      break;
    case Tag.Bytes:
      w.lenBytes(v as Buffer);
      break;
    case Tag.Interval: {
      const iv = v as Interval;
      w.f64(iv.months);
      w.f64(iv.days);
      w.f64(iv.micros);
      break;
    }
    case Tag.Uuid:
      w.str(v as string);
      break;
    case Tag.Jsonb:
      w.str(formatJsonb((v as JsonValue).jsonb));
      break;
    case Tag.Json:
      w.str((v as { json: string }).json);
      break;
    case Tag.Array: {
      const arr = v as Value[];
      w.i32(arr.length);
      for (let i = 0; i < arr.length; i++) {
        const e = arr[i] as Value;
        if (e === null) w.u8(0);
        // A composite's fields each in their own type (text if unknown: a record without field types).
        else if (t.kind === 'record') writeValue(w, e, t.fields?.[i]?.type ?? textType);
        // A multi-dimensional array's sub-arrays are arrays of the same type (types/array_md.ts).
        else writeValue(w, e, Array.isArray(e) ? t : (t.elem as SqlType));
      }
      break;
    }
    default:
      w.str(v as string);
  }
}

function readValue(b: Buffer, o: { at: number }): Value {
  const tag = b[o.at++] as Tag;
  switch (tag) {
    case 0 as Tag:
      return null;
    case Tag.Bool:
      return b[o.at++] === 1;
    case Tag.Int32: {
      const v = b.readInt32BE(o.at);
      o.at += 4;
      return v;
    }
    case Tag.Int64: {
      const v = b.readBigInt64BE(o.at);
      o.at += 8;
      return v;
    }
    case Tag.Float: {
      const v = b.readDoubleBE(o.at);
      o.at += 8;
      return v;
    }
    case Tag.Interval: {
      const iv = { months: b.readDoubleBE(o.at), days: b.readDoubleBE(o.at + 8), micros: b.readDoubleBE(o.at + 16) };
      o.at += 24;
      return iv;
    }
    case Tag.Array: {
      const n = b.readInt32BE(o.at);
      o.at += 4;
      const out: Value[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(b, o));
      return out;
    }
    default: {
      const len = b.readUInt32BE(o.at);
      o.at += 4;
      const raw = b.subarray(o.at, o.at + len);
      o.at += len;
      switch (tag) {
        case Tag.Numeric:
          return Decimal.parse(raw.toString('utf8'));
        case Tag.Bytes:
          return Buffer.from(raw);
        case Tag.Jsonb:
          return { jsonb: parseJsonb(raw.toString('utf8')) };
        case Tag.Json:
          return { json: raw.toString('utf8') };
        default:
          return raw.toString('utf8');
      }
    }
  }
}

/** Encodes a full row (values in table column order) as the primary index value. */
export function encodeRow(table: TableDesc, row: readonly Value[]): Buffer {
  const w = new Writer();
  table.columns.forEach((c, i) => {
    const v = row[i] ?? null;
    if (v === null) return;
    w.u16(c.id);
    writeValue(w, v, c.type);
  });
  return w.copy();
}

/** Decodes a primary index value into values in table column order (missing → NULL). */
export function decodeRow(table: TableDesc, b: Buffer, colIndexById: Map<number, number>): Value[] {
  const row: Value[] = new Array<Value>(table.columns.length).fill(null);
  const o = { at: 0 };
  while (o.at < b.length) {
    const id = b.readUInt16BE(o.at);
    o.at += 2;
    const v = readValue(b, o);
    const idx = colIndexById.get(id);
    if (idx !== undefined) row[idx] = v;
  }
  return row;
}

/** Appends one value to an index key in order-preserving form. */
export function writeKeyValue(w: KeyWriter, v: Value, t: SqlType): void {
  if (v === null) {
    w.null();
    return;
  }
  switch (t.kind) {
    case 'int2':
    case 'int4':
    case 'int8':
    case 'oid':
    case 'date':
    case 'timestamp':
    case 'timestamptz':
    case 'time':
      // ±infinity (date, timestamp) sort as the int64 extremes, beyond every finite value.
      if (isInfiniteDateTime(v)) w.int(v === Infinity ? int64Max : int64Min);
      else w.int(typeof v === 'bigint' ? v : Math.trunc(v as number));
      return;
    case 'float4':
    case 'float8':
      w.float(v as number);
      return;
    case 'numeric': {
      const p = (v as Decimal).keyParts();
      w.decimal(p.sign, p.digits, p.exp);
      return;
    }
    case 'bool':
      w.bool(v as boolean);
      return;
    case 'bytea':
      w.rawBytes(v as Buffer);
      return;
    case 'uuid':
      w.uuid(Buffer.from((v as string).replace(/-/g, ''), 'hex'));
      return;
    case 'bpchar':
      w.string((v as string).replace(/ +$/, ''));
      return;
    case 'interval': {
      const iv = v as Interval;
      w.int(BigInt(Math.round(iv.months * 30 * 86400e6 + iv.days * 86400e6 + iv.micros)));
      return;
    }
    case 'text':
    case 'varchar':
    case 'name':
    case 'char':
      w.string(v as string);
      return;
    default:
      throw new PgError(SqlState.FeatureNotSupported, `column of type ${t.kind} cannot be used in an index key`);
  }
}

export interface TableCodec {
  table: TableDesc;
  colIndexById: Map<number, number>;
  pkPositions: number[];
}

export function tableCodec(table: TableDesc): TableCodec {
  const colIndexById = new Map(table.columns.map((c, i) => [c.id, i]));
  const pkPositions = table.primaryIndex.columnIds.map((id) => colIndexById.get(id) as number);
  return { table, colIndexById, pkPositions };
}

export function primaryKey(codec: TableCodec, row: readonly Value[]): Buffer {
  const t = codec.table;
  const w = indexWriter(t.id, t.primaryIndex.id);
  for (const p of codec.pkPositions) writeKeyValue(w, row[p] ?? null, (t.columns[p] as ColumnDesc).type);
  return w.finish();
}

function positionsOf(codec: TableCodec, idx: IndexDesc): number[] {
  return idx.columnIds.map((id) => codec.colIndexById.get(id) as number);
}

/** The key and value of a secondary index entry for a row. */
export function indexEntry(codec: TableCodec, idx: IndexDesc, row: readonly Value[]): { key: Buffer; value: Buffer; uniqueForm: boolean } {
  const t = codec.table;
  const w = indexWriter(t.id, idx.id);
  let hasNull = false;
  for (const p of positionsOf(codec, idx)) {
    const v = row[p] ?? null;
    if (v === null) hasNull = true;
    writeKeyValue(w, v, (t.columns[p] as ColumnDesc).type);
  }
  const uniqueForm = idx.unique && !hasNull;
  if (!uniqueForm) for (const p of codec.pkPositions) writeKeyValue(w, row[p] ?? null, (t.columns[p] as ColumnDesc).type);
  const vw = new Writer();
  for (const p of codec.pkPositions) writeValue(vw, row[p] ?? null, (t.columns[p] as ColumnDesc).type);
  return { key: w.finish(), value: vw.copy(), uniqueForm };
}

/** Decodes the primary key values stored in a secondary index entry. */
export function decodeIndexValue(b: Buffer, n: number): Value[] {
  const o = { at: 0 };
  const out: Value[] = [];
  for (let i = 0; i < n; i++) out.push(readValue(b, o));
  return out;
}

/** The primary key of a row given only its primary key column values. */
export function primaryKeyFromValues(codec: TableCodec, pkValues: readonly Value[]): Buffer {
  const t = codec.table;
  const w = indexWriter(t.id, t.primaryIndex.id);
  codec.pkPositions.forEach((p, i) => writeKeyValue(w, pkValues[i] ?? null, (t.columns[p] as ColumnDesc).type));
  return w.finish();
}

/** Key prefix for an index scan with leading key values fixed. */
export function indexKeyPrefix(codec: TableCodec, idx: IndexDesc, values: readonly Value[]): Buffer {
  const t = codec.table;
  const w = indexWriter(t.id, idx.id);
  values.forEach((v, i) => {
    const p = codec.colIndexById.get(idx.columnIds[i] as number) as number;
    writeKeyValue(w, v, (t.columns[p] as ColumnDesc).type);
  });
  return w.finish();
}

export function keyWriterFor(codec: TableCodec, idx: IndexDesc): KeyWriter {
  return indexWriter(codec.table.id, idx.id);
}
