/**
 * A columnar block: the unit the time-series engine stores, scans and compresses (DESIGN.md
 * "TS engine"). One block holds up to blockRowsMax rows of one entity (device).
 *
 * Layout (big endian):
 *   magic "SB" | u8 version | u8 flags | u32 rows | i64 firstTs | i64 lastTs | i64 minTs | i64 maxTs
 *   u16 columns | per column: u8 type | u8 codec | u32 nonNull | f64 min | f64 max | f64 sum
 *                              | u32 offset | u32 length | u16 column id (version 2)
 *   column payloads: u32 rawLength | (null bitmap if nonNull < rows) | encoded values — each
 *   payload compressed on its own (lz4 or zlib deflate when the codec says so), so one column is
 *   read without touching the others.
 *   u32 crc32 of everything before it.
 *
 * The header answers count/min/max/sum/first/last without decoding any column (query push-down);
 * min/max also let scans skip blocks that cannot match a filter.
 * INVARIANT: rows are in append order; flags bit 0 says whether timestamps are ascending, bit 1
 * whether they are strictly ascending (no two rows share a timestamp).
 *
 * Column ids: a column keeps its id when columns are added, dropped or widened (ALTER TABLE), so
 * a block written under an older schema is read by id and converted (schema.ts). Version 1
 * blocks (no ids) have ids equal to positions — the ids every table starts with.
 */
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { compressSync, uncompressSync } from 'lz4-napi';
import { PgError, SqlState } from '@strata/common';
import { decodeFloat64, encodeFloat64 } from './encoding/floats.js';
import { decodeInt32, decodeInt64, decodeTimestamps, encodeInt32, encodeInt64, encodeTimestamps, halvesOf } from './encoding/integers.js';
import { decodeBools, decodeStrings, encodeBools, encodeStrings } from './encoding/misc.js';

export const blockMagic = 0x5342; // "SB"
export const blockVersion = 2;

/**
 * Rows per block at most: the upper bound of ts.rows_per_block.max_limit (KWDB 2.x: default and
 * bound 1000; 3.x: default 4096).
 */
export const blockRowsMax = 4096;

/** Rows per block when no setting says otherwise (ts.rows_per_block.max_limit's default). */
export const blockRowsDefault = 1000;

export const ColumnType = { Timestamp: 1, Int32: 2, Int64: 3, Float64: 4, Bool: 5, String: 6 } as const;
export type ColumnType = (typeof ColumnType)[keyof typeof ColumnType];

export const Codec = { Plain: 0, Lz4: 1, Deflate: 2 } as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

/** How encodeBlock compresses column payloads (ts.compression.type / ts.compression.level). */
export interface Compression {
  codec: Codec;
  /** zlib level 1–9 for Deflate (lz4 has no levels). */
  level: number;
}

export const compressionDefault: Compression = { codec: Codec.Lz4, level: 6 };

export type ColumnValues = BigInt64Array | Int32Array | Float64Array | Uint8Array | string[];

export interface ColumnData {
  type: ColumnType;
  values: ColumnValues;
  /** 1 = null, per row; null when the column has no nulls. Null slots hold any value (0, ''). */
  nulls: Uint8Array | null;
}

export interface ColumnStats {
  /** The column's stable id (see "Column ids" above). */
  id: number;
  type: ColumnType;
  codec: Codec;
  nonNull: number;
  min: number;
  max: number;
  sum: number;
  offset: number;
  length: number;
}

export interface BlockHeader {
  rows: number;
  ordered: boolean;
  /** Timestamps strictly ascending: the block holds no duplicates of itself. */
  strict: boolean;
  firstTs: bigint;
  lastTs: bigint;
  minTs: bigint;
  maxTs: bigint;
  columns: ColumnStats[];
}

const headerFixedBytes = 2 + 1 + 1 + 4 + 8 * 4 + 2;
const columnHeaderBytesV1 = 1 + 1 + 4 + 8 * 3 + 4 + 4;
const columnHeaderBytes = columnHeaderBytesV1 + 2;

function corrupt(why: string): PgError {
  return new PgError(SqlState.DataCorrupted, `time-series block is corrupt: ${why}`);
}

function rowsOf(c: ColumnData): number {
  return c.values.length;
}

function encodeValues(c: ColumnData): Uint8Array {
  switch (c.type) {
    case ColumnType.Timestamp:
      return encodeTimestamps(c.values as BigInt64Array);
    case ColumnType.Int64:
      return encodeInt64(c.values as BigInt64Array);
    case ColumnType.Int32:
      return encodeInt32(c.values as Int32Array);
    case ColumnType.Float64:
      return encodeFloat64(c.values as Float64Array);
    case ColumnType.Bool:
      return encodeBools(c.values as Uint8Array);
    case ColumnType.String:
      return encodeStrings(c.values as string[]);
  }
}

function decodeValues(type: ColumnType, b: Uint8Array): ColumnValues {
  switch (type) {
    case ColumnType.Timestamp:
      return decodeTimestamps(b);
    case ColumnType.Int64:
      return decodeInt64(b);
    case ColumnType.Int32:
      return decodeInt32(b);
    case ColumnType.Float64:
      return decodeFloat64(b);
    case ColumnType.Bool:
      return decodeBools(b);
    case ColumnType.String:
      return decodeStrings(b);
    default:
      throw corrupt(`unknown column type ${type as number}`);
  }
}

function numeric(c: ColumnData, i: number): number {
  const v = c.values[i];
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function stats(c: ColumnData): { nonNull: number; min: number; max: number; sum: number } {
  let nonNull = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const isNum = c.type !== ColumnType.String && c.type !== ColumnType.Bool;
  // 64-bit values are read as their 32-bit halves when that is exact (|v| < 2^53): reading a
  // BigInt64Array element allocates a BigInt (this loop was a tenth of sealing a block).
  const u32 = c.values instanceof BigInt64Array ? halvesOf(c.values) : null;
  for (let i = 0; i < rowsOf(c); i++) {
    if (c.nulls && c.nulls[i]) continue;
    nonNull++;
    if (!isNum) continue;
    let v: number;
    if (u32) {
      const hi = (u32[2 * i + 1] as number) | 0;
      v = hi >= 0x200000 || hi < -0x200000 ? numeric(c, i) : hi * 4294967296 + (u32[2 * i] as number);
    } else v = c.values[i] as number;
    if (Number.isNaN(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { nonNull, min: isNum && nonNull > 0 ? min : 0, max: isNum && nonNull > 0 ? max : 0, sum: isNum ? sum : 0 };
}

function packBitmap(nulls: Uint8Array): Uint8Array {
  const b = new Uint8Array(Math.ceil(nulls.length / 8));
  for (let i = 0; i < nulls.length; i++) if (nulls[i]) b[i >> 3] = (b[i >> 3] as number) | (1 << (i & 7));
  return b;
}

function unpackBitmap(b: Uint8Array, rows: number): Uint8Array {
  const out = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) out[i] = ((b[i >> 3] as number) >> (i & 7)) & 1;
  return out;
}

/**
 * Encodes a block. columns[0] must be the timestamp column; every column has the same row count.
 * `compress` (true = lz4) compresses each column payload when that makes it smaller; `ids` are
 * the columns' stable ids (default: positions).
 */
export function encodeBlock(columns: ColumnData[], compress: boolean | Compression, ids?: readonly number[]): Buffer {
  const how: Compression | null = compress === true ? compressionDefault : compress === false ? null : compress.codec === Codec.Plain ? null : compress;
  const rows = columns.length > 0 ? rowsOf(columns[0] as ColumnData) : 0;
  const ts = columns[0];
  if (!ts || ts.type !== ColumnType.Timestamp) throw new Error('encodeBlock: the first column must be the timestamp');
  if (rows > blockRowsMax) throw new Error(`encodeBlock: ${rows} rows exceed blockRowsMax ${blockRowsMax}`);
  for (const c of columns) if (rowsOf(c) !== rows) throw new Error('encodeBlock: ragged columns');
  const tsv = ts.values as BigInt64Array;
  let ordered = true;
  let strict = true;
  let minTs = rows > 0 ? (tsv[0] as bigint) : 0n;
  let maxTs = minTs;
  for (let i = 1; i < rows; i++) {
    const t = tsv[i] as bigint;
    if (t < (tsv[i - 1] as bigint)) ordered = false;
    if (t <= (tsv[i - 1] as bigint)) strict = false;
    if (t < minTs) minTs = t;
    if (t > maxTs) maxTs = t;
  }
  const payloads: { codec: Codec; bytes: Uint8Array; st: ReturnType<typeof stats> }[] = columns.map((c) => {
    const st = stats(c);
    const vals = encodeValues(c);
    const bitmap = st.nonNull < rows && c.nulls ? packBitmap(c.nulls) : new Uint8Array(0);
    const raw = Buffer.alloc(4 + bitmap.length + vals.length);
    raw.writeUInt32BE(raw.length - 4, 0);
    raw.set(bitmap, 4);
    raw.set(vals, 4 + bitmap.length);
    if (how) {
      const z = how.codec === Codec.Deflate ? deflateRawSync(raw, { level: how.level }) : compressSync(raw);
      if (z.length < raw.length) return { codec: how.codec, bytes: z, st };
    }
    return { codec: Codec.Plain, bytes: raw, st };
  });
  const headerBytes = headerFixedBytes + columns.length * columnHeaderBytes;
  const total = headerBytes + payloads.reduce((n, p) => n + p.bytes.length, 0) + 4;
  const b = Buffer.alloc(total);
  let o = 0;
  b.writeUInt16BE(blockMagic, o);
  b[o + 2] = blockVersion;
  b[o + 3] = (ordered ? 1 : 0) | (strict ? 2 : 0);
  b.writeUInt32BE(rows, o + 4);
  b.writeBigInt64BE(rows > 0 ? (tsv[0] as bigint) : 0n, o + 8);
  b.writeBigInt64BE(rows > 0 ? (tsv[rows - 1] as bigint) : 0n, o + 16);
  b.writeBigInt64BE(minTs, o + 24);
  b.writeBigInt64BE(maxTs, o + 32);
  b.writeUInt16BE(columns.length, o + 40);
  o = headerFixedBytes;
  let payloadOffset = headerBytes;
  payloads.forEach((p, i) => {
    b[o] = (columns[i] as ColumnData).type;
    b[o + 1] = p.codec;
    b.writeUInt32BE(p.st.nonNull, o + 2);
    b.writeDoubleBE(p.st.min, o + 6);
    b.writeDoubleBE(p.st.max, o + 14);
    b.writeDoubleBE(p.st.sum, o + 22);
    b.writeUInt32BE(payloadOffset, o + 30);
    b.writeUInt32BE(p.bytes.length, o + 34);
    b.writeUInt16BE(ids ? (ids[i] as number) : i, o + 38);
    b.set(p.bytes, payloadOffset);
    payloadOffset += p.bytes.length;
    o += columnHeaderBytes;
  });
  b.writeUInt32BE(crc32(b.subarray(0, total - 4)) >>> 0, total - 4);
  return b;
}

/** Reads and verifies a block header (checksum over the whole block). */
export function readBlockHeader(b: Buffer): BlockHeader {
  if (b.length < headerFixedBytes + 4) throw corrupt('too short');
  if (b.readUInt16BE(0) !== blockMagic) throw corrupt('bad magic');
  const version = b[2];
  if (version !== 1 && version !== blockVersion) throw corrupt(`unknown version ${version}`);
  const colBytes = version === 1 ? columnHeaderBytesV1 : columnHeaderBytes;
  if ((crc32(b.subarray(0, b.length - 4)) >>> 0) !== b.readUInt32BE(b.length - 4)) throw corrupt('checksum mismatch');
  const n = b.readUInt16BE(40);
  const columns: ColumnStats[] = [];
  let o = headerFixedBytes;
  for (let i = 0; i < n; i++) {
    columns.push({
      id: version === 1 ? i : b.readUInt16BE(o + 38),
      type: b[o] as ColumnType,
      codec: b[o + 1] as Codec,
      nonNull: b.readUInt32BE(o + 2),
      min: b.readDoubleBE(o + 6),
      max: b.readDoubleBE(o + 14),
      sum: b.readDoubleBE(o + 22),
      offset: b.readUInt32BE(o + 30),
      length: b.readUInt32BE(o + 34),
    });
    o += colBytes;
  }
  return {
    rows: b.readUInt32BE(4),
    ordered: ((b[3] as number) & 1) === 1,
    strict: ((b[3] as number) & 2) === 2,
    firstTs: b.readBigInt64BE(8),
    lastTs: b.readBigInt64BE(16),
    minTs: b.readBigInt64BE(24),
    maxTs: b.readBigInt64BE(32),
    columns,
  };
}

/** Decodes one column of a block without touching the others. */
export function readColumn(b: Buffer, h: BlockHeader, i: number): ColumnData {
  const s = h.columns[i];
  if (!s) throw new RangeError(`block has no column ${i}`);
  let raw: Buffer = b.subarray(s.offset, s.offset + s.length);
  if (s.codec === Codec.Lz4) raw = uncompressSync(raw);
  else if (s.codec === Codec.Deflate) raw = inflateRawSync(raw);
  else if (s.codec !== Codec.Plain) throw corrupt(`column ${i} has unknown codec ${s.codec as number}`);
  const len = raw.readUInt32BE(0);
  if (len !== raw.length - 4) throw corrupt(`column ${i} length mismatch`);
  const bitmapBytes = s.nonNull < h.rows ? Math.ceil(h.rows / 8) : 0;
  const nulls = bitmapBytes > 0 ? unpackBitmap(raw.subarray(4, 4 + bitmapBytes), h.rows) : null;
  const values = decodeValues(s.type, raw.subarray(4 + bitmapBytes));
  if (values.length !== h.rows) throw corrupt(`column ${i} has ${values.length} values for ${h.rows} rows`);
  return { type: s.type, values, nulls };
}
